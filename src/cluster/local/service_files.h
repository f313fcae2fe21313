// What the local backend keeps of a service, and how it probes a replica's readiness.
//
// A service lives in <state_dir>/.services/<namespace>/<name>/ (".services" cannot be a namespace):
//   service.json   the ServiceRun (mode 0600: its env and probe headers may hold secrets).
//   deleting       DeleteService began: every replica stops, then the folder goes.
//   replicas/<replica>/   the replica's pod directory, as a job pod's (pod_files.h); its pod.json
//                  holds $PORT, so the endpoint survives a restart of the backend.
#pragma once

#include <chrono>
#include <string>

#include "cluster/cluster_backend.h"
#include "common/status.h"

namespace paddlecloud::cluster::local {

inline constexpr char kServicesDir[] = ".services";
inline constexpr char kServiceFile[] = "service.json";
inline constexpr char kServiceDeletingFile[] = "deleting";

std::string ToJson(const ServiceRun& service);
Result<ServiceRun> ServiceRunFromJson(const std::string& text);

// InvalidArgument naming the field for a spec the backend cannot run (capacity aside).
Status ValidateService(const ServiceRun& service);

// One readiness probe: GET `probe.path` from 127.0.0.1:`port` with probe.headers, within
// probe.timeout. Empty when it answered 2xx/3xx, else what went wrong ("HTTP 503",
// "connection refused", "no answer within 1000 ms").
std::string ProbeHttp(const std::string& host, int port, const HttpProbe& probe);

}  // namespace paddlecloud::cluster::local
