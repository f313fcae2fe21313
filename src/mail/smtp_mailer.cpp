#include "mail/smtp_mailer.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>

namespace paddlecloud::mail {

namespace {

struct UploadCursor {
  const std::string* data;
  std::size_t offset = 0;
};

std::size_t ReadChunk(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* cursor = static_cast<UploadCursor*>(user);
  std::size_t n = std::min(size * count, cursor->data->size() - cursor->offset);
  std::memcpy(buffer, cursor->data->data() + cursor->offset, n);
  cursor->offset += n;
  return n;
}

// Removes every occurrence of `secret` from `text` (defense in depth: curl's messages do not
// carry credentials, but the error text must never leak the password whatever curl prints).
std::string Redact(std::string text, const std::string& secret) {
  if (secret.empty()) return text;
  for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 3)) {
    text.replace(pos, secret.size(), "***");
  }
  return text;
}

class SmtpMailer final : public Mailer {
 public:
  SmtpMailer(MailerOptions options, Mailbox from) : options_(std::move(options)), from_(std::move(from)) {
    std::string host = options_.smtp_host;
    if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";  // IPv6
    url_ = (options_.smtp_security == "tls" ? "smtps://" : "smtp://") + host + ":" +
           std::to_string(options_.smtp_port);
  }

  Status Send(const MailMessage& message) override {
    auto rendered = RenderMessage(message, from_, std::chrono::system_clock::now());
    if (!rendered) return rendered.error();

    CURL* curl = curl_easy_init();
    if (!curl) return Failed(rendered->envelope_to, "cannot initialize libcurl");
    char error[CURL_ERROR_SIZE] = {};
    std::string mail_from = "<" + rendered->envelope_from + ">";
    std::string rcpt = "<" + rendered->envelope_to + ">";
    curl_slist* recipients = curl_slist_append(nullptr, rcpt.c_str());
    UploadCursor cursor{&rendered->data};

    curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // thread-safe timeouts
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, static_cast<long>(options_.timeout_seconds));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, static_cast<long>(options_.timeout_seconds));
    if (options_.smtp_security == "starttls") curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    if (!options_.smtp_user.empty()) {
      curl_easy_setopt(curl, CURLOPT_USERNAME, options_.smtp_user.c_str());
      curl_easy_setopt(curl, CURLOPT_PASSWORD, options_.smtp_password.c_str());
    }
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, &ReadChunk);
    curl_easy_setopt(curl, CURLOPT_READDATA, &cursor);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(rendered->data.size()));

    CURLcode code = curl_easy_perform(curl);
    long reply = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
    curl_slist_free_all(recipients);
    curl_easy_cleanup(curl);

    if (code != CURLE_OK) {
      std::string reason = error[0] ? error : curl_easy_strerror(code);
      if (reply >= 400) reason += " (SMTP reply " + std::to_string(reply) + ")";
      return Failed(rendered->envelope_to, reason);
    }
    spdlog::info("mail to {} sent via {}", rendered->envelope_to, url_);
    return Status::Ok();
  }

 private:
  Status Failed(const std::string& to, const std::string& reason) const {
    return Status::Unavailable("sending mail to " + to + " failed: " +
                               Redact(reason + " [" + url_ + "]", options_.smtp_password));
  }

  const MailerOptions options_;
  const Mailbox from_;
  std::string url_;
};

}  // namespace

std::unique_ptr<Mailer> NewSmtpMailer(const MailerOptions& options, Mailbox from) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });  // not thread-safe itself
  return std::make_unique<SmtpMailer>(options, std::move(from));
}

}  // namespace paddlecloud::mail
