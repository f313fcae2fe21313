#include "cluster/cluster_backend.h"

#include <cstdint>
#include <limits>

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

namespace {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ',';
    out += item;
  }
  return out;
}

// Parses "<digits>[.<digits>]<suffix>" into value * multiplier / divisor, rounded up (Kubernetes
// rounds fractional quantities up to the smallest unit). False on syntax errors or overflow.
bool ScaledValue(std::string_view number, __int128 multiplier, __int128 divisor, std::int64_t& out) {
  std::string_view whole = number, fraction;
  if (auto dot = number.find('.'); dot != std::string_view::npos) {
    whole = number.substr(0, dot);
    fraction = number.substr(dot + 1);
  }
  if (whole.empty() && fraction.empty()) return false;
  if (whole.size() > 19 || fraction.size() > 18) return false;
  __int128 int_part = 0, frac_part = 0, frac_scale = 1;
  for (char c : whole) {
    if (c < '0' || c > '9') return false;
    int_part = int_part * 10 + (c - '0');
  }
  for (char c : fraction) {
    if (c < '0' || c > '9') return false;
    frac_part = frac_part * 10 + (c - '0');
    frac_scale *= 10;
  }
  // value = (int_part + frac_part / frac_scale) * multiplier / divisor, rounded up.
  __int128 numerator = (int_part * frac_scale + frac_part) * multiplier;
  __int128 denominator = frac_scale * divisor;
  __int128 value = (numerator + denominator - 1) / denominator;
  if (value > std::numeric_limits<std::int64_t>::max()) return false;
  out = static_cast<std::int64_t>(value);
  return true;
}

Status QuantityError(std::string_view text, const std::string& field, std::string_view what, std::string_view example) {
  return Status::InvalidArgument(field + ": invalid " + std::string(what) + " quantity \"" + std::string(text) +
                                     "\" (use e.g. " + std::string(example) + ")",
                                 field);
}

bool IsNegative(std::string_view text) { return !text.empty() && text.front() == '-'; }

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

Result<std::int64_t> ParseCpuQuantity(std::string_view text, const std::string& field) {
  constexpr std::string_view kExample = "2, 500m or 1.5";
  if (IsNegative(text)) return Err(Status::InvalidArgument(field + ": CPU quantity must not be negative", field));
  if (text.empty()) return Err(QuantityError(text, field, "CPU", kExample));
  std::int64_t milli = 0;
  bool ok = text.back() == 'm' ? ScaledValue(text.substr(0, text.size() - 1), 1, 1, milli)
                               : ScaledValue(text, 1000, 1, milli);
  if (!ok) return Err(QuantityError(text, field, "CPU", kExample));
  return milli;
}

Result<std::int64_t> ParseMemoryQuantity(std::string_view text, const std::string& field) {
  constexpr std::string_view kExample = "512Mi, 1Gi or 1G";
  if (IsNegative(text)) return Err(Status::InvalidArgument(field + ": memory quantity must not be negative", field));
  struct Suffix {
    std::string_view text;
    __int128 multiplier;
  };
  constexpr __int128 kKi = 1024, kK = 1000;
  const Suffix suffixes[] = {
      {"Ki", kKi}, {"Mi", kKi * kKi}, {"Gi", kKi * kKi * kKi}, {"Ti", kKi * kKi * kKi * kKi},
      {"Pi", kKi * kKi * kKi * kKi * kKi}, {"Ei", kKi * kKi * kKi * kKi * kKi * kKi},
      {"k", kK}, {"K", kK}, {"M", kK * kK}, {"G", kK * kK * kK}, {"T", kK * kK * kK * kK},
      {"P", kK * kK * kK * kK * kK}, {"E", kK * kK * kK * kK * kK * kK},
  };
  std::string_view number = text;
  __int128 multiplier = 1;
  for (const auto& suffix : suffixes) {
    if (text.size() > suffix.text.size() && text.ends_with(suffix.text)) {
      number = text.substr(0, text.size() - suffix.text.size());
      multiplier = suffix.multiplier;
      break;
    }
  }
  std::int64_t bytes = 0;
  if (!ScaledValue(number, multiplier, 1, bytes)) return Err(QuantityError(text, field, "memory", kExample));
  return bytes;
}

}  // namespace paddlecloud::cluster
