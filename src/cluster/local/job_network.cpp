#include "cluster/local/job_network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <thread>

namespace paddlecloud::cluster::local {

namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// Runs `work` on a thread of its own: unshare and setns change only the calling thread's
// network namespace, and that thread ends with the work.
Status OnOwnThread(const std::function<Status()>& work) {
  Status result;
  std::thread([&] { result = work(); }).join();
  return result;
}

Status BringLoopbackUp() {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Status::Internal(Errno("socket"));
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ::ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  ok = ok && ::ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
  int err = errno;
  ::close(s);
  return ok ? Status::Ok() : Status::Internal("bring up lo: " + std::string(std::strerror(err)));
}

}  // namespace

Status CreateNetworkNamespace(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
      struct stat ns;
      bool pinned = ::fstat(fd, &ns) == 0 && ns.st_dev != st.st_dev;  // an nsfs file covers it
      ::close(fd);
      if (pinned) return Status::Ok();
    }
    ::unlink(path.c_str());
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::Internal(Errno("create " + path));
  ::close(fd);
  Status made = OnOwnThread([&]() -> Status {
    if (::unshare(CLONE_NEWNET) != 0) return Status::Unavailable(Errno("unshare(CLONE_NEWNET)"));
    PC_RETURN_IF_ERROR(BringLoopbackUp());
    if (::mount("/proc/thread-self/ns/net", path.c_str(), nullptr, MS_BIND, nullptr) != 0)
      return Status::Internal(Errno("mount the namespace at " + path));
    return Status::Ok();
  });
  if (!made.ok()) ::unlink(path.c_str());
  return made;
}

void RemoveNetworkNamespace(const std::string& path) {
  ::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
  ::unlink(path.c_str());
}

std::string ProbeNetworkNamespaces(const std::string& scratch_dir) {
  std::string path = scratch_dir + "/netns-probe-" + std::to_string(::getpid());
  Status s = CreateNetworkNamespace(path);
  RemoveNetworkNamespace(path);
  return s.ok() ? "" : s.message();
}

Result<std::unique_ptr<ApiRelay>> ApiRelay::Start(const std::string& netns_path, int port,
                                                  const std::string& target_host, int target_port) {
  int listen_fd = -1;
  Status made = OnOwnThread([&]() -> Status {
    int ns = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (ns < 0) return Status::Unavailable(Errno("open " + netns_path));
    int joined = ::setns(ns, CLONE_NEWNET);
    ::close(ns);
    if (joined != 0) return Status::Unavailable(Errno("setns " + netns_path));
    listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd < 0) return Status::Internal(Errno("socket"));
    int one = 1;
    ::setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::bind(listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd, 128) != 0)
      return Status::Internal(Errno("listen on 127.0.0.1:" + std::to_string(port) + " in " + netns_path));
    return Status::Ok();
  });
  if (!made.ok()) {
    if (listen_fd >= 0) ::close(listen_fd);
    return Err(made);
  }
  return std::unique_ptr<ApiRelay>(new ApiRelay(listen_fd, target_host, target_port));
}

ApiRelay::ApiRelay(int listen_fd, std::string target_host, int target_port)
    : listen_fd_(listen_fd), target_host_(std::move(target_host)), target_port_(target_port) {
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

ApiRelay::~ApiRelay() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    for (auto& c : connections_) {
      ::shutdown(c.client, SHUT_RDWR);
      if (c.upstream >= 0) ::shutdown(c.upstream, SHUT_RDWR);
    }
  }
  acceptor_.join();
  for (auto& c : connections_) c.thread.join();
  ::close(listen_fd_);
}

void ApiRelay::AcceptLoop() {
  while (true) {
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    std::lock_guard lock(mu_);
    if (stopping_) {
      if (client >= 0) ::close(client);
      return;
    }
    if (client < 0) {
      if (errno == EMFILE || errno == ENFILE) std::this_thread::sleep_for(std::chrono::milliseconds(50));  // no spin
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE) continue;
      return;
    }
    connections_.remove_if([](Connection& c) {
      if (!c.done) return false;
      c.thread.join();
      return true;
    });
    if (connections_.size() >= kMaxConnections) {
      ::close(client);
      continue;
    }
    Connection& c = connections_.emplace_back();
    c.client = client;
    c.thread = std::thread([this, &c] { Forward(c); });
  }
}

void ApiRelay::Forward(Connection& c) {
  int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(target_port_));
  bool connected = upstream >= 0 && ::inet_pton(AF_INET, target_host_.c_str(), &addr.sin_addr) == 1 &&
                   ::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  {
    std::lock_guard lock(mu_);
    c.upstream = upstream;
    if (stopping_) connected = false;
  }
  // Each direction: bytes read from one side are written whole to the other before reading more.
  // A closed side half-closes the other; the connection ends when both directions have.
  if (connected) {
    int fds[2] = {c.client, upstream};
    bool open[2] = {true, true};
    char buf[64 * 1024];
    while (open[0] || open[1]) {
      pollfd p[2] = {{fds[0], static_cast<short>(open[0] ? POLLIN : 0), 0},
                     {fds[1], static_cast<short>(open[1] ? POLLIN : 0), 0}};
      if (::poll(p, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      bool failed = false;
      for (int from = 0; from < 2 && !failed; ++from) {
        if (!open[from] || !(p[from].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = ::read(fds[from], buf, sizeof buf);
        if (n <= 0) {
          open[from] = false;
          ::shutdown(fds[1 - from], SHUT_WR);
          continue;
        }
        for (ssize_t sent = 0; sent < n;) {
          ssize_t w = ::send(fds[1 - from], buf + sent, static_cast<std::size_t>(n - sent), MSG_NOSIGNAL);
          if (w <= 0) {
            failed = true;
            break;
          }
          sent += w;
        }
      }
      if (failed) break;
    }
  }
  std::lock_guard lock(mu_);
  ::close(c.client);
  if (upstream >= 0) ::close(upstream);
  c.client = -1;
  c.upstream = -1;
  c.done = true;
}

}  // namespace paddlecloud::cluster::local
