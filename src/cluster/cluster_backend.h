// The ClusterBackend port: where the pods of training jobs and the replicas of services run.
//
// Kubernetes-shaped on purpose: a job is a gang of pods (trainers + parameter servers), each pod
// has a role and index, resource requests, a restart policy (restart on failure, up to a limit),
// a log, and an observed phase. The local adapter (cluster/local/) runs pods as supervised
// processes on this machine; a Kubernetes adapter implements the same contract with native
// objects. Nothing local-specific belongs above this interface.
//
// Contract of every backend:
// - Calls block briefly (files, the API server): call them from the blocking pool.
// - Thread-safe.
// - Submit is idempotent per (namespace, job): submitting a job the backend already has changes
//   nothing. A job is admitted whole or not at all, in FIFO order among waiting jobs; while it
//   waits, its pods are kPending with a reason such as "waiting for 2 CPUs".
// - The backend gives each pod the PaddlePaddle parameter-server environment (see PaddleEnv below)
//   with real endpoints, plus JobRun::env.
// - Observed state survives restarts of the control plane: a new backend object over the same
//   state reports the same pods, and pods keep running while no control plane is up.
//
// Services (notebooks, model serving) are the second kind of workload, shaped as a Kubernetes
// Deployment + Service: `replicas` identical pods of a long-running command that listens on a port.
// - ApplyService is idempotent per (namespace, name): the same spec again changes nothing; a spec
//   differing only in `replicas` scales; any other difference is Conflict (delete and re-apply).
// - Replicas are not gang-admitted: each starts as soon as its requests fit in the capacity that
//   admitted job pods and other replicas leave (until then Pending "waiting for ..."), and counts
//   against that capacity while it is not Failed.
// - Each replica gets $PORT: the port its command must listen on (locally a free loopback port per
//   replica; on Kubernetes the container port, the same for all). ReplicaStatus::endpoint is where
//   the platform reaches it (a pod IP, or the Service's for a single address).
// - Restart policy Always: a replica whose command exits (any code) is restarted with exponential
//   backoff (capped at ServiceRun::max_backoff), its restarts counted and the last exit kept.
// - Readiness as Kubernetes probes it: an HTTP GET of the probe's path on $PORT answering 2xx/3xx
//   within `timeout`, every `period`. A replica is Starting until its first success (or until the
//   startup grace has passed and `failure_threshold` probes in a row failed: NotReady), Ready after
//   a success, NotReady after `failure_threshold` failures in a row. Only Ready replicas get traffic.
// - Replicas keep running while no control plane is up; a new backend object reports them.
// - DeleteService ends every replica (SIGTERM, SIGKILL after `grace`) and forgets the service; its
//   logs stay.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace paddlecloud::cluster {

struct Resources {
  std::int64_t cpu_milli = 0;     // 1000 = one core
  std::int64_t memory_bytes = 0;
  std::int64_t gpus = 0;
};

enum class PodRole { kTrainer, kPserver };
std::string_view RoleName(PodRole role);  // "trainer", "pserver"

// A path of the node shown to a pod at `target`, an absolute path inside the pod (a Kubernetes
// volume mount). `source` may be a folder or a file. A pod sees nothing of the node's data but
// its mounts.
struct Mount {
  std::string source;
  std::string target;
  bool read_only = true;
};

// One job to run: `trainers` trainer pods and `pservers` parameter-server pods.
struct JobRun {
  std::string namespace_name;  // the account id (a Kubernetes namespace on a cluster)
  std::string job;             // DNS-1123 label, unique among the namespace's jobs in the backend
  std::string entry;           // command line, run by /bin/sh -c in every pod
  std::string image;           // container image (container backends)
  std::string working_dir;     // where the entry runs: a path inside the pod (under a mount)
  std::map<std::string, std::string> env;  // extra variables (the platform's PADDLE_CLOUD_*)
  // Variables that are credentials (the job's API token): set like `env`, but a container backend
  // keeps them out of the objects it creates (Kubernetes: in a Secret the pods' env refers to).
  std::map<std::string, std::string> secret_env;
  std::vector<Mount> mounts;   // the job's code and outputs, the account's space, public and shared data
  int trainers = 1;
  Resources trainer_requests;
  int pservers = 0;
  Resources pserver_requests;
  int max_restarts = 0;        // per pod: a failed pod restarts up to this many times
  int fault_tolerant = 0;      // trainers that may fail for good while the others go on
  std::string logs_dir;        // pod logs go to <logs_dir>/<pod name>.log (kept after the job)
};

// "<job>-trainer-<i>", "<job>-pserver-<i>"
std::string PodName(const std::string& job, PodRole role, int index);

enum class PodPhase { kPending, kRunning, kSucceeded, kFailed };
std::string_view PhaseName(PodPhase phase);  // "Pending", "Running", "Succeeded", "Failed"

struct PodStatus {
  std::string name;
  PodRole role = PodRole::kTrainer;
  int index = 0;
  PodPhase phase = PodPhase::kPending;
  // Pending: why ("waiting for 2 CPUs"); Failed: "Error", "OOMKilled", "Stopped", "StartError";
  // Succeeded: "Completed".
  std::string reason;
  std::optional<int> exit_code;   // of the last run
  int restarts = 0;
  std::optional<std::int64_t> started_at;   // unix seconds, of the current/last run
  std::optional<std::int64_t> finished_at;
  std::string endpoint;           // "host:port" the pod serves on (pservers) or was given
};

// One GPU given to a pod, as its driver reports it now.
struct GpuUsage {
  int index = 0;                      // the machine's GPU number
  std::optional<double> utilization_percent;
  std::optional<std::uint64_t> memory_used_bytes;
  std::optional<std::uint64_t> memory_total_bytes;
};

// Cumulative resource counters of one running pod, read the way cAdvisor and the kubelet read them.
// A counter the backend cannot read is absent and `not_measured` says why; it is never a zero.
struct PodUsage {
  std::string name;
  std::optional<std::uint64_t> cpu_ns;                    // CPU time used by the pod's processes
  std::optional<std::uint64_t> cpu_throttled_ns;          // time its CPU limit held it back
  std::optional<std::uint64_t> memory_working_set_bytes;  // usage minus inactive file cache
  std::optional<std::uint64_t> memory_rss_bytes;
  std::optional<std::uint64_t> memory_limit_bytes;
  std::optional<std::int64_t> oom_kills;
  std::optional<std::uint64_t> disk_read_bytes;
  std::optional<std::uint64_t> disk_write_bytes;
  std::vector<GpuUsage> gpus;  // the pod's GPUs; none for a pod without GPUs
  std::string not_measured;  // "cpu, memory, disk: the pod has no cgroup (...)"
  // Set for a pod that has ended: its cumulative counters as its last run ended, read at this
  // time (unix ms); gauges such as memory are absent.
  std::optional<std::int64_t> ended_at_ms;
};

struct NetworkUsage {
  std::uint64_t rx_bytes = 0, tx_bytes = 0, rx_packets = 0, tx_packets = 0;
};

struct JobUsage {
  std::int64_t at_ms = 0;            // when it was read, unix milliseconds
  std::vector<PodUsage> pods;        // the running pods, then the ended ones; trainers first
  std::optional<NetworkUsage> network;  // the job's network, which all its pods share
  std::string network_not_measured;  // why there is none ("the pods use this machine's network")
};

struct Capacity {
  Resources total;      // what the backend's nodes have: a job larger than this can never run
  Resources in_use;     // requested by admitted, unfinished pods
};

// ---- services -------------------------------------------------------------------------------

// Readiness: HTTP GET http://<replica>:$PORT<path> with `headers`, 2xx/3xx is a success.
struct HttpProbe {
  std::string path = "/";
  std::map<std::string, std::string> headers;  // e.g. {"Authorization", "token ..."}; never logged
  std::chrono::milliseconds period{1000};
  std::chrono::milliseconds timeout{1000};
  int failure_threshold = 3;
  std::chrono::milliseconds startup_grace{0};  // failures before this (from each start) never make it NotReady
};

struct ServiceRun {
  std::string namespace_name;  // the account id (a Kubernetes namespace)
  std::string name;            // DNS-1123 label, unique among the namespace's services
  std::string command;         // run by /bin/sh -c in every replica; must listen on $PORT
  std::string image;           // container image (container backends)
  std::string working_dir;     // inside the pod (under a mount); empty: /tmp
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> secret_env;  // credentials, as JobRun::secret_env
  std::vector<Mount> mounts;
  Resources requests;          // per replica
  int replicas = 1;
  int port = 8080;             // the container port on Kubernetes; locally each replica gets its own
  std::optional<HttpProbe> readiness;  // none: Ready as soon as the command runs
  std::chrono::milliseconds max_backoff{30000};  // cap of the restart backoff
  std::string logs_dir;        // replica logs: <logs_dir>/<replica name>.log (kept after deletion)
};

// "<service>-<index>"
std::string ReplicaName(const std::string& service, int index);

enum class ReplicaPhase { kPending, kStarting, kReady, kNotReady, kFailed };
inline constexpr std::string_view kReplicaTerminating = "Terminating";  // a NotReady replica's reason
std::string_view ReplicaPhaseName(ReplicaPhase phase);  // "Pending", "Starting", "Ready", "NotReady", "Failed"

struct ReplicaStatus {
  std::string name;
  int index = 0;
  ReplicaPhase phase = ReplicaPhase::kPending;
  // Pending: "waiting for 2 CPUs"; Starting: "Starting"; NotReady: "CrashLoopBackOff" (exited, waiting
  // to restart), "readiness probe failed: ..." or kReplicaTerminating (being ended, listed until it has
  // exited); Failed: "StartError", "SupervisorLost", "Stopped".
  std::string reason;
  std::string message;            // detail ("exited with code 3", "HTTP 503", "connection refused")
  int restarts = 0;
  std::optional<int> last_exit_code;
  std::optional<std::int64_t> started_at;  // unix seconds, of the current run
  std::string endpoint;           // "host:port" the platform reaches the replica at
  std::string log_path;
};

class ClusterBackend {
 public:
  virtual ~ClusterBackend() = default;
  virtual std::string_view Name() const = 0;  // "local", "kubernetes"
  virtual Capacity GetCapacity() = 0;

  // Creates the job's pods (see the contract above). InvalidArgument when the job can never fit.
  virtual Status Submit(const JobRun& run) = 0;
  // Ends the job's pods of `role` (all pods when nullopt): SIGTERM to each pod's process group,
  // SIGKILL after `grace`. Stopped pods end kFailed with reason "Stopped"; waiting pods leave the
  // queue. Returns once the signals are sent; GetPods shows the outcome. NotFound for an unknown job.
  virtual Status Stop(const std::string& namespace_name, const std::string& job, std::optional<PodRole> role,
                      std::chrono::milliseconds grace) = 0;
  // The observed state of the job's pods, trainers first, by index. NotFound for an unknown job.
  virtual Result<std::vector<PodStatus>> GetPods(const std::string& namespace_name, const std::string& job) = 0;
  // The resource counters of the job's running pods, and the final counters of its ended pods
  // where the backend kept them (PodUsage::ended_at_ms). NotFound for an unknown job.
  virtual Result<JobUsage> GetUsage(const std::string& namespace_name, const std::string& job) = 0;
  // Forgets a job whose pods have all ended (its logs stay). Conflict while a pod runs.
  virtual Status Delete(const std::string& namespace_name, const std::string& job) = 0;

  // Services (see the contract above). InvalidArgument for a bad spec or one replica that can
  // never fit; Conflict for a changed spec of an existing service.
  virtual Status ApplyService(const ServiceRun& service) = 0;
  // Sets the replica count: new replicas start at the lowest free indexes; the highest indexes stop,
  // unless the cluster ends a replica that is not ready first (Kubernetes does, whatever the
  // pod-deletion-cost): the survivors keep their indexes. NotFound.
  virtual Status ScaleService(const std::string& namespace_name, const std::string& name, int replicas) = 0;
  // Stops every replica (SIGTERM, SIGKILL after `grace`), waits for them to end (at most grace +
  // a few seconds, else Unavailable and the replicas keep stopping) and forgets the service. NotFound.
  virtual Status DeleteService(const std::string& namespace_name, const std::string& name,
                               std::chrono::milliseconds grace) = 0;
  // The replicas, by index. NotFound for an unknown service.
  virtual Result<std::vector<ReplicaStatus>> GetReplicas(const std::string& namespace_name, const std::string& name) = 0;
  // As GetUsage, the pods being the running replicas.
  virtual Result<JobUsage> GetServiceUsage(const std::string& namespace_name, const std::string& name) = 0;

  // Called from a backend thread whenever observed state may have changed (a watch event), so a
  // reconciler can react at once instead of at its next pass. Backends that cannot tell never call it.
  virtual void SetObserver(std::function<void()> changed) { (void)changed; }
  // Ok while the backend can reach its cluster; otherwise why not (shown by /readyz).
  virtual Status Health() { return Status::Ok(); }
};

// The PaddlePaddle parameter-server environment of one pod, as the Paddle operators set it:
// TRAINING_ROLE and PADDLE_TRAINING_ROLE (TRAINER|PSERVER), PADDLE_TRAINER_ID, PADDLE_TRAINERS_NUM,
// PADDLE_TRAINER_ENDPOINTS, PADDLE_PSERVERS_IP_PORT_LIST, PADDLE_PORT, POD_IP, PADDLE_JOB_ID.
// `trainer_endpoints` and `pserver_endpoints` are "host:port" lists for the whole job.
std::map<std::string, std::string> PaddleEnv(const std::string& job, PodRole role, int index,
                                             const std::vector<std::string>& trainer_endpoints,
                                             const std::vector<std::string>& pserver_endpoints);

}  // namespace paddlecloud::cluster
