// KubeClient: the HTTP(S) client the Kubernetes adapter talks to the API server with (libcurl).
//
// Authentication: the connection's bearer token (re-read from token_file at most once a minute)
// and/or client certificate and key; the server is verified against ca_pem (or the system's CAs)
// unless insecure_skip_tls_verify. Tokens and keys are never logged nor put into messages.
//
// Errors. Every error message starts with the HTTP method and path ("POST /api/v1/namespaces/pc-a/
// services: ..."); when the server answered with a Status object its `message` follows verbatim.
// Mapping of the answer's HTTP status:
//   400, 405, 406, 415, other 4xx  kInvalidArgument     404  kNotFound
//   401  kUnauthenticated                                403  kPermissionDenied (the server's message
//   409  kConflict (reason AlreadyExists or Conflict)         names verb and resource)
//   410  kConflict with reason Expired/Gone: IsGone() is true — the resourceVersion is too old, re-list
//   413  kPayloadTooLarge                                422  kInvalidArgument, the server's causes
//   429, 5xx, connection failures, timeouts: kUnavailable        appended ("field: message"), field()
//                                                              = the first cause's field
//   TLS: an untrusted server certificate or a refused client certificate is kUnavailable with a
//   message saying so; unusable PEM (CA, client certificate or key) is kInvalidArgument.
// The Kubernetes `reason` travels in the Status's details (no wrapper type): detail "reason" (the
// server's Status.reason verbatim: "AlreadyExists", "Conflict", "Forbidden", "Invalid", "Expired",
// "TooManyRequests", ...; empty when there was no Status object) and "http_status" (the Status code,
// else the HTTP status, as decimal). 429 adds "retry_after" (seconds) when the server sent Retry-After.
// KubeReason() and IsGone() read them.
//
// Thread safety: every method may be called from many threads at once. A call takes curl handles
// from a small pool (up to 8 idle) and returns them afterwards with their kept-alive connection, so
// sequential calls reuse one connection and concurrent calls each have their own; TLS sessions and
// DNS answers are shared by all calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>

#include <boost/json/value.hpp>

#include "cluster/kubernetes/kube_config.h"
#include "common/status.h"

namespace paddlecloud::cluster::kubernetes {

class KubeClient {
 public:
  struct Options {
    std::chrono::milliseconds timeout{10000};          // whole request (not Watch/Stream)
    std::chrono::milliseconds connect_timeout{3000};
    std::string user_agent = "paddlecloud";
    // Watch only: the stream is cut (kUnavailable) after this long without a byte. The API server
    // sends bookmarks about once a minute, so a healthy watch never idles that long.
    std::chrono::seconds watch_idle_timeout{120};
    // Largest response body (or single watch event line) accepted; past it kUnavailable.
    std::size_t max_response_bytes = 256u << 20;
    // How often the connection's token_file is read again (tokens rotate; 0: before every request).
    std::chrono::seconds token_reread_interval{60};
  };

  KubeClient(KubeConnection connection, Options options);
  explicit KubeClient(KubeConnection connection) : KubeClient(std::move(connection), Options{}) {}
  ~KubeClient();
  KubeClient(const KubeClient&) = delete;
  KubeClient& operator=(const KubeClient&) = delete;

  // One request; `path` is the API path ("/apis/batch/v1/namespaces/pc-a/jobs"), `query` already
  // encoded (QueryString) without the '?'. 2xx: the parsed JSON body (null for an empty body).
  Result<boost::json::value> Get(std::string_view path, std::string_view query = {});
  // POST ?fieldValidation=Strict.
  Result<boost::json::value> Create(std::string_view path, const boost::json::value& object);
  // PUT ?fieldValidation=Strict.
  Result<boost::json::value> Replace(std::string_view path, const boost::json::value& object);
  // PATCH application/merge-patch+json ?fieldValidation=Strict.
  Result<boost::json::value> MergePatch(std::string_view path, const boost::json::value& patch);
  // Server-side apply: PATCH application/apply-patch+yaml (JSON is YAML)
  // ?fieldManager=<field_manager>&force=<force>&fieldValidation=Strict.
  Result<boost::json::value> Apply(std::string_view path, const boost::json::value& object,
                                   std::string_view field_manager, bool force);
  // DELETE ?gracePeriodSeconds=<grace>&propagationPolicy=<propagation> (each only when given;
  // propagation e.g. "Background"). The answer is the object or a Status.
  Result<boost::json::value> Delete(std::string_view path, std::optional<int> grace_seconds,
                                    std::string_view propagation);

  // GET path?<query>&watch=1&allowWatchBookmarks=true (the two added unless `query` has them; the
  // caller puts resourceVersion, timeoutSeconds, labelSelector into `query`). Calls on_event for each
  // newline-delimited event as it arrives, with its type ("ADDED", "MODIFIED", "DELETED", "BOOKMARK")
  // and object (the callback may move from it). Returns Ok when the server ends the stream, when
  // on_event returns false or when `stop` is requested (promptly, even while waiting for data).
  // An ERROR event ends the watch with its Status mapped as above (code 410 -> IsGone()); a line
  // that is not a JSON event is kUnavailable. No overall timeout; `watch_idle_timeout` of silence
  // and TCP keepalive notice a dead connection.
  Status Watch(std::string_view path, std::string_view query,
               const std::function<bool(std::string_view type, boost::json::value& object)>& on_event,
               std::stop_token stop);

  // GET of a text body (pod logs with follow=true) handed to on_chunk as it arrives, until the server
  // ends it (Ok), on_chunk returns false (Ok), `stop` is requested (Ok) or an error. No overall
  // timeout and no idle limit (a quiet pod writes nothing for hours); TCP keepalive only.
  Status Stream(std::string_view path, std::string_view query,
                const std::function<bool(std::string_view chunk)>& on_chunk, std::stop_token stop);

  // Requests started so far (each call is one request), for "API calls per job" in the benchmark.
  std::uint64_t requests_sent() const;

  struct Impl;  // opaque: keeps curl out of this header

 private:
  std::unique_ptr<Impl> impl_;
};

// The resourceVersion was too old (410 Gone / reason Expired, also as a watch ERROR event): re-list.
bool IsGone(const Status& s);
// The Kubernetes reason of an error from KubeClient ("AlreadyExists", "Conflict", "NotFound",
// "Forbidden", "Invalid", "Expired", ...); empty when none. Valid while `s` lives.
std::string_view KubeReason(const Status& s);
// "a=1&labelSelector=app%3Dx" — keys and values percent-encoded (all but A-Z a-z 0-9 - . _ ~).
std::string QueryString(std::initializer_list<std::pair<std::string_view, std::string_view>> params);

}  // namespace paddlecloud::cluster::kubernetes
