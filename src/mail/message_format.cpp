#include "mail/message_format.h"

#include <sys/random.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <random>

#include "common/base64.h"
#include "common/fs.h"
#include "common/utf8.h"

namespace paddlecloud::mail {

namespace {

constexpr std::size_t kMaxLine = 78;          // RFC 5322 "SHOULD" line length for headers
constexpr std::size_t kEncodedWordBytes = 45;  // 45 bytes -> 60 base64 chars -> 72-char word

bool IsAsciiText(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80 || (c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

bool HasCrLf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

bool HasControl(std::string_view s) {
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
  }
  return false;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsAtext(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool IsValidAddress(std::string_view addr) {
  if (addr.size() > 254) return false;
  auto at = addr.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == addr.size()) return false;
  std::string_view local = addr.substr(0, at), domain = addr.substr(at + 1);
  if (local.size() > 64) return false;
  // dot-atom local part: atext runs separated by single dots.
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) return false;
  for (unsigned char c : local) {
    if (c != '.' && !IsAtext(c)) return false;
  }
  if (domain.front() == '[') {  // address literal, e.g. [127.0.0.1] or [IPv6:::1]
    if (domain.back() != ']' || domain.size() < 3) return false;
    for (unsigned char c : domain.substr(1, domain.size() - 2)) {
      if (!(std::isalnum(c) || c == '.' || c == ':')) return false;
    }
    return true;
  }
  if (domain.front() == '.' || domain.back() == '.' || domain.find("..") != std::string_view::npos) return false;
  for (unsigned char c : domain) {
    if (!(std::isalnum(c) || c == '-' || c == '.')) return false;
  }
  return true;
}

// RFC 2047 "B" encoded-words for UTF-8 `text`, each <= 75 characters and never splitting a
// character; separated by "\r\n " (folding whitespace, ignored between encoded-words).
std::string EncodedWords(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    std::size_t n = std::min(text.size(), kEncodedWordBytes);
    // Back off to a character boundary (never cut before a continuation byte).
    while (n < text.size() && n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64Encode(text.substr(0, n)) + "?=";
    text.remove_prefix(n);
  }
  return out;
}

std::string QuotePhrase(std::string_view name) {
  if (!IsAsciiText(name) || name.find("=?") != std::string_view::npos) return EncodedWords(name);
  bool plain = !name.empty();
  for (unsigned char c : name) {
    if (!(IsAtext(c) || c == ' ')) plain = false;
  }
  if (plain) return std::string(name);
  std::string out = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string RfcDate(std::chrono::system_clock::time_point now) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday], tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

// Headers and quoted-printable content of a text part; no line break after the last line unless
// the text ended with one (the caller adds what the context needs).
std::string TextPart(std::string_view subtype, std::string_view body) {
  std::string out = "Content-Type: text/" + std::string(subtype) + "; charset=UTF-8\r\n";
  out += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
  return out + EncodeQuotedPrintable(body);
}

}  // namespace

Result<Mailbox> ParseMailbox(std::string_view text, std::string_view field) {
  std::string f(field);
  if (HasCrLf(text)) return Err(Status::InvalidArgument(f + " must not contain CR or LF", f));
  if (HasControl(text)) return Err(Status::InvalidArgument(f + " must not contain control characters", f));
  if (!IsValidUtf8(text)) return Err(Status::InvalidArgument(f + " is not valid UTF-8", f));
  text = Trim(text);
  if (text.empty()) return Err(Status::InvalidArgument(f + " is empty: an email address is required", f));
  Mailbox mailbox;
  std::string_view addr = text;
  if (text.back() == '>') {
    auto open = text.rfind('<');
    if (open == std::string_view::npos) {
      return Err(Status::InvalidArgument(f + ": '" + std::string(text) + "' is not a valid email address", f));
    }
    addr = text.substr(open + 1, text.size() - open - 2);
    std::string_view name = Trim(text.substr(0, open));
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
      std::string unescaped;
      for (std::size_t i = 0; i < name.size(); ++i) {
        if (name[i] == '\\' && i + 1 < name.size()) ++i;
        unescaped += name[i];
      }
      mailbox.display_name = std::move(unescaped);
    } else {
      mailbox.display_name = std::string(name);
    }
  }
  if (!IsValidAddress(addr)) {
    return Err(Status::InvalidArgument(f + ": '" + std::string(text) + "' is not a valid email address", f));
  }
  mailbox.address = std::string(addr);
  return mailbox;
}

std::string FormatMailbox(const Mailbox& mailbox) {
  if (mailbox.display_name.empty()) return mailbox.address;
  return QuotePhrase(mailbox.display_name) + " <" + mailbox.address + ">";
}

std::string EncodeQuotedPrintable(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::size_t line = 0;
  auto emit = [&](std::string_view token) {
    if (line + token.size() > 75) {  // 75 + the soft-break '=' = 76 (RFC 2045 limit)
      out += "=\r\n";
      line = 0;
    }
    out += token;
    line += token.size();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = text[i];
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      out += "\r\n";
      line = 0;
      continue;
    }
    bool at_eol = i + 1 == text.size() || text[i + 1] == '\r' || text[i + 1] == '\n';
    bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_eol);
    if (literal) {
      char ch = static_cast<char>(c);
      emit(std::string_view(&ch, 1));
    } else {
      char hex[3] = {'=', kHex[c >> 4], kHex[c & 15]};
      emit(std::string_view(hex, 3));
    }
  }
  return out;
}

std::string UnstructuredHeader(std::string_view name, std::string_view value) {
  std::string out = std::string(name) + ": ";
  // Plain ASCII stays readable, folded before whitespace; anything else (or text that would look
  // like an encoded-word, or an unfoldable run too long for a line) becomes encoded-words.
  bool plain = IsAsciiText(value) && value.find("=?") == std::string_view::npos;
  if (plain) {
    std::size_t run = 0;
    for (char c : value) {
      run = (c == ' ' || c == '\t') ? 0 : run + 1;
      if (run > 900) plain = false;
    }
  }
  if (!plain) return out + EncodedWords(value) + "\r\n";
  std::size_t line = out.size();
  std::size_t pos = 0;
  while (pos < value.size()) {
    // The next segment: whitespace run + word (the first segment may start with a word).
    std::size_t end = pos;
    while (end < value.size() && (value[end] == ' ' || value[end] == '\t')) ++end;
    while (end < value.size() && value[end] != ' ' && value[end] != '\t') ++end;
    std::string_view segment = value.substr(pos, end - pos);
    bool starts_ws = segment.front() == ' ' || segment.front() == '\t';
    if (starts_ws && line + segment.size() > kMaxLine && line > name.size() + 2) {
      out += "\r\n";
      line = 0;
    }
    out += segment;
    line += segment.size();
    pos = end;
  }
  return out + "\r\n";
}

std::vector<std::string> FindLinks(std::string_view text) {
  std::vector<std::string> links;
  auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  auto starts_with_ci = [&](std::size_t i, std::string_view prefix) {
    if (i + prefix.size() > text.size()) return false;
    for (std::size_t k = 0; k < prefix.size(); ++k) {
      if (lower(text[i + k]) != prefix[k]) return false;
    }
    return true;
  };
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t scheme = starts_with_ci(i, "https://") ? 8 : starts_with_ci(i, "http://") ? 7 : 0;
    bool boundary = i == 0 || !std::isalnum(static_cast<unsigned char>(text[i - 1]));
    if (scheme == 0 || !boundary) {
      ++i;
      continue;
    }
    std::size_t end = i + scheme;
    while (end < text.size()) {
      unsigned char c = text[end];
      if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '`') break;
      ++end;
    }
    std::string_view url = text.substr(i, end - i);
    while (url.size() > scheme && std::string_view(".,;:!?'\")]}").find(url.back()) != std::string_view::npos) {
      url.remove_suffix(1);
    }
    if (url.size() > scheme) links.emplace_back(url);
    i = end;
  }
  return links;
}

std::string RandomHex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  std::size_t got = 0;
  while (got < bytes) {
    ssize_t n = ::getrandom(raw.data() + got, bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::random_device rd;  // getrandom unavailable: the library's own entropy source
      for (; got < bytes; ++got) raw[got] = static_cast<char>(rd());
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  return fsutil::ToHex(raw);
}

Result<RenderedMessage> RenderMessage(const MailMessage& message, const Mailbox& from,
                                      std::chrono::system_clock::time_point now) {
  auto to = ParseMailbox(message.to, "to");
  if (!to) return Err(to.error());
  if (HasCrLf(message.subject)) return Err(Status::InvalidArgument("subject must not contain CR or LF", "subject"));
  if (HasControl(message.subject)) {
    return Err(Status::InvalidArgument("subject must not contain control characters", "subject"));
  }
  if (!IsValidUtf8(message.subject)) return Err(Status::InvalidArgument("subject is not valid UTF-8", "subject"));
  if (!IsValidUtf8(message.text_body)) return Err(Status::InvalidArgument("text_body is not valid UTF-8", "text_body"));
  if (!IsValidUtf8(message.html_body)) return Err(Status::InvalidArgument("html_body is not valid UTF-8", "html_body"));

  std::string domain = from.address.substr(from.address.rfind('@') + 1);
  std::string data;
  data += "Date: " + RfcDate(now) + "\r\n";
  data += "From: " + FormatMailbox(from) + "\r\n";
  data += "To: " + FormatMailbox(*to) + "\r\n";
  data += UnstructuredHeader("Subject", message.subject);
  data += "Message-ID: <" + RandomHex(16) + "@" + domain + ">\r\n";
  data += "MIME-Version: 1.0\r\n";
  data += "Auto-Submitted: auto-generated\r\n";  // RFC 3834: no vacation auto-replies
  if (message.html_body.empty()) {
    data += TextPart("plain", message.text_body);
    if (!data.ends_with("\r\n")) data += "\r\n";
  } else {
    // "=_" cannot occur in quoted-printable text (a literal '=' is always "=3D"). The CRLF before
    // each delimiter belongs to the delimiter (RFC 2046), so a part's own final line break stays.
    std::string boundary = "=_pc_" + RandomHex(12);
    data += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
    data += "This is a multi-part message in MIME format.\r\n";
    data += "--" + boundary + "\r\n" + TextPart("plain", message.text_body);
    data += "\r\n--" + boundary + "\r\n" + TextPart("html", message.html_body);
    data += "\r\n--" + boundary + "--\r\n";
  }
  return RenderedMessage{from.address, to->address, std::move(data)};
}

}  // namespace paddlecloud::mail
