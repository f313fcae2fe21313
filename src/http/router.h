// Router: maps (method, path) to a handler.
//
// Patterns are `/`-separated segments: literals, `{name}` (one segment) and a final `{name...}`
// (the rest of the path, possibly empty). When several patterns match, the most specific wins:
// compared segment by segment, a literal beats `{name}` beats `{name...}`. A path that matches some
// pattern but not with this method yields kMethodNotAllowed with the allowed methods (GET implies
// HEAD). Anything else falls to the fallback handler when one is set, or kNotFound.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/message.h"

namespace paddlecloud::http {

struct RouteOptions {
  bool streaming_body = false;      // the handler reads Request::body_stream
  std::uint64_t max_body_bytes = 0; // for whole bodies; 0 = the server's default
  bool public_access = false;       // reachable without signing in (deny by default)

  static RouteOptions Public() { return RouteOptions{false, 0, true}; }
  static RouteOptions Streaming() { return RouteOptions{true, 0, false}; }
  RouteOptions& WithBodyLimit(std::uint64_t bytes) {
    max_body_bytes = bytes;
    return *this;
  }
};

struct Route {
  std::string method;
  std::string pattern;
  std::string summary;  // one line, as in the OpenAPI document
  Handler handler;
  RouteOptions options;
};

class Router {
 public:
  // Asserts on a malformed pattern or a duplicate (method, pattern): both are programming errors.
  void Add(std::string method, std::string pattern, std::string summary, Handler handler,
           RouteOptions options = {});
  // Handles every GET/HEAD that no route matches (the web app and its assets).
  void SetFallback(Handler handler) { fallback_ = std::move(handler); }

  enum class Outcome { kFound, kNotFound, kMethodNotAllowed };
  struct MatchResult {
    Outcome outcome = Outcome::kNotFound;
    const Route* route = nullptr;                  // kFound with a route
    const Handler* handler = nullptr;              // kFound: the route's handler or the fallback
    std::map<std::string, std::string> params;
    std::string allow;                             // kMethodNotAllowed: "GET, HEAD, POST"
  };
  MatchResult Match(std::string_view method, std::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  struct Segment {
    enum Kind { kLiteral, kParam, kRest } kind;
    std::string text;  // literal text or parameter name
  };
  struct Compiled {
    std::vector<Segment> segments;
  };
  static bool MatchPattern(const Compiled& compiled, std::span<const std::string_view> parts,
                           std::map<std::string, std::string>* params);
  static bool MoreSpecific(const Compiled& a, const Compiled& b);

  // Candidate routes by the literal segments a pattern starts with (at most kIndexDepth, joined by
  // '/'): a request looks up only the prefixes of its own path instead of trying every route.
  static constexpr std::size_t kIndexDepth = 3;
  struct PrefixHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::vector<std::size_t>, PrefixHash, std::equal_to<>> by_prefix_;

  std::vector<Route> routes_;
  std::vector<Compiled> compiled_;
  Handler fallback_;
};

}  // namespace paddlecloud::http
