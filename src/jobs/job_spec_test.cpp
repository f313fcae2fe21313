#include "jobs/job_spec.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace paddlecloud::jobs {
namespace {

namespace json = boost::json;

Result<JobSpec> Parse(const std::string& text) { return ParseJobSpec(json::parse(text).as_object()); }

TEST(JobSpecTest, ParsesTheBriefsFieldsWithQuantities) {
  auto spec = Parse(R"({"name":"fit-a-line","entry":"python3 train.py","num_trainer":2,"cpu_per_trainer":"500m",
                        "mem_per_trainer":"512Mi","gpu_per_trainer":0,"num_ps":1,"cpu_per_ps":1,"mem_per_ps":"1G",
                        "env":{"PASSES":"20"},"max_restarts":2,"fault_tolerant":1})");
  ASSERT_TRUE(spec) << spec.error().ToString();
  EXPECT_EQ(spec->num_trainer, 2);
  EXPECT_EQ(spec->trainer.cpu_milli, 500);
  EXPECT_EQ(spec->trainer.memory_bytes, 512LL << 20);
  EXPECT_EQ(spec->pserver.cpu_milli, 1000);
  EXPECT_EQ(spec->pserver.memory_bytes, 1000000000);
  EXPECT_EQ(spec->env.at("PASSES"), "20");
  auto round_trip = ParseJobSpec(JobSpecToJson(*spec));
  ASSERT_TRUE(round_trip);
  EXPECT_EQ(round_trip->trainer.memory_bytes, spec->trainer.memory_bytes);
  EXPECT_EQ(JobSpecToJson(*spec).at("cpu_per_trainer"), "500m");
  EXPECT_EQ(JobSpecToJson(*spec).at("mem_per_trainer"), "512Mi");
  auto again = Parse(R"({"name":"a","entry":"x","code_from_job":7})");
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(ParseJobSpec(JobSpecToJson(*again))->code_from_job, 7);
}

TEST(JobSpecTest, BadSpecsNameTheField) {
  struct Case {
    std::string body, field;
  };
  for (const auto& c : std::vector<Case>{
           {R"({"entry":"x"})", "name"},
           {R"({"name":"Bad_Name","entry":"x"})", "name"},
           {R"({"name":"a","entry":"   "})", "entry"},
           {R"({"name":"a","entry":"x","num_trainer":-1})", "num_trainer"},
           {R"({"name":"a","entry":"x","num_trainer":"two"})", "num_trainer"},
           {R"({"name":"a","entry":"x","cpu_per_trainer":"lots"})", "cpu_per_trainer"},
           {R"({"name":"a","entry":"x","mem_per_trainer":"-1Gi"})", "mem_per_trainer"},
           {R"({"name":"a","entry":"x","mem_per_trainer":"1Xi"})", "mem_per_trainer"},
           {R"({"name":"a","entry":"x","num_trainers":2})", "num_trainers"},
           {R"({"name":"a","entry":"x","env":{"PADDLE_PORT":"1"}})", "env.PADDLE_PORT"},
           {R"({"name":"a","entry":"x","env":{"A":1}})", "env.A"},
           {R"({"name":"a","entry":"x","workdir":"../other"})", "workdir"},
           {R"({"name":"a","entry":"x","num_trainer":2,"fault_tolerant":2})", "fault_tolerant"},
           {R"({"name":"a","entry":"x","code_from_job":-3})", "code_from_job"},
           {R"({"name":"a","entry":"x","code_from_job":"7"})", "code_from_job"},
           {R"({"name":"a","entry":"x","code_from_job":7,"package":"pkg_x"})", "code_from_job"},
           {R"({"name":"a","entry":"x","code_from_job":7,"workdir":"workspace/a"})", "code_from_job"},
       }) {
    auto spec = Parse(c.body);
    ASSERT_FALSE(spec) << c.body;
    EXPECT_EQ(spec.error().field(), c.field) << c.body << " -> " << spec.error().ToString();
  }
  EXPECT_EQ(Parse(R"({"name":"a","entry":"x","mem_per_trainer":"lots"})").error().message(),
            "mem_per_trainer: \"lots\" is not a memory quantity (use e.g. 512Mi, 1Gi or 1G)");
  EXPECT_EQ(Parse(R"({"name":"a","entry":"x","cpu_per_ps":"-1"})").error().message(),
            "cpu_per_ps: CPU quantity must not be negative");
}

}  // namespace
}  // namespace paddlecloud::jobs
