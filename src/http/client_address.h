// Which address a request comes from, when the server may sit behind reverse proxies.
//
// The TCP peer is the client unless it is one of the configured trusted proxies. Then the
// client is the right-most address of X-Forwarded-For that is not itself a trusted proxy (each
// proxy appends the address it received the request from, so entries left of an untrusted hop
// may be forged). X-Forwarded-For from a peer that is not trusted is ignored.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/message.h"

namespace paddlecloud::http {

class TrustedProxies {
 public:
  TrustedProxies() = default;  // trusts nobody
  // Entries are IPs ("10.0.0.7", "::1") or CIDR blocks ("10.0.0.0/8", "fd00::/8").
  static Result<TrustedProxies> Parse(const std::vector<std::string>& entries);

  bool empty() const { return networks_.empty(); }
  bool Trusts(std::string_view address) const;
  // The client's address, given the TCP peer's and the request's X-Forwarded-For fields.
  std::string ClientAddress(const std::string& peer, const Headers& headers) const;

 private:
  struct Network {
    std::array<std::uint8_t, 16> bytes{};  // IPv4 as v4-mapped IPv6
    int prefix_bits = 128;
  };
  std::vector<Network> networks_;
};

}  // namespace paddlecloud::http
