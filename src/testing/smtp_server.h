// Test helper: a real SMTP server (scripts/smtp_test_server.py on Debian's python3-aiosmtpd) as a
// child process. Messages arrive as <maildir>/<n>.eml (n = 1, 2, ...) with <n>.json envelopes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace paddlecloud::testing {

class SmtpTestServer {
 public:
  explicit SmtpTestServer(std::string maildir, std::vector<std::string> extra_args = {});
  ~SmtpTestServer();  // SIGTERM, then SIGKILL if it lingers
  SmtpTestServer(const SmtpTestServer&) = delete;
  SmtpTestServer& operator=(const SmtpTestServer&) = delete;

  // Waits for smtp.port; false when the process died or the deadline passed.
  bool WaitReady(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  int port() const { return port_; }
  const std::string& maildir() const { return maildir_; }
  std::string Log() const;
  std::string Eml(int n) const { return maildir_ + "/" + std::to_string(n) + ".eml"; }
  std::string EnvelopeFile(int n) const { return maildir_ + "/" + std::to_string(n) + ".json"; }
  int MessageCount() const;
  // Waits until at least `count` messages arrived; false on timeout.
  bool WaitForMessages(int count, std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
  // Message n as received, with quoted-printable bodies decoded (headers untouched).
  std::string DecodedMessage(int n) const;
  // True when the process has exited (reaps it); `exit_status` is waitpid's status then.
  bool Exited();
  int exit_status() const { return status_; }

 private:
  std::string maildir_;
  pid_t pid_ = -1;
  int port_ = 0;
  int status_ = 0;
  bool exited_ = false;
};

std::string ReadFile(const std::string& path);
std::string DecodeQuotedPrintable(const std::string& text);

}  // namespace paddlecloud::testing
