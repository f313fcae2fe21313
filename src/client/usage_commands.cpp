#include "client/usage_commands.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <iostream>
#include <thread>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "client/api_client.h"
#include "client/job_lookup.h"
#include "client/output.h"
#include "client/terminal.h"
#include "client/usage_view.h"

namespace paddlecloud::client {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string UsagePath(std::int64_t job_id) { return "/api/v1/jobs/" + std::to_string(job_id) + "/usage"; }

// The latest usage of `job` (its JSON): the means of the last three sampling intervals up to the
// server's now (or the job's end). The first answer tells the interval and that end.
Result<JobTop> ReadTop(ApiClient& client, const json::value& job) {
  std::string path = UsagePath(IntAt(job, {"id"}));
  auto whole = client.Call("GET", path + "?points=1");
  if (!whole) return Err(whole.error());
  std::int64_t to = IntAt(*whole, {"to"});
  std::int64_t interval = std::max<std::int64_t>(IntAt(*whole, {"interval_ms"}), 1);
  std::int64_t from = std::max<std::int64_t>(0, to - 3 * interval);
  if (from >= to) return TopFromUsage(*whole, StringAt(job, {"name"}));
  auto recent = client.Call("GET", path + "?from=" + std::to_string(from) + "&to=" + std::to_string(to) + "&points=3");
  if (!recent) return Err(recent.error());
  return TopFromUsage(*recent, StringAt(job, {"name"}));
}

// Every running job of the user (GET /api/v1/jobs?status=running), newest first.
Result<std::vector<json::value>> RunningJobs(ApiClient& client) {
  std::vector<json::value> jobs;
  std::string cursor;
  for (int page = 0; page < 20; ++page) {
    std::string target = "/api/v1/jobs?status=running&limit=500";
    if (!cursor.empty()) target += "&cursor=" + EncodeComponent(cursor);
    auto list = client.Call("GET", target);
    if (!list) return Err(list.error());
    for (const auto& item : ArrayAt(*list, "items")) jobs.push_back(item);
    cursor = StringAt(*list, {"next_cursor"});
    if (cursor.empty()) break;
  }
  return jobs;
}

Result<std::vector<JobTop>> ReadAllRunning(ApiClient& client) {
  auto jobs = RunningJobs(client);
  if (!jobs) return Err(jobs.error());
  std::vector<JobTop> tops;
  for (const auto& job : *jobs) {
    auto top = ReadTop(client, job);
    if (!top) return Err(top.error());
    tops.push_back(std::move(*top));
  }
  return tops;
}

std::string ClockTime(std::int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>((unix_ms > 0 ? unix_ms : std::time(nullptr) * 1000LL) / 1000);
  std::tm local{};
  ::localtime_r(&t, &local);
  char text[16];
  std::strftime(text, sizeof text, "%H:%M:%S", &local);
  return text;
}

// Prints what top shows: a table (or "No running jobs.") or one JSON document per line.
class TopPrinter {
 public:
  TopPrinter(bool json_output, bool watching)
      : json_(json_output), watching_(watching), redraw_(watching && !json_output && StdoutIsTerminal()) {}

  void operator()(const std::vector<JobTop>& jobs) {
    if (json_) {
      std::cout << json::serialize(TopJson(jobs)) << "\n" << std::flush;
      return;
    }
    std::string text = jobs.empty() ? "No running jobs.\n" : FormatTop(jobs);
    if (watching_) {
      std::int64_t t = jobs.empty() ? 0 : jobs.front().t_ms;
      text = ClockTime(t) + (redraw_ ? "  (Ctrl-C to stop)\n" : "\n") + text;
    }
    if (redraw_ && lines_ > 0) {
      std::cout << "\x1b[" << lines_ << "A\r\x1b[J";  // back to the first line of the last drawing
    } else if (blocks_ > 0) {
      std::cout << "\n";
    }
    std::cout << text << std::flush;
    lines_ = static_cast<int>(std::count(text.begin(), text.end(), '\n'));
    ++blocks_;
  }

 private:
  bool json_, watching_, redraw_;
  int lines_ = 0;
  int blocks_ = 0;
};

// Draws `top` again at each sample of the job's usage stream until the job ends (its final state)
// or the stream stays away for longer than the server's keep-alives can explain.
Result<std::string> WatchJob(ApiClient& client, JobTop top, TopPrinter& print) {
  print({top});
  const auto idle = 120s + 30 * std::chrono::milliseconds(top.interval_ms);
  std::string end_state;
  auto last_contact = Clock::now();
  for (int attempt = 0;; ++attempt) {
    SseDecoder decoder;
    auto handle = [&](const std::string& event, const std::string& data) {
      boost::system::error_code ec;
      json::value parsed = json::parse(data, ec);
      if (ec) return true;
      if (event == "end") {
        end_state = StringAt(parsed, {"state"});
        return false;
      }
      if (event == "sample") {
        ApplySample(top, parsed);
        print({top});
      }
      return true;
    };
    Status streamed = client.Stream(
        UsagePath(top.id) + "/stream",
        [&](std::string_view chunk) {
          last_contact = Clock::now();
          return decoder.Feed(chunk, handle);
        },
        idle, {{"Accept", "text/event-stream"}});
    if (!end_state.empty()) return end_state;
    if (!streamed.ok() && streamed.code() != Code::kUnavailable) return Err(streamed);
    if (Clock::now() - last_contact > idle) {
      if (!streamed.ok()) return Err(streamed);
      return Err(Status::Unavailable("the usage stream of " + top.name + " keeps ending without the job's end"));
    }
    std::this_thread::sleep_for(attempt == 0 ? 200ms : 1s);  // the server restarting: try again
  }
}

int TopOfJob(const TopFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto opened = OpenJob(flags.connection, env, flags.job, exit_code);
  if (!opened) return exit_code;
  auto& [client, job] = *opened;
  auto top = ReadTop(*client, *job);
  if (!top) return FailSignedIn(*client, top.error());
  TopPrinter print(flags.output == "json", flags.watch);
  if (!flags.watch) {
    print({*top});
    return kExitOk;
  }
  std::string label = top->name + " (id " + std::to_string(top->id) + ")";
  auto state = WatchJob(*client, std::move(*top), print);
  if (!state) return FailSignedIn(*client, state.error());
  std::cerr << "Job " << label << " " << *state << "\n";
  return kExitOk;
}

}  // namespace

int Top(const TopFlags& flags, const Environment& env) {
  if (!flags.job.empty()) return TopOfJob(flags, env);
  int exit_code = kExitOk;
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  TopPrinter print(flags.output == "json", flags.watch);
  while (true) {
    auto tops = ReadAllRunning(*client);
    if (!tops) return FailSignedIn(*client, tops.error());
    print(*tops);
    if (!flags.watch) return kExitOk;
    std::int64_t interval_ms = tops->empty() ? 5000 : tops->front().interval_ms;
    std::this_thread::sleep_for(std::max<std::chrono::milliseconds>(1s, std::chrono::milliseconds(interval_ms)));
  }
}

int AccountUsage(const UsageFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  auto usage = client->Call("GET", "/api/v1/account/usage?window=" + EncodeComponent(flags.window));
  if (!usage) return FailRequest(*client, usage.error());
  if (flags.output == "json") {
    std::cout << json::serialize(*usage) << "\n";
  } else {
    std::cout << FormatAccountUsage(*usage);
  }
  return kExitOk;
}

int ShowQuota(const QuotaFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  auto quota = client->Call("GET", "/api/v1/account/quota");
  if (!quota) return FailRequest(*client, quota.error());
  std::cout << (flags.output == "json" ? json::serialize(*quota) + "\n" : FormatQuota(*quota));
  return kExitOk;
}

}  // namespace paddlecloud::client
