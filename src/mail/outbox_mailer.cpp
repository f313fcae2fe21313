#include "mail/outbox_mailer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>

#include "common/fs.h"

namespace paddlecloud::mail {

namespace {

namespace fs = std::filesystem;

// "20250102T030405.123456Z": sorts in sending order.
std::string UtcStamp(std::chrono::system_clock::time_point now) {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  std::time_t t = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(micros % 1000000));
  return buf;
}

class OutboxMailer final : public Mailer {
 public:
  OutboxMailer(std::string dir, Mailbox from) : dir_(std::move(dir)), from_(std::move(from)) {}

  Status Send(const MailMessage& message) override {
    auto now = std::chrono::system_clock::now();
    auto rendered = RenderMessage(message, from_, now);
    if (!rendered) return rendered.error();
    const std::string& to = rendered->envelope_to;

    std::error_code ec;
    if (fs::create_directories(dir_, ec)) {
      fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::replace, ec);
    }
    if (ec) return Failed(to, "cannot create " + dir_ + ": " + ec.message());

    std::string name = UtcStamp(now) + "-" + RandomHex(8) + ".eml";
    std::string path = (fs::path(dir_) / name).string();
    if (Status written = fsutil::WriteFileAtomic(path, rendered->data, {.mode = 0600}); !written.ok())
      return Failed(to, written.message());

    spdlog::info("mail to {} \"{}\" written to {}", to, message.subject, path);
    for (const std::string& link : FindLinks(message.text_body)) {
      spdlog::info("mail to {} link: {}", to, link);
    }
    return Status::Ok();
  }

 private:
  static Status Failed(const std::string& to, const std::string& reason) {
    return Status::Unavailable("sending mail to " + to + " failed: " + reason);
  }

  const std::string dir_;
  const Mailbox from_;
};

}  // namespace

std::unique_ptr<Mailer> NewOutboxMailer(std::string dir, Mailbox from) {
  return std::make_unique<OutboxMailer>(std::move(dir), std::move(from));
}

}  // namespace paddlecloud::mail
