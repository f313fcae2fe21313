#include "cluster/local/job_network.h"

#include <arpa/inet.h>
#include <linux/close_range.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstddef>
#include <cstring>
#include <memory>
#include <mutex>
#include <sstream>
#include <string_view>
#include <thread>

namespace paddlecloud::cluster::local {

namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

std::uint64_t InodeOf(int fd) {
  struct stat st;
  return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

// Sums the counters of every interface in a /proc/<pid>/net/dev text.
NetworkUsage ParseNetDev(const std::string& text) {
  NetworkUsage usage;
  std::istringstream lines(text);
  std::string line;
  for (int header = 0; header < 2; ++header) std::getline(lines, line);
  while (std::getline(lines, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::istringstream in(line.substr(colon + 1));
    std::uint64_t field[10] = {};
    for (auto& f : field) in >> f;
    usage.rx_bytes += field[0];
    usage.rx_packets += field[1];
    usage.tx_bytes += field[8];
    usage.tx_packets += field[9];
  }
  return usage;
}

// The code below runs in children made by RunLightChild: only system calls, no allocation.
// errno, or 0.
int BringLoopbackUp() {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return errno;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, "lo", 3);
  bool ok = ::ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  ok = ok && ::ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
  int err = ok ? 0 : errno;
  ::close(s);
  return err;
}

int WriteProcFile(const char* path, std::string_view text) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) ? 0 : errno;
  ::close(fd);
  return err;
}

// What a child tells its parent, through the memory they share: the step that failed and its
// errno (0: none).
struct ChildReport {
  int step = 0;
  int error = 0;
};

int Fail(ChildReport& report, int step, int error) {
  report.step = step;
  report.error = error;
  return 127;
}

// Runs `body(arg)` in a child that shares this process's memory (and, with `share_files`, its
// descriptor table) while the calling thread waits until the child has exec'd or exited, as
// posix_spawn does: a server with a large heap would otherwise pay for copying its page tables
// (tens of ms per GiB). Signals are blocked meanwhile, and the child starts with default
// handlers, so no handler of the server ever runs on the child's stack. Returns the child's pid.
pid_t RunLightChild(int (*body)(void*), void* arg, bool share_files) {
  struct Start {
    int (*body)(void*);
    void* arg;
    sigset_t mask;
  } start{body, arg, {}};
  sigset_t all;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &start.mask);
  auto trampoline = [](void* p) -> int {
    auto* start = static_cast<Start*>(p);
    struct sigaction dfl{};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);  // own copy: no CLONE_SIGHAND
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::_exit(start->body(start->arg));
  };
  constexpr std::size_t kStackBytes = 64 * 1024;
  auto stack = std::make_unique<std::max_align_t[]>(kStackBytes / sizeof(std::max_align_t));
  int flags = CLONE_VM | CLONE_VFORK | (share_files ? CLONE_FILES : 0) | SIGCHLD;
  pid_t pid = ::clone(trampoline, stack.get() + kStackBytes / sizeof(std::max_align_t), flags, &start);
  int err = errno;
  ::pthread_sigmask(SIG_SETMASK, &start.mask, nullptr);
  errno = err;
  return pid;
}

void KillAndReap(pid_t pid) {
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

void JobNetworkHandles::Close() {
  if (user_fd >= 0) ::close(user_fd);
  if (net_fd >= 0) ::close(net_fd);
  user_fd = net_fd = -1;
}

Result<JobNetwork> CreateJobNetwork() {
  // Everything the child needs is prepared here: it may not allocate.
  struct Keeper {
    bool own_user;
    std::string uid_map, gid_map;
    int devnull;
    ChildReport report;
  } keeper{.own_user = ::geteuid() != 0,
           .uid_map = std::to_string(::geteuid()) + " " + std::to_string(::geteuid()) + " 1",
           .gid_map = std::to_string(::getegid()) + " " + std::to_string(::getegid()) + " 1",
           .devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC),
           .report = {}};
  if (keeper.devnull < 0) return Err(Status::Internal(Errno("open /dev/null")));
  pid_t pid = RunLightChild(
      [](void* p) -> int {
        auto& k = *static_cast<Keeper*>(p);
        ::setsid();  // not in the server's process group: a Ctrl-C of the server is not the job's end
        if (::unshare(k.own_user ? CLONE_NEWUSER | CLONE_NEWNET : CLONE_NEWNET) != 0) return Fail(k.report, 1, errno);
        if (k.own_user) {
          int err = WriteProcFile("/proc/self/setgroups", "deny");
          if (!err) err = WriteProcFile("/proc/self/uid_map", k.uid_map);
          if (!err) err = WriteProcFile("/proc/self/gid_map", k.gid_map);
          if (err) return Fail(k.report, 2, err);
        }
        if (int err = BringLoopbackUp()) return Fail(k.report, 3, err);
        for (int fd = 0; fd < 3; ++fd) ::dup2(k.devnull, fd);
        ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);  // the keeper holds nothing of the server's
        char name[] = "sleep", forever[] = "infinity";
        char* argv[] = {name, forever, nullptr};
        char* envp[] = {nullptr};
        ::execve("/bin/sleep", argv, envp);
        return Fail(k.report, 4, errno);
      },
      &keeper, /*share_files=*/false);
  int spawn_errno = errno;
  ::close(keeper.devnull);
  if (pid < 0) return Err(Status::Internal(std::string("clone: ") + std::strerror(spawn_errno)));
  if (const ChildReport& r = keeper.report; r.step) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    const char* step = r.step == 1   ? keeper.own_user ? "unshare(CLONE_NEWUSER | CLONE_NEWNET)" : "unshare(CLONE_NEWNET)"
                       : r.step == 2 ? "map the user namespace's ids"
                       : r.step == 3 ? "bring up lo"
                                     : "exec /bin/sleep";
    return Err(Status::Unavailable(std::string(step) + ": " + std::strerror(r.error)));
  }
  // The exec happened, so the namespaces are in place: name them.
  std::string ns = "/proc/" + std::to_string(pid) + "/ns/";
  auto inode_of = [&](const char* name) -> std::uint64_t {
    int fd = ::open((ns + name).c_str(), O_RDONLY | O_CLOEXEC);
    std::uint64_t inode = fd >= 0 ? InodeOf(fd) : 0;
    if (fd >= 0) ::close(fd);
    return inode;
  };
  JobNetwork network{.keeper_pid = pid, .net_inode = inode_of("net"), .user_inode = keeper.own_user ? inode_of("user") : 0};
  if (!network.net_inode || (keeper.own_user && !network.user_inode)) {
    KillAndReap(pid);
    return Err(Status::Internal("cannot read the namespaces of " + ns));
  }
  return network;
}

Result<JobNetworkHandles> OpenJobNetwork(const JobNetwork& network) {
  std::string ns = "/proc/" + std::to_string(network.keeper_pid) + "/ns/";
  JobNetworkHandles h;
  h.net_fd = network.keeper_pid > 0 ? ::open((ns + "net").c_str(), O_RDONLY | O_CLOEXEC) : -1;
  if (network.user_inode) h.user_fd = network.keeper_pid > 0 ? ::open((ns + "user").c_str(), O_RDONLY | O_CLOEXEC) : -1;
  bool same = h.net_fd >= 0 && InodeOf(h.net_fd) == network.net_inode &&
              (!network.user_inode || (h.user_fd >= 0 && InodeOf(h.user_fd) == network.user_inode));
  if (!same) {
    h.Close();
    return Err(Status::Unavailable("the job's network is gone (its keeper, process " + std::to_string(network.keeper_pid) +
                                   ", has ended)"));
  }
  return h;
}

int EnterJobNetwork(const JobNetworkHandles& handles) {
  if (handles.user_fd >= 0 && ::setns(handles.user_fd, CLONE_NEWUSER) != 0) return errno;
  if (::setns(handles.net_fd, CLONE_NEWNET) != 0) return errno;
  return 0;
}

void ReleaseJobNetwork(const JobNetwork& network) {
  if (network.keeper_pid <= 0) return;
  // A pidfd taken before the check: the signal reaches the process checked, even if it ends
  // meanwhile and its pid is reused.
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, network.keeper_pid, 0));
  if (pidfd < 0) return;
  if (auto h = OpenJobNetwork(network)) {
    h->Close();
    ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    while (::waitpid(network.keeper_pid, nullptr, 0) < 0 && errno == EINTR) {  // ECHILD: kept by an earlier server
    }
  }
  ::close(pidfd);
}

Result<NetworkUsage> ReadNetworkUsage(const JobNetwork& network) {
  if (network.keeper_pid <= 0) return Err(Status::NotFound("the job has no network"));
  // Everything is read through the /proc directory opened first: a reused pid cannot slip in.
  int proc = ::open(("/proc/" + std::to_string(network.keeper_pid)).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc < 0) return Err(Status::NotFound("the job's network keeper is gone"));
  int ns = ::openat(proc, "ns/net", O_RDONLY | O_CLOEXEC);
  bool same = ns >= 0 && InodeOf(ns) == network.net_inode;
  if (ns >= 0) ::close(ns);
  int dev = same ? ::openat(proc, "net/dev", O_RDONLY | O_CLOEXEC) : -1;
  ::close(proc);
  if (dev < 0) return Err(Status::NotFound("the job's network keeper is gone"));
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = ::read(dev, buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
  ::close(dev);
  return ParseNetDev(text);
}

std::string ProbeJobNetworks() {
  auto network = CreateJobNetwork();
  if (!network) return network.error().message();
  ReleaseJobNetwork(*network);
  return "";
}

Result<std::vector<int>> SocketsInJobNetwork(const JobNetwork& network, std::size_t count) {
  auto handles = OpenJobNetwork(network);
  if (!handles) return Err(handles.error());
  // A child joins the namespaces (a thread of this process cannot join a user namespace) and
  // makes the sockets there, in the descriptor table it shares with this process.
  struct Maker {
    JobNetworkHandles handles;
    std::vector<int> fds;  // sized here: the child may not allocate
    ChildReport report;
  } maker{*handles, std::vector<int>(count, -1), {}};
  pid_t pid = RunLightChild(
      [](void* p) -> int {
        auto& m = *static_cast<Maker*>(p);
        if (int err = EnterJobNetwork(m.handles)) return Fail(m.report, 1, err);
        for (int& fd : m.fds)
          if ((fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) return Fail(m.report, 2, errno);
        return 0;
      },
      &maker, /*share_files=*/true);
  int spawn_errno = errno;
  handles->Close();
  if (pid < 0) return Err(Status::Internal(std::string("clone: ") + std::strerror(spawn_errno)));
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (const ChildReport& r = maker.report; r.step) {
    for (int fd : maker.fds)
      if (fd >= 0) ::close(fd);
    return Err(Status::Internal(std::string(r.step == 1 ? "join the job's network" : "make a socket there") + ": " +
                                std::strerror(r.error)));
  }
  return std::move(maker.fds);
}

Result<int> SocketInJobNetwork(const JobNetwork& network) {
  auto fds = SocketsInJobNetwork(network, 1);
  if (!fds) return Err(fds.error());
  return fds->front();
}

Result<std::shared_ptr<JobNetworkSockets>> JobNetworkSockets::Start(const JobNetwork& network) {
  auto first = SocketsInJobNetwork(network, kBatch);  // a network that is gone fails the start
  if (!first) return Err(first.error());
  return std::shared_ptr<JobNetworkSockets>(new JobNetworkSockets(network, std::move(*first)));
}

JobNetworkSockets::JobNetworkSockets(const JobNetwork& network, std::vector<int> fds)
    : network_(network), fds_(std::move(fds)) {
  refiller_ = std::thread([this] { Refill(); });
}

JobNetworkSockets::~JobNetworkSockets() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  refiller_.join();
  for (int fd : fds_) ::close(fd);
}

int JobNetworkSockets::Take() {
  std::unique_lock lock(mu_);
  if (fds_.empty()) {  // ran dry (a burst, or the refiller failed): make a batch right here
    lock.unlock();
    auto batch = SocketsInJobNetwork(network_, kBatch);
    lock.lock();
    if (!batch) return -1;
    fds_.insert(fds_.end(), batch->begin(), batch->end());
    refill_failed_ = false;
  }
  int fd = fds_.back();
  fds_.pop_back();
  if (fds_.size() < kLow) cv_.notify_all();
  return fd;
}

void JobNetworkSockets::Refill() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || (fds_.size() < kLow && !refill_failed_); });
    if (stopping_) return;
    lock.unlock();
    auto batch = SocketsInJobNetwork(network_, kBatch);
    lock.lock();
    if (batch) fds_.insert(fds_.end(), batch->begin(), batch->end());
    refill_failed_ = !batch;  // until a Take makes a batch again: no retrying in a loop
  }
}

namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  return addr;
}

// Binds `fd` to 127.0.0.1:`port` and listens; closes it on failure.
Status Listen(int fd, int port, int backlog) {
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr = Loopback(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, backlog) != 0) {
    Status failed = Status::Internal("listen at 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno));
    ::close(fd);
    return failed;
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<ApiRelay>> ApiRelay::Start(const JobNetwork& network, int port, const std::string& target_host,
                                                  int target_port) {
  sockaddr_in target = Loopback(target_port);
  if (::inet_pton(AF_INET, target_host.c_str(), &target.sin_addr) != 1)
    return Err(Status::InvalidArgument("the API relay's target is not an IPv4 address: " + target_host));
  auto fd = SocketInJobNetwork(network);
  if (!fd) return Err(fd.error());
  PC_RETURN_IF_ERROR(Listen(*fd, port, 128));
  auto relay = TcpRelay::Start(*fd, target, [] { return ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); },
                               kMaxConnections);
  if (!relay) return Err(relay.error());
  return std::unique_ptr<ApiRelay>(new ApiRelay(std::move(*relay)));
}

Result<std::unique_ptr<ApiRelay>> ApiRelay::StartInward(const JobNetwork& network, int port) {
  auto stock = JobNetworkSockets::Start(network);
  if (!stock) return Err(stock.error());
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Err(Status::Internal(std::string("socket: ") + std::strerror(errno)));
  PC_RETURN_IF_ERROR(Listen(fd, 0, static_cast<int>(kMaxInwardConnections)));
  auto relay = TcpRelay::Start(fd, Loopback(port), [stock = *stock] { return stock->Take(); }, kMaxInwardConnections);
  if (!relay) return Err(relay.error());
  return std::unique_ptr<ApiRelay>(new ApiRelay(std::move(*relay)));
}

ApiRelay::ApiRelay(std::unique_ptr<TcpRelay> relay) : relay_(std::move(relay)) {}
ApiRelay::~ApiRelay() = default;

int ApiRelay::listen_port() const { return relay_->listen_port(); }

}  // namespace paddlecloud::cluster::local
