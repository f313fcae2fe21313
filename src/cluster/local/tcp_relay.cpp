#include "cluster/local/tcp_relay.h"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>

namespace paddlecloud::cluster::local {

namespace {

constexpr std::size_t kChunk = 64 * 1024;  // one read; also the most a direction holds back
constexpr int kAcceptPauseMs = 50;         // out of descriptors: rest, rather than spin
constexpr int kEventsPerWait = 128;
constexpr std::uint32_t kIn = EPOLLIN, kOut = EPOLLOUT;

bool WouldBlock() { return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR; }

void SetNoDelay(int fd) {  // a relay passes on what it reads at once, as the sender wrote it
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

struct TcpRelay::Connection {
  struct Side {
    Connection* owner = nullptr;
    int index = 0;
    int fd = -1;
    std::uint32_t events = 0;  // registered with epoll; 0: not registered
  };
  Side sides[2];  // 0: the accepted client; 1: upstream
  bool connecting = false;
  bool reading[2] = {true, true};       // side i has not yet ended its stream
  bool write_shut[2] = {false, false};  // side i has been sent the other's end of stream
  std::string pending[2];               // read from side i, not yet written to side 1 - i
  bool closed = false;
};

Result<std::unique_ptr<TcpRelay>> TcpRelay::Start(int listen_fd, const sockaddr_in& upstream, SocketMaker make_socket,
                                                  std::size_t max_connections) {
  int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  int wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int flags = ::fcntl(listen_fd, F_GETFL);
  if (epoll_fd < 0 || wake_fd < 0 || flags < 0 || ::fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    Status failed = Status::Internal(std::string("start a relay: ") + std::strerror(errno));
    for (int fd : {listen_fd, epoll_fd, wake_fd})
      if (fd >= 0) ::close(fd);
    return Err(failed);
  }
  std::unique_ptr<TcpRelay> relay(
      new TcpRelay(listen_fd, epoll_fd, wake_fd, upstream, std::move(make_socket), max_connections));
  epoll_event listen_event{EPOLLIN, {.ptr = &relay->listen_fd_}};
  epoll_event wake_event{EPOLLIN, {.ptr = &relay->wake_fd_}};
  if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &listen_event) != 0 ||
      ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &wake_event) != 0)
    return Err(Status::Internal(std::string("start a relay: epoll_ctl: ") + std::strerror(errno)));
  relay->thread_ = std::thread([r = relay.get()] { r->Run(); });
  return relay;
}

TcpRelay::TcpRelay(int listen_fd, int epoll_fd, int wake_fd, const sockaddr_in& upstream, SocketMaker make_socket,
                   std::size_t max_connections)
    : listen_fd_(listen_fd),
      epoll_fd_(epoll_fd),
      wake_fd_(wake_fd),
      upstream_(upstream),
      make_socket_(std::move(make_socket)),
      max_connections_(max_connections),
      buffer_(new char[kChunk]) {}

TcpRelay::~TcpRelay() {
  if (thread_.joinable()) {
    std::uint64_t one = 1;
    while (::write(wake_fd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
    thread_.join();
  }
  ::close(listen_fd_);
  ::close(epoll_fd_);
  ::close(wake_fd_);
}

int TcpRelay::listen_port() const {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  return ntohs(addr.sin_port);
}

void TcpRelay::Run() {
  using Clock = std::chrono::steady_clock;
  epoll_event events[kEventsPerWait];
  Clock::time_point resume_accepting;
  bool accept_paused = false;  // out of descriptors: the listener rests a moment
  for (bool stopping = false; !stopping;) {
    int timeout = -1;
    if (accept_paused) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(resume_accepting - Clock::now()).count();
      timeout = static_cast<int>(std::max<decltype(left)>(left, 0));
    }
    int n = ::epoll_wait(epoll_fd_, events, kEventsPerWait, timeout);
    if (n < 0 && errno != EINTR) break;
    if (accept_paused && Clock::now() >= resume_accepting) {
      epoll_event listen_event{EPOLLIN, {.ptr = &listen_fd_}};
      accept_paused = ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &listen_event) != 0;
    }
    for (int i = 0; i < n; ++i) {
      void* tag = events[i].data.ptr;
      if (tag == &wake_fd_) {
        stopping = true;
      } else if (tag == &listen_fd_) {
        if (!AcceptAll()) {
          epoll_event rest{0, {.ptr = &listen_fd_}};
          ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &rest);
          accept_paused = true;
          resume_accepting = Clock::now() + std::chrono::milliseconds(kAcceptPauseMs);
        }
      } else {
        auto* side = static_cast<Connection::Side*>(tag);
        if (!side->owner->closed) OnEvent(*side->owner, side->index);
      }
    }
    // Only now: an event of this round may still have named a connection closed in it.
    if (closed_since_sweep_) connections_.remove_if([](const Connection& c) { return c.closed; });
    closed_since_sweep_ = false;
  }
  for (auto& c : connections_)
    if (!c.closed) Close(c);
  connections_.clear();
}

bool TcpRelay::AcceptAll() {
  while (true) {
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client >= 0) {
      Open(client);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return true;
    } else if (errno != EINTR && errno != ECONNABORTED) {
      return false;  // EMFILE and the like
    }
  }
}

void TcpRelay::Open(int client) {
  int upstream = open_ < max_connections_ ? make_socket_() : -1;
  if (upstream < 0) {
    ::close(client);
    return;
  }
  int flags = ::fcntl(upstream, F_GETFL);
  bool connecting = false;
  if (flags < 0 || ::fcntl(upstream, F_SETFL, flags | O_NONBLOCK) != 0 ||
      (::connect(upstream, reinterpret_cast<const sockaddr*>(&upstream_), sizeof upstream_) != 0 &&
       !(connecting = errno == EINPROGRESS))) {
    ::close(client);
    ::close(upstream);
    return;
  }
  SetNoDelay(client);
  SetNoDelay(upstream);
  Connection& c = connections_.emplace_back();
  c.sides[0] = {.owner = &c, .index = 0, .fd = client};
  c.sides[1] = {.owner = &c, .index = 1, .fd = upstream};
  c.connecting = connecting;
  ++open_;
  UpdateInterest(c);
}

void TcpRelay::OnEvent(Connection& c, int side) {
  if (c.connecting) {  // only upstream is watched meanwhile: its connect has finished
    int error = 0;
    socklen_t len = sizeof error;
    if (::getsockopt(c.sides[1].fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) return Close(c);
    c.connecting = false;
  } else {
    if (c.reading[side] && c.pending[side].empty()) Pump(c, side);
    if (!c.closed && !c.pending[1 - side].empty()) Flush(c, 1 - side);
  }
  if (!c.closed) UpdateInterest(c);
}

void TcpRelay::Pump(Connection& c, int from) {
  ssize_t n = ::recv(c.sides[from].fd, buffer_.get(), kChunk, 0);
  if (n < 0) {
    if (!WouldBlock()) Close(c);
    return;
  }
  if (n == 0) {
    c.reading[from] = false;
    EndDirectionIfDrained(c, from);
    return;
  }
  ssize_t sent = ::send(c.sides[1 - from].fd, buffer_.get(), static_cast<std::size_t>(n), MSG_NOSIGNAL);
  if (sent < 0) {
    if (!WouldBlock()) return Close(c);
    sent = 0;
  }
  if (sent < n) c.pending[from].assign(buffer_.get() + sent, static_cast<std::size_t>(n - sent));
}

void TcpRelay::Flush(Connection& c, int from) {
  std::string& pending = c.pending[from];
  ssize_t sent = ::send(c.sides[1 - from].fd, pending.data(), pending.size(), MSG_NOSIGNAL);
  if (sent < 0) {
    if (!WouldBlock()) Close(c);
    return;
  }
  pending.erase(0, static_cast<std::size_t>(sent));
  if (!pending.empty()) return;
  std::string().swap(pending);  // a stalled connection's buffer is not kept once it moves again
  EndDirectionIfDrained(c, from);
}

void TcpRelay::EndDirectionIfDrained(Connection& c, int from) {
  int to = 1 - from;
  if (c.reading[from] || !c.pending[from].empty() || c.write_shut[to]) return;
  ::shutdown(c.sides[to].fd, SHUT_WR);
  c.write_shut[to] = true;
  if (c.write_shut[from]) Close(c);  // the other direction had ended already
}

void TcpRelay::UpdateInterest(Connection& c) {
  for (auto& side : c.sides) {
    int i = side.index;
    bool read = !c.connecting && c.reading[i] && c.pending[i].empty();
    bool write = c.connecting ? i == 1 : !c.pending[1 - i].empty();
    std::uint32_t want = (read ? kIn : 0) | (write ? kOut : 0);
    if (want == side.events) continue;
    // Nothing wanted: unregistered, or a hang-up would be reported (and spin) while waiting on the other side.
    epoll_event event{want, {.ptr = &side}};
    int op = want == 0 ? EPOLL_CTL_DEL : side.events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (::epoll_ctl(epoll_fd_, op, side.fd, &event) != 0) return Close(c);
    side.events = want;
  }
}

void TcpRelay::Close(Connection& c) {
  for (auto& side : c.sides) {
    // Unregistered first: a copy of the descriptor in a forked child would otherwise keep it registered.
    if (side.events) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, side.fd, nullptr);
    ::close(side.fd);
    side.fd = -1;
    side.events = 0;
  }
  c.closed = true;
  --open_;
  closed_since_sweep_ = true;
}

}  // namespace paddlecloud::cluster::local
