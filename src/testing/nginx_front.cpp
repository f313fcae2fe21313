#include "testing/nginx_front.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "testing/server_process.h"

#ifndef PADDLECLOUD_SOURCE_DIR
#define PADDLECLOUD_SOURCE_DIR "."
#endif

namespace paddlecloud::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void Replace(std::string& text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

}  // namespace

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

NginxFront::NginxFront(const std::string& dir, int port, const std::vector<std::string>& upstreams)
    : dir_(dir), port_(port) {
  std::filesystem::create_directories(dir_ + "/logs");
  std::string site = ReadAll(std::string(PADDLECLOUD_SOURCE_DIR) + "/deploy/nginx/paddlecloud.conf.in");
  std::string servers;
  for (const std::string& u : upstreams) servers += "    server " + u + " max_fails=1 fail_timeout=1s;\n";
  Replace(site, "@SERVERS@\n", servers);
  Replace(site, "@LISTEN@", address());
  std::ofstream(dir_ + "/paddlecloud.conf") << site;
  std::ofstream(dir_ + "/nginx.conf") << "worker_processes 1;\n"
                                         "pid " << dir_ << "/nginx.pid;\n"
                                         "error_log " << dir_ << "/logs/error.log warn;\n"
                                         "events { worker_connections 1024; }\n"
                                         "http {\n"
                                         "  access_log off;\n"
                                         "  client_body_temp_path " << dir_ << "/body;\n"
                                         "  proxy_temp_path " << dir_ << "/proxy;\n"
                                         "  include " << dir_ << "/paddlecloud.conf;\n"
                                         "}\n";
  pid_ = ::fork();
  if (pid_ == 0) {
    std::string log = dir_ + "/logs/stderr.log";
    FILE* out = std::freopen(log.c_str(), "a", stderr);
    (void)out;
    // As root, workers would switch to nobody, who cannot enter the test's directories.
    std::string globals = ::geteuid() == 0 ? "daemon off; user root;" : "daemon off;";
    ::execl("/usr/sbin/nginx", "nginx", "-p", dir_.c_str(), "-c", (dir_ + "/nginx.conf").c_str(), "-e",
            (dir_ + "/logs/error.log").c_str(), "-g", globals.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
}

NginxFront::~NginxFront() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGQUIT);
  if (!WaitFor([&] { return ::waitpid(pid_, nullptr, WNOHANG) == pid_; }, std::chrono::seconds(10))) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

bool NginxFront::WaitReady() {
  return WaitFor([&] {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port_));
    bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return up || ::waitpid(pid_, nullptr, WNOHANG) == pid_;
  }, std::chrono::seconds(10)) && ::kill(pid_, 0) == 0;
}

std::string NginxFront::ErrorLog() const {
  return ReadAll(dir_ + "/logs/error.log") + ReadAll(dir_ + "/logs/stderr.log");
}

}  // namespace paddlecloud::testing
