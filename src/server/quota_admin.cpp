#include "server/quota_admin.h"

#include <boost/json/object.hpp>
#include <filesystem>

#include "accounts/account_service.h"
#include "common/units.h"
#include "jobs/job_service.h"
#include "mail/mailer.h"
#include "server/platform.h"

namespace paddlecloud::server {
namespace {

namespace fs = std::filesystem;

struct Setting {
  const char* resource;
  const char* flag;     // as the command takes it
  const char* default_key;  // the server setting that gives the default
  Result<std::int64_t> (*parse)(std::string_view);
  std::string (*describe)(std::int64_t);
};

const std::vector<Setting>& Settings() {
  static const std::vector<Setting> settings = {
      {"cpu", "--cpu", "quota_cpu", units::ParseCpuMilli, units::DescribeCpu},
      {"memory", "--memory", "quota_memory", units::ParseByteSize, units::DescribeBytes},
      {"gpus", "--gpu", "quota_gpus", units::ParseCount, [](std::int64_t n) { return std::to_string(n); }},
      {"running_jobs", "--jobs", "quota_running_jobs", units::ParseCount, [](std::int64_t n) { return std::to_string(n); }},
      {"storage", "--storage", "storage_quota", units::ParseByteSize, units::DescribeBytes},
  };
  return settings;
}

// The quantities asked for, "none" as no quota; InvalidArgument naming the flag.
Result<jobs::QuotaSetting> ParseSetting(const std::map<std::string, std::string>& asked) {
  jobs::QuotaSetting setting;
  for (const Setting& s : Settings()) {
    auto it = asked.find(s.resource);
    if (it == asked.end()) continue;
    if (it->second == "none") {
      setting[s.resource] = std::nullopt;
      continue;
    }
    auto amount = s.parse(it->second);
    if (!amount) return Err(Status::InvalidArgument(std::string(s.flag) + ": " + amount.error().message(), s.flag));
    setting[s.resource] = *amount;
  }
  return setting;
}

void Print(const std::string& account, const jobs::QuotaSetting& setting, std::ostream& out) {
  out << "account " << account << "\n";
  for (const Setting& s : Settings()) {
    auto it = setting.find(s.resource);
    std::string shown = it == setting.end() ? std::string("the server's default (") + s.default_key + ")"
                        : it->second      ? s.describe(*it->second)
                                          : "none";
    out << "  " << s.resource << std::string(14 - std::string_view(s.resource).size(), ' ') << shown << "\n";
  }
}

void Audit(accounts::AccountService& accounts, const std::string& account, const jobs::QuotaSetting& setting) {
  boost::json::object details;
  for (const auto& [resource, amount] : setting)
    details[resource] = amount ? boost::json::value(*amount) : boost::json::value(nullptr);
  Principal operator_principal{.account_id = account, .email = "operator (paddlecloud admin quota)"};
  accounts.audit().RecordAudit(operator_principal, "account.quota_changed", {}, details);
}

}  // namespace

int RunQuotaAdmin(const QuotaAdminRequest& request, std::ostream& out, std::ostream& err) {
  auto setting = ParseSetting(request.set);
  if (!setting) {
    err << "paddlecloud admin quota: " << setting.error().message() << "\n";
    return 2;
  }
  fs::path path = fs::path(request.data_dir) / "paddlecloud.db";
  std::error_code ec;
  if (request.database_url.empty() && !fs::is_regular_file(path, ec)) {
    err << "paddlecloud admin quota: no database at " << path.string() << " (start the server on this data dir once)\n";
    return 1;
  }
  auto database = OpenPlatformDatabase(request.data_dir, request.database_url, 1);
  auto version = database ? (*database)->SchemaVersion() : Result<int>(Err(database.error()));
  if (!version || *version < 52) {
    err << "paddlecloud admin quota: " << (version ? "the database predates quotas: start this version's server once"
                                                   : version.error().message()) << "\n";
    return 1;
  }
  auto mailer = mail::MakeMailer({.outbox_dir = (fs::path(request.data_dir) / "outbox").string()});
  if (!mailer) {
    err << "paddlecloud admin quota: " << mailer.error().message() << "\n";
    return 1;
  }
  accounts::AccountService accounts(**database, **mailer, {});
  auto account = accounts.directory().FindAccount(request.account);
  jobs::QuotaStore store(**database, {});
  Status changed = !account ? account.error() : setting->empty() ? Status::Ok() : store.SetQuota(*account, *setting);
  auto now = changed.ok() ? store.SettingOf(*account) : Result<jobs::QuotaSetting>(Err(changed));
  if (!now) {
    err << "paddlecloud admin quota: " << now.error().message() << "\n";
    return 1;
  }
  if (!setting->empty()) Audit(accounts, *account, *setting);
  Print(*account, *now, out);
  return 0;
}

}  // namespace paddlecloud::server
