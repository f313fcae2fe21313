// Test helper: a real HTTP proxy (tinyproxy, the Debian package scripts/install-deps installs) on
// 127.0.0.1, run as a child process with its own config and log in a directory of the test.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "testing/server_process.h"
#include "testing/smtp_server.h"

namespace paddlecloud::client::test {

// A port on 127.0.0.1 that nothing listens on right now (bound to 0, then released).
inline int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

inline bool Accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

class TinyProxy {
 public:
  // `basic_auth` "user password" makes the proxy demand those credentials; "" none.
  explicit TinyProxy(const std::string& dir, const std::string& basic_auth = "") : dir_(dir), port_(FreePort()) {
    std::filesystem::create_directories(dir_);
    std::ofstream conf(dir_ + "/tinyproxy.conf");
    conf << "Port " << port_ << "\nListen 127.0.0.1\nTimeout 60\nLogLevel Connect\nMaxClients 50\n"
         << "Allow 127.0.0.1\nLogFile \"" << log_path() << "\"\n";
    if (!basic_auth.empty()) conf << "BasicAuth " << basic_auth << "\n";
    conf.close();
    pid_ = ::fork();
    if (pid_ == 0) {
      int out = ::open((dir_ + "/tinyproxy.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(out, 1);
      ::dup2(out, 2);
      ::execlp("tinyproxy", "tinyproxy", "-d", "-c", (dir_ + "/tinyproxy.conf").c_str(), nullptr);
      ::_exit(127);
    }
  }
  ~TinyProxy() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  TinyProxy(const TinyProxy&) = delete;
  TinyProxy& operator=(const TinyProxy&) = delete;

  bool WaitReady() const { return testing::WaitFor([&] { return Accepts(port_); }, std::chrono::seconds(10)); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log_path() const { return dir_ + "/tinyproxy.log"; }
  std::string Log() const { return testing::ReadFile(log_path()) + testing::ReadFile(dir_ + "/tinyproxy.out"); }
  // How many requests the proxy logged whose request line contains `text` ("CONNECT 127.0.0.1:").
  int Requests(const std::string& text) const {
    std::istringstream lines(testing::ReadFile(log_path()));
    int n = 0;
    for (std::string line; std::getline(lines, line);)
      n += line.find("]: Request (file descriptor") != std::string::npos && line.find(text) != std::string::npos;
    return n;
  }
  // Waits until it logged `count` such requests.
  bool WaitForRequests(const std::string& text, int count) const {
    return testing::WaitFor([&] { return Requests(text) >= count; }, std::chrono::seconds(10));
  }

 private:
  std::string dir_;
  int port_;
  pid_t pid_ = -1;
};

}  // namespace paddlecloud::client::test
