#include "model_server/model_server.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>
#include <variant>

#include <boost/asio/signal_set.hpp>
#include <boost/json/parse.hpp>
#include <CLI/CLI.hpp>

#include "http/json.h"

namespace paddlecloud::model_server {
namespace asio = boost::asio;
namespace json = boost::json;
using http::Request;
using http::Response;

namespace {

constexpr const char* kServerName = "paddlecloud-model-server";
constexpr const char* kVersion = "0.1.0";

Response JsonText(int status, std::string body) { return Response::Text(status, std::move(body), "application/json"); }
Response Error(int status, std::string_view message) { return JsonText(status, ErrorBody(message)); }
Response Error(const Status& status) { return Error(HttpStatusOf(status.code()), status.message()); }

// The protocol's 404 for a model name this server does not serve; nullopt when it is ours.
std::optional<Response> OtherModel(const Request& request, const ServedModel& served) {
  if (request.PathParam("model") == served.name) return std::nullopt;
  return Error(404, "model '" + std::string(request.PathParam("model")) + "' is not served here (this server serves '" +
                        served.name + "')");
}

// The whole body, or PayloadTooLarge past `limit` (before reading it when Content-Length says so).
asio::awaitable<Result<std::string>> ReadBody(http::BodyStream& stream, std::uint64_t limit) {
  auto too_large = [&] {
    return std::unexpected(Status::PayloadTooLarge("request body is over the limit of " + std::to_string(limit) + " bytes"));
  };
  if (auto declared = stream.content_length(); declared && *declared > limit) co_return too_large();
  std::string body;
  if (auto declared = stream.content_length()) body.reserve(*declared);
  char chunk[64 * 1024];
  for (;;) {
    auto n = co_await stream.Read(chunk, sizeof chunk);
    if (!n) co_return std::unexpected(n.error());
    if (*n == 0) co_return body;
    if (body.size() + *n > limit) co_return too_large();
    body.append(chunk, *n);
  }
}

// Parse, run and render: the CPU work, on a worker thread.
Response Infer(const ServedModel& served, const std::string& body) {
  auto request = ParseInferRequest(body, served.model->signature());
  if (!request) return Error(request.error());
  auto outputs = served.model->Infer(*request);
  if (!outputs) return Error(outputs.error());
  return JsonText(200, RenderInferResponse(served.name, request->id, *outputs));
}

asio::awaitable<Response> HandleInfer(Request& request, const ServedModel& served) {
  if (auto other = OtherModel(request, served)) co_return std::move(*other);
  auto body = co_await ReadBody(*request.body_stream, served.max_body_bytes);
  if (!body) co_return Error(body.error());
  co_return co_await served.workers->Run([&served, &body] { return Infer(served, *body); });
}

void AddGet(http::Router& router, std::string pattern, std::string summary, std::function<Response(Request&)> answer) {
  router.Add("GET", std::move(pattern), std::move(summary),
             [answer = std::move(answer)](Request& request) -> asio::awaitable<Response> { co_return answer(request); },
             http::RouteOptions::Public());
}

}  // namespace

void AddProtocolRoutes(http::Router& router, const ServedModel& served) {
  AddGet(router, "/v2", "Server metadata", [](Request&) {
    return http::JsonResponse(200, json::object{{"name", kServerName}, {"version", kVersion}, {"extensions", json::array{}}});
  });
  AddGet(router, "/v2/health/live", "Liveness", [](Request&) { return http::JsonResponse(200, json::object{{"live", true}}); });
  AddGet(router, "/v2/health/ready", "Readiness",
         [](Request&) { return http::JsonResponse(200, json::object{{"ready", true}}); });
  AddGet(router, "/v2/models/{model}", "Model metadata", [&served](Request& request) {
    if (auto other = OtherModel(request, served)) return std::move(*other);
    return http::JsonResponse(200, ModelMetadata(served.name, served.model->signature()));
  });
  AddGet(router, "/v2/models/{model}/ready", "Model readiness", [&served](Request& request) {
    if (auto other = OtherModel(request, served)) return std::move(*other);
    return http::JsonResponse(200, json::object{{"name", served.name}, {"ready", true}});
  });
  router.Add("POST", "/v2/models/{model}/infer", "Inference",
             [&served](Request& request) { return HandleInfer(request, served); },
             http::RouteOptions{.streaming_body = true, .public_access = true});
}

http::Middleware ProtocolErrors() {
  return [](Request& request, const http::Handler& next) -> asio::awaitable<Response> {
    Response response = co_await next(request);
    if (response.status < 400 || response.stream) co_return response;
    boost::system::error_code ec;
    json::value body = json::parse(response.body, ec);
    const json::object* error = nullptr;
    if (!ec && body.is_object()) {
      if (auto value = body.as_object().if_contains("error"); value && value->is_object()) error = &value->as_object();
    }
    if (error && error->contains("message") && error->at("message").is_string())
      response.body = ErrorBody(error->at("message").as_string());
    co_return response;
  };
}

namespace {

struct CommandLine {
  std::string model_path;
  std::string name;
  int port = 8080;
  std::string listen = "127.0.0.1";
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::uint64_t max_body_bytes = 64ull << 20;
};

// The exit code instead when parsing ends the program (--help, bad flags).
std::variant<CommandLine, int> ParseCommandLine(int argc, char** argv) {
  CommandLine line;
  if (const char* port = std::getenv("PORT")) line.port = std::atoi(port);
  CLI::App app{"Serves one ONNX model over the Open Inference Protocol (KServe v2 REST)", kServerName};
  app.add_option("--model", line.model_path, "The .onnx file")->required();
  app.add_option("--name", line.name, "The model's name in /v2/models/{name}")->required();
  app.add_option("--port", line.port, "TCP port (default $PORT, else 8080; 0: any free port)")->check(CLI::Range(0, 65535));
  app.add_option("--listen", line.listen, "Address to listen on")->capture_default_str();
  app.add_option("--threads", line.threads, "Inference workers, each with its own copy of the network")
      ->check(CLI::Range(1, 256))->capture_default_str();
  app.add_option("--max-body", line.max_body_bytes, "Largest infer request body in bytes (413 past it)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 32))->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return line;
}

}  // namespace

int RunModelServer(int argc, char** argv) {
  auto parsed = ParseCommandLine(argc, argv);
  if (auto* code = std::get_if<int>(&parsed)) return *code;
  const auto& line = std::get<CommandLine>(parsed);

  auto model = OnnxModel::Load(line.model_path, line.threads);
  if (!model) {
    std::fprintf(stderr, "%s: %s\n", kServerName, model.error().message().c_str());
    return 1;
  }
  blocking::WorkPool workers(line.threads);
  ServedModel served{.name = line.name, .model = model->get(), .workers = &workers, .max_body_bytes = line.max_body_bytes};
  http::Router router;
  AddProtocolRoutes(router, served);
  http::HttpServerOptions options;
  options.listen = line.listen + ":" + std::to_string(line.port);
  options.max_body_bytes = 64 * 1024;  // routes other than infer take no body
  http::HttpServer server(options, router);
  server.Use(ProtocolErrors());
  if (Status started = server.Start(); !started.ok()) {
    std::fprintf(stderr, "%s: %s\n", kServerName, started.message().c_str());
    return 1;
  }
  asio::signal_set signals(server.io(), SIGTERM, SIGINT);
  signals.async_wait([&server](const boost::system::error_code& ec, int) {
    if (!ec) server.Shutdown();
  });
  std::printf("%s: model %s ready on %s\n", kServerName, line.name.c_str(), server.bound_address().c_str());
  std::fflush(stdout);
  server.Run();
  workers.Stop();
  return 0;
}

}  // namespace paddlecloud::model_server
