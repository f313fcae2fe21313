// InferenceGateway: the stable URL of every serving instance (docs/serving.md, "Inference gateway").
//
// `/serving/<account>/<name>/<rest>` is forwarded to one ready replica of the instance as `/<rest>`:
// - Who may call: a principal of the account (API token of any scope, session), or anyone when the
//   instance is public. No principal: 401; another account's principal or an unknown instance: 404.
// - Least outstanding requests among the instance's ready replicas (ties in turn). A request whose
//   replica cannot be reached, or closes before answering, goes to another replica (at most
//   `max_attempts` tries in all); a replica that failed so is skipped until the next SetRoute or
//   for `suspect_for`.
// - Body at most `max_body_bytes` (413), answer within `response_timeout` (504); no ready replica:
//   503 `no_ready_replica` with Retry-After (an inactive instance: 503 reason `inactive`).
// - Responses are made inert on the platform's origin (CSP sandbox, nosniff, no Set-Cookie), and the
//   platform's cookies and the caller's Authorization never reach a replica.
// - Metrics per instance and per replica (requests, errors by status, latency, in-flight, bytes):
//   Prometheus families of `registry` named as Triton and KServe name them, and a time-series
//   sample per Sample() call under `<metrics_dir>/<account>/<name>/metrics/{instance,replica-<i>}`.
//
// Routing state is pushed by the serving service (SetRoute/RemoveRoute); the gateway never asks the
// backend. Thread-safe. Destroy after the server whose router it was added to has stopped.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "http/router.h"
#include "metrics/metrics.h"

namespace paddlecloud::serving {

struct ReplicaEndpoint {
  int index = 0;
  std::string host;  // "127.0.0.1"
  std::uint16_t port = 0;
};

// What the gateway routes for one instance.
struct InstanceRoute {
  std::string account_id;
  std::string name;
  bool is_public = false;
  bool active = true;                  // false: 503 reason "inactive"
  std::vector<ReplicaEndpoint> ready;  // the replicas that may get new requests
};

struct InferenceGatewayOptions {
  std::uint64_t max_body_bytes = 64ull << 20;
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds response_timeout{60'000};
  int max_attempts = 3;
  std::chrono::milliseconds suspect_for{2'000};
  std::string metrics_dir;  // <data>/serving; "" keeps no time series
  std::vector<std::string> private_cookies;  // the platform's cookies, never forwarded
};

// What the last `window` of requests of an instance looked like: qps 0 and the other nullopt fields
// when no request came; every field nullopt for an instance the gateway does not route.
struct InstanceStats {
  std::optional<double> qps, p50_ms, p95_ms, p99_ms, error_rate;
  int in_flight = 0;
};

class InferenceGateway {
 public:
  InferenceGateway(InferenceGatewayOptions options, metrics::Registry& registry);
  ~InferenceGateway();
  InferenceGateway(const InferenceGateway&) = delete;
  InferenceGateway& operator=(const InferenceGateway&) = delete;

  // Adds `/serving/{account}/{name}/{rest...}` (every method; public routes: the gateway checks
  // the principal itself).
  void AddRoutes(http::Router& router);

  // Replaces the instance's route. Once it returns, no new request goes to a replica it left out.
  void SetRoute(InstanceRoute route);
  // Forgets the instance (its requests answer 404) and closes its time series.
  void RemoveRoute(const std::string& account_id, const std::string& name);

  // Blocks until the requests in flight on the given replicas have ended, or `max_wait` passed
  // (false). Call after a SetRoute that left them out, from a thread that is not an I/O thread.
  bool WaitIdle(const std::string& account_id, const std::string& name, const std::vector<int>& indexes,
                std::chrono::milliseconds max_wait);

  // The instance's last `window` (default 10 s).
  InstanceStats Stats(const std::string& account_id, const std::string& name,
                      std::chrono::milliseconds window = std::chrono::seconds(10));

  // Appends one sample per routed instance and replica to its time series (unix ms): call every
  // second. Columns in order: kSeriesColumns.
  void Sample(std::int64_t now_ms);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The columns of each instance's and replica's series, in order.
inline constexpr const char* kSeriesColumns[] = {"requests_per_s", "errors_per_s", "p50_ms",         "p95_ms",
                                                 "p99_ms",         "in_flight",    "rx_bytes_per_s", "tx_bytes_per_s"};

}  // namespace paddlecloud::serving
