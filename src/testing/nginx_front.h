// NginxFront: Debian's nginx in front of several servers, configured by the repository's
// deploy/nginx/paddlecloud.conf.in, in a directory of the test's, in the foreground.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace paddlecloud::testing {

// A loopback port free now (bound to port 0 and released), for a server that must be named before
// it starts, as an nginx upstream is.
int FreeLoopbackPort();

class NginxFront {
 public:
  // Listens on 127.0.0.1:`port` and proxies to `upstreams` ("HOST:PORT" each).
  NginxFront(const std::string& dir, int port, const std::vector<std::string>& upstreams);
  ~NginxFront();  // stops nginx
  NginxFront(const NginxFront&) = delete;
  NginxFront& operator=(const NginxFront&) = delete;

  bool WaitReady();  // accepts connections
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string ErrorLog() const;

 private:
  std::string dir_;
  int port_;
  pid_t pid_ = -1;
};

}  // namespace paddlecloud::testing
