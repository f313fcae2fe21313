#include "cluster/local/pod_supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <sys/file.h>
#include <grp.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>
#include <vector>

#include "cluster/local/cgroups.h"
#include "cluster/local/pod_files.h"
#include "common/fs.h"
#include "cluster/local/sandbox.h"

namespace paddlecloud::cluster::local {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

enum class Outcome { kExited, kStopped };

class Supervisor {
 public:
  explicit Supervisor(std::string dir) : dir_(std::move(dir)) {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&set, s);
    signal_fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  }

  int Run() {
    auto text = ReadWholeFile(dir_ + "/" + kPodSpecFile);
    auto spec = text ? PodSpecFromJson(*text) : Err(text.error());
    record_.supervisor_pid = ::getpid();
    if (!spec) {
      std::cerr << "paddlecloud pod-supervisor: " << spec.error().message() << "\n";
      Finish(PodPhase::kFailed, "StartError", "invalid pod.json: " + spec.error().message());
      return 0;
    }
    spec_ = std::move(*spec);
    std::error_code ec;
    fs::create_directories(fs::path(spec_.log_path).parent_path(), ec);
    log_fd_ = ::open(spec_.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (log_fd_ < 0) {
      Finish(PodPhase::kFailed, "StartError", "cannot open the log " + spec_.log_path + ": " + std::strerror(errno));
      return 0;
    }
    struct stat log_stat;
    if (::fstat(log_fd_, &log_stat) == 0) log_bytes_ = log_stat.st_size;
    if (std::string refused = PrepareSandbox(); !refused.empty()) {
      LogLine(refused);
      Finish(PodPhase::kFailed, "StartError", refused);
      return 0;
    }
    // No status.json until the first attempt runs (the backend shows the pod Starting meanwhile):
    // replacing a file costs a synchronous discard on filesystems mounted with `discard`, and
    // this is the path every pod of a job takes at once.
    while (true) {
      if (StopRequested()) {
        LogLine("stopped before attempt " + std::to_string(record_.attempt + 1));
        Finish(PodPhase::kFailed, "Stopped", "stopped on request");
        return 0;
      }
      Outcome outcome = RunAttempt();
      if (outcome == Outcome::kStopped || IsTerminal(record_.phase)) return 0;
      // Failed with restarts left: back off, then go again (a stop during the backoff wins).
      auto backoff = std::chrono::milliseconds(
          std::min<std::int64_t>(200LL << std::min(record_.restarts, 10), std::max<std::int64_t>(spec_.max_backoff_ms, 0)));
      ++record_.restarts;
      record_.reason = "Restarting";
      Save();
      LogLine("restarting in " + std::to_string(backoff.count()) + " ms (restart " + std::to_string(record_.restarts) +
              (spec_.restart_always ? "" : " of " + std::to_string(spec_.max_restarts)) + ")");
      WaitSignals(Clock::now() + backoff, /*child=*/-1, nullptr);
    }
  }

 private:
  std::string CgroupName() const {
    std::string name = spec_.namespace_name + "." + spec_.pod + "." + std::to_string(::getpid());
    std::replace(name.begin(), name.end(), '/', '_');
    return name;
  }

  bool StopRequested() {
    if (!stop_) {
      struct stat st;
      stop_ = ::stat((dir_ + "/" + kStopFile).c_str(), &st) == 0;
    }
    return stop_;
  }

  std::chrono::milliseconds Grace() {
    std::int64_t grace = spec_.default_grace_ms;
    if (auto text = ReadWholeFile(dir_ + "/" + kStopFile)) {
      boost::system::error_code ec;
      auto v = boost::json::parse(*text, ec);
      if (!ec && v.is_object())
        if (auto* g = v.as_object().if_contains("grace_ms"); g && g->is_int64()) grace = std::max<std::int64_t>(0, g->as_int64());
    }
    return std::chrono::milliseconds(grace);
  }

  void Save() {
    Status s = fsutil::WriteFileAtomic(dir_ + "/" + kStatusFile, ToJson(record_), {.mode = 0644, .durable = IsTerminal(record_.phase)});
    if (!s.ok()) std::cerr << "paddlecloud pod-supervisor: " << s.message() << "\n";
  }

  // Everything the pod's sandbox needs, made before the first attempt: its cgroup, the mount
  // sources opened without following links, the seccomp program. Says in the log which guarantee
  // is missing; returns why the pod must not start (strict isolation, or no sandbox at all).
  std::string PrepareSandbox() {
    std::vector<std::string> missing;
    std::string why;
    cgroup_ = PodCgroup::Create(CgroupName(), {.resources = spec_.limits, .pids = spec_.pids_limit, .gpus = spec_.gpus}, why);
    record_.limits = cgroup_ ? cgroup_->Description() : "none (" + why + ")";
    if (cgroup_) record_.cgroup_dirs = cgroup_->Dirs();
    if (!cgroup_) missing.push_back("no cgroup limits: " + why);
    if (spec_.pids_limit > 0 && !(cgroup_ && cgroup_->LimitsPids())) {
      nproc_limit_ = spec_.pids_limit;
      LogLine("isolation: no pids cgroup: processes are limited by RLIMIT_NPROC instead, shared with every process of uid " +
              std::to_string(spec_.uid >= 0 ? spec_.uid : static_cast<int>(::geteuid())));
    }
    if (!spec_.network.keeper_pid) missing.push_back("no network namespace: the job shares this machine's network");
    if (spec_.uid < 0 && ::geteuid() == 0) missing.push_back("no pod uid: pods run as root");
    for (const auto& m : missing) LogLine("isolation: " + m);
    if (spec_.strict && !missing.empty())
      return "strict isolation refuses to run this pod: " + missing.front() + " (local_isolation = relaxed allows it)";
    plan_.bwrap = FindBwrap();
    if (plan_.bwrap.empty()) return "cannot sandbox the pod: bubblewrap (bwrap) is not installed";
    plan_.hostname = spec_.pod;
    plan_.gpus = spec_.gpus;
    plan_.working_dir = spec_.working_dir;
    plan_.command = {"/bin/sh", "-c", spec_.entry};
    for (const auto& m : spec_.mounts) {
      auto fd = OpenMountSource(m.source);
      if (!fd && m.read_only) {  // what another account shares must not be able to stop our pods
        LogLine("isolation: " + m.target + " is left out: " + fd.error().message());
        continue;
      }
      if (!fd) return "cannot mount " + m.target + ": " + fd.error().message();
      plan_.mounts.push_back(m);
      plan_.mount_fds.push_back(*fd);
      struct stat st;
      stage_is_dir_.push_back(::fstat(*fd, &st) == 0 && S_ISDIR(st.st_mode));
      // A root supervisor binds the sources itself before it becomes the pod's uid, which may not
      // traverse the folders above the data dir.
      if (spec_.uid >= 0 && ::geteuid() == 0)
        plan_.staged.push_back(std::string(kStagingDir) + "/" + std::to_string(plan_.staged.size()));
    }
    if (std::string why = CheckWorkingDir(); !why.empty()) return why;
    auto seccomp = SeccompProgram();
    if (!seccomp) return "cannot sandbox the pod: " + seccomp.error().message();
    plan_.seccomp_fd = *seccomp;
    if (!spec_.network.keeper_pid) return "";
    auto network = OpenJobNetwork(spec_.network);
    if (!network) return "cannot start: " + network.error().message();
    network_ = *network;
    return "";
  }

  // The working dir must be in a mount (or the pod's /tmp) and exist there.
  std::string CheckWorkingDir() const {
    const std::string& dir = spec_.working_dir;
    if (dir.empty()) return "";
    for (const auto& m : spec_.mounts) {
      if (dir != m.target && !dir.starts_with(m.target + "/")) continue;
      struct stat st;
      std::string host = m.source + dir.substr(m.target.size());
      if (auto fd = OpenMountSource(host); fd && ::fstat(*fd, &st) == 0 && (::close(*fd), S_ISDIR(st.st_mode))) return "";
      return "cannot start: the working directory " + dir + " does not exist in the pod";
    }
    if (dir == "/tmp" || dir.starts_with("/tmp/")) return "";  // the pod's own /tmp
    return "cannot start: the working directory " + dir + " does not exist in the pod";
  }

  void LogLine(const std::string& text) {
    if (log_fd_ < 0) return;
    std::string line = "[paddlecloud] " + text + "\n";
    if (::write(log_fd_, line.data(), line.size()) > 0) log_bytes_ += static_cast<std::int64_t>(line.size());
  }

  // The group's counters as the run ended, while the group still exists.
  void RecordEndCounters() {
    if (!cgroup_) return;
    PodUsage usage;
    ReadCgroupUsage(record_.cgroup_dirs, usage);
    record_.ended_at_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    record_.end_cpu_ns = usage.cpu_ns;
    record_.end_oom_kills = usage.oom_kills;
  }

  void Finish(PodPhase phase, std::string reason, std::string message) {
    record_.phase = phase;
    record_.reason = std::move(reason);
    record_.message = std::move(message);
    record_.finished_at = Now();
    Save();
  }

  // Waits for signals until `deadline`, copying the pod's output to its log meanwhile: SIGTERM/
  // SIGINT/SIGHUP start a stop (`child` > 0: its group gets SIGTERM now and SIGKILL at the end of
  // the grace period); children are reaped. Returns when the deadline passes, `child` exits (its
  // wait status in *child_status), or, without a child, a stop is requested.
  bool WaitSignals(Clock::time_point deadline, pid_t child, int* child_status) {
    while (true) {
      int status = 0;
      pid_t reaped;
      while ((reaped = ::waitpid(-1, &status, WNOHANG)) > 0) {
        if (child > 0 && reaped == child) {
          *child_status = status;
          return true;
        }
      }
      if (child <= 0 && StopRequested()) return false;
      if (child > 0 && !stop_sent_ && StopRequested()) BeginStop(child);
      auto now = Clock::now();
      if (stop_sent_ && child > 0 && !kill_sent_ && now >= kill_deadline_) {
        LogLine("grace period over: SIGKILL to the process group");
        ::kill(-child, SIGKILL);
        if (cgroup_) cgroup_->KillAll();
        kill_sent_ = true;
      }
      auto until = deadline;
      if (stop_sent_ && !kill_sent_) {
        if (cgroup_ && child > 0) TerminateNewProcesses(child);
        until = std::min({until, kill_deadline_, now + kRescanDuringGrace});
      }
      if (now >= deadline) return false;
      auto wait = std::min<Clock::duration>(until - now, std::chrono::seconds(1));
      if (wait < Clock::duration::zero()) wait = Clock::duration::zero();
      pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {output_fd_, POLLIN, 0}};
      int ready = ::poll(fds, output_fd_ >= 0 ? 2 : 1,
                         static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count()));
      if (ready <= 0) continue;
      if (fds[1].revents) PumpOutput();
      signalfd_siginfo info;
      while (::read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        int sig = static_cast<int>(info.ssi_signo);
        if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
          stop_ = true;
          if (child > 0 && !stop_sent_) BeginStop(child);
        }
      }
    }
  }

  // Copies what the pod wrote to its log, up to the log's limit; past it, output is read and
  // dropped so the pod never blocks on a full pipe.
  void PumpOutput() {
    char buf[64 * 1024];
    ssize_t n;
    while ((n = ::read(output_fd_, buf, sizeof buf)) > 0) {
      std::int64_t room = spec_.log_limit_bytes > 0 ? spec_.log_limit_bytes - log_bytes_ : n;
      std::size_t keep = static_cast<std::size_t>(std::clamp<std::int64_t>(room, 0, n));
      if (keep > 0 && ::write(log_fd_, buf, keep) > 0) log_bytes_ += static_cast<std::int64_t>(keep);
      if (keep < static_cast<std::size_t>(n) && !log_cut_) {
        log_cut_ = true;
        LogLine("the log reached its limit of " + std::to_string(spec_.log_limit_bytes) +
                " bytes: the rest of this pod's output is dropped");
      }
    }
    if (n == 0) {  // every writer is gone
      ::close(output_fd_);
      output_fd_ = -1;
    }
  }

  void BeginStop(pid_t child) {
    auto grace = Grace();
    LogLine("stopping: SIGTERM to the process group, SIGKILL after " + std::to_string(grace.count()) + " ms");
    if (cgroup_) TerminateNewProcesses(child);
    else ::kill(-child, SIGTERM);
    stop_sent_ = true;
    kill_deadline_ = Clock::now() + grace;
  }

  // SIGTERM to the pod's processes not asked yet; called again during the grace period, so a
  // process that starts after the stop (the entry itself, when the stop comes while bwrap is still
  // setting up) is asked too. A process counts as asked once it got the signal while not ignoring
  // it: a child forked by a shell that ignores SIGTERM ignores it too until it execs a program
  // that takes it. Never to bwrap outside the sandbox (`child`): it would die of it and take the
  // pod down at once, with no grace.
  void TerminateNewProcesses(pid_t child) {
    for (pid_t pid : cgroup_->Processes()) {
      if (pid == child || terminated_.count(pid)) continue;
      bool ignoring = IgnoresSigterm(pid);
      ::kill(pid, SIGTERM);
      if (!ignoring) terminated_.insert(pid);
    }
  }

  static bool IgnoresSigterm(pid_t pid) {
    auto status = ReadWholeFile("/proc/" + std::to_string(pid) + "/status");
    if (!status) return false;
    auto at = status->find("\nSigIgn:");
    if (at == std::string::npos) return false;
    std::uint64_t ignored = std::strtoull(status->c_str() + at + 8, nullptr, 16);
    return ignored & (1ull << (SIGTERM - 1));
  }

  // Everything an attempt's child needs, prepared before fork (the supervisor has one thread, so
  // the child may allocate; it still does as little as it can). Not copyable: argv and envp point
  // into the strings.
  struct ChildPlan {
    std::vector<std::string> env_strings, args, sources;
    std::vector<char*> envp, argv;
    std::vector<int> inherited;
    std::vector<const char*> procs;
    int uid = -1, gid = -1;
    rlimit nproc{};
    ChildPlan() = default;
    ChildPlan(const ChildPlan&) = delete;
  };

  void PlanChild(ChildPlan& c) {
    for (const auto& [k, v] : spec_.env) c.env_strings.push_back(k + "=" + v);
    for (auto& e : c.env_strings) c.envp.push_back(e.data());
    c.envp.push_back(nullptr);
    c.args = SandboxCommand(plan_);
    for (auto& a : c.args) c.argv.push_back(a.data());
    c.argv.push_back(nullptr);
    for (std::size_t i = 0; i < plan_.staged.size(); ++i) c.sources.push_back(plan_.mounts[i].source);
    c.inherited = plan_.mount_fds;
    c.inherited.push_back(plan_.seccomp_fd);
    if (cgroup_)
      for (const auto& f : cgroup_->ProcsFiles()) c.procs.push_back(f.c_str());
    c.uid = spec_.uid;
    c.gid = spec_.gid;
    c.nproc = {static_cast<rlim_t>(nproc_limit_), static_cast<rlim_t>(nproc_limit_)};
  }

  // The forked child: joins the pod's cgroup and the job's network, stages the mounts, becomes
  // the pod's user and execs bwrap; on failure reports {step, errno} through `errpipe`.
  [[noreturn]] void ExecChild(const ChildPlan& c, int devnull, int output, int errpipe) {
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    int report[2] = {0, 0};
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a pod never outlives its supervisor (bwrap takes the sandbox with it)
    if (!c.procs.empty() && !JoinFromChild(c.procs)) report[0] = 1;
    if (!report[0] && network_.net_fd >= 0) {
      if (int err = EnterJobNetwork(network_)) {
        report[0] = 4;
        errno = err;
      }
    }
    if (!report[0] && !c.sources.empty() && !StageMounts(c.sources, plan_.staged, stage_is_dir_)) report[0] = 7;
    if (!report[0] && c.uid >= 0 &&
        (::setgroups(0, nullptr) != 0 || ::setresgid(c.gid, c.gid, c.gid) != 0 || ::setresuid(c.uid, c.uid, c.uid) != 0))
      report[0] = 5;
    if (!report[0] && c.nproc.rlim_cur > 0 && ::setrlimit(RLIMIT_NPROC, &c.nproc) != 0) report[0] = 6;
    for (int fd : c.inherited)
      if (!report[0] && fd >= 0 && ::fcntl(fd, F_SETFD, 0) != 0) report[0] = 3;
    if (!report[0]) {
      ::dup2(devnull, 0);
      ::dup2(output, 1);
      ::dup2(output, 2);
      ::execve(c.argv[0], c.argv.data(), c.envp.data());
      report[0] = 3;
    }
    report[1] = errno;
    ssize_t ignored = ::write(errpipe, report, sizeof report);
    (void)ignored;
    ::_exit(127);
  }

  Outcome StartFailed(const int report[2], int uid) {
    std::string what = report[0] == 1   ? "joining the pod's cgroup"
                       : report[0] == 4 ? "joining the job's network"
                       : report[0] == 5 ? "switching to the pod's user " + std::to_string(uid)
                       : report[0] == 6 ? "limiting its processes"
                       : report[0] == 7 ? "staging its mounts"
                                        : "running " + plan_.bwrap;
    std::string message = "cannot start: " + what + ": " + std::strerror(report[1]);
    LogLine(message);
    record_.exit_code = 127;
    Finish(PodPhase::kFailed, "StartError", message);
    return Outcome::kExited;
  }

  Outcome RunAttempt() {
    int attempt = record_.attempt + 1;
    ChildPlan child;
    PlanChild(child);
    ::lseek(plan_.seccomp_fd, 0, SEEK_SET);  // bwrap reads the program from where the last one stopped
    std::int64_t oom_before = cgroup_ ? cgroup_->OomKills() : -1;
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int errpipe[2], output[2];
    if (::pipe2(errpipe, O_CLOEXEC) != 0 || ::pipe2(output, O_CLOEXEC) != 0) {
      Finish(PodPhase::kFailed, "StartError", std::string("pipe: ") + std::strerror(errno));
      return Outcome::kExited;
    }
    LogLine("started attempt " + std::to_string(attempt) + " at " + IsoTime(Now()));
    pid_t pid = ::fork();
    if (pid == 0) ExecChild(child, devnull, output[1], errpipe[1]);
    ::close(output[1]);
    if (output_fd_ >= 0) ::close(output_fd_);
    output_fd_ = output[0];
    ::fcntl(output_fd_, F_SETFL, O_NONBLOCK);
    ::close(errpipe[1]);
    if (devnull >= 0) ::close(devnull);
    if (pid < 0) {
      ::close(errpipe[0]);
      Finish(PodPhase::kFailed, "StartError", std::string("fork: ") + std::strerror(errno));
      return Outcome::kExited;
    }
    ::setpgid(pid, pid);
    int report[2] = {0, 0};
    ssize_t n;
    do n = ::read(errpipe[0], report, sizeof report);
    while (n < 0 && errno == EINTR);
    ::close(errpipe[0]);
    record_.attempt = attempt;
    record_.entry_pid = pid;
    record_.started_at = Now();
    record_.finished_at.reset();
    if (n == static_cast<ssize_t>(sizeof report)) {
      ::waitpid(pid, nullptr, 0);
      return StartFailed(report, child.uid);
    }
    record_.phase = PodPhase::kRunning;
    record_.reason.clear();
    record_.message.clear();
    Save();

    int status = 0;
    WaitSignals(Clock::time_point::max(), pid, &status);
    // The main process is gone: nothing of the pod may outlive it.
    ::kill(-pid, SIGKILL);
    if (cgroup_) cgroup_->KillAll();
    ReapLeftovers();
    if (output_fd_ >= 0) PumpOutput();
    return AttemptEnded(status, oom_before);
  }

  // The entry's main process ended with `status`: the attempt's outcome and record.
  Outcome AttemptEnded(int status, std::int64_t oom_before) {
    RecordEndCounters();
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    record_.exit_code = code;
    std::int64_t oom_after = cgroup_ ? cgroup_->OomKills() : -1;
    bool oom = cgroup_ && ((oom_before >= 0 && oom_after > oom_before) ||
                           (oom_after < 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && cgroup_->HitMemoryLimit()));
    std::string how = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                          : "exited with code " + std::to_string(code);
    if (stop_sent_) {
      LogLine("stopped (" + how + ")");
      Finish(PodPhase::kFailed, "Stopped", "stopped on request (" + how + ")");
      return Outcome::kStopped;
    }
    if (oom) {
      LogLine("OOM-killed (memory limit " + std::to_string(spec_.limits.memory_bytes) + " bytes; " + how + ")");
      record_.exit_code = 137;
    } else {
      LogLine(how);
    }
    if (code == 0 && !oom && !spec_.restart_always) {
      Finish(PodPhase::kSucceeded, "Completed", how);
      return Outcome::kExited;
    }
    record_.finished_at = Now();
    record_.message = oom ? "OOM-killed" : how;
    if (spec_.restart_always || record_.restarts < spec_.max_restarts) {
      record_.reason = oom ? "OOMKilled" : code == 0 ? "Completed" : "Error";
      return Outcome::kExited;  // phase stays Running: Run() restarts it
    }
    Finish(PodPhase::kFailed, oom ? "OOMKilled" : "Error", record_.message);
    return Outcome::kExited;
  }

  // Reaps the killed group (and orphans re-parented to us) for a short while.
  void ReapLeftovers() {
    auto deadline = Clock::now() + std::chrono::seconds(2);
    while (Clock::now() < deadline) {
      pid_t r = ::waitpid(-1, nullptr, WNOHANG);
      if (r < 0) return;  // ECHILD: nothing left
      if (r == 0) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGCHLD);
        timespec timeout{0, 50 * 1000 * 1000};
        siginfo_t info;
        ::sigtimedwait(&set, &info, &timeout);
      }
    }
  }

  std::string dir_;
  PodSpec spec_;
  PodRecord record_;
  std::unique_ptr<PodCgroup> cgroup_;
  SandboxPlan plan_;
  std::vector<bool> stage_is_dir_;  // of each mount source
  JobNetworkHandles network_;  // the job's namespaces, joined by each attempt's child
  std::int64_t nproc_limit_ = 0;  // RLIMIT_NPROC, where no pids cgroup limits the pod
  int signal_fd_ = -1;
  int output_fd_ = -1;          // the read end of the pod's stdout and stderr
  int log_fd_ = -1;
  std::int64_t log_bytes_ = 0;  // the log's size, as far as this supervisor wrote it
  bool log_cut_ = false;
  bool stop_ = false;
  bool stop_sent_ = false;
  std::set<pid_t> terminated_;  // the pod's processes sent SIGTERM since the stop began
  static constexpr auto kRescanDuringGrace = std::chrono::milliseconds(100);
  bool kill_sent_ = false;
  Clock::time_point kill_deadline_ = Clock::time_point::max();
};

}  // namespace

namespace {

// Runs the supervisor in the calling process until the pod ends. Returns the process exit code
// (0 once a final status is recorded, 1 when it could not start).
int RunPodSupervisor(const std::string& pod_dir, int lock_fd) {
  if (lock_fd >= 0) {
    ::fcntl(lock_fd, F_SETFD, FD_CLOEXEC);
  } else {
    lock_fd = ::open((pod_dir + "/" + kLockFile).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
      std::cerr << "paddlecloud pod-supervisor: another supervisor holds " << pod_dir << "/" << kLockFile << "\n";
      return 1;
    }
  }
  // Signals are taken synchronously (signalfd, sigtimedwait) so none is lost between checks.
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&set, s);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  // Only now may the backend signal us.
  Status pid_written = fsutil::WriteFileAtomic(pod_dir + "/" + kPidFile, std::to_string(::getpid()) + "\n", {.mode = 0644, .durable = false});
  if (!pid_written.ok()) std::cerr << "paddlecloud pod-supervisor: " << pid_written.message() << "\n";
  return Supervisor(pod_dir).Run();
}

}  // namespace

int RunPodSupervisors(const std::vector<SupervisedPod>& pods) {
  for (std::size_t i = 0; i < pods.size(); ++i) {
    pid_t child = ::fork();
    if (child < 0) {
      std::cerr << "paddlecloud pod-supervisor: fork: " << std::strerror(errno) << "\n";
      return 1;
    }
    if (child > 0) continue;
    for (std::size_t other = 0; other < pods.size(); ++other)
      if (other != i && pods[other].lock_fd >= 0) ::close(pods[other].lock_fd);
    ::setsid();  // each supervisor leads a session of its own
    int log = ::open((pods[i].dir + "/" + kSupervisorLogFile).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (log >= 0) {
      ::dup2(log, 1);
      ::dup2(log, 2);
      ::close(log);
    }
    ::_exit(RunPodSupervisor(pods[i].dir, pods[i].lock_fd));
  }
  return 0;
}

}  // namespace paddlecloud::cluster::local
