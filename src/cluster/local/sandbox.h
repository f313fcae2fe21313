// How one pod of the local backend is confined: bubblewrap (`bwrap`) namespaces, a seccomp filter,
// and what the pod sees of this machine.
//
// A sandboxed pod has its own user, pid, ipc, uts, mount and cgroup namespaces, no capabilities,
// no_new_privs, and may not create user namespaces. Its root shows the machine's system read-only
// (/usr, /etc, /opt and the /bin, /lib... links), a private /tmp, a minimal /dev (plus the device
// nodes of its own GPUs), its own /proc, and its mounts; nothing else: not the data dir, not /home,
// not /sys. Mount sources are opened by the supervisor without following symbolic links and bound
// from those descriptors, so a link planted in a source never redirects a mount.
//
// The seccomp filter refuses (EPERM) mount and umount, pivot_root, ptrace, process_vm_*, unshare
// and setns, clone with CLONE_NEWUSER, the kernel keyring, module loading, kexec, bpf,
// userfaultfd, open_by_handle_at and perf_event_open; clone3 answers ENOSYS (its flags cannot be
// inspected) so the C library falls back to clone.
#pragma once

#include <string>
#include <vector>

#include "cluster/cluster_backend.h"
#include "common/status.h"

namespace paddlecloud::cluster::local {

// Where bwrap is; empty when it is not installed.
std::string FindBwrap();

// An O_PATH descriptor for a mount source, resolved without following any symbolic link
// (openat2 RESOLVE_NO_SYMLINKS, else O_NOFOLLOW on each segment). Unavailable naming the
// path when a segment is a link or missing.
Result<int> OpenMountSource(const std::string& path);

// A sealed memfd holding the seccomp program (BPF) described above, for `bwrap --seccomp FD`.
Result<int> SeccompProgram();

struct SandboxPlan {
  std::string bwrap;                    // FindBwrap()
  std::string hostname;                 // the pod's name
  std::vector<Mount> mounts;            // the job's mounts; targets are absolute paths
  std::vector<int> mount_fds;           // OpenMountSource of each mount, in the same order
  // Where a root supervisor staged each mount (StageMounts) before switching to the pod's uid;
  // empty: bwrap binds from mount_fds itself (it then resolves their paths as the pod's uid).
  std::vector<std::string> staged;
  std::vector<int> gpus;                // /dev/nvidia<N> of these, with /dev/nvidiactl and /dev/nvidia-uvm
  std::string working_dir;              // inside; empty: /tmp
  int seccomp_fd = -1;                  // SeccompProgram(); -1: none
  std::vector<std::string> command;     // what runs inside
};

// The folder a root supervisor stages mounts in, inside a mount namespace of its own.
inline constexpr char kStagingDir[] = "/run/paddlecloud-pods";

// Run in a forked child of a single-threaded root process, before it switches to the pod's uid:
// a private mount namespace where each of `sources` is opened again without following links
// (OpenMountSource) and bound at staged[i], on a tmpfs over kStagingDir that the pod's uid may
// traverse. bwrap then needs no access to the data dir's folders. False on failure (errno set).
bool StageMounts(const std::vector<std::string>& sources, const std::vector<std::string>& staged,
                 const std::vector<bool>& is_dir);

// The bwrap command line (argv, bwrap first) that runs plan.command in the sandbox. The
// descriptors must stay open (without FD_CLOEXEC) through the exec of bwrap.
std::vector<std::string> SandboxCommand(const SandboxPlan& plan);

// Runs `bwrap ... /bin/true` as pods run (as uid/gid when given, else as the caller): empty when
// sandboxes work here; otherwise why not ("bwrap: setting up uid map: Permission denied").
std::string ProbeSandbox(const std::string& bwrap, int uid = -1, int gid = -1);

}  // namespace paddlecloud::cluster::local
