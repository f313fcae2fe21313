// Test helpers: a temporary directory, and the real `paddlecloud server` binary run as a child
// process on 127.0.0.1:0 with its own data dir, found through <data-dir>/server.addr.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace paddlecloud::testing {

class TempDir {
 public:
  TempDir();   // under $TMPDIR or /tmp
  ~TempDir();  // removes it recursively
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Polls `condition` until it holds or `timeout` passes; returns whether it held.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// Path of the built paddlecloud binary (set at build time).
std::string PaddlecloudBinary();

// Runs a shell command; returns what it printed (stdout and stderr).
std::string RunCommand(const std::string& command);

struct ServerProcessOptions {
  int uid = -1;  // run as this uid/gid (the test runs as root); -1: as the test
  int gid = -1;
  std::vector<std::pair<std::string, std::string>> env;  // added to the server's environment
  std::string binary;  // the paddlecloud binary to run; empty: PaddlecloudBinary()
  std::string listen = "127.0.0.1:0";
};

class ServerProcess {
 public:
  // Starts `paddlecloud server --listen <options.listen> --data-dir <data_dir> <extra_args...>` with
  // stdout and stderr in <data_dir>/../server-<n>.log.
  ServerProcess(std::string data_dir, std::vector<std::string> extra_args = {}, ServerProcessOptions options = {});
  ~ServerProcess();  // SIGKILL if still running

  // Waits for server.addr to appear (and the process to be alive). False on timeout or exit.
  bool WaitReady(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  const std::string& address() const { return address_; }

  // Sends `signal`, waits for exit; returns the exit code (128+signal when killed), -1 on timeout.
  int Stop(int signal, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Waits for the process to exit on its own; exit code as for Stop.
  int WaitExit(std::chrono::milliseconds timeout);
  bool running();
  std::string Log() const;  // everything it printed so far
  pid_t pid() const { return pid_; }

 private:
  std::string data_dir_;
  std::string log_path_;
  std::string address_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// Whether the process has ended: it no longer exists, or is a zombie nobody reaped yet.
bool ProcessGone(pid_t pid);

}  // namespace paddlecloud::testing
