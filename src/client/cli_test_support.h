// Test helper for the CLI's end-to-end tests: a program run as a child process with its own HOME,
// a stdin from a string and a clean PaddleCloud environment; stdout and stderr captured in files.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "testing/server_process.h"
#include "testing/smtp_server.h"

extern char** environ;

namespace paddlecloud::client::test {

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::ostream& operator<<(std::ostream& os, const Outcome& r) {
  return os << "exit " << r.exit_code << "\n--- stdout\n" << r.out << "--- stderr\n" << r.err;
}

// A started program; Wait() collects it.
class Running {
 public:
  // Starts `args` (argv[0] looked up in PATH) with HOME=`home`, stdin = `input`, the environment
  // without PaddleCloud's client variables and proxy variables, plus `extra_env`.
  Running(std::vector<std::string> args, const std::string& home, const std::string& input,
          const std::map<std::string, std::string>& extra_env = {})
      : args_(std::move(args)) {
    static int counter = 0;
    base_ = home + "/../run-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    std::ofstream(base_ + ".in") << input;
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
      std::string entry(*e);
      std::string name = entry.substr(0, entry.find('='));
      if (name == "HOME" || name == "PADDLE_CLOUD_URL" || name == "PADDLE_CLOUD_TOKEN" || name == "PADDLECLOUD_CLI_CONFIG")
        continue;
      std::string lower = name;
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "http_proxy" || lower == "https_proxy" || lower == "no_proxy") continue;  // tests choose them
      env.push_back(entry);
    }
    env.push_back("HOME=" + home);
    for (const auto& [k, v] : extra_env) env.push_back(k + "=" + v);
    pid_ = ::fork();
    if (pid_ == 0) {
      int in = ::open((base_ + ".in").c_str(), O_RDONLY);
      int out = ::open((base_ + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err = ::open((base_ + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(err, 2);
      std::vector<char*> argv, envp;
      for (auto& a : args_) argv.push_back(a.data());
      argv.push_back(nullptr);
      for (auto& e : env) envp.push_back(e.data());
      envp.push_back(nullptr);
      ::execvpe(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
  }
  ~Running() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;

  // What it printed so far.
  std::string Out() const { return testing::ReadFile(base_ + ".out"); }
  std::string Err() const { return testing::ReadFile(base_ + ".err"); }

  // Waits for the exit; past `timeout` kills it and fails the test.
  Outcome Wait(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    Outcome run;
    int status = 0;
    bool exited = testing::WaitFor([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
    if (!exited) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      ADD_FAILURE() << args_[0] << " " << (args_.size() > 1 ? args_[1] : "") << " did not finish in time";
    }
    pid_ = -1;
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    run.out = Out();
    run.err = Err();
    return run;
  }

 private:
  std::vector<std::string> args_;
  std::string base_;
  pid_t pid_ = -1;
};

// Runs `args` to the end (see Running).
inline Outcome RunProgram(std::vector<std::string> args, const std::string& home, const std::string& input,
                          const std::map<std::string, std::string>& extra_env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  Running running(std::move(args), home, input, extra_env);
  return running.Wait(timeout);
}

}  // namespace paddlecloud::client::test
