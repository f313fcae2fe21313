#include "client/job_commands.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <thread>

#include <boost/json/value.hpp>

#include "client/api_client.h"
#include "client/job_lookup.h"
#include "client/log_follow.h"
#include "client/output.h"
#include "client/package.h"
#include "client/terminal.h"

namespace paddlecloud::client {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kMaxTail = 100'000;  // the server's bound on `tail`

std::string JobPath(std::int64_t id) { return "/api/v1/jobs/" + std::to_string(id); }

std::string PodLogPath(std::int64_t id, const std::string& pod) {
  return JobPath(id) + "/pods/" + EncodeComponent(pod) + "/logs";
}

std::string Dashboard(const ApiClient& client, std::int64_t id) { return client.server() + "/jobs/" + std::to_string(id); }

// "fit-a-line (id 3)"
std::string JobLabel(const json::value& job) {
  return StringAt(job, {"name"}) + " (id " + std::to_string(IntAt(job, {"id"})) + ")";
}

bool Terminal(const std::string& state) { return state == "Succeeded" || state == "Failed" || state == "Stopped"; }

// The pod `wanted` names in `job` (its full name or the part after "<name>-<id>-"); empty: the
// first trainer.
Result<std::string> ResolvePod(const json::value& job, const std::string& wanted) {
  const auto& pods = ArrayAt(job, "pods");
  std::string prefix = StringAt(job, {"name"}) + "-" + std::to_string(IntAt(job, {"id"})) + "-";
  std::vector<std::string> names;
  for (const auto& pod : pods) {
    std::string name = StringAt(pod, {"name"});
    names.push_back(name);
    if (wanted.empty()) {
      if (StringAt(pod, {"role"}) == "trainer" && IntAt(pod, {"index"}) == 0) return name;
    } else if (name == wanted || name == prefix + wanted) {
      return name;
    }
  }
  if (wanted.empty()) {
    if (!names.empty()) return names.front();
    return Err(Status::NotFound("job " + JobLabel(job) + " has no pods"));
  }
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  return Err(Status::NotFound("job " + JobLabel(job) + " has no pod '" + wanted + "'" +
                              (list.empty() ? std::string() : "; its pods: " + list)));
}

// Progress of an upload on stderr: a redrawn line on a terminal, else one line at the end.
class UploadReporter {
 public:
  UploadReporter() : tty_(StderrIsTerminal()), start_(Clock::now()) {}
  void operator()(std::uint64_t sent, std::uint64_t total) {
    sent_ = sent;
    total_ = total;
    if (!tty_) return;
    auto now = Clock::now();
    if (sent != total && now - last_draw_ < 100ms) return;
    last_draw_ = now;
    std::cerr << "\rUploading " << FormatProgress(sent, total, Elapsed()) << "\x1b[K" << std::flush;
  }
  void Finish(bool ok, const std::string& what) {
    if (tty_ && sent_ > 0) std::cerr << "\n";
    if (!ok) return;
    auto elapsed = Elapsed();
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1f", static_cast<double>(elapsed.count()) / 1000.0);
    std::string rate = elapsed.count() > 0
                           ? FormatBytes(static_cast<std::uint64_t>(static_cast<double>(total_) * 1000.0 /
                                                                    static_cast<double>(elapsed.count()))) + "/s"
                           : "";
    std::cerr << "Uploaded " << FormatBytes(total_) << " in " << seconds << " s" << (rate.empty() ? "" : " (" + rate + ")")
              << ": " << what << "\n";
  }

 private:
  std::chrono::milliseconds Elapsed() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_);
  }
  bool tty_;
  Clock::time_point start_;
  Clock::time_point last_draw_{};
  std::uint64_t sent_ = 0, total_ = 0;
};

// Packs and uploads `dir`; returns the package id. Sets `exit_code` on failure.
std::optional<std::string> UploadPackage(ApiClient& client, const std::string& dir, int& exit_code) {
  auto archive = TempFile::Create("paddlecloud-package-", ".tar.gz");
  if (!archive) {
    exit_code = Fail(archive.error());
    return std::nullopt;
  }
  bool tty = StderrIsTerminal();
  if (tty) std::cerr << "Packing " << dir << " ..." << std::flush;
  auto packed = PackDirectory(dir, archive->path());
  if (tty) std::cerr << "\r\x1b[K" << std::flush;
  if (!packed) {
    exit_code = packed.error().code() == Code::kInvalidArgument ? FailUsage(packed.error().message())
                                                                 : Fail(packed.error());
    return std::nullopt;
  }
  for (const auto& skipped : packed->skipped) Warn("left out " + skipped);
  std::error_code ec;
  auto compressed = fs::file_size(archive->path(), ec);
  std::cerr << "Packed " << dir << ": " << packed->files << (packed->files == 1 ? " file, " : " files, ")
            << FormatBytes(packed->bytes) << " (" << FormatBytes(ec ? 0 : compressed) << " compressed)\n";
  UploadReporter reporter;
  auto uploaded = client.Upload("POST", "/api/v1/jobs/packages", archive->path(), "application/gzip",
                                [&](std::uint64_t sent, std::uint64_t total) { reporter(sent, total); });
  if (!uploaded) {
    reporter.Finish(false, "");
    exit_code = FailSignedIn(client, uploaded.error());
    return std::nullopt;
  }
  std::string id = StringAt(*uploaded, {"package"});
  reporter.Finish(true, "package " + id);
  if (id.empty()) {
    exit_code = Fail(Status::Internal("the server's answer names no package"));
    return std::nullopt;
  }
  return id;
}

// The end of a followed job: its state on stderr; kExitOk only for Succeeded.
int ReportEnd(ApiClient& client, std::int64_t id, const std::string& name, const std::string& state) {
  std::string reason;
  if (auto job = client.Call("GET", JobPath(id))) reason = StringAt(*job, {"reason"});
  std::cerr << "Job " << name << " (id " << id << ") " << state;
  if (state != "Succeeded" && !reason.empty() && reason != state) std::cerr << ": " << reason;
  std::cerr << "\n";
  return state == "Succeeded" ? kExitOk : kExitError;
}

}  // namespace

int SubmitJob(const SubmitFlags& flags, const Environment& env) {
  json::object env_vars;
  for (const auto& pair : flags.env) {
    auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) return FailUsage("--env takes NAME=VALUE, not '" + pair + "'");
    env_vars[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  if (!flags.dir.empty()) {
    std::error_code ec;
    if (!fs::is_directory(flags.dir, ec)) return FailUsage(flags.dir + " is not a directory");
  }
  int exit_code = kExitOk;
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;

  json::object spec{{"name", flags.name},        {"entry", flags.entry},       {"num_trainer", flags.trainers},
                    {"cpu_per_trainer", flags.cpu}, {"mem_per_trainer", flags.mem}, {"gpu_per_trainer", flags.gpu},
                    {"num_ps", flags.ps}};
  if (!flags.ps_cpu.empty()) spec["cpu_per_ps"] = flags.ps_cpu;
  if (!flags.ps_mem.empty()) spec["mem_per_ps"] = flags.ps_mem;
  if (!flags.image.empty()) spec["image"] = flags.image;
  if (!env_vars.empty()) spec["env"] = std::move(env_vars);
  if (flags.max_restarts >= 0) spec["max_restarts"] = flags.max_restarts;
  if (flags.fault_tolerant >= 0) spec["fault_tolerant"] = flags.fault_tolerant;
  if (!flags.workdir.empty()) spec["workdir"] = flags.workdir;
  if (!flags.dir.empty()) {
    auto package = UploadPackage(*client, flags.dir, exit_code);
    if (!package) return exit_code;
    spec["package"] = *package;
  }

  auto job = client->Call("POST", "/api/v1/jobs", spec);
  if (!job) return FailRequest(*client, job.error());
  std::int64_t id = IntAt(*job, {"id"});
  std::string name = StringAt(*job, {"name"});
  std::cout << "Submitted job " << name << " (id " << id << ")\n"
            << "Dashboard: " << Dashboard(*client, id) << "\n"
            << std::flush;
  if (!flags.follow) return kExitOk;

  auto detail = client->Call("GET", JobPath(id));
  if (!detail) return FailSignedIn(*client, detail.error());
  auto pod = ResolvePod(*detail, "");
  if (!pod) return Fail(pod.error());
  std::cerr << "Following the log of " << *pod << " until the job ends (Ctrl-C stops following, not the job)\n";
  auto state = FollowLog(*client, PodLogPath(id, *pod), *pod, kMaxTail);
  if (!state) return FailSignedIn(*client, state.error());
  return ReportEnd(*client, id, name, *state);
}

int ListJobs(const JobsFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  std::vector<json::value> jobs;
  std::string cursor;
  while (static_cast<int>(jobs.size()) < flags.limit) {
    int page = std::min(500, flags.limit - static_cast<int>(jobs.size()));
    std::string target = "/api/v1/jobs?limit=" + std::to_string(page);
    if (!flags.status.empty()) target += "&status=" + EncodeComponent(flags.status);
    if (!flags.name.empty()) target += "&name=" + EncodeComponent(flags.name);
    if (flags.all) target += "&all=true";
    if (!cursor.empty()) target += "&cursor=" + EncodeComponent(cursor);
    auto list = client->Call("GET", target);
    if (!list) return FailSignedIn(*client, list.error());
    for (const auto& item : ArrayAt(*list, "items")) jobs.push_back(item);
    cursor = StringAt(*list, {"next_cursor"});
    if (cursor.empty()) break;
  }
  if (jobs.empty()) {
    std::cout << "No jobs" << (flags.status.empty() && flags.name.empty() ? "" : " match") << ".\n";
    return kExitOk;
  }
  std::vector<std::string> header = {"NAME", "ID", "STATE", "STARTED", "AGE", "SUCCESS", "FAILS"};
  if (flags.all) header.push_back("USER");
  std::vector<std::vector<std::string>> rows;
  std::int64_t now = NowSeconds();
  for (const auto& job : jobs) {
    std::vector<std::string> row = {StringAt(job, {"name"}),
                                    std::to_string(IntAt(job, {"id"})),
                                    StringAt(job, {"state"}),
                                    FormatTime(IntAt(job, {"started_at"})),
                                    FormatAge(now - IntAt(job, {"submitted_at"}, now)),
                                    std::to_string(IntAt(job, {"succeeded"})),
                                    std::to_string(IntAt(job, {"failed"}))};
    if (flags.all) row.push_back(StringAt(job, {"user"}));
    rows.push_back(std::move(row));
  }
  std::cout << FormatTable(header, rows);
  return kExitOk;
}

int JobLogs(const LogsFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto opened = OpenJob(flags.connection, env, flags.job, exit_code);
  if (!opened) return exit_code;
  auto& [client, job] = *opened;
  auto pod = ResolvePod(*job, flags.pod);
  if (!pod) return Fail(pod.error());
  std::int64_t id = IntAt(*job, {"id"});
  if (flags.follow) {
    auto state = FollowLog(*client, PodLogPath(id, *pod), *pod, flags.lines);
    if (!state) return FailSignedIn(*client, state.error());
    std::cerr << "Job " << JobLabel(*job) << " " << *state << "\n";
    return kExitOk;
  }
  auto log = client->Call("GET", PodLogPath(id, *pod) + "?tail=" + std::to_string(flags.lines));
  if (!log) return FailSignedIn(*client, log.error());
  std::string text = StringAt(*log, {"text"});
  std::cout << text;
  if (!text.empty() && text.back() != '\n') std::cout << "\n";
  const json::value* started = log->is_object() ? log->as_object().if_contains("started") : nullptr;
  if (started && started->is_bool() && !started->as_bool())
    std::cerr << "paddlecloud: " << *pod << " has not started yet (job " << StringAt(*job, {"state"})
              << (StringAt(*job, {"reason"}).empty() ? "" : ": " + StringAt(*job, {"reason"})) << ")\n";
  return kExitOk;
}

int KillJob(const KillFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto opened = OpenJob(flags.connection, env, flags.job, exit_code);
  if (!opened) return exit_code;
  auto& [client, job] = *opened;
  std::int64_t id = IntAt(*job, {"id"});
  auto stopping = client->Call("POST", JobPath(id) + "/stop");
  if (!stopping) return FailSignedIn(*client, stopping.error());
  json::value current = *stopping;
  if (flags.wait) {
    // Pods get SIGTERM, then SIGKILL after the server's grace period (10 s by default).
    auto deadline = Clock::now() + 60s;
    while (!Terminal(StringAt(current, {"state"})) && Clock::now() < deadline) {
      std::this_thread::sleep_for(250ms);
      auto polled = client->Call("GET", JobPath(id));
      if (!polled) return FailSignedIn(*client, polled.error());
      current = *polled;
    }
  }
  std::string state = StringAt(current, {"state"});
  if (Terminal(state)) {
    std::cout << "Job " << JobLabel(current) << ": " << state << "\n";
  } else {
    std::cout << "Job " << JobLabel(current) << ": stopping (" << state << ")\n";
  }
  return kExitOk;
}

namespace {

// "2 x (cpu 1, memory 1Gi, gpu 0)" for the trainers, "0" or "1 x (cpu 1, memory 1Gi)" for the pservers.
std::string TrainersText(const json::value& spec) {
  return std::to_string(IntAt(spec, {"num_trainer"})) + " x (cpu " + StringAt(spec, {"cpu_per_trainer"}) +
         ", memory " + StringAt(spec, {"mem_per_trainer"}) + ", gpu " +
         std::to_string(IntAt(spec, {"gpu_per_trainer"})) + ")";
}

std::string PServersText(const json::value& spec) {
  std::int64_t ps = IntAt(spec, {"num_ps"});
  if (ps == 0) return "0";
  return std::to_string(ps) + " x (cpu " + StringAt(spec, {"cpu_per_ps"}) + ", memory " +
         StringAt(spec, {"mem_per_ps"}) + ")";
}

// "A=1 B=2": the spec's environment variables.
std::string EnvText(const json::value& spec) {
  std::string text;
  if (!spec.is_object()) return text;
  auto* vars = spec.as_object().if_contains("env");
  if (!vars || !vars->is_object()) return text;
  for (const auto& [k, v] : vars->as_object())
    text += (text.empty() ? "" : " ") + std::string(k) + "=" + (v.is_string() ? std::string(v.as_string()) : "");
  return text;
}

// The job's fields as two columns without a header ("Name:  fit-a-line"); empty values left out.
void PrintJobFields(const ApiClient& client, const json::value& job) {
  std::int64_t id = IntAt(job, {"id"});
  const json::value spec = job.as_object().contains("spec") ? job.at("spec") : json::value(json::object());
  std::vector<std::vector<std::string>> fields;
  auto field = [&](const std::string& label, const std::string& value) {
    if (!value.empty()) fields.push_back({label + ":", value});
  };
  std::string state = StringAt(job, {"state"});
  std::string reason = StringAt(job, {"reason"});
  if (BoolAt(job, "stop_requested") && !Terminal(state)) state += " (stopping)";
  field("Name", StringAt(job, {"name"}));
  field("ID", std::to_string(id));
  field("User", StringAt(job, {"user"}));
  field("State", state);
  if (reason != StringAt(job, {"state"})) field("Reason", reason);
  field("Submitted", FormatTime(IntAt(job, {"submitted_at"})));
  field("Started", FormatTime(IntAt(job, {"started_at"})));
  field("Finished", FormatTime(IntAt(job, {"finished_at"})));
  field("Entry", StringAt(spec, {"entry"}));
  field("Trainers", TrainersText(spec));
  field("PServers", PServersText(spec));
  field("Package", StringAt(spec, {"package"}));
  field("Workdir", StringAt(spec, {"workdir"}));
  field("Image", StringAt(spec, {"image"}));
  field("Env", EnvText(spec));
  field("Max restarts", std::to_string(IntAt(spec, {"max_restarts"})));
  field("Fault tolerant", std::to_string(IntAt(spec, {"fault_tolerant"})));
  field("Trainer runs", std::to_string(IntAt(job, {"succeeded"})) + " succeeded, " +
                            std::to_string(IntAt(job, {"failed"})) + " failed");
  field("Dashboard", Dashboard(client, id));
  // Two columns without a header: reuse the table layout and drop its empty header line.
  std::string head = FormatTable({"", ""}, fields);
  std::cout << head.substr(head.find('\n') + 1);
}

void PrintPods(const json::value& job) {
  std::vector<std::vector<std::string>> pods;
  for (const auto& pod : ArrayAt(job, "pods")) {
    const json::value* exit = pod.as_object().if_contains("exit_code");
    pods.push_back({StringAt(pod, {"name"}), StringAt(pod, {"role"}), std::to_string(IntAt(pod, {"index"})),
                    StringAt(pod, {"phase"}), exit && exit->is_int64() ? std::to_string(exit->as_int64()) : "-",
                    std::to_string(IntAt(pod, {"restarts"})),
                    StringAt(pod, {"endpoint"}).empty() ? "-" : StringAt(pod, {"endpoint"}),
                    StringAt(pod, {"reason"})});
  }
  std::cout << "\nPods:\n"
            << FormatTable({"NAME", "ROLE", "INDEX", "PHASE", "EXIT", "RESTARTS", "ENDPOINT", "REASON"}, pods);
}

// The last `limit` of the job's events.
void PrintEvents(const json::value& events, int limit) {
  const auto& items = ArrayAt(events, "items");
  std::size_t shown = std::min<std::size_t>(items.size(), static_cast<std::size_t>(std::max(limit, 0)));
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = items.size() - shown; i < items.size(); ++i) {
    const auto& e = items[i];
    rows.push_back({FormatTime(IntAt(e, {"at"})), StringAt(e, {"pod"}).empty() ? "-" : StringAt(e, {"pod"}),
                    StringAt(e, {"type"}), StringAt(e, {"message"})});
  }
  std::cout << "\nEvents";
  if (shown < items.size()) std::cout << " (the last " << shown << " of " << items.size() << ")";
  std::cout << ":\n";
  if (rows.empty()) {
    std::cout << "(none)\n";
  } else {
    std::cout << FormatTable({"TIME", "POD", "TYPE", "MESSAGE"}, rows);
  }
}

}  // namespace

int DescribeJob(const DescribeFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto opened = OpenJob(flags.connection, env, flags.job, exit_code);
  if (!opened) return exit_code;
  auto& [client, job] = *opened;
  auto events = client->Call("GET", JobPath(IntAt(*job, {"id"})) + "/events");
  if (!events) return FailSignedIn(*client, events.error());
  PrintJobFields(*client, *job);
  PrintPods(*job);
  PrintEvents(*events, flags.events);
  return kExitOk;
}

}  // namespace paddlecloud::client
