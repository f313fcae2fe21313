// The inward relay's cost: keep-alive HTTP requests to a tiny server inside a job network, sent
// straight from inside the network ("direct"), through ApiRelay::StartInward from this machine's
// network ("relay"), and on sockets made inside the network (JobNetworkSockets) but used from
// this machine's network ("dialed": no relay at all), side by side in one run. Reports, for each path: the p50/p99
// latency of one connection's sequential requests, requests/s and p50 at N connections, and the
// time to open a new connection and get its first answer. Needs root (a thread joins the network).
// Its clients and server are a thread per connection: at 64 connections some 130 threads share the
// cores with the relay's one, which makes its ratio a worst case; bench/relay_bench.sh adds wrk on
// nginx (a few threads, as the gateway and a model server have).
//
// Usage: relay_bench [connections (64)] [seconds per throughput run (5)]
//        relay_bench serve PORT: makes a job network and an inward relay to PORT inside it, prints
//        "<keeper pid> <relay port>" and holds them until its standard input ends (for
//        bench/relay_bench.sh, which runs nginx inside and wrk on both paths)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "cluster/local/job_network.h"

namespace {

using namespace paddlecloud::cluster::local;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kRequest = "GET /v2/health/ready HTTP/1.1\r\nHost: replica\r\n\r\n";
constexpr std::string_view kResponse = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok";

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  return addr;
}

bool SendAll(int fd, std::string_view data) {
  for (std::size_t sent = 0; sent < data.size();) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads exactly `size` bytes (the fixed request or response).
bool ReadExactly(int fd, std::size_t size) {
  char buf[512];
  for (std::size_t got = 0; got < size;) {
    ssize_t n = ::recv(fd, buf, std::min(sizeof buf, size - got), 0);
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

// A socket connected to 127.0.0.1:`port`: `fd` (a fresh socket, or -1: make one here), or -1.
int Connect(int port, int fd = -1) {
  if (fd < 0) fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr = Loopback(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// The replica: one thread per connection, answering each fixed request with the fixed response.
class Server {
 public:
  explicit Server(const JobNetworkHandles& handles) {
    std::thread([&] {
      if (::setns(handles.net_fd, CLONE_NEWNET) != 0) return;
      listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr = Loopback(0);
      socklen_t len = sizeof addr;
      ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      ::listen(listen_fd_, 4096);
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
      port_ = ntohs(addr.sin_port);
    }).join();
    acceptor_ = std::thread([this] {
      for (int fd; (fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) {
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        std::lock_guard lock(mu_);
        connections_.push_back(fd);
        workers_.emplace_back([fd] {
          while (ReadExactly(fd, kRequest.size()) && SendAll(fd, kResponse)) {
          }
          ::shutdown(fd, SHUT_WR);  // the client's end is this one's (closed with the server)
        });
      }
    });
  }
  ~Server() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    for (int fd : connections_) ::shutdown(fd, SHUT_RDWR);
    for (auto& w : workers_) w.join();
    for (int fd : connections_) ::close(fd);
    ::close(listen_fd_);
  }
  int port() const { return port_; }

 private:
  int listen_fd_ = -1;
  int port_ = 0;
  std::mutex mu_;
  std::vector<int> connections_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

// Runs `body` on `threads` threads, each first joining the job network when `inside`.
template <typename Body>
void RunClients(int threads, const JobNetworkHandles* inside, Body body) {
  std::vector<std::thread> clients;
  for (int i = 0; i < threads; ++i)
    clients.emplace_back([&, i] {
      if (inside && ::setns(inside->net_fd, CLONE_NEWNET) != 0) return;
      body(i);
    });
  for (auto& c : clients) c.join();
}

double Percentile(std::vector<double>& micros, double p) {
  if (micros.empty()) return 0;
  std::size_t k = std::min(micros.size() - 1, static_cast<std::size_t>(p * static_cast<double>(micros.size())));
  std::nth_element(micros.begin(), micros.begin() + static_cast<std::ptrdiff_t>(k), micros.end());
  return micros[k];
}

double MicrosSince(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

struct Figures {
  double seq_p50 = 0, seq_p99 = 0, rps = 0, load_p50 = 0, load_p99 = 0, open_p50 = 0;
  long failures = 0;
};

// How a client opens a connection to the replica.
using Opener = std::function<int()>;

Figures Measure(const JobNetworkHandles* inside, const Opener& open, int connections, double seconds) {
  Figures f;
  std::atomic<long> failures{0};
  // One connection, sequential requests.
  std::vector<double> seq;
  RunClients(1, inside, [&](int) {
    int fd = open();
    for (int i = 0; i < 20000 && fd >= 0; ++i) {
      auto start = Clock::now();
      if (!SendAll(fd, kRequest) || !ReadExactly(fd, kResponse.size())) {
        ++failures;
        break;
      }
      if (i >= 1000) seq.push_back(MicrosSince(start));  // after a warm-up
    }
    if (fd >= 0) ::close(fd);
  });
  f.seq_p50 = Percentile(seq, 0.5);
  f.seq_p99 = Percentile(seq, 0.99);
  // `connections` keep-alive connections for `seconds`.
  std::mutex mu;
  std::vector<double> load;
  long requests = 0;
  auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  RunClients(connections, inside, [&](int) {
    std::vector<double> mine;
    int fd = open();
    if (fd < 0) ++failures;
    while (fd >= 0 && Clock::now() < deadline) {
      auto start = Clock::now();
      if (!SendAll(fd, kRequest) || !ReadExactly(fd, kResponse.size())) {
        ++failures;
        break;
      }
      mine.push_back(MicrosSince(start));
    }
    if (fd >= 0) ::close(fd);
    std::lock_guard lock(mu);
    requests += static_cast<long>(mine.size());
    load.insert(load.end(), mine.begin(), mine.end());
  });
  f.rps = static_cast<double>(requests) / seconds;
  f.load_p50 = Percentile(load, 0.5);
  f.load_p99 = Percentile(load, 0.99);
  // New connections, one after another: open, one request, close.
  std::vector<double> opens;
  RunClients(1, inside, [&](int) {
    for (int i = 0; i < 500; ++i) {
      auto start = Clock::now();
      int fd = open();
      if (fd < 0 || !SendAll(fd, kRequest) || !ReadExactly(fd, kResponse.size())) ++failures;
      opens.push_back(MicrosSince(start));
      if (fd >= 0) ::close(fd);
    }
  });
  f.open_p50 = Percentile(opens, 0.5);
  f.failures = failures;
  return f;
}

void Print(const char* path, const Figures& f) {
  std::printf("%-7s 1 conn p50 %7.1f us  p99 %7.1f us | load %9.0f req/s  p50 %7.1f us  p99 %8.1f us | new conn p50 %7.1f us | failed %ld\n",
              path, f.seq_p50, f.seq_p99, f.rps, f.load_p50, f.load_p99, f.open_p50, f.failures);
}

}  // namespace

int Serve(int port) {
  auto network = CreateJobNetwork();
  if (!network) {
    std::printf("relay_bench: %s\n", network.error().message().c_str());
    return 1;
  }
  auto relay = ApiRelay::StartInward(*network, port);
  if (relay) {
    std::printf("%d %d\n", network->keeper_pid, (*relay)->listen_port());
    std::fflush(stdout);
    for (char c; ::read(0, &c, 1) > 0;) {
    }
    relay->reset();
  } else {
    std::printf("relay_bench: %s\n", relay.error().message().c_str());
  }
  ReleaseJobNetwork(*network);
  return relay ? 0 : 1;
}

int main(int argc, char** argv) {
  if (argc == 3 && std::string_view(argv[1]) == "serve") return Serve(std::atoi(argv[2]));
  int connections = argc > 1 ? std::atoi(argv[1]) : 64;
  double seconds = argc > 2 ? std::atof(argv[2]) : 5;
  auto network = CreateJobNetwork();
  if (!network) {
    std::printf("relay_bench: skipped (no job networks here: %s)\n", network.error().message().c_str());
    return 0;
  }
  auto handles = OpenJobNetwork(*network);
  if (!handles || handles->user_fd >= 0) {
    std::printf("relay_bench: skipped (needs root: a thread joins the job's network)\n");
    if (handles) handles->Close();
    ReleaseJobNetwork(*network);
    return 0;
  }
  int status = 0;
  {
    Server server(*handles);
    auto relay = ApiRelay::StartInward(*network, server.port());
    if (!relay) {
      std::printf("relay_bench: %s\n", relay.error().message().c_str());
      status = 1;
    } else {
      auto dialer = JobNetworkSockets::Start(*network);  // what the gateway could do: no relay
      std::printf("Inward relay vs direct: keep-alive HTTP requests, %d connections for %.0f s\n", connections, seconds);
      for (int round = 0; round < 2; ++round) {  // twice: the machine is shared
        Figures direct = Measure(&*handles, [&] { return Connect(server.port()); }, connections, seconds);
        Figures relayed = Measure(nullptr, [&] { return Connect((*relay)->listen_port()); }, connections, seconds);
        Figures dialed = Measure(nullptr, [&] {
          int fd = dialer ? (*dialer)->Take() : -1;
          return fd < 0 ? -1 : Connect(server.port(), fd);
        }, connections, seconds);
        Print("direct", direct);
        Print("relay", relayed);
        Print("dialed", dialed);
        std::printf("relay/direct: %.2fx req/s at %d connections; +%.1f us p50 for one connection, +%.1f us at %d\n",
                    relayed.rps / direct.rps, connections, relayed.seq_p50 - direct.seq_p50,
                    relayed.load_p50 - direct.load_p50, connections);
        std::printf("dialed/direct: %.2fx req/s at %d connections; +%.1f us p50 for one connection, +%.1f us at %d\n",
                    dialed.rps / direct.rps, connections, dialed.seq_p50 - direct.seq_p50,
                    dialed.load_p50 - direct.load_p50, connections);
        if (direct.failures || relayed.failures || dialed.failures) status = 1;
      }
    }
  }
  handles->Close();
  ReleaseJobNetwork(*network);
  return status;
}
