// A job's network and its API relay, with real namespaces.
#include "cluster/local/job_network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "testing/server_process.h"

namespace paddlecloud::cluster::local {
namespace {

using namespace std::chrono_literals;

int Listen(int* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 512) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return -1;
  *port = ntohs(addr.sin_port);
  return fd;
}

// Connects to 127.0.0.1:`port` from inside `network` (from this machine's network when null):
// whether it was accepted.
bool CanConnect(const JobNetwork* network, int port) {
  JobNetworkHandles handles;
  if (network) {
    auto opened = OpenJobNetwork(*network);
    if (!opened) return false;
    handles = *opened;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  pid_t pid = ::fork();
  if (pid == 0) {
    if (network && EnterJobNetwork(handles) != 0) ::_exit(2);
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ::_exit(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 ? 0 : 1);
  }
  handles.Close();
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST(JobNetworkTest, EachJobHasALoopbackOfItsOwn) {
  auto a = CreateJobNetwork();
  if (!a) GTEST_SKIP() << "no network namespaces here: " << a.error().message();
  auto b = CreateJobNetwork();
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_NE(a->net_inode, b->net_inode);
  EXPECT_EQ(a->user_inode != 0, ::geteuid() != 0);  // an unprivileged server owns the namespace through a user namespace
  int port = 0;
  int host = Listen(&port);  // a port of this machine (the platform's, another job's in the old days)
  ASSERT_GE(host, 0);
  auto inside_a = ApiRelay::Start(*a, port, "127.0.0.1", port);  // the same port number inside job a
  ASSERT_TRUE(inside_a) << inside_a.error().message();
  EXPECT_TRUE(CanConnect(&*a, port));   // a pod of job a reaches its own job's port
  EXPECT_FALSE(CanConnect(&*b, port));  // a pod of job b does not reach job a's, nor this machine's
  EXPECT_TRUE(CanConnect(nullptr, port));
  inside_a->reset();
  ::close(host);
  ReleaseJobNetwork(*a);
  ReleaseJobNetwork(*b);
  EXPECT_FALSE(OpenJobNetwork(*a));  // gone with its keeper
  EXPECT_EQ(::kill(a->keeper_pid, 0), -1);
}

TEST(JobNetworkTest, AForgedRecordNeverReachesAnotherProcess) {
  // admitted.json names the keeper by pid; a pid reused by some other process is not the keeper.
  pid_t bystander = ::fork();
  if (bystander == 0) {
    ::pause();
    ::_exit(0);
  }
  JobNetwork forged{.keeper_pid = bystander, .net_inode = 1, .user_inode = 0};
  EXPECT_FALSE(OpenJobNetwork(forged));
  ReleaseJobNetwork(forged);
  EXPECT_EQ(::kill(bystander, 0), 0) << "the bystander was killed";
  ::kill(bystander, SIGKILL);
  ::waitpid(bystander, nullptr, 0);
}

TEST(JobNetworkTest, AJobCannotHoldMoreThanItsShareOfApiConnections) {
  auto network = CreateJobNetwork();
  if (!network) GTEST_SKIP() << "no network namespaces here: " << network.error().message();
  auto handles = OpenJobNetwork(*network);
  ASSERT_TRUE(handles) << handles.error().message();
  if (handles->user_fd >= 0) {
    handles->Close();
    ReleaseJobNetwork(*network);
    GTEST_SKIP() << "the test's pod is a thread, which cannot join a user namespace: run as root";
  }
  int api_port = 0;
  int api = Listen(&api_port);
  ASSERT_GE(api, 0);
  {
    auto relay = ApiRelay::Start(*network, api_port, "127.0.0.1", api_port);
    ASSERT_TRUE(relay) << relay.error().message();
    // A pod of the job opens far more connections than its share, all at once, and holds them.
    constexpr int kTries = ApiRelay::kMaxConnections + 40;
    std::vector<int> clients;
    std::thread([&] {
      ASSERT_EQ(::setns(handles->net_fd, CLONE_NEWNET), 0);  // a thread may join the network alone
      for (int i = 0; i < kTries; ++i) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<std::uint16_t>(api_port));
        ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        clients.push_back(fd);
      }
    }).join();
    // The API server sees exactly the job's share; the rest are closed by the relay.
    std::vector<int> accepted;
    ::fcntl(api, F_SETFL, O_NONBLOCK);
    testing::WaitFor([&] {
      for (int fd; (fd = ::accept4(api, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) accepted.push_back(fd);
      return accepted.size() >= ApiRelay::kMaxConnections;
    }, 10s);
    int closed = 0;
    testing::WaitFor([&] {
      closed = 0;
      for (int fd : clients) {
        pollfd p{fd, POLLIN, 0};
        char c;
        if (::poll(&p, 1, 0) == 1 && ::recv(fd, &c, 1, MSG_PEEK) == 0) ++closed;
      }
      return closed == kTries - static_cast<int>(ApiRelay::kMaxConnections);
    }, 10s);
    for (int fd; (fd = ::accept4(api, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) accepted.push_back(fd);
    EXPECT_EQ(accepted.size(), ApiRelay::kMaxConnections);
    EXPECT_EQ(closed, kTries - static_cast<int>(ApiRelay::kMaxConnections));
    for (int fd : clients) ::close(fd);
    for (int fd : accepted) ::close(fd);
  }
  ::close(api);
  handles->Close();
  ReleaseJobNetwork(*network);
}


// A replica in a job network, at 127.0.0.1:port() there, one thread per connection: it echoes what
// it reads, answers the end of its client's stream with "|eof" and its own end; a connection whose
// first bytes start with 'S' is never read again (a replica that does not read).
class EchoReplica {
 public:
  explicit EchoReplica(const JobNetworkHandles& handles) {
    std::thread([&] {
      if (::setns(handles.net_fd, CLONE_NEWNET) == 0) listen_fd_ = Listen(&port_);
    }).join();
    if (listen_fd_ < 0) return;
    acceptor_ = std::thread([this] {
      for (int fd; (fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) {
        std::lock_guard lock(mu_);
        connections_.push_back(fd);
        workers_.emplace_back([fd] { Serve(fd); });
      }
    });
  }
  ~EchoReplica() {
    if (listen_fd_ < 0) return;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    for (int fd : connections_) ::shutdown(fd, SHUT_RDWR);
    for (auto& w : workers_) w.join();
    for (int fd : connections_) ::close(fd);
    ::close(listen_fd_);
  }
  int port() const { return port_; }
  std::size_t accepted() {
    std::lock_guard lock(mu_);
    return connections_.size();
  }

 private:
  static void Serve(int fd) {
    char buf[4096];
    for (bool first = true;; first = false) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0) return;
      if (n == 0) {
        ::send(fd, "|eof", 4, MSG_NOSIGNAL);
        ::shutdown(fd, SHUT_WR);
        return;
      }
      if (first && buf[0] == 'S') return;  // stalls: the descriptor stays open, unread
      if (::send(fd, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) return;
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::mutex mu_;
  std::vector<int> connections_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

int ConnectTo(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads from `fd` until `size` bytes came, the stream ended or 10 s passed.
std::string Receive(int fd, std::size_t size = SIZE_MAX) {
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (got.size() < size) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) != 1) break;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, std::min(sizeof buf, size - got.size()), 0);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

// Whether the stream of `fd` ends (end of stream or reset) within 10 s.
bool Ends(int fd) {
  pollfd p{fd, POLLIN, 0};
  char c;
  return ::poll(&p, 1, 10000) == 1 && ::recv(fd, &c, 1, 0) <= 0;
}

class InwardRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto network = CreateJobNetwork();
    if (!network) GTEST_SKIP() << "no network namespaces here: " << network.error().message();
    network_ = *network;
    auto handles = OpenJobNetwork(network_);
    ASSERT_TRUE(handles) << handles.error().message();
    handles_ = *handles;
    if (handles_.user_fd >= 0) GTEST_SKIP() << "the test's replica is a thread, which cannot join a user namespace: run as root";
    replica_ = std::make_unique<EchoReplica>(handles_);
    ASSERT_GT(replica_->port(), 0);
    auto relay = ApiRelay::StartInward(network_, replica_->port());
    ASSERT_TRUE(relay) << relay.error().message();
    relay_ = std::move(*relay);
  }
  void TearDown() override {
    relay_.reset();
    replica_.reset();
    handles_.Close();
    if (network_.keeper_pid) ReleaseJobNetwork(network_);
  }

  JobNetwork network_;
  JobNetworkHandles handles_;
  std::unique_ptr<EchoReplica> replica_;
  std::unique_ptr<ApiRelay> relay_;
};

TEST_F(InwardRelayTest, ServesManyConnectionsAtOnce) {
  // The gateway's pool holds a few hundred connections to one replica: far over the outward cap.
  constexpr int kConnections = 200;
  static_assert(kConnections > ApiRelay::kMaxConnections && kConnections <= ApiRelay::kMaxInwardConnections);
  std::vector<int> clients;
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(ConnectTo(relay_->listen_port()));
    ASSERT_GE(clients.back(), 0);
  }
  for (int i = 0; i < kConnections; ++i) {
    std::string message = "request " + std::to_string(i);
    ASSERT_EQ(::send(clients[i], message.data(), message.size(), MSG_NOSIGNAL), static_cast<ssize_t>(message.size()));
  }
  for (int i = 0; i < kConnections; ++i) {
    std::string message = "request " + std::to_string(i);
    EXPECT_EQ(Receive(clients[i], message.size()), message) << "connection " << i;
  }
  EXPECT_EQ(replica_->accepted(), static_cast<std::size_t>(kConnections));
  for (int fd : clients) ::close(fd);
}

TEST_F(InwardRelayTest, PassesAHalfCloseOnAndKeepsTheOtherDirection) {
  int client = ConnectTo(relay_->listen_port());
  ASSERT_GE(client, 0);
  ASSERT_EQ(::send(client, "ping", 4, MSG_NOSIGNAL), 4);
  ASSERT_EQ(::shutdown(client, SHUT_WR), 0);
  // The replica sees the end of the request, and its answer after that still arrives, then its end.
  EXPECT_EQ(Receive(client), "ping|eof");
  ::close(client);
}

TEST_F(InwardRelayTest, EndsItsConnectionsWhenDestroyed) {
  std::vector<int> clients;
  for (int i = 0; i < 10; ++i) {
    clients.push_back(ConnectTo(relay_->listen_port()));
    ASSERT_GE(clients.back(), 0);
    ASSERT_EQ(::send(clients.back(), "hello", 5, MSG_NOSIGNAL), 5);
    ASSERT_EQ(Receive(clients.back(), 5), "hello");
  }
  relay_.reset();
  for (int fd : clients) {
    EXPECT_TRUE(Ends(fd));
    ::close(fd);
  }
}

TEST_F(InwardRelayTest, AReplicaThatDoesNotReadStallsOnlyItsOwnConnection) {
  int stalled = ConnectTo(relay_->listen_port());
  ASSERT_GE(stalled, 0);
  ASSERT_EQ(::send(stalled, "S", 1, MSG_NOSIGNAL), 1);
  ASSERT_TRUE(testing::WaitFor([&] { return replica_->accepted() == 1; }, 10s));
  // Write until every buffer on the way is full: the writes block for good.
  ::fcntl(stalled, F_SETFL, O_NONBLOCK);
  std::string chunk(64 * 1024, 'x');
  std::size_t written = 0;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    ssize_t n = ::send(stalled, chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n > 0) {
      written += static_cast<std::size_t>(n);
      continue;
    }
    ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << std::strerror(errno);
    pollfd p{stalled, POLLOUT, 0};
    if (::poll(&p, 1, 300) == 0) break;  // no room for 300 ms: nothing on the way reads any more
  }
  ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the stalled connection kept taking data";
  EXPECT_GT(written, 64u * 1024);
  // Other connections, an old one and new ones, are served meanwhile.
  int other = ConnectTo(relay_->listen_port());
  ASSERT_GE(other, 0);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(::send(other, "hello", 5, MSG_NOSIGNAL), 5);
    EXPECT_EQ(Receive(other, 5), "hello");
    int fresh = ConnectTo(relay_->listen_port());
    ASSERT_GE(fresh, 0);
    ASSERT_EQ(::send(fresh, "fresh", 5, MSG_NOSIGNAL), 5);
    EXPECT_EQ(Receive(fresh, 5), "fresh");
    ::close(fresh);
  }
  ::close(other);
  ::close(stalled);
}

TEST_F(InwardRelayTest, AConnectionToAPortNobodyListensOnEnds) {
  int unused = 0;
  int probe = Listen(&unused);  // a free port number; nothing listens on it inside the network
  ::close(probe);
  auto relay = ApiRelay::StartInward(network_, unused);
  ASSERT_TRUE(relay) << relay.error().message();
  for (int i = 0; i < 3; ++i) {  // each ends, and the relay goes on accepting
    int client = ConnectTo((*relay)->listen_port());
    ASSERT_GE(client, 0);
    EXPECT_TRUE(Ends(client));
    ::close(client);
  }
}

TEST_F(InwardRelayTest, AConnectionWaitsForAReplicaThatIsSlowToAccept) {
  // A replica whose accept queue is full: the relay's connect is answered only once it accepts
  // (after the SYN is sent again), and what the client sent meanwhile arrives then.
  int slow = -1, port = 0;
  std::thread([&] {
    if (::setns(handles_.net_fd, CLONE_NEWNET) != 0) return;
    slow = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(slow, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(slow, 0) == 0 &&
        ::getsockname(slow, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      port = ntohs(addr.sin_port);
  }).join();
  ASSERT_GT(port, 0);
  auto relay = ApiRelay::StartInward(network_, port);
  ASSERT_TRUE(relay) << relay.error().message();
  std::vector<int> clients;
  for (const char* message : {"one", "two", "six"}) {
    clients.push_back(ConnectTo((*relay)->listen_port()));
    ASSERT_GE(clients.back(), 0);
    ASSERT_EQ(::send(clients.back(), message, 3, MSG_NOSIGNAL), 3);
  }
  std::vector<std::string> received;
  ::fcntl(slow, F_SETFL, O_NONBLOCK);
  ASSERT_TRUE(testing::WaitFor([&] {
    for (int fd; (fd = ::accept4(slow, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) {
      received.push_back(Receive(fd, 3));
      ::close(fd);
    }
    return received.size() == clients.size();
  }, 15s)) << received.size() << " connections arrived";
  std::sort(received.begin(), received.end());
  EXPECT_EQ(received, (std::vector<std::string>{"one", "six", "two"}));
  for (int fd : clients) ::close(fd);
  ::close(slow);
}

TEST_F(InwardRelayTest, SocketsFromTheStockReachTheReplicaWithoutTheRelay) {
  auto sockets = JobNetworkSockets::Start(network_);
  ASSERT_TRUE(sockets) << sockets.error().message();
  std::vector<int> clients;
  for (std::size_t i = 0; i < 2 * JobNetworkSockets::kBatch + 1; ++i) {  // past what one batch holds
    int fd = (*sockets)->Take();
    ASSERT_GE(fd, 0);
    clients.push_back(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(replica_->port()));
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
    ASSERT_EQ(::send(fd, "hi", 2, MSG_NOSIGNAL), 2);
    EXPECT_EQ(Receive(fd, 2), "hi");
  }
  for (int fd : clients) ::close(fd);
  sockets->reset();
  JobNetwork released = std::exchange(network_, {});
  ReleaseJobNetwork(released);
  EXPECT_FALSE(JobNetworkSockets::Start(released));  // a network that is gone has no sockets to give
}

}  // namespace
}  // namespace paddlecloud::cluster::local
