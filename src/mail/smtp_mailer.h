// The SMTP adapter of the Mailer port (libcurl): smtp:// with optional STARTTLS, or smtps://.
//
// Each Send opens its own connection (mail is rare; no shared connection state, so Send is
// thread-safe), logs in when a user is configured, and fails as a whole within timeout_seconds.
// With smtp_security "starttls" the upgrade is required: a server without STARTTLS is an error,
// never a silent fallback to plain text. Server certificates are verified against the system CAs.
#pragma once

#include <memory>

#include "mail/mailer.h"
#include "mail/message_format.h"

namespace paddlecloud::mail {

// `options` must have passed MakeMailer's validation; `from` is options.from parsed.
std::unique_ptr<Mailer> NewSmtpMailer(const MailerOptions& options, Mailbox from);

}  // namespace paddlecloud::mail
