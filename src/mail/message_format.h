// Rendering of a MailMessage as an RFC 5322 / MIME message, shared by the mail adapters.
//
// The output uses CRLF line endings and 7-bit ASCII only: non-ASCII header text becomes RFC 2047
// encoded-words (UTF-8, base64), bodies are quoted-printable UTF-8 (lines <= 76 characters), so any
// SMTP server accepts it without 8BITMIME/SMTPUTF8. Dot-stuffing is left to the SMTP client.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "mail/mailer.h"

namespace paddlecloud::mail {

// A parsed "Display Name <local@domain>" or "local@domain".
struct Mailbox {
  std::string display_name;  // UTF-8, may be empty
  std::string address;       // ASCII addr-spec
};

// Parses a mailbox. kInvalidArgument with `field` set when it holds CR/LF or other control
// characters, invalid UTF-8, or an address that is not a plain ASCII local@domain.
Result<Mailbox> ParseMailbox(std::string_view text, std::string_view field);

// The message ready for SMTP: envelope addresses (bare, without <>) and the full message text.
struct RenderedMessage {
  std::string envelope_from;
  std::string envelope_to;
  std::string data;
};

// Validates `message` (see Mailer's contract: kInvalidArgument naming "to", "subject", "text_body"
// or "html_body") and renders it as sent on `now`.
Result<RenderedMessage> RenderMessage(const MailMessage& message, const Mailbox& from,
                                      std::chrono::system_clock::time_point now);

// Pieces, exposed for tests.
// Quoted-printable (RFC 2045) with any line ending turned into CRLF; ends without a final CRLF
// unless the input did.
std::string EncodeQuotedPrintable(std::string_view text);
// One complete header field "Name: value\r\n" for unstructured text (Subject): folded at
// whitespace when ASCII, RFC 2047 encoded-words otherwise.
std::string UnstructuredHeader(std::string_view name, std::string_view value);
// "Name <addr>" with the display name quoted or encoded as needed.
std::string FormatMailbox(const Mailbox& mailbox);
// Every http:// and https:// URL in `text`, in order (trailing sentence punctuation excluded).
std::vector<std::string> FindLinks(std::string_view text);
// `bytes` random bytes from the kernel, as lower-case hex.
std::string RandomHex(std::size_t bytes);

}  // namespace paddlecloud::mail
