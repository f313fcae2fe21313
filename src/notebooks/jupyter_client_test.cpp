#include "notebooks/jupyter_client.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

namespace paddlecloud::notebooks {
namespace {

TEST(JupyterTime, ParsesJupytersIsoTimes) {
  EXPECT_EQ(ParseJupyterTime("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseJupyterTime("2026-12-06T05:40:00.123456Z"), 1796535600);
  EXPECT_EQ(ParseJupyterTime("2026-12-06T05:40:00+00:00"), 1796535600);
  EXPECT_EQ(ParseJupyterTime("yesterday"), std::nullopt);
  EXPECT_EQ(ParseJupyterTime(""), std::nullopt);
  EXPECT_EQ(ParseJupyterTime("2026-12-06"), std::nullopt);
}

TEST(JupyterLastActivity, AJupyterThatIsNotThereIsUnavailable) {
  // A port nobody listens on: bound, then closed.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  auto last = JupyterLastActivity("127.0.0.1:" + std::to_string(ntohs(addr.sin_port)), "/user/1/", "t", 100,
                                  std::chrono::seconds(2));
  ASSERT_FALSE(last.has_value());
  EXPECT_EQ(last.error().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace paddlecloud::notebooks
