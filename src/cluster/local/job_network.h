// Each job's own network on the local backend: a network namespace with nothing but a loopback
// interface, shared by the job's pods and by no other job, so pods reach each other at
// 127.0.0.1:<port> (the parameter-server endpoints) and nothing else of this machine; another
// job's ports are in another namespace. Making one needs root (CAP_SYS_ADMIN).
//
// The namespace is kept by a bind mount of its nsfs file at `path` (as `ip netns add` does), so a
// supervisor started later (or by a restarted server) joins it with setns.
//
// The platform's API reaches into the namespace through an ApiRelay: a listening socket made
// inside it at 127.0.0.1:<port>, whose connections are forwarded to the server in this
// machine's own namespace. The relay lives in the server; while no server runs, pods cannot reach
// the API (which is down anyway).
#pragma once

#include <atomic>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"

namespace paddlecloud::cluster::local {

// Creates the namespace (loopback up) and pins it at `path` (a new file). Idempotent: Ok when
// `path` already holds one.
Status CreateNetworkNamespace(const std::string& path);
// Unpins and removes `path`; the namespace ends with its last process.
void RemoveNetworkNamespace(const std::string& path);
// Empty when this process can make network namespaces; otherwise why not.
std::string ProbeNetworkNamespaces(const std::string& scratch_dir);

class ApiRelay {
 public:
  // A job's pods hold at most this many API connections at once; more are closed on arrival, so
  // one job cannot use up the server's cap for local clients, which every job's relay shares.
  static constexpr std::size_t kMaxConnections = 64;

  // Listens at 127.0.0.1:`port` inside the namespace pinned at `netns_path` and forwards each
  // connection to `target_host`:`target_port` (an IPv4 address) from this process's namespace.
  static Result<std::unique_ptr<ApiRelay>> Start(const std::string& netns_path, int port, const std::string& target_host,
                                                 int target_port);
  ~ApiRelay();  // closes the listener and every forwarded connection

 private:
  struct Connection {
    int client = -1;
    int upstream = -1;
    std::atomic<bool> done{false};
    std::thread thread;
  };
  ApiRelay(int listen_fd, std::string target_host, int target_port);
  void AcceptLoop();
  void Forward(Connection& c);

  int listen_fd_;
  std::string target_host_;
  int target_port_;
  std::mutex mu_;  // guards connections_ and stopping_
  std::list<Connection> connections_;
  bool stopping_ = false;
  std::thread acceptor_;
};

}  // namespace paddlecloud::cluster::local
