#include "mail/mailer.h"

#include <spdlog/spdlog.h>

#include "mail/message_format.h"
#include "mail/outbox_mailer.h"
#include "mail/smtp_mailer.h"

namespace paddlecloud::mail {

Mailer::~Mailer() = default;

namespace {

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.starts_with("127.");
}

Status ValidateSmtp(const MailerOptions& o) {
  if (o.smtp_security != "none" && o.smtp_security != "starttls" && o.smtp_security != "tls") {
    return Status::InvalidArgument("smtp_security must be none, starttls or tls (got '" + o.smtp_security + "')",
                                   "smtp_security");
  }
  for (unsigned char c : o.smtp_host) {
    if (c <= 0x20 || c >= 0x7f || c == '/' || c == '@' || c == '?' || c == '#' || c == '\\') {
      return Status::InvalidArgument("smtp_host must be a host name or IP address (got '" + o.smtp_host + "')",
                                     "smtp_host");
    }
  }
  if (o.smtp_port < 1 || o.smtp_port > 65535) {
    return Status::InvalidArgument("smtp_port must be between 1 and 65535 (got " + std::to_string(o.smtp_port) + ")",
                                   "smtp_port");
  }
  if (o.timeout_seconds < 1) {
    return Status::InvalidArgument("timeout_seconds must be at least 1", "timeout_seconds");
  }
  if (o.smtp_user.find_first_of("\r\n") != std::string::npos) {
    return Status::InvalidArgument("smtp_user must not contain CR or LF", "smtp_user");
  }
  if (o.smtp_user.empty() && !o.smtp_password.empty()) {
    return Status::InvalidArgument("smtp_password is set but smtp_user is empty", "smtp_password");
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Mailer>> MakeMailer(const MailerOptions& options) {
  auto from = ParseMailbox(options.from, "from");
  if (!from) return Err(from.error());
  if (options.smtp_host.empty()) {
    if (options.outbox_dir.empty()) {
      return Err(Status::InvalidArgument("outbox_dir is required when smtp_host is not set", "outbox_dir"));
    }
    return NewOutboxMailer(options.outbox_dir, std::move(*from));
  }
  PC_RETURN_IF_ERROR(ValidateSmtp(options));
  if (!options.smtp_user.empty() && options.smtp_security == "none" && !IsLoopback(options.smtp_host)) {
    spdlog::warn("mail: smtp_security is none: the SMTP password for {} crosses the network unencrypted",
                 options.smtp_user);
  }
  return NewSmtpMailer(options, std::move(*from));
}

}  // namespace paddlecloud::mail
