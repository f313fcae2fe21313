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

#include <atomic>
#include <chrono>
#include <thread>
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

}  // namespace
}  // namespace paddlecloud::cluster::local
