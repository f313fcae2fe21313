// Forwards the TCP connections accepted on a listening socket to one upstream address, all of them
// on one epoll thread with non-blocking sockets:
// - bytes read from one side are written to the other at once; what the other side does not take
//   waits in a buffer of that connection (at most one read, 64 KiB), and the relay reads no more
//   from that side until it is written: a peer that does not read stalls only its own connection;
// - an end of stream is passed on as a half-close (shutdown(SHUT_WR)) once everything before it is
//   written; the connection closes when both directions have ended, or on any error of either side;
// - connections beyond the cap are closed on arrival.
#pragma once

#include <netinet/in.h>

#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <thread>

#include "common/status.h"

namespace paddlecloud::cluster::local {

class TcpRelay {
 public:
  // A TCP socket (not bound, not connected) for one connection's upstream side, or -1.
  using SocketMaker = std::function<int()>;

  // Takes ownership of `listen_fd` (bound and listening) and starts the relay's thread.
  static Result<std::unique_ptr<TcpRelay>> Start(int listen_fd, const sockaddr_in& upstream, SocketMaker make_socket,
                                                 std::size_t max_connections);
  ~TcpRelay();  // closes the listener and every connection (their peers see them end)
  int listen_port() const;

 private:
  struct Connection;
  TcpRelay(int listen_fd, int epoll_fd, int wake_fd, const sockaddr_in& upstream, SocketMaker make_socket,
           std::size_t max_connections);
  void Run();
  bool AcceptAll();  // false: accept failed other than for want of connections (e.g. EMFILE)
  void Open(int client);
  void OnEvent(Connection& c, int side);
  void Pump(Connection& c, int from);
  void Flush(Connection& c, int from);
  void EndDirectionIfDrained(Connection& c, int from);
  void UpdateInterest(Connection& c);
  void Close(Connection& c);

  int listen_fd_, epoll_fd_, wake_fd_;
  sockaddr_in upstream_;
  SocketMaker make_socket_;
  std::size_t max_connections_;
  // Owned by the relay's thread.
  std::list<Connection> connections_;
  std::size_t open_ = 0;
  bool closed_since_sweep_ = false;
  std::unique_ptr<char[]> buffer_;  // for one read; only what the other side does not take is kept
  std::thread thread_;
};

}  // namespace paddlecloud::cluster::local
