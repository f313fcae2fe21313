// Paddle Board end to end: the real binary reads the event files a real job writes into its board
// folder (TensorBoard and VisualDL, independent bytes from testdata/eventfiles), serves its graphs,
// ranges and live points, exports them, records standalone runs, and shows nothing of it to another
// account or through links planted in the folder.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <map>

#include "testing/http_client.h"
#include "testing/platform_fixture.h"
#include "testing/server_process.h"

namespace paddlecloud {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kTestdata = std::string(PADDLECLOUD_SOURCE_DIR) + "/testdata/eventfiles";

class BoardTest : public testing::PlatformTest {
 protected:
  void SetUp() override {
    PlatformTest::SetUp();
    StartServer({"--board-points-per-pod", "8"});
    ann_ = RegisterUser("ann@example.com", "ann-lab");
    eve_ = RegisterUser("eve@example.com", "eve-lab");
  }
  void TearDown() override {
    if (job_ > 0) CallWith(ann_, "POST", "/api/v1/jobs/" + std::to_string(job_) + "/stop");
  }
  json::value Json(const std::string& token, const std::string& method, const std::string& target,
                   const json::value& body = nullptr, int expected = 200) {
    auto r = CallWith(token, method, target, body);
    EXPECT_TRUE(r);
    if (!r) return nullptr;
    EXPECT_EQ(r->status, expected) << method << " " << target << ": " << r->body;
    return r->body.empty() ? json::value(nullptr) : json::parse(r->body);
  }
  json::value Get(const std::string& target) { return Json(ann_, "GET", target); }
  std::string Workspace() {
    auto me = json::parse(CallWith(ann_, "GET", "/api/v1/me")->body);
    return dir_.path() + "/data/files/ann-lab/workspace/" + std::to_string(me.at("user").at("id").as_int64());
  }
  std::string Board() const { return "/api/v1/jobs/" + std::to_string(job_) + "/board"; }
  std::string Source() const { return "job:" + std::to_string(job_); }
  // The curve of `graph` named `curve` in a board listing, or null.
  static json::value Curve(const json::value& board, const std::string& graph, const std::string& curve) {
    for (const auto& g : board.at("graphs").as_array())
      if (g.at("name").as_string() == graph)
        for (const auto& c : g.at("curves").as_array())
          if (c.at("curve").as_string() == curve) return c;
    return nullptr;
  }

  std::string ann_, eve_;
  std::int64_t job_ = 0;
};

TEST_F(BoardTest, EventFilesOfARunningJobAreGraphedLiveExportedAndHiddenFromOthers) {
  const std::string exp = Workspace() + "/board-exp";
  fs::create_directories(exp);
  fs::copy(kTestdata + "/events.out.tfevents.1700000000.testhost.4242.0", exp);
  fs::copy(kTestdata + "/vdlrecords.1700000000.log", exp);
  // The job copies the TensorBoard file into its board at once, plants links to where it must not
  // read, and copies the VisualDL file into a subfolder only once the test says so.
  auto submitted = CallWith(ann_, "POST", "/api/v1/jobs",
                            {{"name", "board"},
                             {"workdir", "workspace/board-exp"},
                             {"entry",
                              "B=$PADDLE_CLOUD_JOB_DIR/board && cp events.out.tfevents.* $B/ && "
                              "ln -s /data/workspace/board-exp $B/linked && "
                              "ln -s /data/workspace/board-exp/vdlrecords.1700000000.log $B/vdlrecords.1.log && "
                              "while [ ! -e /data/workspace/board-exp/go ]; do sleep 0.1; done && "
                              "mkdir $B/eval && cp events.out.* $B/eval/events.out.tfevents.1700000000 && cp vdlrecords.* $B/eval/ && "
                              "sleep 600"}});
  ASSERT_EQ(submitted->status, 201) << submitted->body;
  job_ = json::parse(submitted->body).at("id").as_int64();

  json::value board;
  ASSERT_TRUE(testing::WaitFor([&] {
    board = Get(Board());
    return !Curve(board, "lr", "lr").is_null();
  }, 60s)) << json::serialize(board) << server_->Log();
  json::value loss = Curve(board, "train", "loss");
  EXPECT_EQ(loss.at("pod").as_string(), "testhost");
  EXPECT_EQ(loss.at("points").as_int64(), 3);
  EXPECT_EQ(loss.at("last_step").as_int64(), 2);
  EXPECT_EQ(Curve(board, "eval", "accuracy").at("points").as_int64(), 2);
  EXPECT_TRUE(Curve(board, "train", "acc").is_null()) << "a linked file was read: " << board;

  // Exact points, NaN kept.
  auto data = Get("/api/v1/board/data?source=" + Source() + "&graph=train");
  const json::value& series = data.at("series").at(0);
  EXPECT_TRUE(series.at("exact").as_bool());
  EXPECT_EQ(json::serialize(series.at("step")), "[0,1,2]");
  EXPECT_EQ(series.at("last").at(0).to_number<double>(), 2.5);
  EXPECT_EQ(series.at("last").at(1).to_number<double>(), 1.25);
  EXPECT_EQ(series.at("last").at(2).as_string(), "NaN");
  EXPECT_EQ(series.at("wall_time").at(0).to_number<double>(), 1700000001.5);

  // Live: the VisualDL file arrives while the stream is open.
  testing::RawConnection stream(addr_);
  ASSERT_TRUE(stream.Send("GET /api/v1/board/stream?source=" + Source() + " HTTP/1.1\r\nHost: " + addr_ +
                          "\r\nAuthorization: Bearer " + ann_ + "\r\nAccept: text/event-stream\r\n\r\n"));
  ASSERT_NE(stream.ReadUntil("\r\n\r\n", 10s).find("200"), std::string::npos);
  std::ofstream(exp + "/go") << "go";
  std::string live = stream.ReadUntil("\"value\":[\"-Infinity\"]", 20s);
  EXPECT_NE(live.find("event: points"), std::string::npos) << live << server_->Log();
  EXPECT_NE(live.find("\"curve\":\"acc\",\"pod\":\"eval\",\"step\":[3],\"value\":[\"-Infinity\"]"),
            std::string::npos) << live;

  // The pod limit (8 points): pod "eval" wrote 7 points in its TensorBoard file, then 4 in its
  // VisualDL file, of which only the first found room.
  ASSERT_TRUE(testing::WaitFor([&] { return Get(Board()).at("skipped").at("over_limit").as_int64() > 0; }, 20s))
      << server_->Log();
  EXPECT_NE(server_->Log().find("board_points_per_pod"), std::string::npos);

  // Export: every raw point.
  auto csv = CallWith(ann_, "GET", Board() + "/export?format=csv");
  ASSERT_EQ(csv->status, 200) << csv->body;
  EXPECT_NE(csv->body.find("graph,curve,pod,step,wall_time,value\r\n"), std::string::npos);
  EXPECT_NE(csv->body.find("train,loss,testhost,1,1700000002.500,1.25\r\n"), std::string::npos) << csv->body;
  auto exported = Get(Board() + "/export?format=json");
  EXPECT_GE(exported.at("points").as_array().size(), 7u);

  // Listed as a source.
  auto sources = Get("/api/v1/board/sources");
  EXPECT_EQ(sources.at("sources").at(0).at("source").as_string(), Source()) << sources;

  // Another account: none of it exists.
  for (const std::string& target :
       {Board(), Board() + "/export", "/api/v1/board/data?source=" + Source() + "&graph=train",
        "/api/v1/board/stream?source=" + Source()})
    EXPECT_EQ(CallWith(eve_, "GET", target)->status, 404) << target;
  EXPECT_TRUE(Json(eve_, "GET", "/api/v1/board/sources").at("sources").as_array().empty());

  // Stopped: the stream ends, the graphs stay.
  ASSERT_EQ(CallWith(ann_, "POST", "/api/v1/jobs/" + std::to_string(job_) + "/stop")->status, 202);
  EXPECT_NE(stream.ReadUntil("event: end", 30s).find("event: end"), std::string::npos);
  EXPECT_EQ(Curve(Get(Board()), "train", "loss").at("points").as_int64(), 3);
  job_ = 0;
}

TEST_F(BoardTest, EveryJobThatDrewIsASource) {
  const std::string exp = Workspace() + "/board-exp";
  fs::create_directories(exp);
  fs::copy(kTestdata + "/events.out.tfevents.1700000000.testhost.4242.0", exp);
  std::vector<std::int64_t> ids;
  for (const char* name : {"first", "second"}) {
    auto submitted = CallWith(ann_, "POST", "/api/v1/jobs",
                              {{"name", name}, {"workdir", "workspace/board-exp"},
                               {"entry", "cp events.out.* $PADDLE_CLOUD_JOB_DIR/board/"}});
    ASSERT_EQ(submitted->status, 201) << submitted->body;
    ids.push_back(json::parse(submitted->body).at("id").as_int64());
  }
  json::value sources;
  ASSERT_TRUE(testing::WaitFor([&] {
    sources = Get("/api/v1/board/sources");
    return sources.at("sources").as_array().size() == 2;
  }, 60s)) << json::serialize(sources) << server_->Log();
  // Listed newest board first: the jobs run side by side, so either may have drawn first.
  std::map<std::string, json::object> by_source;
  for (const auto& s : sources.at("sources").as_array()) by_source[std::string(s.at("source").as_string())] = s.as_object();
  ASSERT_TRUE(by_source.contains("job:" + std::to_string(ids[0]))) << sources;
  ASSERT_TRUE(by_source.contains("job:" + std::to_string(ids[1]))) << sources;
  EXPECT_EQ(by_source["job:" + std::to_string(ids[1])].at("curves").as_int64(), 4);
  EXPECT_EQ(by_source["job:" + std::to_string(ids[0])].at("name").as_string(), "first");
}

TEST_F(BoardTest, TheBriefsThreeCallsRunInAJobAndDrawThreeGraphsNamedAsWritten) {
  fs::create_directories(Workspace() + "/board_seed");
  fs::copy(std::string(PADDLECLOUD_SOURCE_DIR) + "/examples/board_seed", Workspace() + "/board_seed",
           fs::copy_options::recursive);
  auto submitted = CallWith(ann_, "POST", "/api/v1/jobs",
                            {{"name", "seed"}, {"workdir", "workspace/board_seed"},
                             {"entry", "python3 train.py --steps 2"}});  // 8 points: the fixture's pod limit
  ASSERT_EQ(submitted->status, 201) << submitted->body;
  job_ = json::parse(submitted->body).at("id").as_int64();
  json::value job;
  ASSERT_TRUE(testing::WaitFor([&] {
    job = Get("/api/v1/jobs/" + std::to_string(job_));
    return job.at("state").as_string() != "Pending" && job.at("state").as_string() != "Running";
  }, 60s));
  ASSERT_EQ(job.at("state").as_string(), "Succeeded") << job;
  const std::vector<std::pair<std::string, std::string>> curves = {
      {"cost, evaluator", "cost"}, {"cost, evaluator", "evaluator"}, {"my_metric", "my_metric"},
      {"my_metric_value", "my_metric_value"}};
  // The ingester reads the pod's last events within a pass or two of its end.
  json::value board;
  testing::WaitFor([&] {
    board = Get(Board());
    for (const auto& [graph, curve] : curves) {
      json::value c = Curve(board, graph, curve);
      if (!c.is_object() || c.at("points").as_int64() < 2) return false;
    }
    return true;
  }, 30s);
  std::vector<std::string> graphs;
  for (const auto& g : board.at("graphs").as_array()) graphs.emplace_back(g.at("name").as_string());
  EXPECT_EQ(graphs, (std::vector<std::string>{"cost, evaluator", "my_metric", "my_metric_value"})) << board;
  for (const auto& [graph, curve] : curves) {
    json::value c = Curve(board, graph, curve);
    ASSERT_FALSE(c.is_null()) << graph << "/" << curve << ": " << board;
    EXPECT_EQ(c.at("points").as_int64(), 2) << graph << "/" << curve;
    EXPECT_EQ(c.at("pod").as_string(), "trainer-0");
  }
  job_ = 0;
}

TEST_F(BoardTest, BadQueriesAreClearErrors) {
  auto submitted = CallWith(ann_, "POST", "/api/v1/jobs", {{"name", "idle"}, {"entry", "sleep 600"}});
  ASSERT_EQ(submitted->status, 201) << submitted->body;
  job_ = json::parse(submitted->body).at("id").as_int64();
  const std::string data = "/api/v1/board/data?source=" + Source() + "&graph=g";
  for (const auto& [query, field] : std::vector<std::pair<std::string, std::string>>{
           {"/api/v1/board/data?graph=g", "source"},
           {"/api/v1/board/data?source=job:x&graph=g", "source"},
           {"/api/v1/board/data?source=" + Source(), "graph"},
           {data + "&from_step=10&to_step=2", "from_step"},
           {data + "&to_step=ten", "to_step"},
           {data + "&points=0", "points"},
           {data + "&points=5001", "points"},
           {data + "&smoothing=1", "smoothing"},
           {data + "&smoothing=-0.1", "smoothing"},
           {Board() + "/export?format=xml", "format"}}) {
    auto r = CallWith(ann_, "GET", query);
    EXPECT_EQ(r->status, 400) << query << ": " << r->body;
    EXPECT_NE(r->body.find("\"field\":\"" + field + "\""), std::string::npos) << query << ": " << r->body;
  }
  // An empty board is an empty answer, not an error.
  EXPECT_TRUE(Get(Board()).at("graphs").as_array().empty());
  EXPECT_TRUE(Get(data).at("series").as_array().empty());
  EXPECT_EQ(CallWith(ann_, "GET", "/api/v1/board/data?source=job:999999&graph=g")->status, 404);
}

TEST_F(BoardTest, StandaloneRunsRecordPointsThroughTheApi) {
  auto run = Json(ann_, "POST", "/api/v1/board/runs", {{"name", "lr-sweep"}}, 201);
  const std::string id = std::to_string(run.at("id").as_int64());
  EXPECT_EQ(run.at("source").as_string(), "run:" + id);
  auto clash = CallWith(ann_, "POST", "/api/v1/board/runs", {{"name", "lr-sweep"}});
  EXPECT_EQ(clash->status, 409) << clash->body;
  EXPECT_NE(clash->body.find("\"field\":\"name\""), std::string::npos);
  for (const char* bad : {"", "a/b", "tab\there"})
    EXPECT_EQ(CallWith(ann_, "POST", "/api/v1/board/runs", {{"name", bad}})->status, 400) << bad;

  const std::string points = "/api/v1/board/runs/" + id + "/points";
  json::array batch;
  for (int step = 0; step < 3; ++step)
    batch.push_back({{"graph", "cost"}, {"curve", "cost"}, {"step", step}, {"value", 1.0 / (step + 1)},
                     {"wall_time", 1700000000.0 + step}});
  batch.push_back({{"graph", "cost"}, {"curve", "cost"}, {"step", 1}, {"value", 9.0}});  // behind: skipped
  batch.push_back({{"graph", "cost"}, {"curve", "test"}, {"step", 0}, {"value", "Infinity"}});
  auto stored = Json(ann_, "POST", points, {{"points", batch}});
  EXPECT_EQ(stored.at("stored").as_int64(), 4);
  EXPECT_EQ(stored.at("skipped").as_int64(), 1);

  auto data = Get("/api/v1/board/data?source=run:" + id + "&graph=cost&smoothing=0.5");
  ASSERT_EQ(data.at("series").as_array().size(), 2u) << data;
  const json::value& cost = data.at("series").at(0).at("last");
  EXPECT_EQ(cost.at(0).to_number<double>(), 1.0);
  EXPECT_EQ(cost.at(1).to_number<double>(), 0.5);
  EXPECT_FLOAT_EQ(static_cast<float>(cost.at(2).to_number<double>()), 1.0f / 3);
  EXPECT_EQ(data.at("series").at(0).at("smoothed").as_array().size(), 3u);
  EXPECT_EQ(json::serialize(data.at("series").at(1).at("max")), "[\"Infinity\"]");

  // Bad points are refused whole, naming the field.
  for (const auto& [point, field] : std::vector<std::pair<json::value, std::string>>{
           {json::object{{"graph", "g"}, {"curve", "c"}, {"step", 5}, {"value", "lots"}}, "points[0].value"},
           {json::object{{"graph", std::string(257, 'g')}, {"curve", "c"}, {"step", 5}, {"value", 1}}, "points[0].graph"},
           {json::object{{"graph", "g"}, {"curve", "c\n"}, {"step", 5}, {"value", 1}}, "points[0].curve"},
           {json::object{{"graph", "g"}, {"curve", "c"}, {"step", 1.5}, {"value", 1}}, "points[0].step"}}) {
    auto r = CallWith(ann_, "POST", points, {{"points", json::array{point}}});
    EXPECT_EQ(r->status, 400) << r->body;
    EXPECT_NE(r->body.find("\"field\":\"" + field + "\""), std::string::npos) << r->body;
  }
  json::array too_many(10'001, json::object{{"graph", "g"}, {"curve", "c"}, {"step", 1}, {"value", 1}});
  EXPECT_EQ(CallWith(ann_, "POST", points, {{"points", too_many}})->status, 400);

  // Another account sees nothing, writes nothing.
  EXPECT_EQ(CallWith(eve_, "GET", "/api/v1/board/runs/" + id)->status, 404);
  EXPECT_EQ(CallWith(eve_, "POST", points, {{"points", json::array{}}})->status, 404);
  EXPECT_EQ(CallWith(eve_, "DELETE", "/api/v1/board/runs/" + id)->status, 404);
  EXPECT_TRUE(Json(eve_, "GET", "/api/v1/board/runs").at("runs").as_array().empty());

  EXPECT_EQ(Get("/api/v1/board/runs").at("runs").at(0).at("curves").as_int64(), 2);
  EXPECT_EQ(CallWith(ann_, "DELETE", "/api/v1/board/runs/" + id)->status, 204);
  EXPECT_EQ(CallWith(ann_, "GET", "/api/v1/board/runs/" + id + "/board")->status, 404);
}

}  // namespace
}  // namespace paddlecloud
