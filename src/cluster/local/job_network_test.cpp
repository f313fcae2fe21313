// A job's network and its API relay, with real namespaces (root only).
#include "cluster/local/job_network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
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

TEST(JobNetworkTest, AJobCannotHoldMoreThanItsShareOfApiConnections) {
  testing::TempDir dir;
  std::string netns = dir.path() + "/netns";
  if (Status made = CreateNetworkNamespace(netns); !made.ok()) GTEST_SKIP() << "no network namespaces: " << made.message();
  int api_port = 0;
  int api = Listen(&api_port);
  ASSERT_GE(api, 0);
  {
    auto relay = ApiRelay::Start(netns, api_port, "127.0.0.1", api_port);
    ASSERT_TRUE(relay) << relay.error().message();
    // A pod of the job opens far more connections than its share, all at once, and holds them.
    constexpr int kTries = ApiRelay::kMaxConnections + 40;
    std::vector<int> clients;
    std::thread([&] {
      int ns = ::open(netns.c_str(), O_RDONLY | O_CLOEXEC);
      ASSERT_EQ(::setns(ns, CLONE_NEWNET), 0);
      ::close(ns);
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
  RemoveNetworkNamespace(netns);
}

}  // namespace
}  // namespace paddlecloud::cluster::local
