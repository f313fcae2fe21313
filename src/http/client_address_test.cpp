#include "http/client_address.h"

#include <gtest/gtest.h>

namespace paddlecloud::http {
namespace {

Headers Forwarded(std::initializer_list<std::string> values) {
  Headers h;
  for (const auto& v : values) h.Add("X-Forwarded-For", v);
  return h;
}

TEST(TrustedProxiesTest, NobodyTrustedIgnoresForwardedFor) {
  TrustedProxies none;
  EXPECT_EQ(none.ClientAddress("10.0.0.1", Forwarded({"1.2.3.4"})), "10.0.0.1");
}

TEST(TrustedProxiesTest, RightMostUntrustedHopIsTheClient) {
  auto trusted = TrustedProxies::Parse({"10.0.0.0/8", "::1", "192.168.1.7"});
  ASSERT_TRUE(trusted) << trusted.error().ToString();
  // A spoofed left-most entry is never taken: the client is the hop the first trusted proxy saw.
  EXPECT_EQ(trusted->ClientAddress("10.1.2.3", Forwarded({"6.6.6.6, 203.0.113.9, 192.168.1.7"})), "203.0.113.9");
  EXPECT_EQ(trusted->ClientAddress("::1", Forwarded({"6.6.6.6", "203.0.113.9"})), "203.0.113.9");
  EXPECT_EQ(trusted->ClientAddress("10.1.2.3", Forwarded({" [2001:db8::5] "})), "2001:db8::5");
  // Only trusted hops: the left-most of them. No header: the peer.
  EXPECT_EQ(trusted->ClientAddress("10.1.2.3", Forwarded({"10.9.9.9"})), "10.9.9.9");
  EXPECT_EQ(trusted->ClientAddress("10.1.2.3", Headers()), "10.1.2.3");
  // Garbage stops the walk at the last proxy that handed it on.
  EXPECT_EQ(trusted->ClientAddress("10.1.2.3", Forwarded({"1.1.1.1, not-an-ip"})), "10.1.2.3");
  // An untrusted peer's header is ignored.
  EXPECT_EQ(trusted->ClientAddress("203.0.113.50", Forwarded({"1.2.3.4"})), "203.0.113.50");
}

TEST(TrustedProxiesTest, CidrPrefixesMatchBitByBit) {
  auto trusted = TrustedProxies::Parse({"172.16.0.0/12", "fd00::/8"});
  ASSERT_TRUE(trusted);
  EXPECT_TRUE(trusted->Trusts("172.31.255.255"));
  EXPECT_FALSE(trusted->Trusts("172.32.0.1"));
  EXPECT_TRUE(trusted->Trusts("fdab::1"));
  EXPECT_FALSE(trusted->Trusts("fe80::1"));
  EXPECT_FALSE(trusted->Trusts("::ffff:172.15.0.1"));
}

TEST(TrustedProxiesTest, BadEntriesAreRefusedNamingTheSetting) {
  for (std::string bad : {"10.0.0.0/33", "example.com", "10.0.0.1/", "::/129"}) {
    auto parsed = TrustedProxies::Parse({bad});
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().field(), "trusted_proxies") << bad;
  }
}

}  // namespace
}  // namespace paddlecloud::http
