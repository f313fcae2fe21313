#include "serving/inference_gateway.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <span>
#include <string_view>
#include <utility>

#include <spdlog/spdlog.h>

#include "http/json.h"
#include "reverse_proxy/reverse_proxy.h"
#include "timeseries/series_store.h"

namespace paddlecloud::serving {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using http::Request;
using http::Response;

namespace {

// Latency buckets: 0 holds answers under 1 µs, i ≥ 1 those in [2^((i-1)/8), 2^(i/8)) µs (each 9%
// wide, so a percentile is within 5% once interpolated), the last one everything from ~2.2 min up.
constexpr int kLatencyBuckets = 218;
constexpr double kBucketsPerDoubling = 8;
constexpr int kRingSeconds = 64;  // Stats() looks back at most kRingSeconds - 4 seconds
constexpr int kMaxAttempts = 8;  // options.max_attempts is clamped to 1..8

int LatencyBucket(double micros) {
  if (micros < 1) return 0;
  return std::min(1 + static_cast<int>(std::log2(micros) * kBucketsPerDoubling), kLatencyBuckets - 1);
}
double BucketLowMicros(int i) { return i == 0 ? 0 : std::exp2((i - 1) / kBucketsPerDoubling); }

// What happened to the requests of a stretch of time.
struct Tally {
  std::uint32_t requests = 0, errors = 0;
  std::uint64_t rx_bytes = 0, tx_bytes = 0;
  std::array<std::uint32_t, kLatencyBuckets> latency{};

  void Add(double micros, bool error, std::uint64_t rx, std::uint64_t tx) {
    ++requests;
    errors += error;
    rx_bytes += rx;
    tx_bytes += tx;
    ++latency[LatencyBucket(micros)];
  }
  void Merge(const Tally& other) {
    requests += other.requests;
    errors += other.errors;
    rx_bytes += other.rx_bytes;
    tx_bytes += other.tx_bytes;
    for (int i = 0; i < kLatencyBuckets; ++i) latency[i] += other.latency[i];
  }
  // The q-quantile in ms, interpolated within its bucket; nullopt without requests.
  std::optional<double> QuantileMs(double q) const {
    if (requests == 0) return std::nullopt;
    double rank = q * requests, seen = 0;
    for (int i = 0; i < kLatencyBuckets; ++i) {
      if (latency[i] && seen + latency[i] >= rank) {
        double low = BucketLowMicros(i), high = BucketLowMicros(i + 1);
        return (low + (high - low) * (rank - seen) / latency[i]) / 1000;
      }
      seen += latency[i];
    }
    return BucketLowMicros(kLatencyBuckets - 1) / 1000;
  }
};

struct Second {
  std::int64_t second = -1;
  Tally tally;
};

// An answer is an error when its status is 400 or above (the gateway's own 502/503/504 included).
bool IsError(int status) { return status >= 400; }

struct InstanceMetrics {
  metrics::Counter& success;
  metrics::Counter& failure;
  metrics::Counter& inferences;
  metrics::Counter& duration_us;
  metrics::Histogram& predict_seconds;
  std::array<metrics::Counter*, 4> by_class;  // answers by status class: 2xx (and below), 3xx, 4xx, 5xx

  metrics::Counter& ByClass(int status) { return *by_class[std::clamp(status / 100, 2, 5) - 2]; }
};

InstanceMetrics MetricsFor(metrics::Registry& registry, const std::string& account, const std::string& name) {
  metrics::Labels labels{{"account", account}, {"model", name}};
  InstanceMetrics m{
      registry.GetCounter("nv_inference_request_success", "Inference requests answered with a status below 400",
                          labels),
      registry.GetCounter("nv_inference_request_failure",
                          "Inference requests answered with a status of 400 or above", labels),
      registry.GetCounter("nv_inference_count", "Inferences performed (successful POST .../infer requests)", labels),
      registry.GetCounter("nv_inference_request_duration_us",
                          "Cumulative time requests took through the gateway, in microseconds", labels),
      registry.GetHistogram("request_predict_seconds", "Time of POST .../infer requests through the gateway",
                            {{"account", account}, {"model_name", name}}),
      {},
  };
  for (int i = 0; i < 4; ++i) {
    metrics::Labels by_class = labels;
    by_class.emplace_back("code", std::to_string(i + 2) + "xx");
    m.by_class[i] = &registry.GetCounter("paddlecloud_serving_responses_total",
                                         "Answers of serving instances through the gateway, by status class", by_class);
  }
  return m;
}

struct Replica {
  ReplicaEndpoint endpoint;
  reverse_proxy::Upstream upstream;
  int in_flight = 0;
  Clock::time_point suspect_until{};
  Tally interval;  // since the last Sample

  bool SameAs(const ReplicaEndpoint& e) const {
    return endpoint.index == e.index && endpoint.host == e.host && endpoint.port == e.port;
  }
};

struct Instance {
  Instance(std::string account, std::string instance_name, InstanceMetrics m)
      : account_id(std::move(account)), name(std::move(instance_name)), metrics(m) {}
  std::string account_id, name;
  bool is_public = false, active = true;
  std::vector<std::unique_ptr<Replica>> routed;    // may get new requests
  std::vector<std::unique_ptr<Replica>> draining;  // left the route with requests still in flight
  std::size_t turn = 0;
  int in_flight = 0;
  Clock::time_point created = Clock::now();
  std::array<Second, kRingSeconds> seconds;
  Tally interval;  // since the last Sample
  std::int64_t last_sample_ms = -1;
  InstanceMetrics metrics;
};

using Key = std::pair<std::string, std::string>;
struct KeyLess {
  using is_transparent = void;
  using View = std::pair<std::string_view, std::string_view>;
  static View AsView(const Key& k) { return {k.first, k.second}; }
  static View AsView(const View& v) { return v; }
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return AsView(a) < AsView(b);
  }
};

void MakeInert(Response& response) {
  response.headers.Remove("Set-Cookie");
  response.headers.Set("Content-Security-Policy", "sandbox; default-src 'none'");
  response.headers.Set("X-Content-Type-Options", "nosniff");
}

Response Refusal(const Status& status) {
  Response response = http::ErrorResponse(status);
  MakeInert(response);
  return response;
}

// The replica's request target: what follows /serving/<account>/<name> in the request's target as
// sent (not decoded again), query string included.
std::string UpstreamTarget(const Request& request) {
  std::string_view raw = request.target;
  auto query_at = raw.find('?');
  std::string_view path = raw.substr(0, query_at), query = query_at == raw.npos ? "" : raw.substr(query_at);
  std::string target;
  if (path.starts_with("/serving/")) {
    std::size_t at = 0;
    for (int segment = 0; segment < 3 && at != path.npos; ++segment) at = path.find('/', at + 1);
    target = at == path.npos ? "/" : std::string(path.substr(at));
  } else {
    target = "/" + std::string(request.PathParam("rest"));
  }
  target.append(query);
  return target;
}

bool IsInfer(const Request& request) {
  std::string_view path = request.path;
  return request.method == "POST" && path.ends_with("/infer");
}

// Counts the bytes a streamed answer writes.
class CountingStream : public http::ResponseStream {
 public:
  CountingStream(http::ResponseStream& out, std::uint64_t& bytes) : out_(out), bytes_(bytes) {}
  asio::awaitable<bool> Write(std::string_view chunk) override {
    bytes_ += chunk.size();
    co_return co_await out_.Write(chunk);
  }
  bool stopping() const override { return out_.stopping(); }

 private:
  http::ResponseStream& out_;
  std::uint64_t& bytes_;
};

}  // namespace

struct InferenceGateway::Impl {
  Impl(InferenceGatewayOptions o, metrics::Registry& r)
      : options(std::move(o)), registry(r), proxy(ProxyOptionsOf(options)) {
    options.max_attempts = std::clamp(options.max_attempts, 1, kMaxAttempts);
  }

  static reverse_proxy::ProxyOptions ProxyOptionsOf(const InferenceGatewayOptions& options) {
    reverse_proxy::ProxyOptions proxy;
    proxy.connect_timeout = options.connect_timeout;
    proxy.response_timeout = options.response_timeout;
    proxy.private_cookies = options.private_cookies;
    return proxy;
  }

  InferenceGatewayOptions options;
  metrics::Registry& registry;
  reverse_proxy::ReverseProxy proxy;
  const Clock::time_point epoch = Clock::now();

  std::mutex mutex;  // guards `instances` and everything in them
  std::condition_variable replica_idle;
  std::map<Key, std::shared_ptr<Instance>, KeyLess> instances;

  std::mutex series_mutex;  // guards `writers`; taken before `mutex`
  std::map<std::string, std::unique_ptr<timeseries::SeriesWriter>> writers;  // by directory

  // The first replica of a request, or the answer refusing it (`instance` set when the request
  // counts in the instance's metrics).
  struct Admission {
    std::shared_ptr<Instance> instance;
    Replica* replica = nullptr;
    reverse_proxy::Upstream upstream;
    std::optional<Response> refusal;
  };

  Admission Admit(const Request& request, std::string_view account, std::string_view name) {
    Admission admission;
    std::lock_guard lock(mutex);
    auto it = instances.find(KeyLess::View{account, name});
    bool allowed = it != instances.end() &&
                   (it->second->is_public || (request.principal && request.principal->account_id == account));
    if (!allowed) {
      // Identical for an unknown instance and another account's: nothing tells them apart.
      admission.refusal = Refusal(
          request.principal ? Status::NotFound("serving instance '" + std::string(name) + "' does not exist")
                            : Status::Unauthenticated("send an API token of the instance's account: "
                                                      "Authorization: Bearer <token>"));
      if (!request.principal) admission.refusal->headers.Set("WWW-Authenticate", "Bearer");
      return admission;
    }
    Instance& instance = *it->second;
    admission.instance = it->second;
    if (!instance.active) {
      admission.refusal = Refusal(Status::Unavailable("serving instance '" + instance.name + "' is deactivated")
                                      .WithDetail("reason", "inactive"));
      return admission;
    }
    admission.replica = PickLocked(instance, {});
    if (!admission.replica) {
      admission.refusal = Refusal(Status::Unavailable("no replica of serving instance '" + instance.name +
                                                      "' is ready: try again shortly")
                                      .WithDetail("reason", "no_ready_replica"));
      admission.refusal->headers.Set("Retry-After", "1");
      return admission;
    }
    admission.upstream = admission.replica->upstream;
    ++instance.in_flight;
    return admission;
  }

  // Least outstanding requests among the routed replicas not yet tried, those not suspect first;
  // ties go in turn. Counts the request on the replica.
  Replica* PickLocked(Instance& instance, std::span<Replica* const> tried) {
    std::size_t n = instance.routed.size();
    if (n == 0) return nullptr;
    auto now = Clock::now();
    std::size_t start = instance.turn++;
    Replica* best = nullptr;
    bool best_suspect = true;
    for (std::size_t k = 0; k < n; ++k) {
      Replica* candidate = instance.routed[(start + k) % n].get();
      if (std::find(tried.begin(), tried.end(), candidate) != tried.end()) continue;
      bool suspect = candidate->suspect_until > now;
      if (!best || std::pair(suspect, candidate->in_flight) < std::pair(best_suspect, best->in_flight)) {
        best = candidate;
        best_suspect = suspect;
      }
    }
    if (best) ++best->in_flight;
    return best;
  }

  // After `replica` did not answer (in `micros`): marks it suspect and moves the request to another
  // replica it has not tried (false, keeping `replica`, when there is none).
  bool Reroute(Instance& instance, Replica*& replica, reverse_proxy::Upstream& upstream,
               std::span<Replica* const> tried, double micros) {
    bool released = false;
    {
      std::lock_guard lock(mutex);
      replica->suspect_until = Clock::now() + options.suspect_for;
      Replica* next = PickLocked(instance, tried);
      if (!next) return false;
      spdlog::debug("serving {}/{}: replica {} did not answer, trying replica {}", instance.account_id, instance.name,
                    replica->endpoint.index, next->endpoint.index);
      replica->interval.Add(micros, /*error=*/true, 0, 0);
      released = ReleaseLocked(instance, replica);
      replica = next;
      upstream = next->upstream;
    }
    if (released) replica_idle.notify_all();
    return true;
  }

  // Ends a request's use of `replica`; true when it was the replica's last one.
  bool ReleaseLocked(Instance& instance, Replica* replica) {
    if (--replica->in_flight > 0) return false;
    std::erase_if(instance.draining, [replica](const auto& r) { return r.get() == replica; });
    return true;
  }

  // Records a request of an admitted instance (replica: the one that answered, if any).
  void Finish(Instance& instance, Replica* replica, int status, bool infer, Clock::time_point start,
              std::uint64_t rx, std::uint64_t tx) {
    auto now = Clock::now();
    double micros = std::chrono::duration<double, std::micro>(now - start).count();
    bool error = IsError(status);
    (error ? instance.metrics.failure : instance.metrics.success).Increment();
    instance.metrics.ByClass(status).Increment();
    instance.metrics.duration_us.Increment(micros);
    if (infer) {
      if (!error) instance.metrics.inferences.Increment();
      instance.metrics.predict_seconds.Observe(micros / 1e6);
    }
    std::int64_t second = std::chrono::duration_cast<std::chrono::seconds>(now - epoch).count();
    bool released = false;
    {
      std::lock_guard lock(mutex);
      Second& slot = instance.seconds[second % kRingSeconds];
      if (slot.second != second) slot = Second{second, {}};
      slot.tally.Add(micros, error, rx, tx);
      instance.interval.Add(micros, error, rx, tx);
      if (replica) {
        replica->interval.Add(micros, error, rx, tx);
        --instance.in_flight;
        released = ReleaseLocked(instance, replica);
      }
    }
    if (released) replica_idle.notify_all();
  }

  asio::awaitable<Response> Handle(Request& request) {
    auto start = Clock::now();
    std::string_view account = request.PathParam("account"), name = request.PathParam("name");
    Admission admission = Admit(request, account, name);
    bool infer = IsInfer(request);
    if (admission.refusal) {
      if (admission.instance)
        Finish(*admission.instance, nullptr, admission.refusal->status, infer, start, request.body.size(),
               admission.refusal->body.size());
      co_return std::move(*admission.refusal);
    }
    Instance& instance = *admission.instance;
    Replica* replica = admission.replica;
    std::string target = UpstreamTarget(request);
    std::array<Replica*, kMaxAttempts> tried{};
    Response response;
    for (int attempt = 1;; ++attempt) {
      tried[attempt - 1] = replica;
      auto attempt_start = Clock::now();
      reverse_proxy::ForwardOutcome outcome;
      response = co_await proxy.Forward(request, admission.upstream, target, &outcome);
      if (outcome != reverse_proxy::ForwardOutcome::kNotAnswered || attempt >= options.max_attempts) break;
      double micros = std::chrono::duration<double, std::micro>(Clock::now() - attempt_start).count();
      if (!Reroute(instance, replica, admission.upstream, std::span(tried.data(), attempt), micros)) break;
    }
    MakeInert(response);
    if (!response.stream) {
      Finish(instance, replica, response.status, infer, start, request.body.size(), response.body.size());
      co_return response;
    }
    // A streamed answer ends when its body has been relayed (or dropped unsent).
    struct StreamEnd {
      StreamEnd(Impl* i, std::shared_ptr<Instance> in, Replica* r, int st, bool inf, Clock::time_point t,
                std::uint64_t received)
          : impl(i), instance(std::move(in)), replica(r), status(st), infer(inf), start(t), rx(received) {}
      StreamEnd(const StreamEnd&) = delete;
      StreamEnd& operator=(const StreamEnd&) = delete;
      ~StreamEnd() { impl->Finish(*instance, replica, status, infer, start, rx, tx); }
      Impl* impl;
      std::shared_ptr<Instance> instance;
      Replica* replica;
      int status;
      bool infer;
      Clock::time_point start;
      std::uint64_t rx, tx = 0;
    };
    auto end = std::make_shared<StreamEnd>(this, std::move(admission.instance), replica, response.status, infer,
                                           start, request.body.size());
    response.stream = [relay = std::move(response.stream), end](http::ResponseStream& out) -> asio::awaitable<void> {
      CountingStream counting(out, end->tx);
      co_await relay(counting);
    };
    co_return response;
  }

  void SetRoute(InstanceRoute route) {
    {
      std::lock_guard lock(mutex);
      auto it = instances.find(KeyLess::View{route.account_id, route.name});
      if (it == instances.end()) {
        auto created = std::make_shared<Instance>(route.account_id, route.name,
                                                  MetricsFor(registry, route.account_id, route.name));
        it = instances.emplace(Key{route.account_id, route.name}, std::move(created)).first;
      }
      Instance& instance = *it->second;
      instance.is_public = route.is_public;
      instance.active = route.active;
      std::vector<std::unique_ptr<Replica>> previous = std::move(instance.routed);
      instance.routed.clear();
      for (const auto& endpoint : route.ready) {
        std::unique_ptr<Replica> replica = TakeReplica(previous, endpoint);
        if (!replica) replica = TakeReplica(instance.draining, endpoint);
        if (!replica) replica = NewReplica(endpoint);
        replica->suspect_until = {};
        instance.routed.push_back(std::move(replica));
      }
      for (auto& replica : previous)
        if (replica->in_flight > 0) instance.draining.push_back(std::move(replica));
    }
    replica_idle.notify_all();  // a WaitIdle may be waiting on a replica that is no longer routed
  }

  static std::unique_ptr<Replica> TakeReplica(std::vector<std::unique_ptr<Replica>>& from,
                                              const ReplicaEndpoint& endpoint) {
    auto it = std::find_if(from.begin(), from.end(), [&](const auto& r) { return r && r->SameAs(endpoint); });
    if (it == from.end()) return nullptr;
    std::unique_ptr<Replica> replica = std::move(*it);
    from.erase(it);
    return replica;
  }
  static std::unique_ptr<Replica> NewReplica(const ReplicaEndpoint& endpoint) {
    auto replica = std::make_unique<Replica>();
    replica->endpoint = endpoint;
    replica->upstream = reverse_proxy::Upstream{endpoint.host, endpoint.port, ""};
    return replica;
  }

  std::string SeriesBase(const std::string& account, const std::string& name) const {
    return options.metrics_dir + "/" + account + "/" + name + "/metrics";
  }

  void RemoveRoute(const std::string& account, const std::string& name) {
    std::lock_guard series_lock(series_mutex);
    {
      std::lock_guard lock(mutex);
      if (auto it = instances.find(KeyLess::View{account, name}); it != instances.end()) instances.erase(it);
    }
    std::string base = SeriesBase(account, name) + "/";
    for (auto it = writers.begin(); it != writers.end();) {
      if (!it->first.starts_with(base)) {
        ++it;
        continue;
      }
      if (Status sealed = it->second->Seal(); !sealed.ok())
        spdlog::warn("serving {}/{}: closing the series {}: {}", account, name, it->first, sealed.ToString());
      it = writers.erase(it);
    }
  }

  bool WaitIdle(const std::string& account, const std::string& name, const std::vector<int>& indexes,
                std::chrono::milliseconds max_wait) {
    std::unique_lock lock(mutex);
    auto idle = [&] {
      auto it = instances.find(KeyLess::View{account, name});
      if (it == instances.end()) return true;
      for (const auto* replicas : {&it->second->routed, &it->second->draining})
        for (const auto& replica : *replicas)
          if (replica->in_flight > 0 && std::ranges::find(indexes, replica->endpoint.index) != indexes.end())
            return false;
      return true;
    };
    return replica_idle.wait_for(lock, max_wait, idle);
  }

  InstanceStats Stats(const std::string& account, const std::string& name, std::chrono::milliseconds window) {
    std::lock_guard lock(mutex);
    auto it = instances.find(KeyLess::View{account, name});
    if (it == instances.end()) return {};
    const Instance& instance = *it->second;
    auto now = Clock::now();
    auto since_epoch = std::chrono::duration<double>(now - epoch).count();
    std::int64_t now_second = static_cast<std::int64_t>(since_epoch);
    std::int64_t seconds = std::clamp<std::int64_t>((window.count() + 999) / 1000, 1, kRingSeconds - 4);
    Tally sum;
    for (std::int64_t s = now_second - seconds + 1; s <= now_second; ++s) {
      if (s < 0) continue;
      const Second& slot = instance.seconds[s % kRingSeconds];
      if (slot.second == s) sum.Merge(slot.tally);
    }
    // The buckets span the whole seconds before this one and the part of this one gone by.
    double span = static_cast<double>(seconds - 1) + (since_epoch - static_cast<double>(now_second));
    span = std::max(std::min(span, std::chrono::duration<double>(now - instance.created).count()), 1e-3);
    InstanceStats stats;
    stats.qps = sum.requests / span;
    stats.in_flight = instance.in_flight;
    if (sum.requests > 0) {
      stats.p50_ms = sum.QuantileMs(0.50);
      stats.p95_ms = sum.QuantileMs(0.95);
      stats.p99_ms = sum.QuantileMs(0.99);
      stats.error_rate = static_cast<double>(sum.errors) / sum.requests;
    }
    return stats;
  }

  struct Row {
    std::string dir;
    std::array<float, std::size(kSeriesColumns)> values;
  };

  static Row RowOf(std::string dir, const Tally& tally, int in_flight, std::int64_t interval_ms) {
    constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
    double per_s = 1000.0 / static_cast<double>(interval_ms);
    auto ms = [&](double q) { return tally.requests ? static_cast<float>(*tally.QuantileMs(q)) : kNaN; };
    return Row{std::move(dir),
               {static_cast<float>(tally.requests * per_s), static_cast<float>(tally.errors * per_s), ms(0.50),
                ms(0.95), ms(0.99), static_cast<float>(in_flight), static_cast<float>(tally.rx_bytes * per_s),
                static_cast<float>(tally.tx_bytes * per_s)}};
  }

  // The rows of every instance and replica since the last sample; resets the intervals.
  std::vector<Row> TakeRows(std::int64_t now_ms) {
    std::vector<Row> rows;
    std::lock_guard lock(mutex);
    for (auto& [key, instance] : instances) {
      std::int64_t interval_ms = instance->last_sample_ms < 0 ? 1000 : now_ms - instance->last_sample_ms;
      if (interval_ms <= 0) continue;
      instance->last_sample_ms = now_ms;
      std::string base = SeriesBase(key.first, key.second);
      rows.push_back(RowOf(base + "/instance", instance->interval, instance->in_flight, interval_ms));
      instance->interval = Tally{};
      // A replica that left the route and came back under another address shares its index.
      std::map<int, std::pair<Tally, int>> by_index;
      for (auto* replicas : {&instance->routed, &instance->draining})
        for (auto& replica : *replicas) {
          auto& [tally, in_flight] = by_index[replica->endpoint.index];
          tally.Merge(replica->interval);
          in_flight += replica->in_flight;
          replica->interval = Tally{};
        }
      for (auto& [index, entry] : by_index)
        rows.push_back(RowOf(base + "/replica-" + std::to_string(index), entry.first, entry.second, interval_ms));
    }
    return rows;
  }

  void Sample(std::int64_t now_ms) {
    std::lock_guard series_lock(series_mutex);
    std::vector<Row> rows = TakeRows(now_ms);
    if (options.metrics_dir.empty()) return;
    for (auto& row : rows) {
      auto& writer = writers[row.dir];
      if (!writer) {
        std::error_code ignored;  // Open names what is missing
        std::filesystem::create_directories(std::filesystem::path(row.dir).parent_path(), ignored);
        auto opened = timeseries::SeriesWriter::Open(row.dir, row.values.size());
        if (!opened) {
          spdlog::warn("serving: cannot open the series {}: {}", row.dir, opened.error().ToString());
          writers.erase(row.dir);
          continue;
        }
        writer = std::move(*opened);
      }
      Status appended = writer->Append(std::span<const std::int64_t>(&now_ms, 1), row.values);
      if (!appended.ok()) spdlog::warn("serving: appending to {}: {}", row.dir, appended.ToString());
    }
  }
};

InferenceGateway::InferenceGateway(InferenceGatewayOptions options, metrics::Registry& registry)
    : impl_(std::make_unique<Impl>(std::move(options), registry)) {}
InferenceGateway::~InferenceGateway() = default;

void InferenceGateway::AddRoutes(http::Router& router) {
  http::RouteOptions route = http::RouteOptions::Public().WithBodyLimit(impl_->options.max_body_bytes);
  auto handler = [impl = impl_.get()](Request& request) { return impl->Handle(request); };
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
    router.Add(method, "/serving/{account}/{name}/{rest...}",
               "Inference gateway: forwarded to a ready replica of the serving instance", handler, route);
}

void InferenceGateway::SetRoute(InstanceRoute route) { impl_->SetRoute(std::move(route)); }
void InferenceGateway::RemoveRoute(const std::string& account_id, const std::string& name) {
  impl_->RemoveRoute(account_id, name);
}
bool InferenceGateway::WaitIdle(const std::string& account_id, const std::string& name,
                                const std::vector<int>& indexes, std::chrono::milliseconds max_wait) {
  return impl_->WaitIdle(account_id, name, indexes, max_wait);
}
InstanceStats InferenceGateway::Stats(const std::string& account_id, const std::string& name,
                                      std::chrono::milliseconds window) {
  return impl_->Stats(account_id, name, window);
}
void InferenceGateway::Sample(std::int64_t now_ms) { impl_->Sample(now_ms); }

}  // namespace paddlecloud::serving
