// Which HTTP proxy a request of the CLI goes through: the rule of the Python SDK (urllib's, from the
// environment), so that the CLI and the SDK behave the same behind a proxy. docs/proxy.md states it.
//
//  - The proxy of an http:// server is $http_proxy, of an https:// server $https_proxy; each is
//    also read in upper case, the lower-case one winning when both are set (an empty lower-case
//    one unsets it). $HTTP_PROXY is ignored when $REQUEST_METHOD is set (a CGI script: the web
//    server may have put a client's "Proxy:" header there). There is no default proxy and no
//    ALL_PROXY.
//  - $no_proxy (or $NO_PROXY) lists hosts that are reached directly, comma-separated: "*" alone
//    is every host; an entry matches the URL's host exactly, the URL's "host:port" exactly (the
//    port as written in the server URL), or any host below it as a domain (a leading "." is
//    ignored: "example.com" and ".example.com" both match "api.example.com"). Case does not
//    matter. Loopback addresses are not special: list "127.0.0.1" or "localhost" to bypass.
//  - A proxy URL is http://[user:password@]host[:port] (no scheme means http://; port 80 when
//    none). User and password (percent-decoded) are sent as "Proxy-Authorization: Basic ...".
//  - Through a proxy, an http:// request is sent to the proxy in absolute form
//    ("GET http://server/api/v1/me HTTP/1.1"); an https:// connection is a CONNECT tunnel to the
//    server, inside which TLS is spoken with the server (SNI and certificate checks name the
//    server, not the proxy).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "common/status.h"

namespace paddlecloud::client {

// The proxy variables of an environment as the rule above reads them ("" when unset).
struct ProxyEnvironment {
  std::string http_proxy;
  std::string https_proxy;
  std::string no_proxy;
};

ProxyEnvironment ProxyEnvironmentFrom(const std::map<std::string, std::string>& env);

struct ProxyRoute {
  std::string url;            // as shown in messages: "http://host:port" (never the credentials)
  std::string host;           // to connect to
  std::string port;
  std::string authorization;  // the Proxy-Authorization value; "" when the URL has no user
};

// Whether `no_proxy` exempts the server whose URL names `host` (brackets of an IPv6 address
// optional) and `port` ("" when the URL names none).
bool BypassesProxy(const std::string& no_proxy, const std::string& host, const std::string& port);

// The proxy for a server URL with `tls`, `host` and `port` as written (port "" when the URL names
// none); nullopt for a direct connection. InvalidArgument naming the variable when its URL is not
// an http:// proxy URL.
Result<std::optional<ProxyRoute>> ProxyFor(const ProxyEnvironment& env, bool tls, const std::string& host,
                                           const std::string& port);

}  // namespace paddlecloud::client
