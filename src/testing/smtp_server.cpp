#include "testing/smtp_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
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

namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string DecodeQuotedPrintable(const std::string& in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '=' && i + 1 < in.size() && (in[i + 1] == '\n' || in[i + 1] == '\r')) {
      i += (in[i + 1] == '\r' && i + 2 < in.size() && in[i + 2] == '\n') ? 2 : 1;
    } else if (in[i] == '=' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out += static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

SmtpTestServer::SmtpTestServer(std::string maildir, std::vector<std::string> extra) : maildir_(std::move(maildir)) {
  fs::create_directories(maildir_);
  std::vector<std::string> args = {"/usr/bin/python3", std::string(PADDLECLOUD_SOURCE_DIR) + "/scripts/smtp_test_server.py",
                                   "--maildir", maildir_};
  args.insert(args.end(), extra.begin(), extra.end());
  std::string log = maildir_ + ".log";
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(125);  // dies with a crashed test
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
}

SmtpTestServer::~SmtpTestServer() {
  if (pid_ <= 0 || Exited()) return;
  ::kill(pid_, SIGTERM);
  if (!WaitFor([&] { return Exited(); }, std::chrono::seconds(10))) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

bool SmtpTestServer::Exited() {
  if (!exited_ && pid_ > 0 && ::waitpid(pid_, &status_, WNOHANG) == pid_) exited_ = true;
  return exited_;
}

bool SmtpTestServer::WaitReady(std::chrono::milliseconds timeout) {
  std::string port_file = maildir_ + "/smtp.port";
  WaitFor([&] { return Exited() || fs::exists(port_file); }, timeout);
  if (exited_ || !fs::exists(port_file)) return false;
  port_ = std::stoi(ReadFile(port_file));
  return port_ > 0;
}

std::string SmtpTestServer::Log() const { return ReadFile(maildir_ + ".log"); }

int SmtpTestServer::MessageCount() const {
  int n = 0;
  while (fs::exists(Eml(n + 1))) ++n;
  return n;
}

bool SmtpTestServer::WaitForMessages(int count, std::chrono::milliseconds timeout) const {
  return WaitFor([&] { return MessageCount() >= count; }, timeout);
}

std::string SmtpTestServer::DecodedMessage(int n) const {
  std::string raw = ReadFile(Eml(n));
  auto split = raw.find("\r\n\r\n");
  if (split == std::string::npos) return raw;
  return raw.substr(0, split + 4) + DecodeQuotedPrintable(raw.substr(split + 4));
}

}  // namespace paddlecloud::testing
