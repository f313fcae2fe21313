// PlatformTest: a GoogleTest fixture with a real SMTP server (aiosmtpd) and the real paddlecloud
// server mailing through it, both in the test's temporary directory.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "testing/server_process.h"
#include "testing/smtp_server.h"

namespace paddlecloud::testing {

class PlatformTest : public ::testing::Test {
 protected:
  void SetUp() override {
    smtp_ = std::make_unique<SmtpTestServer>(dir_.path() + "/mail");
    ASSERT_TRUE(smtp_->WaitReady()) << smtp_->Log();
  }
  // Starts (or, after a stop, restarts) the server on the same data dir; `extra` adds flags.
  void StartServer(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--smtp-host", "127.0.0.1", "--smtp-port", std::to_string(smtp_->port()),
                                     "--smtp-security", "none", "--access-log", "false"};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = std::make_unique<ServerProcess>(dir_.path() + "/data", args);
    ASSERT_TRUE(server_->WaitReady()) << server_->Log();
    addr_ = server_->address();
  }

  TempDir dir_;
  std::unique_ptr<SmtpTestServer> smtp_;
  std::unique_ptr<ServerProcess> server_;
  std::string addr_;
};

}  // namespace paddlecloud::testing
