#include "cluster/cluster_backend.h"


namespace paddlecloud::cluster {

std::string_view RoleName(PodRole role) {
  switch (role) {
    case PodRole::kTrainer: return "trainer";
    case PodRole::kPserver: return "pserver";
  }
  return "trainer";
}

std::string_view PhaseName(PodPhase phase) {
  switch (phase) {
    case PodPhase::kPending: return "Pending";
    case PodPhase::kRunning: return "Running";
    case PodPhase::kSucceeded: return "Succeeded";
    case PodPhase::kFailed: return "Failed";
  }
  return "Pending";
}

std::string PodName(const std::string& job, PodRole role, int index) {
  return job + "-" + std::string(RoleName(role)) + "-" + std::to_string(index);
}

std::string ReplicaName(const std::string& service, int index) { return service + "-" + std::to_string(index); }

std::string_view ReplicaPhaseName(ReplicaPhase phase) {
  switch (phase) {
    case ReplicaPhase::kPending: return "Pending";
    case ReplicaPhase::kStarting: return "Starting";
    case ReplicaPhase::kReady: return "Ready";
    case ReplicaPhase::kNotReady: return "NotReady";
    case ReplicaPhase::kFailed: return "Failed";
  }
  return "Pending";
}

namespace {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ',';
    out += item;
  }
  return out;
}

}  // namespace

std::map<std::string, std::string> PaddleEnv(const std::string& job, PodRole role, int index,
                                             const std::vector<std::string>& trainer_endpoints,
                                             const std::vector<std::string>& pserver_endpoints) {
  const auto& own_list = role == PodRole::kTrainer ? trainer_endpoints : pserver_endpoints;
  std::string endpoint = index >= 0 && static_cast<std::size_t>(index) < own_list.size() ? own_list[index] : "";
  std::string host = endpoint, port;
  if (auto colon = endpoint.rfind(':'); colon != std::string::npos) {
    host = endpoint.substr(0, colon);
    port = endpoint.substr(colon + 1);
  }
  std::string role_name = role == PodRole::kTrainer ? "TRAINER" : "PSERVER";
  return {
      {"TRAINING_ROLE", role_name},
      {"PADDLE_TRAINING_ROLE", role_name},
      {"PADDLE_TRAINER_ID", std::to_string(index)},
      {"PADDLE_TRAINERS_NUM", std::to_string(trainer_endpoints.size())},
      {"PADDLE_TRAINER_ENDPOINTS", Join(trainer_endpoints)},
      {"PADDLE_PSERVERS_IP_PORT_LIST", Join(pserver_endpoints)},
      {"PADDLE_PORT", port},
      {"POD_IP", host},
      {"PADDLE_JOB_ID", job},
  };
}

}  // namespace paddlecloud::cluster
