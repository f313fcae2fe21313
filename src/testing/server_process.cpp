#include "testing/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "testing/test_database.h"

#ifndef PADDLECLOUD_BINARY_PATH
#define PADDLECLOUD_BINARY_PATH "paddlecloud"
#endif

namespace paddlecloud::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/paddlecloud-test-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) std::abort();
  path_ = buf.data();
  // Searchable by others (not listable): a test may run the server as another user with its data
  // dir in here.
  ::chmod(path_.c_str(), 0711);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(2);
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);  // polling interval of a condition wait, not synchronization
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

std::string PaddlecloudBinary() {
  const char* env = std::getenv("PADDLECLOUD_BIN");
  return env && *env ? env : PADDLECLOUD_BINARY_PATH;
}

std::string RunCommand(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  ::pclose(pipe);
  return out;
}

ServerProcess::ServerProcess(std::string data_dir, std::vector<std::string> extra_args, ServerProcessOptions options)
    : data_dir_(std::move(data_dir)) {
  static std::atomic<int> counter{0};
  fs::create_directories(data_dir_);
  log_path_ = (fs::path(data_dir_).parent_path() / ("server-" + std::to_string(counter++) + ".log")).string();
  std::error_code ec;
  fs::remove(fs::path(data_dir_) / "server.addr", ec);
  std::vector<std::string> args = {options.binary.empty() ? PaddlecloudBinary() : options.binary, "server", "--listen", options.listen, "--data-dir", data_dir_};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  if (std::find(args.begin(), args.end(), "--database-url") == args.end()) {
    if (std::string url = ServerDatabaseUrl(data_dir_); !url.empty()) {
      args.push_back("--database-url");
      args.push_back(url);
    }
  }
  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(log, 1);
    ::dup2(log, 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    for (const auto& [name, value] : options.env) ::setenv(name.c_str(), value.c_str(), 1);
    if (options.uid >= 0 && (::setgroups(0, nullptr) != 0 || ::setresgid(options.gid, options.gid, options.gid) != 0 ||
                             ::setresuid(options.uid, options.uid, options.uid) != 0))
      ::_exit(126);
    // A test process that crashes takes its server along (set after the uid change, which clears it).
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(125);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
}

ServerProcess::~ServerProcess() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

bool ServerProcess::running() {
  if (pid_ <= 0 || exit_code_ != -1) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

bool ServerProcess::WaitReady(std::chrono::milliseconds timeout) {
  std::string addr_file = (fs::path(data_dir_) / "server.addr").string();
  bool ok = WaitFor([&] {
    if (!running()) return true;
    std::ifstream in(addr_file);
    std::string line;
    return static_cast<bool>(std::getline(in, line)) && !line.empty();
  }, timeout);
  if (!ok || !running()) return false;
  std::ifstream in(addr_file);
  std::getline(in, address_);
  return !address_.empty();
}

int ServerProcess::WaitExit(std::chrono::milliseconds timeout) {
  WaitFor([&] { return !running(); }, timeout);
  return exit_code_;
}

int ServerProcess::Stop(int signal, std::chrono::milliseconds timeout) {
  if (running()) ::kill(pid_, signal);
  return WaitExit(timeout);
}

std::string ServerProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool ProcessGone(pid_t pid) {
  if (::kill(pid, 0) != 0) return errno == ESRCH;
  // Read with read(2): the process may vanish while its stat is read (ESRCH), which a stream
  // reports by throwing.
  int fd = ::open(("/proc/" + std::to_string(pid) + "/stat").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  char buffer[512];
  ssize_t n = ::read(fd, buffer, sizeof buffer);
  ::close(fd);
  if (n <= 0) return true;
  std::string_view line(buffer, static_cast<std::size_t>(n));
  auto close = line.rfind(')');
  return close != std::string_view::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

}  // namespace paddlecloud::testing
