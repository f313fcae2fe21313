#include "cluster/local/sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace paddlecloud::cluster::local {

namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

bool IsSymlink(const std::string& path, std::string* target) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  if (n <= 0) return false;
  *target = std::string(buf, static_cast<std::size_t>(n));
  return true;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// Without openat2 (kernels before 5.6, valgrind): one O_NOFOLLOW open per segment.
Result<int> OpenBySegments(const std::string& path) {
  int dir = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return Err(Status::Internal(Errno("open /")));
  std::istringstream segments(path);
  std::string segment;
  while (std::getline(segments, segment, '/')) {
    if (segment.empty()) continue;
    int next = ::openat(dir, segment.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    int err = errno;
    ::close(dir);
    if (next < 0) return Err(Status::Unavailable("cannot open " + path + ": " + std::strerror(err)));
    struct stat st;
    if (::fstat(next, &st) != 0 || S_ISLNK(st.st_mode)) {
      ::close(next);
      return Err(Status::Unavailable("cannot open " + path + ": it passes through a symbolic link"));
    }
    dir = next;
  }
  return dir;
}

}  // namespace

std::string FindBwrap() {
  for (const char* candidate : {"/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap"})
    if (::access(candidate, X_OK) == 0) return candidate;
  return "";
}

Result<int> OpenMountSource(const std::string& path) {
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof how);
  if (fd >= 0) return static_cast<int>(fd);
  if (errno == ENOSYS) return OpenBySegments(path);
  if (errno == ELOOP) return Err(Status::Unavailable("cannot open " + path + ": it passes through a symbolic link"));
  return Err(Status::Unavailable(Errno("cannot open " + path)));
}

Result<int> SeccompProgram() {
  scmp_filter_ctx ctx = ::seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) return Err(Status::Internal("seccomp_init failed"));
  int rc = 0;
  auto deny = [&](int syscall_number, int err) {
    if (rc == 0 && syscall_number >= 0) rc = ::seccomp_rule_add(ctx, SCMP_ACT_ERRNO(err), syscall_number, 0);
  };
  for (const char* name : {"mount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsmount",
                           "fsconfig", "fspick", "mount_setattr", "ptrace", "process_vm_readv", "process_vm_writev",
                           "unshare", "setns", "keyctl", "add_key", "request_key", "init_module", "finit_module",
                           "delete_module", "kexec_load", "kexec_file_load", "bpf", "userfaultfd",
                           "open_by_handle_at", "perf_event_open", "swapon", "swapoff", "reboot", "acct"})
    deny(::seccomp_syscall_resolve_name(name), EPERM);
  deny(::seccomp_syscall_resolve_name("clone3"), ENOSYS);
  if (rc == 0)
    rc = ::seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                            SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
  int fd = rc == 0 ? ::memfd_create("paddlecloud-seccomp", MFD_CLOEXEC | MFD_ALLOW_SEALING) : -1;
  if (fd >= 0) rc = ::seccomp_export_bpf(ctx, fd);
  ::seccomp_release(ctx);
  if (rc != 0 || fd < 0) {
    if (fd >= 0) ::close(fd);
    return Err(Status::Internal("cannot build the seccomp filter: " + std::string(std::strerror(rc ? -rc : errno))));
  }
  ::lseek(fd, 0, SEEK_SET);
  ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  return fd;
}

bool StageMounts(const std::vector<std::string>& sources, const std::vector<std::string>& staged,
                 const std::vector<bool>& is_dir) {
  if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return false;
  ::mkdir(kStagingDir, 0755);
  if (::mount("tmpfs", kStagingDir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") != 0) return false;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (is_dir[i]) {
      if (::mkdir(staged[i].c_str(), 0755) != 0) return false;
    } else {
      int fd = ::open(staged[i].c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0) return false;
      ::close(fd);
    }
    // Opened in this namespace: a descriptor from the parent's could not be bound here.
    auto source = OpenMountSource(sources[i]);
    if (!source) {
      errno = ELOOP;
      return false;
    }
    std::string fd_path = "/proc/self/fd/" + std::to_string(*source);
    int bound = ::mount(fd_path.c_str(), staged[i].c_str(), nullptr, MS_BIND | MS_REC, nullptr);
    ::close(*source);
    if (bound != 0) return false;
  }
  return true;
}

std::vector<std::string> SandboxCommand(const SandboxPlan& plan) {
  std::vector<std::string> args = {plan.bwrap,         "--unshare-user", "--unshare-pid",       "--unshare-ipc",
                                   "--unshare-uts",    "--unshare-cgroup-try", "--disable-userns", "--die-with-parent",
                                   "--cap-drop",       "ALL",            "--hostname",          plan.hostname.empty() ? "pod" : plan.hostname};
  // The machine's system, read-only; merged-/usr links stay links.
  args.insert(args.end(), {"--ro-bind", "/usr", "/usr"});
  for (const char* top : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    std::string target;
    if (IsSymlink(top, &target)) args.insert(args.end(), {"--symlink", target, top});
    else if (Exists(top)) args.insert(args.end(), {"--ro-bind", top, top});
  }
  args.insert(args.end(), {"--ro-bind", "/etc", "/etc", "--ro-bind-try", "/opt", "/opt", "--proc", "/proc", "--dev",
                           "/dev", "--tmpfs", "/tmp"});
  if (!plan.gpus.empty()) {
    for (int gpu : plan.gpus) args.insert(args.end(), {"--dev-bind-try", "/dev/nvidia" + std::to_string(gpu), "/dev/nvidia" + std::to_string(gpu)});
    for (const char* node : {"/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"})
      args.insert(args.end(), {"--dev-bind-try", node, node});
  }
  for (std::size_t i = 0; i < plan.mounts.size() && i < plan.mount_fds.size(); ++i) {
    if (i < plan.staged.size())
      args.insert(args.end(), {plan.mounts[i].read_only ? "--ro-bind" : "--bind", plan.staged[i], plan.mounts[i].target});
    else
      args.insert(args.end(), {plan.mounts[i].read_only ? "--ro-bind-fd" : "--bind-fd", std::to_string(plan.mount_fds[i]),
                               plan.mounts[i].target});
  }
  args.insert(args.end(), {"--chdir", plan.working_dir.empty() ? "/tmp" : plan.working_dir});
  if (plan.seccomp_fd >= 0) args.insert(args.end(), {"--seccomp", std::to_string(plan.seccomp_fd)});
  args.push_back("--");
  args.insert(args.end(), plan.command.begin(), plan.command.end());
  return args;
}

std::string ProbeSandbox(const std::string& bwrap, int uid, int gid) {
  if (bwrap.empty()) return "bubblewrap (bwrap) is not installed";
  SandboxPlan plan{.bwrap = bwrap, .hostname = "probe", .command = {"/bin/true"}};
  auto args = SandboxCommand(plan);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return Errno("pipe");
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 2);
    ::dup2(out[1], 1);
    if (uid >= 0 && (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 || ::setresuid(uid, uid, uid) != 0))
      ::_exit(126);
    char* envp[] = {nullptr};
    ::execve(argv[0], argv.data(), envp);
    ::_exit(127);
  }
  ::close(out[1]);
  std::string output;
  char buf[512];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) output.append(buf, static_cast<std::size_t>(n));
  ::close(out[0]);
  int status = 0;
  if (pid < 0) return Errno("fork");
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  if (output.empty()) output = "exit status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return "bwrap cannot make a sandbox here: " + output;
}

}  // namespace paddlecloud::cluster::local
