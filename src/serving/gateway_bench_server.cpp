// The inference gateway alone, for benchmarks: listens on 127.0.0.1:0, prints its address on
// stdout and serves one public instance `bench/model` (`/serving/bench/model/<rest>`) whose ready
// replicas are the HOST:PORT arguments, sampling its metrics every second as the platform does,
// until stdin closes.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include "http/server.h"
#include "metrics/metrics.h"
#include "serving/inference_gateway.h"

using namespace paddlecloud;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: gateway_bench_server REPLICA_HOST:PORT...\n");
    return 2;
  }
  serving::InstanceRoute route{"bench", "model", /*is_public=*/true, /*active=*/true, {}};
  for (int i = 1; i < argc; ++i) {
    std::string address = argv[i];
    auto colon = address.rfind(':');
    route.ready.push_back(serving::ReplicaEndpoint{
        i - 1, address.substr(0, colon), static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1)))});
  }
  http::Router router;
  http::HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  options.max_connections_per_client = 0;
  http::HttpServer server(options, router);
  metrics::Registry registry;
  auto gateway = std::make_unique<serving::InferenceGateway>(serving::InferenceGatewayOptions{}, registry);
  gateway->AddRoutes(router);
  gateway->SetRoute(route);
  if (Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  std::cout << server.bound_address() << std::endl;
  std::mutex mutex;
  std::condition_variable stopped_changed;
  bool stopped = false;
  std::thread sampler([&] {
    std::unique_lock lock(mutex);
    while (!stopped_changed.wait_for(lock, std::chrono::seconds(1), [&] { return stopped; })) {
      auto now = std::chrono::system_clock::now().time_since_epoch();
      gateway->Sample(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
    }
  });
  std::thread stop([&] {
    std::string line;
    while (std::getline(std::cin, line)) {
    }
    server.Shutdown();
  });
  server.Run();
  stop.join();
  {
    std::lock_guard lock(mutex);
    stopped = true;
  }
  stopped_changed.notify_all();
  sampler.join();
  gateway.reset();
  return 0;
}
