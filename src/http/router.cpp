#include "http/router.h"

#include <algorithm>
#include <cassert>
#include <set>

#include <boost/container/small_vector.hpp>

namespace paddlecloud::http {
namespace {

// Inline capacity for typical paths: matching a request allocates nothing.
using PathParts = boost::container::small_vector<std::string_view, 8>;

PathParts SplitPath(std::string_view path) {
  PathParts out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

void Router::Add(std::string method, std::string pattern, std::string summary, Handler handler,
                 RouteOptions options) {
  assert(!pattern.empty() && pattern.front() == '/');
  Compiled compiled;
  auto parts = SplitPath(pattern);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::string_view part = parts[i];
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      std::string_view name = part.substr(1, part.size() - 2);
      if (name.ends_with("...")) {
        assert(i + 1 == parts.size() && "{rest...} must be the last segment");
        compiled.segments.push_back({Segment::kRest, std::string(name.substr(0, name.size() - 3))});
      } else {
        compiled.segments.push_back({Segment::kParam, std::string(name)});
      }
    } else {
      compiled.segments.push_back({Segment::kLiteral, std::string(part)});
    }
  }
  for ([[maybe_unused]] const auto& r : routes_) assert(!(r.method == method && r.pattern == pattern));
  std::string prefix;
  for (std::size_t i = 0; i < compiled.segments.size() && i < kIndexDepth; ++i) {
    if (compiled.segments[i].kind != Segment::kLiteral) break;
    if (i > 0) prefix += '/';
    prefix += compiled.segments[i].text;
  }
  by_prefix_[prefix].push_back(routes_.size());
  routes_.push_back({std::move(method), std::move(pattern), std::move(summary), std::move(handler), options});
  compiled_.push_back(std::move(compiled));
}

bool Router::MatchPattern(const Compiled& compiled, std::span<const std::string_view> parts,
                          std::map<std::string, std::string>* params) {
  std::size_t i = 0;
  for (const auto& seg : compiled.segments) {
    if (seg.kind == Segment::kRest) {
      if (params) {
        std::string rest;
        for (std::size_t j = i; j < parts.size(); ++j) {
          if (j > i) rest += '/';
          rest += parts[j];
        }
        (*params)[seg.text] = std::move(rest);
      }
      return true;
    }
    if (i >= parts.size()) return false;
    if (seg.kind == Segment::kLiteral) {
      if (parts[i] != seg.text) return false;
    } else {
      if (parts[i].empty()) return false;
      if (params) (*params)[seg.text] = std::string(parts[i]);
    }
    ++i;
  }
  return i == parts.size();
}

bool Router::MoreSpecific(const Compiled& a, const Compiled& b) {
  std::size_t n = std::min(a.segments.size(), b.segments.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (a.segments[i].kind != b.segments[i].kind) return a.segments[i].kind < b.segments[i].kind;
  }
  return a.segments.size() > b.segments.size();
}

Router::MatchResult Router::Match(std::string_view method, std::string_view path) const {
  MatchResult result;
  auto parts = SplitPath(path);
  const Compiled* best = nullptr;
  bool is_head = method == "HEAD";
  // The routes indexed under the empty prefix and under each of the path's first segments.
  boost::container::small_vector<std::size_t, 16> candidates;
  std::string_view rest = path;
  if (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  auto add_candidates = [&](std::string_view prefix) {
    if (auto it = by_prefix_.find(prefix); it != by_prefix_.end())
      candidates.insert(candidates.end(), it->second.begin(), it->second.end());
  };
  add_candidates("");
  for (std::size_t depth = 1, end = 0; depth <= kIndexDepth && depth <= parts.size(); ++depth) {
    end += parts[depth - 1].size() + (depth > 1 ? 1 : 0);
    if (parts[depth - 1].empty()) break;
    add_candidates(rest.substr(0, end));
  }
  std::sort(candidates.begin(), candidates.end());  // registration order, as without the index
  for (std::size_t i : candidates) {
    const Route& route = routes_[i];
    bool method_ok = route.method == method || (is_head && route.method == "GET");
    if (!method_ok || !MatchPattern(compiled_[i], parts, nullptr)) continue;
    // An explicit HEAD route beats GET-as-HEAD for the same pattern.
    bool better = !best || MoreSpecific(compiled_[i], *best) ||
                  (route.pattern == result.route->pattern && route.method == method);
    if (better) {
      best = &compiled_[i];
      result.route = &route;
    }
  }
  if (result.route) {
    result.outcome = Outcome::kFound;
    result.handler = &result.route->handler;
    MatchPattern(*best, parts, &result.params);
    return result;
  }
  // Not found with this method: which methods would have matched? (the rare path)
  std::set<std::string> allowed;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    if (!MatchPattern(compiled_[i], parts, nullptr)) continue;
    allowed.insert(routes_[i].method);
    if (routes_[i].method == "GET") allowed.insert("HEAD");
  }
  if (!allowed.empty()) {
    result.outcome = Outcome::kMethodNotAllowed;
    for (const auto& m : allowed) {
      if (!result.allow.empty()) result.allow += ", ";
      result.allow += m;
    }
    return result;
  }
  if (fallback_ && (method == "GET" || is_head)) {
    result.outcome = Outcome::kFound;
    result.handler = &fallback_;
    return result;
  }
  return result;
}

}  // namespace paddlecloud::http
