#include "cluster/kubernetes/kube_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>

#include <boost/json.hpp>

namespace paddlecloud::cluster::kubernetes {

namespace json = boost::json;

namespace {

constexpr std::string_view kReasonDetail = "reason";
constexpr std::string_view kHttpStatusDetail = "http_status";

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });  // not thread-safe itself
}

std::string_view TrimView(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Redact(std::string text, const std::string& secret) {
  if (secret.empty()) return text;
  for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 3)) {
    text.replace(pos, secret.size(), "***");
  }
  return text;
}

// A short printable excerpt of a body that is not a Status object (a proxy's HTML page).
std::string Excerpt(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 200)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  if (body.size() > 200) out += "...";
  return std::string(TrimView(out));
}

bool UrlSafe(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '#') return false;
  }
  return true;
}

bool HasParam(std::string_view query, std::string_view name) {
  std::size_t pos = 0;
  while (pos <= query.size()) {
    auto end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    auto param = query.substr(pos, end - pos);
    if (param.substr(0, param.find('=')) == name) return true;
    pos = end + 1;
  }
  return false;
}

std::string AddParam(std::string query, std::string_view param) {
  if (!query.empty()) query += '&';
  query += param;
  return query;
}

Code CodeForHttp(long http) {
  switch (http) {
    case 401: return Code::kUnauthenticated;
    case 403: return Code::kPermissionDenied;
    case 404: return Code::kNotFound;
    case 409:
    case 410: return Code::kConflict;
    case 413: return Code::kPayloadTooLarge;
    case 429: return Code::kUnavailable;
    default: break;
  }
  if (http >= 500) return Code::kUnavailable;
  if (http >= 400) return Code::kInvalidArgument;
  return Code::kInternal;  // 1xx/3xx: not an answer this client can use
}

std::string StringAt(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// A Kubernetes Status object (or an HTTP answer without one) as a Status. `code` is the HTTP status
// (the Status object's own code wins when it has one).
Status KubeStatusError(std::string_view method, std::string_view path, long code, const json::object* status,
                       std::string_view raw_body, const std::string& retry_after) {
  std::string message, reason, field;
  if (status) {
    if (auto* c = status->if_contains("code"); c && c->is_int64() && c->as_int64() >= 100) code = c->as_int64();
    message = StringAt(*status, "message");
    reason = StringAt(*status, "reason");
    if (auto* d = status->if_contains("details"); d && d->is_object()) {
      if (auto* causes = d->as_object().if_contains("causes"); causes && causes->is_array()) {
        std::string missing;
        for (const auto& cause : causes->as_array()) {
          if (!cause.is_object()) continue;
          std::string f = StringAt(cause.as_object(), "field"), m = StringAt(cause.as_object(), "message");
          if (field.empty()) field = f;
          std::string text = f.empty() ? m : f + ": " + m;
          if (text.empty() || message.find(text) != std::string::npos) continue;
          missing += (missing.empty() ? "" : "; ") + text;
        }
        if (!missing.empty()) message += (message.empty() ? "" : " ") + ("[causes: " + missing + "]");
      }
    }
  }
  if (message.empty()) {
    message = "HTTP " + std::to_string(code);
    if (!status && !TrimView(raw_body).empty()) message += ": " + Excerpt(raw_body);
  }
  Status s = Status::Of(CodeForHttp(code), std::string(method) + " " + std::string(path) + ": " + message,
                        code == 422 ? field : std::string());
  s.WithDetail(std::string(kReasonDetail), reason);
  s.WithDetail(std::string(kHttpStatusDetail), std::to_string(code));
  if (code == 429 && !retry_after.empty()) s.WithDetail("retry_after", retry_after);
  return s;
}

// Kubernetes objects nest deeper than Boost.JSON's default limit of 32 (CRD schemas: each field adds
// two levels), so the limit is raised; it still bounds the parser's recursion on hostile input.
json::value ParseJson(std::string_view text, boost::system::error_code& ec) {
  json::parse_options options;
  options.max_depth = 1000;
  return json::parse(text, ec, {}, options);
}

Status HttpError(std::string_view method, std::string_view path, long http, const std::string& body,
                 const std::string& retry_after) {
  boost::system::error_code ec;
  json::value parsed = ParseJson(body, ec);
  const json::object* status = nullptr;
  if (!ec && parsed.is_object() && StringAt(parsed.as_object(), "kind") == "Status") status = &parsed.as_object();
  return KubeStatusError(method, path, http, status, body, retry_after);
}

// One HTTP exchange, as curl saw it.
struct Answer {
  CURLcode code = CURLE_OK;
  std::string curl_error;
  long http_status = 0;
  std::string body;  // the whole body; for a streamed 2xx answer nothing
  std::string retry_after;
  bool stopped = false;        // the stop token ended it
  bool sink_declined = false;  // the sink returned false
  bool too_large = false;
};

struct Share {
  CURLSH* handle = nullptr;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;

  static void Lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<Share*>(user)->locks[data].lock();
  }
  static void Unlock(CURL*, curl_lock_data data, void* user) { static_cast<Share*>(user)->locks[data].unlock(); }
};

}  // namespace

struct KubeClient::Impl {
  enum class Kind { kRequest, kWatch, kStream };

  struct Call {
    std::string_view method;
    std::string_view path;
    std::string query;
    const std::string* body = nullptr;
    std::string_view content_type;
    std::string_view accept = "application/json";
    Kind kind = Kind::kRequest;
    std::function<bool(std::string_view)> sink;  // the 2xx body of a watch or stream, chunk by chunk
    std::stop_token stop;
  };

  struct WriteContext {
    CURL* easy;
    const Call* call;
    Answer* answer;
    std::size_t max_bytes;
    bool decided = false;
    bool streaming = false;
  };

  struct Slot {
    CURLM* multi = nullptr;
    CURL* easy = nullptr;
    void Destroy() {
      if (easy) curl_easy_cleanup(easy);
      if (multi) curl_multi_cleanup(multi);
    }
  };
  static constexpr std::size_t kMaxIdleSlots = 8;

  KubeConnection connection;
  Options options;
  std::mutex pool_mu;
  std::vector<Slot> idle;
  std::string server;  // without a trailing '/'
  Share share;
  std::atomic<std::uint64_t> requests{0};

  std::mutex token_mu;
  std::string token;
  bool token_read = false;
  std::chrono::steady_clock::time_point token_read_at{};

  Impl(KubeConnection c, Options o) : connection(std::move(c)), options(std::move(o)) {
    GlobalInit();
    server = connection.server;
    while (!server.empty() && server.back() == '/') server.pop_back();
    token = connection.token;
    share.handle = curl_share_init();
    if (share.handle) {
      curl_share_setopt(share.handle, CURLSHOPT_LOCKFUNC, &Share::Lock);
      curl_share_setopt(share.handle, CURLSHOPT_UNLOCKFUNC, &Share::Unlock);
      curl_share_setopt(share.handle, CURLSHOPT_USERDATA, &share);
      curl_share_setopt(share.handle, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
      curl_share_setopt(share.handle, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    }
  }
  ~Impl() {
    for (Slot& slot : idle) slot.Destroy();
    if (share.handle) curl_share_cleanup(share.handle);
  }

  // A multi handle with its easy handle. Connections live in the multi handle's cache, so a slot
  // used again reuses its kept-alive connection. (libcurl's shared connection cache would let all
  // calls share connections, but it is not thread-safe: curl's known bug "A shared connection
  // cache is not thread-safe".) TLS sessions and DNS answers are shared through `share`.
  Slot Acquire() {
    {
      std::lock_guard lock(pool_mu);
      if (!idle.empty()) {
        Slot slot = idle.back();
        idle.pop_back();
        return slot;
      }
    }
    return Slot{curl_multi_init(), curl_easy_init()};
  }
  void Release(Slot slot, bool reusable) {
    if (reusable && slot.multi && slot.easy) {
      curl_easy_reset(slot.easy);
      std::lock_guard lock(pool_mu);
      if (idle.size() < kMaxIdleSlots) {
        idle.push_back(slot);
        return;
      }
    }
    slot.Destroy();
  }

  // The bearer token, re-read from token_file when the last read is older than token_reread_interval.
  std::string Token() {
    if (connection.token_file.empty()) return connection.token;
    std::lock_guard lock(token_mu);
    auto now = std::chrono::steady_clock::now();
    if (!token_read || now - token_read_at >= options.token_reread_interval) {
      token_read = true;
      token_read_at = now;
      std::ifstream in(connection.token_file, std::ios::binary);
      std::stringstream text;
      if (in && (text << in.rdbuf())) {
        std::string_view fresh = TrimView(text.view());
        if (!fresh.empty()) token = std::string(fresh);
      }
    }
    return token;
  }

  static std::size_t OnWrite(char* data, std::size_t size, std::size_t count, void* user) {
    auto* w = static_cast<WriteContext*>(user);
    std::size_t n = size * count;
    if (!w->decided) {
      long status = 0;
      curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &status);
      w->streaming = w->call->sink && status >= 200 && status < 300;
      w->decided = true;
    }
    if (w->streaming) {
      if (!w->call->sink(std::string_view(data, n))) {
        w->answer->sink_declined = true;
        return 0;
      }
      return n;
    }
    if (w->answer->body.size() + n > w->max_bytes) {
      w->answer->too_large = true;
      return 0;
    }
    w->answer->body.append(data, n);
    return n;
  }

  static std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* user) {
    auto* answer = static_cast<Answer*>(user);
    std::string_view line(data, size * count);
    constexpr std::string_view kRetryAfter = "retry-after:";
    if (line.size() > kRetryAfter.size()) {
      bool match = true;
      for (std::size_t i = 0; i < kRetryAfter.size() && match; ++i) {
        match = std::tolower(static_cast<unsigned char>(line[i])) == kRetryAfter[i];
      }
      if (match) answer->retry_after = std::string(TrimView(line.substr(kRetryAfter.size())));
    }
    return size * count;
  }

  static int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return static_cast<const std::stop_token*>(user)->stop_requested() ? 1 : 0;
  }

  Status CheckTarget(const Call& call) const {
    if (call.path.empty() || call.path.front() != '/' || !UrlSafe(call.path) ||
        call.path.find('?') != std::string_view::npos) {
      return Status::InvalidArgument("bad API path '" + Excerpt(call.path) + "'", "path");
    }
    if (!UrlSafe(call.query)) return Status::InvalidArgument("bad query '" + Excerpt(call.query) + "'", "query");
    if (server.empty()) return Status::InvalidArgument("no Kubernetes API server configured", "server");
    return Status::Ok();
  }

  Answer Perform(const Call& call) {
    Answer answer;
    if (call.stop.stop_requested()) {
      answer.stopped = true;
      return answer;
    }
    requests.fetch_add(1, std::memory_order_relaxed);
    Slot slot = Acquire();
    CURL* easy = slot.easy;
    CURLM* multi = slot.multi;
    if (!easy || !multi) {
      slot.Destroy();
      answer.code = CURLE_FAILED_INIT;
      answer.curl_error = "cannot initialize libcurl";
      return answer;
    }
    char error[CURL_ERROR_SIZE] = {};
    std::string url = server + std::string(call.path);
    if (!call.query.empty()) url += "?" + call.query;
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error);
    if (share.handle) curl_easy_setopt(easy, CURLOPT_SHARE, share.handle);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, options.user_agent.c_str());
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPINTVL, 10L);
    if (call.kind == Kind::kRequest) {
      curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
    } else if (call.kind == Kind::kWatch) {
      curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
      long idle = static_cast<long>(std::max<std::int64_t>(1, options.watch_idle_timeout.count()));
      curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, idle);
    }

    if (connection.insecure_skip_tls_verify) {
      curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (!connection.ca_pem.empty()) {
      curl_blob ca{connection.ca_pem.data(), connection.ca_pem.size(), CURL_BLOB_COPY};
      curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &ca);
      curl_easy_setopt(easy, CURLOPT_CAPATH, nullptr);  // the cluster's CA alone, not the system's too
    }
    if (!connection.client_cert_pem.empty()) {
      curl_blob cert{connection.client_cert_pem.data(), connection.client_cert_pem.size(), CURL_BLOB_COPY};
      curl_easy_setopt(easy, CURLOPT_SSLCERT_BLOB, &cert);
      curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
    }
    if (!connection.client_key_pem.empty()) {
      curl_blob key{connection.client_key_pem.data(), connection.client_key_pem.size(), CURL_BLOB_COPY};
      curl_easy_setopt(easy, CURLOPT_SSLKEY_BLOB, &key);
      curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
    }

    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, ("Accept: " + std::string(call.accept)).c_str());
    headers = curl_slist_append(headers, "Expect:");
    if (!call.content_type.empty()) {
      headers = curl_slist_append(headers, ("Content-Type: " + std::string(call.content_type)).c_str());
    }
    if (std::string bearer = Token(); !bearer.empty()) {
      std::string header = "Authorization: Bearer " + bearer;
      headers = curl_slist_append(headers, header.c_str());
      std::fill(header.begin(), header.end(), '\0');
    }
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);

    if (call.method == "GET") {
      curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    } else {
      if (call.method != "POST") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, std::string(call.method).c_str());
      if (call.body) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body->size()));
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, call.body->data());
      }
    }

    WriteContext write{easy, &call, &answer, options.max_response_bytes};
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Impl::OnWrite);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &write);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Impl::OnHeader);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &answer);
    curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, &Impl::OnProgress);
    curl_easy_setopt(easy, CURLOPT_XFERINFODATA, &call.stop);

    // The multi interface, so that a stop request wakes the wait at once (curl_multi_wakeup)
    // instead of at curl's next progress call.
    curl_multi_add_handle(multi, easy);
    bool finished = false;
    {
      std::stop_callback wake(call.stop, [multi] { curl_multi_wakeup(multi); });
      while (true) {
        int running = 0;
        CURLMcode mc = curl_multi_perform(multi, &running);
        if (mc == CURLM_OK && running == 0) {
          finished = true;
          break;
        }
        if (call.stop.stop_requested()) {
          answer.stopped = true;
          break;
        }
        if (mc == CURLM_OK) mc = curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
        if (mc != CURLM_OK) {
          answer.code = CURLE_FAILED_INIT;
          answer.curl_error = curl_multi_strerror(mc);
          break;
        }
      }
    }
    if (finished) {
      int left = 0;
      while (CURLMsg* message = curl_multi_info_read(multi, &left)) {
        if (message->msg == CURLMSG_DONE) answer.code = message->data.result;
      }
      if (answer.code == CURLE_ABORTED_BY_CALLBACK && call.stop.stop_requested()) answer.stopped = true;
      if (answer.code != CURLE_OK) answer.curl_error = error[0] ? error : curl_easy_strerror(answer.code);
    }
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &answer.http_status);
    bool reusable = curl_multi_remove_handle(multi, easy) == CURLM_OK && answer.code != CURLE_FAILED_INIT;
    Release(slot, reusable);
    curl_slist_free_all(headers);
    answer.curl_error = Redact(std::move(answer.curl_error), connection.token);
    return answer;
  }

  // The transport failure of `answer` (not an HTTP error status), or OK.
  Status TransportError(const Call& call, const Answer& answer) const {
    std::string prefix = std::string(call.method) + " " + std::string(call.path) + ": ";
    if (answer.too_large) {
      return Status::Unavailable(prefix + "the answer is larger than " + std::to_string(options.max_response_bytes) +
                                 " bytes");
    }
    const std::string& why = answer.curl_error;
    switch (answer.code) {
      case CURLE_OK:
        return Status::Ok();
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_CONNECT:
        return Status::Unavailable(prefix + "cannot connect to the API server " + server + ": " + why);
      case CURLE_OPERATION_TIMEDOUT:
        return Status::Unavailable(prefix + "timed out: " + why);
      case CURLE_PEER_FAILED_VERIFICATION:
        return Status::Unavailable(prefix + "the API server's certificate is not trusted (check the cluster's "
                                   "certificate-authority): " + why);
      case CURLE_SSL_CACERT_BADFILE:
        return Status::InvalidArgument(prefix + "the cluster's CA certificate is unusable: " + why, "ca_pem");
      case CURLE_SSL_CERTPROBLEM:
        return Status::InvalidArgument(prefix + "the client certificate or key is unusable: " + why,
                                       "client_cert_pem");
      case CURLE_SSL_CONNECT_ERROR:
        return Status::Unavailable(prefix + "TLS handshake with the API server failed (was the client "
                                   "certificate refused?): " + why);
      default:
        return Status::Unavailable(prefix + why);
    }
  }

  Result<json::value> Request(Call call) {
    PC_RETURN_IF_ERROR(CheckTarget(call));
    Answer answer = Perform(call);
    if (Status s = TransportError(call, answer); !s.ok()) return Err(std::move(s));
    if (answer.http_status < 200 || answer.http_status >= 300) {
      return Err(HttpError(call.method, call.path, answer.http_status, answer.body, answer.retry_after));
    }
    if (TrimView(answer.body).empty()) return json::value(nullptr);
    boost::system::error_code ec;
    json::value parsed = ParseJson(answer.body, ec);
    if (ec) {
      return Err(Status::Internal(std::string(call.method) + " " + std::string(call.path) +
                                  ": the API server's answer is not JSON: " + ec.message()));
    }
    return parsed;
  }

  // Watch and Stream: the end of a streamed call.
  Status Finish(const Call& call, const Answer& answer) const {
    if (answer.stopped || answer.sink_declined) return Status::Ok();
    if (Status s = TransportError(call, answer); !s.ok()) return s;
    if (answer.http_status < 200 || answer.http_status >= 300) {
      return HttpError(call.method, call.path, answer.http_status, answer.body, answer.retry_after);
    }
    return Status::Ok();
  }
};

KubeClient::KubeClient(KubeConnection connection, Options options)
    : impl_(std::make_unique<Impl>(std::move(connection), std::move(options))) {}

KubeClient::~KubeClient() = default;

Result<json::value> KubeClient::Get(std::string_view path, std::string_view query) {
  return impl_->Request({.method = "GET", .path = path, .query = std::string(query)});
}

Result<json::value> KubeClient::Create(std::string_view path, const json::value& object) {
  std::string body = json::serialize(object);
  return impl_->Request({.method = "POST", .path = path, .query = "fieldValidation=Strict", .body = &body,
                         .content_type = "application/json"});
}

Result<json::value> KubeClient::Replace(std::string_view path, const json::value& object) {
  std::string body = json::serialize(object);
  return impl_->Request({.method = "PUT", .path = path, .query = "fieldValidation=Strict", .body = &body,
                         .content_type = "application/json"});
}

Result<json::value> KubeClient::MergePatch(std::string_view path, const json::value& patch) {
  std::string body = json::serialize(patch);
  return impl_->Request({.method = "PATCH", .path = path, .query = "fieldValidation=Strict", .body = &body,
                         .content_type = "application/merge-patch+json"});
}

Result<json::value> KubeClient::Apply(std::string_view path, const json::value& object,
                                      std::string_view field_manager, bool force) {
  std::string body = json::serialize(object);
  return impl_->Request({.method = "PATCH",
                         .path = path,
                         .query = QueryString({{"fieldManager", field_manager},
                                               {"force", force ? "true" : "false"},
                                               {"fieldValidation", "Strict"}}),
                         .body = &body,
                         .content_type = "application/apply-patch+yaml"});
}

Result<json::value> KubeClient::Delete(std::string_view path, std::optional<int> grace_seconds,
                                       std::string_view propagation) {
  std::string query;
  if (grace_seconds) query = QueryString({{"gracePeriodSeconds", std::to_string(*grace_seconds)}});
  if (!propagation.empty()) query = AddParam(std::move(query), QueryString({{"propagationPolicy", propagation}}));
  return impl_->Request({.method = "DELETE", .path = path, .query = std::move(query)});
}

Status KubeClient::Watch(std::string_view path, std::string_view query,
                         const std::function<bool(std::string_view type, json::value& object)>& on_event,
                         std::stop_token stop) {
  std::string q(query);
  if (!HasParam(q, "watch")) q = AddParam(std::move(q), "watch=1");
  if (!HasParam(q, "allowWatchBookmarks")) q = AddParam(std::move(q), "allowWatchBookmarks=true");
  Impl::Call call{.method = "GET", .path = path, .query = std::move(q), .kind = Impl::Kind::kWatch,
                  .stop = std::move(stop)};
  PC_RETURN_IF_ERROR(impl_->CheckTarget(call));

  std::string pending;      // bytes after the last complete line
  std::size_t scanned = 0;  // of `pending`, already searched for '\n'
  Status event_error;
  const std::size_t max_line = impl_->options.max_response_bytes;
  // One line: false ends the watch (the callback declined, or event_error is set).
  auto handle_line = [&](std::string_view line) {
    if (TrimView(line).empty()) return true;
    boost::system::error_code ec;
    json::value event = ParseJson(line, ec);
    json::object* fields = !ec && event.is_object() ? &event.as_object() : nullptr;
    json::value* type = fields ? fields->if_contains("type") : nullptr;
    json::value* object = fields ? fields->if_contains("object") : nullptr;
    if (!type || !type->is_string() || !object) {
      event_error = Status::Unavailable("GET " + std::string(path) + ": a watch event is not a JSON {type, object}: " +
                                        Excerpt(line));
      return false;
    }
    if (type->get_string() == "ERROR") {
      event_error = KubeStatusError("GET", path, 500, object->is_object() ? &object->as_object() : nullptr,
                                    json::serialize(*object), "");
      return false;
    }
    return on_event(std::string_view(type->get_string()), *object);
  };
  call.sink = [&](std::string_view chunk) {
    pending.append(chunk);
    std::size_t start = 0;
    for (auto nl = pending.find('\n', scanned); nl != std::string::npos; nl = pending.find('\n', start)) {
      if (!handle_line(std::string_view(pending).substr(start, nl - start))) return false;
      start = nl + 1;
    }
    pending.erase(0, start);
    scanned = pending.size();
    if (pending.size() > max_line) {
      event_error = Status::Unavailable("GET " + std::string(path) + ": a watch event is larger than " +
                                        std::to_string(max_line) + " bytes");
      return false;
    }
    return true;
  };
  Answer answer = impl_->Perform(call);
  if (!event_error.ok()) return event_error;
  Status s = impl_->Finish(call, answer);
  if (!s.ok() || answer.stopped || answer.sink_declined) return s;
  // The stream ended without a final newline: its last line is still an event.
  if (!pending.empty() && !handle_line(pending) && !event_error.ok()) return event_error;
  return Status::Ok();
}

Status KubeClient::Stream(std::string_view path, std::string_view query,
                          const std::function<bool(std::string_view chunk)>& on_chunk, std::stop_token stop) {
  Impl::Call call{.method = "GET", .path = path, .query = std::string(query), .accept = "*/*",
                  .kind = Impl::Kind::kStream, .sink = on_chunk, .stop = std::move(stop)};
  PC_RETURN_IF_ERROR(impl_->CheckTarget(call));
  Answer answer = impl_->Perform(call);
  return impl_->Finish(call, answer);
}

std::uint64_t KubeClient::requests_sent() const { return impl_->requests.load(std::memory_order_relaxed); }

bool IsGone(const Status& s) {
  if (s.ok()) return false;
  auto it = s.details().find(std::string(kHttpStatusDetail));
  if (it != s.details().end() && it->second == "410") return true;
  std::string_view reason = KubeReason(s);
  return reason == "Expired" || reason == "Gone";
}

std::string_view KubeReason(const Status& s) {
  if (s.ok()) return {};
  auto it = s.details().find(std::string(kReasonDetail));
  return it == s.details().end() ? std::string_view() : std::string_view(it->second);
}

std::string QueryString(std::initializer_list<std::pair<std::string_view, std::string_view>> params) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  auto encode = [&](std::string_view text) {
    for (char c : text) {
      auto u = static_cast<unsigned char>(c);
      if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
        out += c;
      } else {
        out += '%';
        out += kHex[u >> 4];
        out += kHex[u & 0xf];
      }
    }
  };
  for (const auto& [key, value] : params) {
    if (!out.empty()) out += '&';
    encode(key);
    out += '=';
    encode(value);
  }
  return out;
}

}  // namespace paddlecloud::cluster::kubernetes
