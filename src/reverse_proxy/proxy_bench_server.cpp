// A bare reverse proxy for bench/proxy_bench.sh: listens on 127.0.0.1:0, prints its address on
// stdout and forwards every request to the upstream HOST:PORT given as the only argument, until
// stdin closes.
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>

#include "http/server.h"
#include "reverse_proxy/reverse_proxy.h"

using namespace paddlecloud;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: proxy_bench_server UPSTREAM_HOST:PORT\n");
    return 2;
  }
  std::string upstream_address = argv[1];
  auto colon = upstream_address.rfind(':');
  reverse_proxy::Upstream upstream{upstream_address.substr(0, colon),
                                   static_cast<std::uint16_t>(std::stoi(upstream_address.substr(colon + 1))), "t"};
  http::Router router;
  http::HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  options.max_connections_per_client = 0;
  http::HttpServer server(options, router);
  auto proxy = std::make_unique<reverse_proxy::ReverseProxy>(reverse_proxy::ProxyOptions{});
  http::RouteOptions route = http::RouteOptions::Streaming();
  route.public_access = true;
  router.Add("GET", "/{rest...}", "proxied", [&](http::Request& r) { return proxy->Forward(r, upstream, r.target); },
             route);
  if (Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  std::cout << server.bound_address() << std::endl;
  std::thread stop([&server] {
    std::string line;
    while (std::getline(std::cin, line)) {
    }
    server.Shutdown();
  });
  server.Run();
  stop.join();
  proxy.reset();
  return 0;
}
