#include "cluster/local/service_files.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cerrno>
#include <cstring>

#include "common/names.h"

namespace paddlecloud::cluster::local {

namespace {

namespace json = boost::json;

std::int64_t Int(const json::object& o, std::string_view key, std::int64_t fallback = 0) {
  auto* v = o.if_contains(key);
  if (v && v->is_int64()) return v->as_int64();
  if (v && v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  return fallback;
}

std::string Str(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

json::object StringMap(const std::map<std::string, std::string>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

std::map<std::string, std::string> StringMapFrom(const json::object& o, std::string_view key) {
  std::map<std::string, std::string> m;
  if (auto* v = o.if_contains(key); v && v->is_object())
    for (const auto& [k, val] : v->as_object())
      if (val.is_string()) m[std::string(k)] = std::string(val.as_string());
  return m;
}

bool HasLineBreak(const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; }

// Waits for `events` on `fd` until `deadline`; false on timeout or error.
bool WaitFd(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(left));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

}  // namespace

std::string ToJson(const ServiceRun& s) {
  json::array mounts;
  for (const auto& m : s.mounts)
    mounts.push_back(json::object{{"source", m.source}, {"target", m.target}, {"read_only", m.read_only}});
  json::object o{{"namespace", s.namespace_name}, {"name", s.name},     {"command", s.command},
                 {"image", s.image},              {"working_dir", s.working_dir}, {"env", StringMap(s.env)},
                 {"mounts", std::move(mounts)},
                 {"requests", json::object{{"cpu_milli", s.requests.cpu_milli},
                                           {"memory_bytes", s.requests.memory_bytes},
                                           {"gpus", s.requests.gpus}}},
                 {"replicas", s.replicas},        {"port", s.port},
                 {"max_backoff_ms", s.max_backoff.count()}, {"logs_dir", s.logs_dir}};
  if (s.readiness) {
    const HttpProbe& p = *s.readiness;
    o["readiness"] = json::object{{"path", p.path},
                                  {"headers", StringMap(p.headers)},
                                  {"period_ms", p.period.count()},
                                  {"timeout_ms", p.timeout.count()},
                                  {"failure_threshold", p.failure_threshold},
                                  {"startup_grace_ms", p.startup_grace.count()}};
  }
  return json::serialize(o);
}

Result<ServiceRun> ServiceRunFromJson(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Err(Status::Internal("service.json is not a JSON object"));
  const json::object& o = v.as_object();
  ServiceRun s;
  s.namespace_name = Str(o, "namespace");
  s.name = Str(o, "name");
  s.command = Str(o, "command");
  s.image = Str(o, "image");
  s.working_dir = Str(o, "working_dir");
  s.env = StringMapFrom(o, "env");
  if (auto* mounts = o.if_contains("mounts"); mounts && mounts->is_array())
    for (const auto& m : mounts->as_array())
      if (m.is_object()) {
        auto* ro = m.as_object().if_contains("read_only");
        s.mounts.push_back({Str(m.as_object(), "source"), Str(m.as_object(), "target"), !(ro && ro->is_bool() && !ro->as_bool())});
      }
  if (auto* r = o.if_contains("requests"); r && r->is_object())
    s.requests = {Int(r->as_object(), "cpu_milli"), Int(r->as_object(), "memory_bytes"), Int(r->as_object(), "gpus")};
  s.replicas = static_cast<int>(Int(o, "replicas", 1));
  s.port = static_cast<int>(Int(o, "port", 8080));
  s.max_backoff = std::chrono::milliseconds(Int(o, "max_backoff_ms", 30000));
  s.logs_dir = Str(o, "logs_dir");
  if (auto* r = o.if_contains("readiness"); r && r->is_object()) {
    const json::object& p = r->as_object();
    s.readiness = HttpProbe{.path = Str(p, "path"),
                            .headers = StringMapFrom(p, "headers"),
                            .period = std::chrono::milliseconds(Int(p, "period_ms", 1000)),
                            .timeout = std::chrono::milliseconds(Int(p, "timeout_ms", 1000)),
                            .failure_threshold = static_cast<int>(Int(p, "failure_threshold", 3)),
                            .startup_grace = std::chrono::milliseconds(Int(p, "startup_grace_ms"))};
  }
  if (s.namespace_name.empty() || s.name.empty()) return Err(Status::Internal("service.json lacks namespace or name"));
  return s;
}

Status ValidateService(const ServiceRun& s) {
  if (s.namespace_name.empty() || s.namespace_name.front() == '.' || s.namespace_name.size() > 128 ||
      s.namespace_name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != std::string::npos)
    return Status::InvalidArgument("namespace must be letters, digits, '-', '_' or '.'", "namespace");
  if (!names::IsDnsLabel(s.name, 1, 57))
    return Status::InvalidArgument("service name must be a DNS label: lowercase letters, digits and '-', at most 57", "name");
  if (s.command.empty()) return Status::InvalidArgument("command is empty", "command");
  if (s.replicas < 0 || s.replicas > 100) return Status::InvalidArgument("replicas must be between 0 and 100", "replicas");
  if (s.port < 1 || s.port > 65535) return Status::InvalidArgument("port must be between 1 and 65535", "port");
  if (s.requests.cpu_milli < 0 || s.requests.memory_bytes < 0 || s.requests.gpus < 0)
    return Status::InvalidArgument("requests must not be negative", "requests");
  if (s.max_backoff.count() < 0) return Status::InvalidArgument("max_backoff must not be negative", "max_backoff");
  if (s.env.count("PORT")) return Status::InvalidArgument("PORT is set by the backend", "env");
  if (const auto& p = s.readiness) {
    if (p->path.empty() || p->path.front() != '/' || HasLineBreak(p->path) || p->path.find(' ') != std::string::npos)
      return Status::InvalidArgument("readiness path must start with '/' and hold no spaces or line breaks", "readiness.path");
    for (const auto& [k, v] : p->headers)
      if (k.empty() || HasLineBreak(k) || HasLineBreak(v) || k.find(':') != std::string::npos)
        return Status::InvalidArgument("readiness header names and values must be single lines", "readiness.headers");
    if (p->period.count() <= 0 || p->timeout.count() <= 0)
      return Status::InvalidArgument("readiness period and timeout must be positive", "readiness.period");
    if (p->failure_threshold < 1) return Status::InvalidArgument("failure_threshold must be at least 1", "readiness.failure_threshold");
    if (p->startup_grace.count() < 0) return Status::InvalidArgument("startup_grace must not be negative", "readiness.startup_grace");
  }
  return Status::Ok();
}

std::string ProbeHttp(const std::string& host, int port, const HttpProbe& probe) {
  auto deadline = std::chrono::steady_clock::now() + probe.timeout;
  std::string timeout = "no answer within " + std::to_string(probe.timeout.count()) + " ms";
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return std::string("socket: ") + std::strerror(errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return "not an IPv4 address: " + host;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) return std::strerror(errno);
    if (!WaitFd(fd, POLLOUT, deadline)) return timeout;
    int error = 0;
    socklen_t len = sizeof error;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) return std::strerror(error);
  }
  std::string request = "GET " + probe.path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                        "\r\nUser-Agent: paddlecloud-probe\r\nConnection: close\r\n";
  for (const auto& [k, v] : probe.headers) request += k + ": " + v + "\r\n";
  request += "\r\n";
  for (std::size_t sent = 0; sent < request.size();) {
    if (!WaitFd(fd, POLLOUT, deadline)) return timeout;
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return std::strerror(errno);
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  std::string head;
  while (head.find("\r\n") == std::string::npos && head.size() < 1024) {
    if (!WaitFd(fd, POLLIN, deadline)) return timeout;
    char buffer[512];
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n == 0) break;
    if (n < 0 && errno != EAGAIN && errno != EINTR) return std::strerror(errno);
    if (n > 0) head.append(buffer, static_cast<std::size_t>(n));
  }
  // "HTTP/1.1 200 OK"
  auto space = head.find(' ');
  if (!head.starts_with("HTTP/") || space == std::string::npos || head.size() < space + 4) return "not an HTTP answer";
  int code = std::atoi(head.c_str() + space + 1);
  if (code >= 200 && code < 400) return "";
  return "HTTP " + std::to_string(code);
}

}  // namespace paddlecloud::cluster::local
