#include "api/board_routes.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "api/request_params.h"
#include "board/board_appender.h"
#include "board/board_ingester.h"
#include "board/board_store.h"
#include "http/json.h"
#include "http/sse.h"

namespace paddlecloud::api {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using board::BoardSource;
using board::CurveKey;
using board::Point;
using http::ErrorResponse;
using http::JsonResponse;
using http::Request;
using http::Response;

constexpr std::size_t kMaxCompared = 20;
constexpr std::size_t kMaxPointsPerRequest = 10'000;
constexpr std::size_t kMaxExportPoints = 5'000'000;
constexpr std::size_t kMaxOpenRunBoards = 64;

// The boards of standalone runs being written, one appender each (appenders are not thread-safe).
class RunBoards {
 public:
  explicit RunBoards(board::BoardHub& hub) : hub_(hub) {}

  Result<board::AppendCounts> Append(const BoardSource& run, std::vector<std::pair<CurveKey, std::vector<Point>>> curves,
                                     std::size_t& curves_now) {
    std::lock_guard lock(mutex_);
    auto& appender = open_[run.id];
    if (!appender) {
      std::error_code ec;
      std::filesystem::create_directories(std::filesystem::path(run.dir).parent_path(), ec);
      auto opened = board::BoardAppender::Open(run.dir, run.source, hub_);
      if (!opened) {
        open_.erase(run.id);
        return Err(opened.error());
      }
      appender = std::move(*opened);
      if (open_.size() > kMaxOpenRunBoards)  // close another run's board: reopening one is cheap
        open_.erase(open_.begin()->first != run.id ? open_.begin() : std::next(open_.begin()));
    }
    board::AppendCounts total;
    for (auto& [key, points] : curves) {
      auto counts = appender->Append(key, std::move(points));
      if (!counts) return Err(counts.error());
      total.stored += counts->stored;
      total.out_of_order += counts->out_of_order;
    }
    curves_now = appender->curves();
    return total;
  }

  void Forget(std::int64_t run_id) {
    std::lock_guard lock(mutex_);
    open_.erase(run_id);
  }

 private:
  board::BoardHub& hub_;
  std::mutex mutex_;
  std::map<std::int64_t, std::unique_ptr<board::BoardAppender>> open_;
};

struct BoardApi {
  board::BoardSources& sources;
  board::BoardHub& hub;
  blocking::WorkPool& pool;
  std::shared_ptr<RunBoards> runs;
};

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Numbers as text: a stored value as the shortest decimal of its float, non-finite ones as strings.
void AppendValue(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "\"NaN\"";
  } else if (std::isinf(v)) {
    out += v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    char text[32];
    auto [end, ec] = std::to_chars(text, text + sizeof text, static_cast<float>(v));
    out.append(text, end);
  }
}

void AppendWallTime(std::string& out, double seconds) {
  char text[40];
  auto [end, ec] = std::to_chars(text, text + sizeof text, seconds, std::chars_format::fixed, 3);
  out.append(text, end);
}

template <typename T, typename Write>
void AppendArray(std::string& out, std::string_view name, const std::vector<T>& values, Write write) {
  out += ",\"";
  out += name;
  out += "\":[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    write(out, values[i]);
  }
  out += ']';
}

void AppendInt(std::string& out, std::int64_t v) { out += std::to_string(v); }
void AppendCount(std::string& out, std::uint32_t v) { out += std::to_string(v); }

std::string Quoted(std::string_view text) { return json::serialize(json::string(text)); }

void AppendSeries(std::string& out, const BoardSource& source, const board::CurveBuckets& c, bool smoothed) {
  out += "{\"source\":" + Quoted(source.source) + ",\"curve\":" + Quoted(c.key.curve) + ",\"pod\":" + Quoted(c.key.pod) +
         ",\"exact\":" + (c.exact ? "true" : "false") + ",\"bucket_steps\":" + std::to_string(c.bucket_steps);
  AppendArray(out, "step", c.step, AppendInt);
  AppendArray(out, "min", c.min, AppendValue);
  AppendArray(out, "max", c.max, AppendValue);
  AppendArray(out, "mean", c.mean, AppendValue);
  AppendArray(out, "last", c.last, AppendValue);
  AppendArray(out, "count", c.count, AppendCount);
  AppendArray(out, "wall_time", c.wall_time_s, AppendWallTime);
  if (smoothed) AppendArray(out, "smoothed", c.smoothed, AppendValue);
  out += '}';
}

Response RawJson(std::string body, std::string content_type = "application/json") {
  Response response{.status = 200};
  response.headers.Set("Content-Type", std::move(content_type));
  response.body = std::move(body);
  return response;
}

json::object SourceJson(const BoardSource& s) {
  json::object o{{"source", s.source}, {"kind", s.kind}, {"id", s.id}, {"name", s.name},
                 {"created_at", s.created_at}, {"curves", s.curves}};
  o["last_point_at"] = s.last_point_at ? json::value(*s.last_point_at) : json::value(nullptr);
  if (s.kind == "job") o["state"] = s.state;
  return o;
}

// {"source","graphs":[{"name","curves":[...]}],"skipped":{...}}
Result<std::string> GraphsOf(const BoardSource& source) {
  auto curves = board::ListCurves(source.dir);
  if (!curves) return Err(curves.error());
  std::vector<std::string> order;
  std::map<std::string, std::string> graphs;  // name -> its curves as JSON text
  for (const board::CurveInfo& c : *curves) {
    auto [it, added] = graphs.try_emplace(c.key.graph);
    if (added) order.push_back(c.key.graph);
    std::string& text = it->second;
    if (!text.empty()) text += ',';
    text += "{\"curve\":" + Quoted(c.key.curve) + ",\"pod\":" + Quoted(c.key.pod) + ",\"points\":" +
            std::to_string(c.points) + ",\"first_step\":" + std::to_string(c.first_step) +
            ",\"last_step\":" + std::to_string(c.last_step) + ",\"last_value\":";
    AppendValue(text, c.last_value);
    text += ",\"last_wall_time\":";
    AppendWallTime(text, c.last_wall_time_s);
    text += '}';
  }
  std::string out = "{\"source\":" + Quoted(source.source) + ",\"graphs\":[";
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"name\":" + Quoted(order[i]) + ",\"curves\":[" + graphs[order[i]] + "]}";
  }
  board::Skipped skipped = board::ReadSkipped(source.dir);
  out += "],\"skipped\":" + json::serialize(json::object{{"corrupt_records", skipped.corrupt_records},
                                                         {"out_of_order", skipped.out_of_order},
                                                         {"over_limit", skipped.over_limit}}) +
         '}';
  return out;
}

asio::awaitable<Response> GetSources(BoardApi api, Request& request) {
  auto sources = co_await api.pool.Run([&] { return api.sources.List(*request.principal); });
  if (!sources) co_return ErrorResponse(sources.error());
  json::array out;
  for (const BoardSource& s : *sources) out.push_back(SourceJson(s));
  co_return JsonResponse(200, {{"sources", std::move(out)}});
}

Result<std::string> SourceOfPath(const Request& request) {
  if (request.path_params.contains("job")) {
    auto id = PathId(request, "job", "job with id");
    if (!id) return Err(id.error());
    return "job:" + std::to_string(*id);
  }
  auto id = PathId(request, "run", "run with id");
  if (!id) return Err(id.error());
  return "run:" + std::to_string(*id);
}

asio::awaitable<Response> GetBoard(BoardApi api, Request& request) {
  auto name = SourceOfPath(request);
  if (!name) co_return ErrorResponse(name.error());
  auto body = co_await api.pool.Run([&]() -> Result<std::string> {
    auto source = api.sources.Resolve(*request.principal, *name);
    if (!source) return Err(source.error());
    return GraphsOf(*source);
  });
  if (!body) co_return ErrorResponse(body.error());
  co_return RawJson(std::move(*body));
}

// The sources named by `source=` parameters, each as the principal may see it.
Result<std::vector<BoardSource>> ResolveSources(BoardApi& api, const Request& request) {
  std::vector<std::string> names = QueryAll(request, "source");
  if (names.empty()) return Err(Status::InvalidArgument("name at least one source: job:<id> or run:<id>", "source"));
  if (names.size() > kMaxCompared)
    return Err(Status::InvalidArgument("at most " + std::to_string(kMaxCompared) + " sources at once", "source"));
  std::vector<BoardSource> out;
  std::set<std::string> seen;
  for (const std::string& name : names) {
    if (!seen.insert(name).second) continue;
    auto source = api.sources.Resolve(*request.principal, name);
    if (!source) return Err(source.error());
    out.push_back(std::move(*source));
  }
  return out;
}

Result<board::RangeQuery> RangeOf(const Request& request) {
  board::RangeQuery range;
  auto from = QueryInt(request, "from_step");
  if (!from) return Err(from.error());
  auto to = QueryInt(request, "to_step");
  if (!to) return Err(to.error());
  auto points = QueryInt(request, "points");
  if (!points) return Err(points.error());
  range.from_step = *from;
  range.to_step = *to;
  if (*points) {
    if (**points < 1 || **points > 5000) return Err(Status::InvalidArgument("points must be from 1 to 5000", "points"));
    range.points = static_cast<std::size_t>(**points);
  }
  if (range.from_step && range.to_step && *range.from_step > *range.to_step)
    return Err(Status::InvalidArgument("from_step must not be above to_step", "from_step"));
  if (auto w = request.Query("smoothing"); w && !w->empty()) {
    double weight = -1;
    auto [end, ec] = std::from_chars(w->data(), w->data() + w->size(), weight);
    if (ec != std::errc() || end != w->data() + w->size() || !(weight >= 0 && weight < 1))
      return Err(Status::InvalidArgument("smoothing must be a number from 0 to below 1", "smoothing"));
    range.smoothing = weight;
  }
  return range;
}

asio::awaitable<Response> GetData(BoardApi api, Request& request) {
  auto graph = request.Query("graph");
  if (!graph || graph->empty()) co_return ErrorResponse(Status::InvalidArgument("name the graph to draw", "graph"));
  auto range = RangeOf(request);
  if (!range) co_return ErrorResponse(range.error());
  auto body = co_await api.pool.Run([&]() -> Result<std::string> {
    auto sources = ResolveSources(api, request);
    if (!sources) return Err(sources.error());
    std::string out = "{\"graph\":" + Quoted(*graph) + ",\"series\":[";
    bool first = true;
    for (const BoardSource& source : *sources) {
      auto curves = board::QueryGraph(source.dir, std::string(*graph), *range);
      if (!curves) return Err(curves.error());
      for (const board::CurveBuckets& c : *curves) {
        if (!first) out += ',';
        first = false;
        AppendSeries(out, source, c, range->smoothing.has_value());
      }
    }
    out += "]}";
    return out;
  });
  if (!body) co_return ErrorResponse(body.error());
  co_return RawJson(std::move(*body));
}

std::string LiveJson(const board::LiveBatch& batch) {
  std::string out = "{\"source\":" + Quoted(batch.source) + ",\"graph\":" + Quoted(batch.key.graph) +
                    ",\"curve\":" + Quoted(batch.key.curve) + ",\"pod\":" + Quoted(batch.key.pod);
  std::vector<std::int64_t> steps;
  std::vector<double> values, walls;
  for (const Point& p : batch.points) {
    steps.push_back(p.step);
    values.push_back(p.value);
    walls.push_back(p.wall_time_s);
  }
  AppendArray(out, "step", steps, AppendInt);
  AppendArray(out, "value", values, AppendValue);
  AppendArray(out, "wall_time", walls, AppendWallTime);
  return out + '}';
}

// Sends each source's new points until every source is a job that has ended, the client leaves or
// the server stops.
asio::awaitable<void> FollowBoards(BoardApi api, std::vector<BoardSource> sources, std::uint64_t after,
                                   http::SseWriter& out) {
  auto executor = co_await asio::this_coro::executor;
  std::set<std::string> following;
  for (const BoardSource& s : sources) {
    bool ended = s.kind == "job" && s.state != "Pending" && s.state != "Running";
    if (!ended) {
      following.insert(s.source);
      continue;
    }
    json::object end{{"source", s.source}};
    if (!co_await out.Send("end", json::serialize(end))) co_return;
  }
  for (int idle = 0; !following.empty() && !out.stopping(); ++idle) {
    board::BoardHub::Since since = api.hub.After(after, following);
    after = since.through;
    if (since.lost && !co_await out.Send("reset", "{}")) co_return;
    for (const board::LiveBatch& batch : since.batches) {
      idle = 0;
      if (batch.ended) {
        following.erase(batch.source);
        json::object end{{"source", batch.source}};
        if (!co_await out.Send("end", json::serialize(end))) co_return;
      } else if (!co_await out.Send("points", LiveJson(batch))) {
        co_return;
      }
    }
    if (idle % 60 == 59 && !co_await out.Comment("keep-alive")) co_return;
    asio::steady_timer timer(executor, std::chrono::milliseconds(250));
    co_await timer.async_wait(asio::use_awaitable);
  }
}

asio::awaitable<Response> StreamBoards(BoardApi api, Request& request) {
  const std::uint64_t after = api.hub.latest();  // points stored from now on; earlier ones: GET /board/data
  auto sources = co_await api.pool.Run([&] { return ResolveSources(api, request); });
  if (!sources) co_return ErrorResponse(sources.error());
  co_return http::SseResponse([api, sources = std::move(*sources), after](http::SseWriter& out) {
    return FollowBoards(api, sources, after, out);
  });
}

std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + '"';
}

asio::awaitable<Response> ExportBoard(BoardApi api, Request& request) {
  auto name = SourceOfPath(request);
  if (!name) co_return ErrorResponse(name.error());
  const std::string format(request.Query("format").value_or("csv"));
  if (format != "csv" && format != "json")
    co_return ErrorResponse(Status::InvalidArgument("format must be csv or json", "format"));
  auto body = co_await api.pool.Run([&]() -> Result<std::string> {
    auto source = api.sources.Resolve(*request.principal, *name);
    if (!source) return Err(source.error());
    std::string out = format == "csv" ? "graph,curve,pod,step,wall_time,value\r\n" : "{\"points\":[";
    std::size_t exported = 0;
    Status done = board::ExportPoints(source->dir, [&](const CurveKey& key, std::span<const Point> points) -> Status {
      exported += points.size();
      if (exported > kMaxExportPoints)
        return Status::ResourceExhausted("the board holds more than " + std::to_string(kMaxExportPoints) +
                                         " points: too many to export at once");
      const std::string prefix = format == "csv"
                                     ? CsvField(key.graph) + ',' + CsvField(key.curve) + ',' + CsvField(key.pod) + ','
                                     : "{\"graph\":" + Quoted(key.graph) + ",\"curve\":" + Quoted(key.curve) +
                                           ",\"pod\":" + Quoted(key.pod) + ",\"step\":";
      for (const Point& p : points) {
        if (format == "json" && out.back() == '}') out += ',';
        out += prefix + std::to_string(p.step) + (format == "csv" ? "," : ",\"wall_time\":");
        AppendWallTime(out, p.wall_time_s);
        out += format == "csv" ? "," : ",\"value\":";
        AppendValue(out, p.value);
        out += format == "csv" ? "\r\n" : "}";
      }
      return Status::Ok();
    });
    if (!done.ok()) return Err(done);
    if (format == "json") out += "]}";
    return out;
  });
  if (!body) co_return ErrorResponse(body.error());
  Response response = RawJson(std::move(*body), format == "csv" ? "text/csv; charset=utf-8" : "application/json");
  response.headers.Set("Content-Disposition", "attachment; filename=\"board-" +
                                                  std::string(name->substr(0, name->find(':'))) + "-" +
                                                  name->substr(name->find(':') + 1) + "." + format + "\"");
  co_return response;
}

json::object RunJson(const BoardSource& run) {
  json::object o = SourceJson(run);
  o.erase("kind");
  return o;
}

asio::awaitable<Response> CreateRun(BoardApi api, Request& request) {
  auto object = http::ParseJsonObject(request.body);
  if (!object) co_return ErrorResponse(object.error());
  http::JsonReader reader(*object);
  auto name = reader.String("name");
  if (!name) co_return ErrorResponse(name.error());
  if (Status s = reader.Finish(); !s.ok()) co_return ErrorResponse(s);
  auto run = co_await api.pool.Run([&] { return api.sources.CreateRun(*request.principal, *name); });
  if (!run) co_return ErrorResponse(run.error());
  co_return JsonResponse(201, RunJson(*run));
}

asio::awaitable<Response> ListRuns(BoardApi api, Request& request) {
  auto runs = co_await api.pool.Run([&] { return api.sources.Runs(*request.principal); });
  if (!runs) co_return ErrorResponse(runs.error());
  json::array out;
  for (const BoardSource& r : *runs) out.push_back(RunJson(r));
  co_return JsonResponse(200, {{"runs", std::move(out)}});
}

asio::awaitable<Response> GetRun(BoardApi api, Request& request) {
  auto id = PathId(request, "run", "run with id");
  if (!id) co_return ErrorResponse(id.error());
  auto run = co_await api.pool.Run([&] { return api.sources.Resolve(*request.principal, "run:" + std::to_string(*id)); });
  if (!run) co_return ErrorResponse(run.error());
  co_return JsonResponse(200, RunJson(*run));
}

asio::awaitable<Response> DeleteRun(BoardApi api, Request& request) {
  auto id = PathId(request, "run", "run with id");
  if (!id) co_return ErrorResponse(id.error());
  api.runs->Forget(*id);
  Status deleted = co_await api.pool.Run([&] { return api.sources.DeleteRun(*request.principal, *id); });
  if (!deleted.ok()) co_return ErrorResponse(deleted);
  co_return Response{.status = 204};
}

Result<double> ValueOf(const json::value& v, const std::string& field) {
  if (v.is_double()) return v.as_double();
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  if (v.is_string()) {
    const json::string& s = v.as_string();
    if (s == "NaN") return std::nan("");
    if (s == "Infinity") return HUGE_VAL;
    if (s == "-Infinity") return -HUGE_VAL;
  }
  return Err(Status::InvalidArgument(field + " must be a number, \"NaN\", \"Infinity\" or \"-Infinity\"", field));
}

// {"points":[{"graph","curve","step","value","wall_time"?}]}: grouped by curve, in order.
Result<std::vector<std::pair<CurveKey, std::vector<Point>>>> PointsOf(const Request& request) {
  auto object = http::ParseJsonObject(request.body);
  if (!object) return Err(object.error());
  const json::value* list = object->if_contains("points");
  if (!list || !list->is_array()) return Err(Status::InvalidArgument("points must be an array", "points"));
  if (list->as_array().size() > kMaxPointsPerRequest)
    return Err(Status::InvalidArgument("at most " + std::to_string(kMaxPointsPerRequest) + " points a request", "points"));
  const double now_s = static_cast<double>(NowMs()) / 1000;
  std::vector<std::pair<CurveKey, std::vector<Point>>> curves;
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  std::size_t i = 0;
  for (const json::value& item : list->as_array()) {
    const std::string at = "points[" + std::to_string(i++) + "]";
    if (!item.is_object()) return Err(Status::InvalidArgument(at + " must be an object", at));
    http::JsonReader reader(item.as_object());
    auto graph = reader.String("graph");
    if (!graph) return Err(Status::InvalidArgument(at + ".graph: " + graph.error().message(), at + ".graph"));
    auto curve = reader.String("curve");
    if (!curve) return Err(Status::InvalidArgument(at + ".curve: " + curve.error().message(), at + ".curve"));
    for (const auto& [field, name] : {std::pair{".graph", &*graph}, std::pair{".curve", &*curve}})
      if (!board::ValidName(*name))
        return Err(Status::InvalidArgument(at + field + " must be 1 to 256 bytes of UTF-8 without control characters",
                                           at + field));
    auto step = reader.Int("step");
    if (!step) return Err(Status::InvalidArgument(at + ".step must be an integer", at + ".step"));
    const json::value* raw_value = reader.Raw("value");
    if (!raw_value) return Err(Status::InvalidArgument(at + ".value is required", at + ".value"));
    auto value = ValueOf(*raw_value, at + ".value");
    if (!value) return Err(value.error());
    double wall = now_s;
    if (const json::value* w = reader.Raw("wall_time"); w && !w->is_null()) {
      auto given = ValueOf(*w, at + ".wall_time");
      if (!given || !std::isfinite(*given) || *given < 0)
        return Err(Status::InvalidArgument(at + ".wall_time must be seconds since the epoch", at + ".wall_time"));
      wall = *given;
    }
    if (Status s = reader.Finish(); !s.ok()) return Err(s);
    auto [it, added] = index.try_emplace({*graph, *curve}, curves.size());
    if (added) curves.push_back({CurveKey{*graph, *curve, ""}, {}});
    curves[it->second].second.push_back({*step, wall, *value});
  }
  return curves;
}

asio::awaitable<Response> AddRunPoints(BoardApi api, Request& request) {
  auto id = PathId(request, "run", "run with id");
  if (!id) co_return ErrorResponse(id.error());
  auto counts = co_await api.pool.Run([&]() -> Result<board::AppendCounts> {
    auto run = api.sources.Resolve(*request.principal, "run:" + std::to_string(*id));
    if (!run) return Err(run.error());
    if (!api.sources.MayWrite(*request.principal, *run))
      return Err(Status::PermissionDenied("a job's token may write only the runs it created"));
    auto curves = PointsOf(request);
    if (!curves) return Err(curves.error());
    std::size_t curves_now = 0;
    auto stored = api.runs->Append(*run, std::move(*curves), curves_now);
    if (!stored) return Err(stored.error());
    if (stored->stored > 0) {
      Status noted = api.sources.NoteRunPoints(*run, static_cast<std::int64_t>(curves_now), NowMs() / 1000);
      if (!noted.ok()) return Err(noted);
    }
    return stored;
  });
  if (!counts) co_return ErrorResponse(counts.error());
  co_return JsonResponse(200, {{"stored", counts->stored}, {"skipped", counts->out_of_order}});
}

}  // namespace

void AddBoardRoutes(http::Router& router, board::BoardSources& sources, board::BoardHub& hub, blocking::WorkPool& pool) {
  auto handle = [api = BoardApi{sources, hub, pool, std::make_shared<RunBoards>(hub)}](
                    asio::awaitable<Response> (*handler)(BoardApi, Request&)) -> http::Handler {
    return [api, handler](Request& request) { return handler(api, request); };
  };
  router.Add("GET", "/api/v1/board/sources", "Jobs with board data and standalone runs the caller may open, newest first",
             handle(GetSources));
  router.Add("GET", "/api/v1/jobs/{job}/board", "A job's board: its graphs and their curves", handle(GetBoard));
  router.Add("GET", "/api/v1/jobs/{job}/board/export", "Every raw point of a job's board as CSV or JSON (format=csv|json)",
             handle(ExportBoard));
  router.Add("GET", "/api/v1/board/data",
             "One graph of one or several sources (source=job:<id>|run:<id>, repeated) over from_step..to_step in at "
             "most `points` buckets of min/max/mean/last, optionally smoothed",
             handle(GetData));
  router.Add("GET", "/api/v1/board/stream", "New points of the given sources as Server-Sent Events",
             handle(StreamBoards));
  router.Add("POST", "/api/v1/board/runs", "Create a standalone run, recorded through the API", handle(CreateRun),
             http::RouteOptions().WithBodyLimit(4 * 1024));
  router.Add("GET", "/api/v1/board/runs", "The account's standalone runs", handle(ListRuns));
  router.Add("GET", "/api/v1/board/runs/{run}", "A standalone run", handle(GetRun));
  router.Add("DELETE", "/api/v1/board/runs/{run}", "Delete a standalone run and its points (its creator or the master)",
             handle(DeleteRun));
  router.Add("GET", "/api/v1/board/runs/{run}/board", "A run's board: its graphs and their curves", handle(GetBoard));
  router.Add("GET", "/api/v1/board/runs/{run}/board/export", "Every raw point of a run's board as CSV or JSON",
             handle(ExportBoard));
  router.Add("POST", "/api/v1/board/runs/{run}/points", "Append points to a run's curves (at most 10,000 a request)",
             handle(AddRunPoints), http::RouteOptions().WithBodyLimit(4 * 1024 * 1024));
}

}  // namespace paddlecloud::api
