// Each job's own network on the local backend: a network namespace with nothing but a loopback
// interface, shared by the job's pods and by no other job, so pods reach each other at
// 127.0.0.1:<port> (the parameter-server endpoints) and nothing else of this machine; another
// job's ports are in another namespace.
//
// The namespace is held by a keeper process (as a Kubernetes pod's is held by its pause
// container): a `sleep infinity` in its own session, started by CreateJobNetwork, which outlives
// a server restart and goes with ReleaseJobNetwork. A root server makes a network namespace only;
// an unprivileged one makes a user namespace first (mapping just its own uid and gid), which owns
// the network namespace; pods join both, then bubblewrap nests the pod's own user namespace.
// A JobNetwork names the keeper and the namespaces' inodes, so a reused pid is never mistaken for
// it.
//
// The platform's API reaches into the namespace through an ApiRelay: a listening socket made
// inside it at 127.0.0.1:<port>, whose connections are forwarded to the server in this
// machine's own namespace. The relay lives in the server; while no server runs, pods cannot reach
// the API (which is down anyway).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cluster/cluster_backend.h"
#include "cluster/local/tcp_relay.h"
#include "common/status.h"

namespace paddlecloud::cluster::local {

struct JobNetwork {
  int keeper_pid = 0;
  std::uint64_t net_inode = 0;   // the network namespace
  std::uint64_t user_inode = 0;  // the user namespace that owns it; 0: this machine's (root server)
};

// Starts a keeper holding a new network namespace (loopback up) and, unless this process is root,
// the user namespace owning it.
Result<JobNetwork> CreateJobNetwork();
// Stops the keeper, if `network` still names a live one; the namespace ends with its last process.
void ReleaseJobNetwork(const JobNetwork& network);
// Empty when this process can make job networks; otherwise why not.
std::string ProbeJobNetworks();

// The job network's traffic, summed over its interfaces (the keeper's /proc/<pid>/net/dev, read once
// the keeper is checked against the namespace's inode). NotFound when the keeper is gone.
Result<NetworkUsage> ReadNetworkUsage(const JobNetwork& network);
// Descriptors of a job network's namespaces, checked against its inodes, for a process to join.
struct JobNetworkHandles {
  int user_fd = -1;  // -1: no user namespace to join
  int net_fd = -1;
  void Close();
};
Result<JobNetworkHandles> OpenJobNetwork(const JobNetwork& network);
// Moves the calling process into the namespaces; it must have one thread (a forked child; only
// async-signal-safe calls). Returns errno on failure, 0 on success.
int EnterJobNetwork(const JobNetworkHandles& handles);

// `count` TCP sockets (not connected, not bound) of `network`'s namespace, made by one child that
// joins it: whatever this process then binds or connects them to is in that network.
Result<std::vector<int>> SocketsInJobNetwork(const JobNetwork& network, std::size_t count);
Result<int> SocketInJobNetwork(const JobNetwork& network);

// A stock of sockets of a job network, made ahead in batches (one child process each) by a thread
// of its own that refills it when it runs low: taking one does not wait for a child process.
// The inward relay connects with them; a client of this process may as well (connect one to
// 127.0.0.1:<port>) to reach a replica without the relay's hop.
class JobNetworkSockets {
 public:
  static constexpr std::size_t kBatch = 32;
  static constexpr std::size_t kLow = 16;  // refilled below this

  static Result<std::shared_ptr<JobNetworkSockets>> Start(const JobNetwork& network);
  ~JobNetworkSockets();  // closes the sockets not taken
  // A socket of the network (the caller's to close), or -1 when none can be made (it is gone).
  int Take();

 private:
  JobNetworkSockets(const JobNetwork& network, std::vector<int> fds);
  void Refill();

  JobNetwork network_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int> fds_;
  bool stopping_ = false;
  bool refill_failed_ = false;  // the refiller waits for a Take that succeeds
  std::thread refiller_;
};

// Forwards connections across the boundary of a job network (a TcpRelay: one epoll thread).
class ApiRelay {
 public:
  // An outward relay holds at most this many connections at once; more are closed on arrival, so
  // one job cannot use up the server's cap for local clients, which every job's relay shares.
  static constexpr std::size_t kMaxConnections = 64;
  // Inward connections come only from the platform's own gateway and proxy, which pool them (a
  // few hundred per replica under load), never from the job: this cap only bounds descriptors.
  static constexpr std::size_t kMaxInwardConnections = 1024;

  // Outward (a job's pods to the platform's API): listens at 127.0.0.1:`port` inside `network` and
  // forwards each connection to `target_host`:`target_port` (an IPv4 address) from this process's
  // namespace.
  static Result<std::unique_ptr<ApiRelay>> Start(const JobNetwork& network, int port, const std::string& target_host,
                                                 int target_port);
  // Inward (the platform to a service replica): listens at 127.0.0.1 on a free port of this
  // process's namespace (listen_port()) and forwards each connection to 127.0.0.1:`port` inside
  // `network`. The sockets inside are made ahead in batches, off the path of a new connection.
  static Result<std::unique_ptr<ApiRelay>> StartInward(const JobNetwork& network, int port);
  ~ApiRelay();  // closes the listener and every forwarded connection
  int listen_port() const;

 private:
  explicit ApiRelay(std::unique_ptr<TcpRelay> relay);
  std::unique_ptr<TcpRelay> relay_;
};

}  // namespace paddlecloud::cluster::local
