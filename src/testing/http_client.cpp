#include "testing/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace paddlecloud::testing {

RawConnection::RawConnection(const std::string& address) {
  auto colon = address.rfind(':');
  std::string host = address.substr(0, colon);
  int port = std::atoi(address.c_str() + colon + 1);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1) {
    std::fprintf(stderr, "RawConnection: bad address %s\n", address.c_str());
    std::abort();
  }
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    std::fprintf(stderr, "RawConnection: cannot connect to %s: %s\n", address.c_str(), std::strerror(errno));
    std::abort();
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::Send(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

bool RawConnection::Fill(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  char buf[65536];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) return false;
  buffer_.append(buf, static_cast<std::size_t>(n));
  return true;
}

std::string RawConnection::ReadUntil(const std::string& needle, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (buffer_.find(needle) == std::string::npos && Fill(deadline)) {}
  auto pos = buffer_.find(needle);
  std::string out;
  if (pos == std::string::npos) {
    out.swap(buffer_);
  } else {
    out = buffer_.substr(0, pos + needle.size());
    buffer_.erase(0, pos + needle.size());
  }
  return out;
}

bool RawConnection::WaitClosed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return true;
  }
}

std::optional<HttpReply> RawConnection::ReadReply(std::chrono::milliseconds timeout, bool head_request) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t header_end;
  while (true) {
    // Skip interim 100 Continue responses.
    if (buffer_.rfind("HTTP/1.1 100", 0) == 0) {
      auto end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos) {
        buffer_.erase(0, end + 4);
        continue;
      }
    }
    header_end = buffer_.find("\r\n\r\n");
    if (header_end != std::string::npos && buffer_.rfind("HTTP/1.1 100", 0) != 0) break;
    if (!Fill(deadline)) return std::nullopt;
  }
  HttpReply reply;
  std::string head = buffer_.substr(0, header_end);
  buffer_.erase(0, header_end + 4);
  auto line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12) return std::nullopt;
  reply.status = std::atoi(status_line.c_str() + 9);
  std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    auto end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    std::string line = head.substr(pos, end - pos);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      reply.headers[name] = value;
    }
    pos = end + 2;
  }
  if (head_request || reply.status == 304 || reply.status == 204) return reply;
  if (reply.header("transfer-encoding") == "chunked") {
    while (true) {
      std::size_t crlf;
      while ((crlf = buffer_.find("\r\n")) == std::string::npos)
        if (!Fill(deadline)) return std::nullopt;
      std::size_t size = std::strtoul(buffer_.substr(0, crlf).c_str(), nullptr, 16);
      while (buffer_.size() < crlf + 2 + size + 2)
        if (!Fill(deadline)) return std::nullopt;
      reply.body += buffer_.substr(crlf + 2, size);
      buffer_.erase(0, crlf + 2 + size + 2);
      if (size == 0) break;
    }
  } else if (!reply.header("content-length").empty()) {
    std::size_t length = std::strtoull(reply.header("content-length").c_str(), nullptr, 10);
    while (buffer_.size() < length)
      if (!Fill(deadline)) return std::nullopt;
    reply.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
  } else {
    while (Fill(deadline)) {}
    reply.body.swap(buffer_);
  }
  return reply;
}

std::optional<HttpReply> Request(const std::string& address, const std::string& method, const std::string& target,
                                 const std::string& body, const std::string& extra_headers) {
  RawConnection c(address);
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + address + "\r\nConnection: close\r\n" + extra_headers;
  if (!body.empty() || method == "POST" || method == "PUT") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  if (!c.Send(req)) return std::nullopt;
  return c.ReadReply(std::chrono::seconds(10), method == "HEAD");
}

}  // namespace paddlecloud::testing
