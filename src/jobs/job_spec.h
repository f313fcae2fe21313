// JobSpec: what a user asks to run, validated with errors that name the field.
//
// JSON form (the API's and the SDK's; memory and CPU take Kubernetes quantities):
//   {"name": "fit-a-line", "entry": "python3 train.py",
//    "num_trainer": 2, "cpu_per_trainer": "1", "mem_per_trainer": "512Mi", "gpu_per_trainer": 0,
//    "num_ps": 1, "cpu_per_ps": "500m", "mem_per_ps": "256Mi",
//    "image": "", "env": {"K": "V"}, "workdir": "", "package": "", "code_from_job": 0,
//    "max_restarts": 0, "fault_tolerant": 0}
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "cluster/cluster_backend.h"
#include "common/status.h"
#include "http/json.h"

namespace paddlecloud::jobs {

struct JobSpec {
  std::string name;        // DNS-1123 label, at most 40 characters
  std::string entry;       // command line run by /bin/sh -c in every pod
  int num_trainer = 1;
  cluster::Resources trainer;
  int num_ps = 0;
  cluster::Resources pserver;
  std::string image;
  std::map<std::string, std::string> env;
  std::string workdir;     // a directory in the account's files, relative ("code/fit_a_line")
  std::string package;     // an uploaded package id (the code the CLI/SDK sent); empty: none
  std::int64_t code_from_job = 0;  // run in a copy of that earlier job's code ("Submit again"); 0: none
  int max_restarts = 0;    // per pod
  int fault_tolerant = 0;  // trainer failures the job survives
};

// Parses and validates; unknown fields are rejected. Defaults: 1 trainer with 1 CPU and 1Gi,
// pservers with 1 CPU and 1Gi.
Result<JobSpec> ParseJobSpec(const boost::json::object& object);
boost::json::object JobSpecToJson(const JobSpec& spec);

// Reads `field` of `reader`, a quantity given as a string ("500m") or a number (2), with `parse`
// (common/units.h) into `out`; absent leaves `out` as it is. InvalidArgument naming the field says
// what a `what` quantity looks like (`example`).
Status ReadQuantity(http::JsonReader& reader, const char* field, std::int64_t& out,
                    Result<std::int64_t> (*parse)(std::string_view), std::string_view what, std::string_view example);

}  // namespace paddlecloud::jobs
