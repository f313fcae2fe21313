// The Mailer port: how services (accounts: registration verification, welcome, password reset,
// invitations) send one e-mail, without knowing whether it goes to an SMTP server or to the outbox.
//
// Contract of every Mailer:
// - Send blocks until the message is handed over (accepted by the SMTP server / written to disk):
//   run it on the blocking pool (blocking/work_pool.h), never on an I/O thread.
// - Implementations are safe to call from many threads at once.
// - They never log secrets (the SMTP password) and never log message bodies at info level or above.
//   (Exception by design: the outbox adapter, meant for single-machine development installs, logs
//   the http(s) links of the text body at info so a newcomer can follow a verification link.)
// - Errors: bad message (no or malformed recipient, CR/LF in `to` or `subject`, invalid UTF-8)
//   -> kInvalidArgument with `field` set; delivery failure (server down, refused, timeout, login
//   denied, disk full) -> kUnavailable, message "sending mail to <address> failed: <reason>".
#pragma once

#include <memory>
#include <string>

#include "common/status.h"

namespace paddlecloud::mail {

struct MailMessage {
  // One recipient: "user@example.com" or "Display Name <user@example.com>" (ASCII address; the
  // display name may be UTF-8). CR/LF is rejected (header injection).
  std::string to;
  // UTF-8, one line (CR/LF rejected); encoded as RFC 2047 when not plain ASCII.
  std::string subject;
  // UTF-8 plain text; any line-ending style. Always sent.
  std::string text_body;
  // Optional UTF-8 HTML alternative; when set the message is multipart/alternative.
  std::string html_body;
};

class Mailer {
 public:
  virtual ~Mailer();
  // Sends one message (see the contract above). Each call renders a complete RFC 5322 message with
  // Date, From, To, Subject, Message-ID and MIME headers; bodies are quoted-printable UTF-8.
  virtual Status Send(const MailMessage& message) = 0;
};

struct MailerOptions {
  // SMTP server; empty -> the outbox mailer is used instead.
  std::string smtp_host;
  int smtp_port = 587;
  // "none" (plain SMTP), "starttls" (upgrade required: never falls back to plain), "tls" (smtps).
  std::string smtp_security = "starttls";
  // Login (AUTH) when smtp_user is set. The password is never logged nor put in error messages.
  std::string smtp_user;
  std::string smtp_password;
  // The From header and envelope sender: "Name <address>" or "address".
  std::string from = "PaddleCloud <noreply@localhost>";
  // Outbox directory (created when missing) used when smtp_host is empty; normally <data>/outbox.
  std::string outbox_dir;
  // Whole-transaction limit for one SMTP Send (connect included).
  int timeout_seconds = 30;
};

// The SMTP mailer when options.smtp_host is set, else the outbox mailer writing to
// options.outbox_dir. Validates the options without connecting: kInvalidArgument whose `field`
// names the offending option (e.g. "smtp_security" for a value other than none|starttls|tls;
// "outbox_dir" when neither smtp_host nor outbox_dir is set; also smtp_port, smtp_host, from,
// timeout_seconds, smtp_password without smtp_user).
Result<std::unique_ptr<Mailer>> MakeMailer(const MailerOptions& options);

}  // namespace paddlecloud::mail
