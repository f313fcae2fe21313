// The outbox adapter of the Mailer port, for installs without SMTP (single-machine development).
//
// Each message becomes <dir>/<UTC timestamp>-<random>.eml (e.g. 20250102T030405.123456Z-9f...eml),
// the exact RFC 5322 text an SMTP server would have received, written atomically (temp file in the
// same directory + rename) with mode 0600 since messages carry single-use links; the directory is
// created (0700) when missing. Send then logs at info
//   mail to <to> "<subject>" written to <path>
// and one line per http(s) link of the text body, so a newcomer can follow a verification link
// straight from the server log. File-system errors -> kUnavailable.
#pragma once

#include <memory>
#include <string>

#include "mail/mailer.h"
#include "mail/message_format.h"

namespace paddlecloud::mail {

std::unique_ptr<Mailer> NewOutboxMailer(std::string dir, Mailbox from);

}  // namespace paddlecloud::mail
