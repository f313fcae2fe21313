#include "client/proxy.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include <boost/url/parse.hpp>

#include "common/base64.h"

namespace paddlecloud::client {
namespace {

std::string Lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string Trim(const std::string& text) {
  auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// A variable read as urllib's getproxies() does: the lower-case one wins, also when it is empty.
std::string ProxyVariable(const std::map<std::string, std::string>& env, const std::string& lower,
                          const std::string& upper) {
  if (auto it = env.find(lower); it != env.end()) return it->second;
  if (upper.empty()) return "";
  auto it = env.find(upper);
  return it == env.end() ? "" : it->second;
}

}  // namespace

ProxyEnvironment ProxyEnvironmentFrom(const std::map<std::string, std::string>& env) {
  bool cgi = env.count("REQUEST_METHOD") > 0;
  return ProxyEnvironment{.http_proxy = ProxyVariable(env, "http_proxy", cgi ? "" : "HTTP_PROXY"),
                          .https_proxy = ProxyVariable(env, "https_proxy", "HTTPS_PROXY"),
                          .no_proxy = ProxyVariable(env, "no_proxy", "NO_PROXY")};
}

bool BypassesProxy(const std::string& no_proxy, const std::string& host, const std::string& port) {
  if (no_proxy == "*") return true;
  std::string bare = Lower(host);
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
  std::vector<std::string> names = {bare, "[" + bare + "]"};
  std::size_t start = 0;
  while (start <= no_proxy.size()) {
    std::size_t comma = std::min(no_proxy.find(',', start), no_proxy.size());
    std::string entry = Lower(Trim(no_proxy.substr(start, comma - start)));
    start = comma + 1;
    entry.erase(0, entry.find_first_not_of('.'));
    if (entry.empty()) continue;
    for (const auto& name : names) {
      if (name == entry || (!port.empty() && name + ":" + port == entry)) return true;
      if (name.size() > entry.size() && name.ends_with("." + entry)) return true;
    }
  }
  return false;
}

Result<std::optional<ProxyRoute>> ProxyFor(const ProxyEnvironment& env, bool tls, const std::string& host,
                                           const std::string& port) {
  const std::string& text = tls ? env.https_proxy : env.http_proxy;
  const char* variable = tls ? "https_proxy" : "http_proxy";
  if (text.empty() || BypassesProxy(env.no_proxy, host, port)) return std::optional<ProxyRoute>();
  auto bad = [&](const std::string& why) {
    return Err(Status::InvalidArgument(std::string("$") + variable + " ('" + text + "') " + why, variable));
  };
  std::string with_scheme = text.find("://") == std::string::npos ? "http://" + text : text;
  auto parsed = boost::urls::parse_uri(with_scheme);
  if (!parsed) return bad("is not a URL; expected http://[USER:PASSWORD@]HOST[:PORT]");
  if (Lower(std::string(parsed->scheme())) != "http") return bad("is not an http:// proxy (the only kind supported)");
  if (parsed->host_address().empty()) return bad("names no host");
  ProxyRoute route;
  route.host = parsed->host_address();
  route.port = parsed->has_port() && !parsed->port().empty() ? std::string(parsed->port()) : "80";
  route.url = "http://" + std::string(parsed->encoded_host()) + ":" + route.port;
  if (parsed->has_userinfo())
    route.authorization = "Basic " + Base64Encode(std::string(parsed->user()) + ":" + std::string(parsed->password()));
  return std::optional<ProxyRoute>(std::move(route));
}

}  // namespace paddlecloud::client
