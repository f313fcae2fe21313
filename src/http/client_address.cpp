#include "http/client_address.h"

#include <charconv>
#include <optional>

#include <boost/asio/ip/address.hpp>

namespace paddlecloud::http {
namespace {

std::optional<std::array<std::uint8_t, 16>> ParseIp(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  if (address.is_v4()) return boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, address.to_v4()).to_bytes();
  return address.to_v6().to_bytes();
}

std::string_view Trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

Result<TrustedProxies> TrustedProxies::Parse(const std::vector<std::string>& entries) {
  TrustedProxies out;
  for (const auto& entry : entries) {
    std::string_view text = Trimmed(entry);
    auto slash = text.find('/');
    auto bytes = ParseIp(text.substr(0, slash));
    if (!bytes)
      return Err(Status::InvalidArgument("trusted proxy '" + entry + "' is not an IP address or CIDR block",
                                         "trusted_proxies"));
    bool v4 = text.substr(0, slash).find(':') == std::string_view::npos;
    int bits = v4 ? 32 : 128;
    if (slash != std::string_view::npos) {
      std::string_view digits = text.substr(slash + 1);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
      if (ec != std::errc() || end != digits.data() + digits.size() || bits < 0 || bits > (v4 ? 32 : 128))
        return Err(Status::InvalidArgument("trusted proxy '" + entry + "' has a bad prefix length", "trusted_proxies"));
    }
    out.networks_.push_back({*bytes, v4 ? bits + 96 : bits});
  }
  return out;
}

bool TrustedProxies::Trusts(std::string_view address) const {
  if (networks_.empty()) return false;
  auto bytes = ParseIp(address);
  if (!bytes) return false;
  for (const auto& network : networks_) {
    int bits = network.prefix_bits;
    std::size_t whole = static_cast<std::size_t>(bits / 8);
    bool match = std::equal(bytes->begin(), bytes->begin() + static_cast<std::ptrdiff_t>(whole), network.bytes.begin());
    if (match && bits % 8 != 0) {
      auto mask = static_cast<std::uint8_t>(0xff << (8 - bits % 8));
      match = ((*bytes)[whole] & mask) == (network.bytes[whole] & mask);
    }
    if (match) return true;
  }
  return false;
}

std::string TrustedProxies::ClientAddress(const std::string& peer, const Headers& headers) const {
  if (!Trusts(peer)) return peer;
  // All X-Forwarded-For fields, in order, form one list; walk it from the right.
  std::vector<std::string_view> hops;
  for (const auto& [name, value] : headers.fields()) {
    if (name.size() != 15 || !std::equal(name.begin(), name.end(), "x-forwarded-for", [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == b;
        }))
      continue;
    std::string_view rest = value;
    while (true) {
      auto comma = rest.find(',');
      hops.push_back(Trimmed(rest.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  std::string client = peer;
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    if (!ParseIp(*it)) break;  // garbage: the last proxy that handed it on is all we know
    client = std::string(*it);
    if (client.size() >= 2 && client.front() == '[') client = client.substr(1, client.size() - 2);
    if (!Trusts(client)) break;
  }
  return client;
}

}  // namespace paddlecloud::http
