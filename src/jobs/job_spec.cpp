#include "jobs/job_spec.h"

#include <boost/json/serialize.hpp>

#include "common/names.h"
#include "common/units.h"
#include "http/json.h"

namespace paddlecloud::jobs {

namespace json = boost::json;

Status ReadQuantity(http::JsonReader& reader, const char* field, std::int64_t& out,
                    Result<std::int64_t> (*parse)(std::string_view), std::string_view what, std::string_view example) {
  const json::value* v = reader.Raw(field);
  if (!v) return Status::Ok();
  std::string text;
  if (v->is_string()) text = std::string(v->as_string());
  else if (v->is_int64()) text = std::to_string(v->as_int64());
  else if (v->is_uint64()) text = std::to_string(v->as_uint64());
  else if (v->is_double()) text = json::serialize(*v);
  else return Status::InvalidArgument(std::string("field '") + field + "' must be a quantity like \"500m\" or \"1Gi\"", field);
  auto parsed = parse(text);
  if (!parsed) {
    std::string why = text.starts_with('-') ? std::string(what) + " quantity must not be negative"
                                            : "\"" + text + "\" is not a " + std::string(what) + " quantity (use e.g. " +
                                                  std::string(example) + ")";
    return Status::InvalidArgument(std::string(field) + ": " + why, field);
  }
  out = *parsed;
  return Status::Ok();
}

namespace {

constexpr std::string_view kCpuExample = "2, 500m or 1.5";
constexpr std::string_view kMemoryExample = "512Mi, 1Gi or 1G";

Status ReadCount(http::JsonReader& reader, const char* field, int& out, int lo, int hi) {
  auto v = reader.OptionalInt(field);
  if (!v) return v.error();
  if (!*v) return Status::Ok();
  if (**v < lo || **v > hi)
    return Status::InvalidArgument(std::string("field '") + field + "' must be from " + std::to_string(lo) + " to " +
                                       std::to_string(hi),
                                   field);
  out = static_cast<int>(**v);
  return Status::Ok();
}

}  // namespace

Result<JobSpec> ParseJobSpec(const json::object& object) {
  JobSpec spec;
  spec.trainer = {.cpu_milli = 1000, .memory_bytes = 1LL << 30, .gpus = 0};
  spec.pserver = {.cpu_milli = 1000, .memory_bytes = 1LL << 30, .gpus = 0};
  http::JsonReader r(object);
  auto name = r.String("name");
  if (!name) return Err(name.error());
  spec.name = *name;
  PC_RETURN_IF_ERROR(names::CheckDnsLabel(spec.name, "job name", "name", 1, 40));
  auto entry = r.String("entry");
  if (!entry) return Err(entry.error());
  spec.entry = *entry;
  if (spec.entry.find_first_not_of(" \t") == std::string::npos)
    return Err(Status::InvalidArgument("field 'entry' must be a command, e.g. \"python3 train.py\"", "entry"));
  if (spec.entry.size() > 4096) return Err(Status::InvalidArgument("field 'entry' must be at most 4096 bytes", "entry"));

  PC_RETURN_IF_ERROR(ReadCount(r, "num_trainer", spec.num_trainer, 1, 256));
  PC_RETURN_IF_ERROR(ReadCount(r, "num_ps", spec.num_ps, 0, 64));
  PC_RETURN_IF_ERROR(ReadQuantity(r, "cpu_per_trainer", spec.trainer.cpu_milli, units::ParseCpuMilli, "CPU", kCpuExample));
  PC_RETURN_IF_ERROR(ReadQuantity(r, "mem_per_trainer", spec.trainer.memory_bytes, units::ParseByteSize, "memory", kMemoryExample));
  PC_RETURN_IF_ERROR(ReadQuantity(r, "cpu_per_ps", spec.pserver.cpu_milli, units::ParseCpuMilli, "CPU", kCpuExample));
  PC_RETURN_IF_ERROR(ReadQuantity(r, "mem_per_ps", spec.pserver.memory_bytes, units::ParseByteSize, "memory", kMemoryExample));
  int gpus = 0;
  PC_RETURN_IF_ERROR(ReadCount(r, "gpu_per_trainer", gpus, 0, 16));
  spec.trainer.gpus = gpus;
  if (spec.trainer.cpu_milli <= 0)
    return Err(Status::InvalidArgument("field 'cpu_per_trainer' must be more than 0", "cpu_per_trainer"));
  if (spec.trainer.memory_bytes < (4 << 20))
    return Err(Status::InvalidArgument("field 'mem_per_trainer' must be at least 4Mi", "mem_per_trainer"));
  if (spec.num_ps > 0 && spec.pserver.cpu_milli <= 0)
    return Err(Status::InvalidArgument("field 'cpu_per_ps' must be more than 0", "cpu_per_ps"));
  if (spec.num_ps > 0 && spec.pserver.memory_bytes < (4 << 20))
    return Err(Status::InvalidArgument("field 'mem_per_ps' must be at least 4Mi", "mem_per_ps"));

  for (auto [field, out] : {std::pair{"image", &spec.image}, std::pair{"workdir", &spec.workdir},
                            std::pair{"package", &spec.package}}) {
    auto v = r.OptionalString(field);
    if (!v) return Err(v.error());
    *out = v->value_or("");
  }
  auto from_job = r.OptionalInt("code_from_job");
  if (!from_job) return Err(from_job.error());
  spec.code_from_job = from_job->value_or(0);
  if (spec.code_from_job < 0)
    return Err(Status::InvalidArgument("field 'code_from_job' must be a job id", "code_from_job"));
  if (spec.code_from_job > 0 && (!spec.package.empty() || !spec.workdir.empty()))
    return Err(Status::InvalidArgument("give one of package, workdir or code_from_job", "code_from_job"));
  if (spec.workdir.find("..") != std::string::npos || (!spec.workdir.empty() && spec.workdir.front() == '/'))
    return Err(Status::InvalidArgument("field 'workdir' must be a relative path inside your files, without '..'",
                                       "workdir"));
  if (const json::value* env = r.Raw("env")) {
    if (!env->is_object()) return Err(Status::InvalidArgument("field 'env' must be an object of strings", "env"));
    for (const auto& [key, value] : env->as_object()) {
      std::string k(key);
      bool valid = !k.empty() && !std::isdigit(static_cast<unsigned char>(k.front()));
      for (char c : k) valid &= std::isalnum(static_cast<unsigned char>(c)) || c == '_';
      if (!valid) return Err(Status::InvalidArgument("env name '" + k + "' must be letters, digits and '_'", "env." + k));
      if (k.starts_with("PADDLE_") || k == "TRAINING_ROLE" || k == "POD_IP")
        return Err(Status::InvalidArgument("env name '" + k + "' is set by the platform", "env." + k));
      if (!value.is_string()) return Err(Status::InvalidArgument("env '" + k + "' must be a string", "env." + k));
      spec.env[k] = std::string(value.as_string());
    }
  }
  PC_RETURN_IF_ERROR(ReadCount(r, "max_restarts", spec.max_restarts, 0, 100));
  PC_RETURN_IF_ERROR(ReadCount(r, "fault_tolerant", spec.fault_tolerant, 0, 256));
  if (spec.fault_tolerant >= spec.num_trainer)
    return Err(Status::InvalidArgument("field 'fault_tolerant' must be less than num_trainer", "fault_tolerant"));
  PC_RETURN_IF_ERROR(r.Finish());
  return spec;
}

json::object JobSpecToJson(const JobSpec& spec) {
  json::object env;
  for (const auto& [k, v] : spec.env) env[k] = v;
  return {{"name", spec.name},
          {"entry", spec.entry},
          {"num_trainer", spec.num_trainer},
          {"cpu_per_trainer", units::CpuQuantity(spec.trainer.cpu_milli)},
          {"mem_per_trainer", units::ByteQuantity(spec.trainer.memory_bytes)},
          {"gpu_per_trainer", spec.trainer.gpus},
          {"num_ps", spec.num_ps},
          {"cpu_per_ps", units::CpuQuantity(spec.pserver.cpu_milli)},
          {"mem_per_ps", units::ByteQuantity(spec.pserver.memory_bytes)},
          {"image", spec.image},
          {"env", std::move(env)},
          {"workdir", spec.workdir},
          {"package", spec.package},
          {"code_from_job", spec.code_from_job},
          {"max_restarts", spec.max_restarts},
          {"fault_tolerant", spec.fault_tolerant}};
}

}  // namespace paddlecloud::jobs
