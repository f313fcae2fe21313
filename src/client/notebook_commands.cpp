#include "client/notebook_commands.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/types.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <iostream>
#include <thread>
#include <vector>

#include <boost/json/serialize.hpp>

#include "client/api_client.h"
#include "client/output.h"
#include "client/terminal.h"
#include "client/wait_progress.h"

extern char** environ;

namespace paddlecloud::client {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr char kNotebookPath[] = "/api/v1/notebook";
constexpr auto kStartDeadline = 10min;
constexpr auto kPollInterval = 500ms;

// "running", "stopped (idle)", "starting (waiting for 2 CPUs)"; a reason that only repeats the
// state ("Starting") is left out.
std::string StateText(const json::value& notebook) {
  std::string state = StringAt(notebook, {"state"});
  std::string reason = StringAt(notebook, {"reason"});
  bool repeats = reason.size() == state.size() &&
                 std::equal(reason.begin(), reason.end(), state.begin(),
                            [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  return reason.empty() || repeats ? state : state + " (" + reason + ")";
}

std::string TimeAndAge(std::int64_t at, std::int64_t now) {
  if (at <= 0) return "";
  return FormatTime(at) + " (" + FormatAge(now - at) + " ago)";
}

// The end of Jupyter's log, indented under the fields.
std::string LogTail(const json::value& notebook) {
  std::string tail = StringAt(notebook, {"log_tail"});
  if (tail.empty()) return "";
  std::string text = "\nThe end of Jupyter's log:\n";
  std::size_t start = 0;
  while (start < tail.size()) {
    std::size_t end = tail.find('\n', start);
    if (end == std::string::npos) end = tail.size();
    text += "  " + tail.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return text;
}

// Polls the notebook until it leaves `starting`; Unavailable past kStartDeadline.
Result<json::value> WaitUntilStarted(ApiClient& client, json::value notebook) {
  WaitProgress progress("Notebook");
  auto deadline = Clock::now() + kStartDeadline;
  while (StringAt(notebook, {"state"}) == "starting") {
    progress.Show(StateText(notebook));
    if (Clock::now() >= deadline) {
      progress.Finish();
      return Err(Status::Unavailable("the notebook is still " + StateText(notebook) +
                                     " after 10 minutes; see `paddlecloud notebook status`"));
    }
    std::this_thread::sleep_for(kPollInterval);
    auto polled = client.Call("GET", kNotebookPath);
    if (!polled) {
      progress.Finish();
      return Err(polled.error());
    }
    notebook = std::move(*polled);
  }
  progress.Finish();
  return notebook;
}

// The path of the Jupyter UI under the notebook origin: the notebook's `url`, else the tree of the
// signed-in user (GET /api/v1/me), as the platform serves it.
Result<std::string> NotebookPagePath(ApiClient& client, const json::value& notebook) {
  std::string url = StringAt(notebook, {"url"});
  if (!url.empty()) return url;
  auto me = client.Call("GET", "/api/v1/me");
  if (!me) return Err(me.error());
  return "/user/" + std::to_string(IntAt(*me, {"user", "id"})) + "/tree";
}

// Starts `program url` detached (its own session), its output discarded; whether it could be started.
bool Launch(const std::string& program, const std::string& url) {
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  for (int fd : {0, 1, 2}) ::posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
  std::vector<std::string> args{program, url};
  std::vector<char*> argv{args[0].data(), args[1].data(), nullptr};
  // In a session of its own: the browser outlives the CLI and the terminal it ran in.
  posix_spawnattr_t attributes;
  ::posix_spawnattr_init(&attributes);
  ::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);
  pid_t pid = 0;
  int failed = ::posix_spawnp(&pid, program.c_str(), &actions, &attributes, argv.data(), environ);
  ::posix_spawnattr_destroy(&attributes);
  ::posix_spawn_file_actions_destroy(&actions);
  return failed == 0;
}

// $BROWSER's first command (a list separated by ':'), else xdg-open; whether one started.
bool OpenInBrowser(const Environment& env, const std::string& url) {
  auto browser = env.find("BROWSER");
  if (browser != env.end() && !browser->second.empty()) {
    std::string first = browser->second.substr(0, browser->second.find(':'));
    if (!first.empty() && Launch(first, url)) return true;
  }
  return Launch("xdg-open", url);
}

}  // namespace

std::string FormatNotebookResources(const json::value& notebook) {
  std::int64_t gpus = IntAt(notebook, {"resources", "gpus"});
  return StringAt(notebook, {"resources", "cpu"}) + " CPU, " + StringAt(notebook, {"resources", "memory"}) +
         " memory, " + std::to_string(gpus) + (gpus == 1 ? " GPU" : " GPUs");
}

std::string FormatNotebook(const json::value& notebook, std::int64_t now) {
  std::vector<std::vector<std::string>> fields;
  auto field = [&](const std::string& label, const std::string& value) {
    if (!value.empty()) fields.push_back({label + ":", value});
  };
  std::string state = StringAt(notebook, {"state"});
  bool active = state == "starting" || state == "running";
  field("State", StateText(notebook));
  field("Message", StringAt(notebook, {"message"}));
  if (Has(notebook, "resources")) field("Resources", FormatNotebookResources(notebook));
  if (active) {
    field("Started", TimeAndAge(IntAt(notebook, {"started_at"}), now));
    field("Ready", TimeAndAge(IntAt(notebook, {"ready_at"}), now));
    field("Last activity", TimeAndAge(IntAt(notebook, {"last_activity_at"}), now));
    std::int64_t idle = IntAt(notebook, {"idle_timeout_seconds"});
    std::int64_t max_age = IntAt(notebook, {"max_age_seconds"});
    field("Idle timeout", idle > 0 ? FormatAge(idle) + " without activity stops it" : "none");
    field("Max age", max_age > 0 ? FormatAge(max_age) : "none");
    field("Restarts", std::to_string(IntAt(notebook, {"restarts"})));
  }
  if (state == "running") field("Open", "paddlecloud notebook open");
  std::string table = FormatTable({"", ""}, fields);
  return table.substr(table.find('\n') + 1) + (state == "failed" ? LogTail(notebook) : "");
}

std::string HandoffUrl(const std::string& server, const std::string& notebook_path) {
  return server + "/api/v1/notebook/handoff?next=" + EncodeComponent(notebook_path);
}

int StartNotebook(const NotebookStartFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  json::object resources;
  if (!flags.cpu.empty()) resources["cpu"] = flags.cpu;
  if (!flags.memory.empty()) resources["memory"] = flags.memory;
  if (flags.gpus >= 0) resources["gpus"] = flags.gpus;
  auto started = client->Call("POST", "/api/v1/notebook/start",
                              resources.empty() ? json::value(nullptr) : json::value(std::move(resources)));
  if (!started) return FailRequest(*client, started.error());
  json::value notebook = std::move(*started);
  std::cout << "Notebook " << StateText(notebook) << ", with " << FormatNotebookResources(notebook) << "\n"
            << std::flush;
  if (!flags.wait) return kExitOk;
  auto waited = WaitUntilStarted(*client, std::move(notebook));
  if (!waited) return FailSignedIn(*client, waited.error());
  std::string state = StringAt(*waited, {"state"});
  if (state != "running") {
    std::cerr << FormatNotebook(*waited, NowSeconds());
    return Fail(Status::Unavailable("the notebook did not start: " + StateText(*waited)));
  }
  std::cout << "Notebook running. Open it with: paddlecloud notebook open\n";
  return kExitOk;
}

int StopNotebook(const ConnectionFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto client = ConnectSignedIn(flags, env, exit_code);
  if (!client) return exit_code;
  auto stopped = client->Call("POST", "/api/v1/notebook/stop");
  if (!stopped) return FailRequest(*client, stopped.error());
  std::cout << "Notebook " << StateText(*stopped) << "; its files are kept in workspace/.\n";
  return kExitOk;
}

int NotebookStatus(const NotebookStatusFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  auto notebook = client->Call("GET", kNotebookPath);
  if (!notebook) return FailRequest(*client, notebook.error());
  std::cout << (flags.output == "json" ? json::serialize(*notebook) + "\n" : FormatNotebook(*notebook, NowSeconds()));
  return kExitOk;
}

int OpenNotebook(const ConnectionFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto client = ConnectSignedIn(flags, env, exit_code);
  if (!client) return exit_code;
  auto notebook = client->Call("GET", kNotebookPath);
  if (!notebook) return FailRequest(*client, notebook.error());
  auto path = NotebookPagePath(*client, *notebook);
  if (!path) return FailSignedIn(*client, path.error());
  std::string url = HandoffUrl(client->server(), *path);
  std::cout << url << "\n" << std::flush;
  std::cerr << "Open it in a browser signed in to the platform at " << client->server()
            << ": the link passes your platform session on to the notebook's own address.\n";
  std::string state = StringAt(*notebook, {"state"});
  if (state != "running" && state != "starting")
    std::cerr << "The notebook is " << StateText(*notebook) << ": start it with `paddlecloud notebook start --wait`.\n";
  if (StdoutIsTerminal() && OpenInBrowser(env, url)) std::cerr << "Opening it in your browser.\n";
  return kExitOk;
}

}  // namespace paddlecloud::client
