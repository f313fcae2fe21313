// Test helpers: a deliberately raw, blocking HTTP/1.1 client over a TCP socket, so tests can send
// exactly the bytes they want (malformed requests, trickled headers) and read what comes back.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace paddlecloud::testing {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class RawConnection {
 public:
  // Connects to "HOST:PORT"; aborts the test binary when it cannot (tests assert on a running server).
  explicit RawConnection(const std::string& address);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Sends all bytes; false when the peer has closed.
  bool Send(const std::string& bytes);
  // Reads one response (Content-Length, chunked, or until close). nullopt on timeout or close
  // before a complete status line and headers.
  std::optional<HttpReply> ReadReply(std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                     bool head_request = false);
  // Reads raw bytes until `needle` appears (returns everything read) or the deadline passes.
  std::string ReadUntil(const std::string& needle, std::chrono::milliseconds timeout);
  // True when the peer closes the connection before the deadline.
  bool WaitClosed(std::chrono::milliseconds timeout);
  int fd() const { return fd_; }

 private:
  bool Fill(std::chrono::steady_clock::time_point deadline);  // reads more into buffer_
  int fd_ = -1;
  std::string buffer_;
};

// One request on a fresh connection: "GET /healthz" with optional body and extra header lines.
std::optional<HttpReply> Request(const std::string& address, const std::string& method, const std::string& target,
                                 const std::string& body = "", const std::string& extra_headers = "");

}  // namespace paddlecloud::testing
