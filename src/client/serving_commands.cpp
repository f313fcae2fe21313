#include "client/serving_commands.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "client/api_client.h"
#include "client/cloud_files.h"
#include "client/file_commands.h"
#include "client/file_transfer.h"
#include "client/log_follow.h"
#include "client/output.h"
#include "client/transfer_progress.h"
#include "client/wait_progress.h"

namespace paddlecloud::client {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::string_view kCloudPrefix = "pc:";
constexpr char kServingPath[] = "/api/v1/serving";
constexpr auto kReadyDeadline = 10min;
constexpr auto kPollInterval = 500ms;
constexpr auto kPredictTimeout = 90s;  // the gateway gives a replica 60 s

std::string InstancePath(const std::string& name) { return std::string(kServingPath) + "/" + EncodeComponent(name); }

// A URL of the API's answer (relative to the server) as one to open.
std::string Absolute(const ApiClient& client, const std::string& url) {
  return url.starts_with("/") ? client.server() + url : url;
}

std::optional<double> NumberAt(const json::value& v, std::initializer_list<std::string_view> path) {
  const json::value* cur = &v;
  for (auto key : path) {
    if (!cur->is_object() || !(cur = cur->as_object().if_contains(key))) return std::nullopt;
  }
  if (cur->is_double()) return cur->as_double();
  if (cur->is_int64()) return static_cast<double>(cur->as_int64());
  if (cur->is_uint64()) return static_cast<double>(cur->as_uint64());
  return std::nullopt;
}

std::string Fixed(double value, const char* format) {
  char text[48];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

// "500m CPU, 256Mi memory, 0 GPUs" per replica.
std::string ResourcesText(const json::value& instance) {
  std::int64_t gpus = IntAt(instance, {"resources", "gpus"});
  return StringAt(instance, {"resources", "cpu"}) + " CPU, " + StringAt(instance, {"resources", "memory"}) + " memory, " +
         std::to_string(gpus) + (gpus == 1 ? " GPU" : " GPUs");
}

// "2 replicas of 1 CPU, 1.0 GiB memory, 0 GPUs"
std::string ReplicasText(const json::value& instance) {
  std::int64_t desired = IntAt(instance, {"replicas", "desired"});
  return std::to_string(desired) + (desired == 1 ? " replica of " : " replicas of ") + ResourcesText(instance);
}

bool Waiting(const json::value& instance) {
  std::string state = StringAt(instance, {"state"});
  return state == "starting" || state == "degraded";
}

// Polls the instance until it is neither starting nor degraded; Unavailable past kReadyDeadline.
Result<json::value> WaitUntilReady(ApiClient& client, json::value instance) {
  std::string name = StringAt(instance, {"name"});
  WaitProgress progress("Serving " + name);
  auto deadline = Clock::now() + kReadyDeadline;
  while (Waiting(instance)) {
    progress.Show(ServingStateText(instance));
    if (Clock::now() >= deadline) {
      progress.Finish();
      return Err(Status::Unavailable("serving instance " + name + " is still " + ServingStateText(instance) +
                                     " after 10 minutes; see `paddlecloud serving list`"));
    }
    std::this_thread::sleep_for(kPollInterval);
    auto polled = client.Call("GET", InstancePath(name));
    if (!polled) {
      progress.Finish();
      return Err(polled.error());
    }
    instance = std::move(*polled);
  }
  progress.Finish();
  return instance;
}

// Waits when asked, then prints where the instance answers; kExitError when it did not get ready.
int ReportInstance(ApiClient& client, json::value instance, bool wait) {
  std::string name = StringAt(instance, {"name"});
  if (wait) {
    auto waited = WaitUntilReady(client, std::move(instance));
    if (!waited) return FailSignedIn(client, waited.error());
    instance = std::move(*waited);
    if (StringAt(instance, {"state"}) != "ready") {
      std::string message = StringAt(instance, {"message"});
      return Fail(Status::Unavailable("serving instance " + name + " did not get ready: " + ServingStateText(instance) +
                                      (message.empty() ? "" : "\n" + message)));
    }
    std::cout << "Serving " << name << ": ready, " << ReplicasText(instance) << "\n";
  }
  std::cout << "URL:   " << Absolute(client, StringAt(instance, {"url"})) << "\n";
  std::string infer = StringAt(instance, {"infer_url"});
  if (!infer.empty()) std::cout << "Infer: POST " << Absolute(client, infer) << "\n";
  std::cout << std::flush;
  return kExitOk;
}

// Runs `method target` for the signed-in user and hands the answer to `then`.
int CallThen(const ConnectionFlags& connection, const Environment& env, std::string_view method,
             const std::string& target, const json::value& body,
             const std::function<int(ApiClient&, json::value&)>& then) {
  int exit_code = kExitOk;
  auto client = ConnectSignedIn(connection, env, exit_code);
  if (!client) return exit_code;
  auto answer = client->Call(method, target, body);
  if (!answer) return FailRequest(*client, answer.error());
  return then(*client, *answer);
}

Result<std::string> ReadAll(const std::string& path) {
  std::ostringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
    return text.str();
  }
  std::error_code ec;
  std::ifstream in(path, std::ios::binary);
  if (!fs::is_regular_file(path, ec) || !in) return Err(Status::InvalidArgument("cannot read the file " + path));
  text << in.rdbuf();
  return text.str();
}

// Uploads the local model to models/<name>/ and returns the cloud path to launch from. A name an
// instance has already is refused first: an upload for a launch that fails would be wasted.
Result<std::string> UploadModel(ApiClient& client, const Environment& env, const std::string& name,
                                const std::string& local) {
  auto existing = client.Call("GET", InstancePath(name));
  if (existing)
    return Err(Status::Conflict("a serving instance named " + name + " exists already (" +
                                ServingStateText(*existing) + "); choose another --name"));
  if (existing.error().code() != Code::kNotFound) return Err(existing.error());
  std::error_code ec;
  bool folder = fs::is_directory(local, ec);
  std::string folder_path = "models/" + name;
  std::string cloud = UploadedModelPath(name, local, folder);
  std::cerr << "Uploading " << DisplayPath(local) << " to " << cloud << (folder ? "/" : "") << "\n";
  TransferProgress progress(0);
  TransferContext ctx{client, env, progress};
  Status sent = folder ? UploadTree(ctx, local, folder_path) : EnsureFolder(client, folder_path);
  if (sent.ok() && !folder) sent = UploadFile(ctx, local, DisplayPath(local), cloud);
  if (!sent.ok()) return Err(sent);
  progress.Summary("Uploaded");
  return cloud;
}

}  // namespace

// --- pieces -------------------------------------------------------------------------------

Result<ModelSource> ResolveModelSource(const std::string& model_path) {
  if (model_path.starts_with(kCloudPrefix)) {
    auto cloud = NormalizeCloudPath(model_path.substr(kCloudPrefix.size()));
    if (!cloud) return Err(Status::InvalidArgument(cloud.error().message(), "model"));
    if (cloud->empty()) return Err(Status::InvalidArgument("MODEL_PATH names no model: " + model_path, "model"));
    return ModelSource{.local = false, .path = *cloud};
  }
  std::error_code ec;
  auto status = fs::status(model_path, ec);
  bool looks_local = model_path.starts_with("/") || model_path.starts_with("./") || model_path.starts_with("../") ||
                     model_path == "." || model_path == "..";
  if (!ec && fs::exists(status)) {
    bool archive = model_path.ends_with(".tar.gz") || model_path.ends_with(".tgz");
    if (fs::is_directory(status) || (fs::is_regular_file(status) && (archive || model_path.ends_with(".onnx"))))
      return ModelSource{.local = true, .path = model_path};
    return Err(Status::InvalidArgument(
        model_path + " is not a folder, an .onnx file or a .tar.gz archive (write pc:" + model_path +
            " for the cloud path)", "model"));
  }
  if (looks_local) return Err(Status::InvalidArgument(model_path + ": no such local file or folder", "model"));
  auto cloud = NormalizeCloudPath(model_path);
  if (!cloud) return Err(Status::InvalidArgument(cloud.error().message(), "model"));
  if (cloud->empty()) return Err(Status::InvalidArgument("MODEL_PATH names no model", "model"));
  return ModelSource{.local = false, .path = *cloud};
}

std::string UploadedModelPath(const std::string& name, const std::string& local_path, bool is_folder) {
  std::string folder = "models/" + name;
  return is_folder ? folder : folder + "/" + LocalName(local_path);
}

std::string InferRuntime(const std::string& runtime, const std::string& command, const std::string& model_py) {
  if (!runtime.empty()) return runtime;
  if (!command.empty()) return "command";
  if (!model_py.empty()) return "python";
  return "onnx";
}

Status CheckServingName(const std::string& name) {
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  bool ok = !name.empty() && name.size() <= 40 && alnum(name.front()) && alnum(name.back()) &&
            std::all_of(name.begin(), name.end(), [&](char c) { return alnum(c) || c == '-'; });
  if (ok) return Status::Ok();
  return Status::InvalidArgument("--name '" + name + "': use 1 to 40 lower-case letters, digits and '-', " +
                                     "starting and ending with a letter or digit",
                                 "name");
}

std::string ServingStateText(const json::value& instance) {
  std::string state = StringAt(instance, {"state"});
  if (state == "starting" || state == "degraded")
    return state + " (" + std::to_string(IntAt(instance, {"replicas", "ready"})) + "/" +
           std::to_string(IntAt(instance, {"replicas", "desired"})) + " replicas ready)";
  std::string reason = StringAt(instance, {"reason"});
  return reason.empty() || reason == state ? state : state + " (" + reason + ")";
}

std::string FormatServingList(const json::value& list, const std::string& server) {
  const auto& instances = ArrayAt(list, "instances");
  if (instances.empty()) return "No serving instances.\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& instance : instances) {
    auto figure = [&](std::string_view key, const char* format, double scale = 1) {
      auto value = NumberAt(instance, {"stats", key});
      return value ? Fixed(*value * scale, format) : std::string("-");
    };
    std::string url = StringAt(instance, {"url"});
    rows.push_back({StringAt(instance, {"name"}), StringAt(instance, {"runtime"}),
                    std::to_string(IntAt(instance, {"replicas", "ready"})) + "/" +
                        std::to_string(IntAt(instance, {"replicas", "desired"})),
                    figure("qps", "%.1f"), figure("p99_ms", "%.1f ms"), figure("error_rate", "%.1f%%", 100),
                    ServingStateText(instance), url.starts_with("/") ? server + url : url});
  }
  return FormatTable({"NAME", "RUNTIME", "REPLICAS", "QPS", "P99", "ERRORS", "STATE", "URL"}, rows);
}

std::string DirectInferTarget(const std::string& name) {
  auto slash = name.find('/');
  if (slash == std::string::npos) return "";
  std::string account = EncodeComponent(name.substr(0, slash));
  std::string instance = EncodeComponent(name.substr(slash + 1));
  return "/serving/" + account + "/" + instance + "/v2/models/" + instance + "/infer";
}

// --- commands -----------------------------------------------------------------------------

int Serve(const ServeFlags& flags, const Environment& env) {
  if (Status named = CheckServingName(flags.name); !named.ok()) return FailUsage(named.message());
  auto source = ResolveModelSource(flags.model);
  if (!source) return FailUsage(source.error().message());
  std::string model_py;
  if (!flags.model_py.empty()) {
    auto read = ReadAll(flags.model_py);
    if (!read) return FailUsage("--model-py: " + read.error().message());
    model_py = std::move(*read);
  }
  int exit_code = kExitOk;
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  std::string model = source->path;
  if (source->local) {
    auto uploaded = UploadModel(*client, env, flags.name, source->path);
    if (!uploaded) return FailRequest(*client, uploaded.error());
    model = *uploaded;
  }
  json::object body{{"name", flags.name}, {"model", model},
                    {"runtime", InferRuntime(flags.runtime, flags.command, model_py)}, {"public", flags.is_public}};
  if (!flags.model_file.empty()) body["model_file"] = flags.model_file;
  if (!model_py.empty()) body["model_py"] = model_py;
  if (!flags.command.empty()) body["command"] = flags.command;
  if (flags.replicas >= 0) body["replicas"] = flags.replicas;
  if (!flags.cpu.empty()) body["cpu"] = flags.cpu;
  if (!flags.memory.empty()) body["memory"] = flags.memory;
  if (flags.gpus >= 0) body["gpus"] = flags.gpus;
  auto launched = client->Call("POST", kServingPath, body);
  if (!launched) return FailRequest(*client, launched.error());
  std::cout << "Launched " << StringAt(*launched, {"name"}) << " from " << StringAt(*launched, {"model"}) << " ("
            << StringAt(*launched, {"runtime"}) << ", " << ReplicasText(*launched)
            << "): " << ServingStateText(*launched) << "\n";
  return ReportInstance(*client, std::move(*launched), flags.wait);
}

int ListServing(const ServingListFlags& flags, const Environment& env) {
  return CallThen(flags.connection, env, "GET", kServingPath, nullptr, [&](ApiClient& client, json::value& list) {
    std::cout << (flags.output == "json" ? json::serialize(list) + "\n" : FormatServingList(list, client.server()));
    return kExitOk;
  });
}

int ScaleServing(const ServingScaleFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  auto scaled = client->Call("POST", InstancePath(flags.name) + "/scale", json::object{{"replicas", flags.replicas}});
  if (!scaled) return FailRequest(*client, scaled.error());
  std::cout << "Scaling " << flags.name << " to " << ReplicasText(*scaled) << ": " << ServingStateText(*scaled) << "\n";
  if (!flags.wait) return kExitOk;
  return ReportInstance(*client, std::move(*scaled), true);
}

int DeactivateServing(const ServingNameFlags& flags, const Environment& env) {
  return CallThen(flags.connection, env, "POST", InstancePath(flags.name) + "/deactivate", nullptr,
                  [&](ApiClient&, json::value& instance) {
                    std::cout << "Deactivated " << flags.name << ": " << ServingStateText(instance)
                              << "; it stays listed. Activate it again with: paddlecloud serving activate "
                              << flags.name << "\n";
                    return kExitOk;
                  });
}

int ActivateServing(const ServingNameFlags& flags, const Environment& env) {
  return CallThen(flags.connection, env, "POST", InstancePath(flags.name) + "/activate", nullptr,
                  [&](ApiClient& client, json::value& instance) {
                    std::cout << "Activated " << flags.name << " with " << ReplicasText(instance) << ": "
                              << ServingStateText(instance) << "\n";
                    if (!flags.wait) return kExitOk;
                    return ReportInstance(client, std::move(instance), true);
                  });
}

int DeleteServing(const ServingNameFlags& flags, const Environment& env) {
  return CallThen(flags.connection, env, "DELETE", InstancePath(flags.name), nullptr, [&](ApiClient&, json::value&) {
    std::cout << "Deleted serving instance " << flags.name << "\n";
    return kExitOk;
  });
}

int ServingLogs(const ServingLogsFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  std::string log_path = InstancePath(flags.name) + "/replicas/" + std::to_string(flags.replica) + "/logs";
  std::string label = "replica " + std::to_string(flags.replica) + " of " + flags.name;
  if (flags.follow) {
    auto state = FollowLog(*client, log_path, label, flags.lines);
    if (!state) return FailSignedIn(*client, state.error());
    std::cerr << "The log of " << label << " ended" << (state->empty() ? "" : " (" + *state + ")") << "\n";
    return kExitOk;
  }
  auto log = client->Call("GET", log_path + "?tail=" + std::to_string(flags.lines));
  if (!log) return FailSignedIn(*client, log.error());
  std::string text = StringAt(*log, {"text"});
  std::cout << text;
  if (!text.empty() && text.back() != '\n') std::cout << "\n";
  const json::value* started = log->is_object() ? log->as_object().if_contains("started") : nullptr;
  if (started && started->is_bool() && !started->as_bool())
    std::cerr << "paddlecloud: " << label << " has not started yet\n";
  return kExitOk;
}

int Predict(const PredictFlags& flags, const Environment& env) {
  auto request = ReadAll(flags.json_file);
  if (!request) return FailUsage("--json: " + request.error().message());
  boost::system::error_code ec;
  json::value parsed = json::parse(*request, ec);
  if (ec || !parsed.is_object())
    return FailUsage("--json: " + (flags.json_file == "-" ? std::string("stdin") : flags.json_file) +
                     " is not a JSON object (an Open Inference Protocol request: {\"inputs\": [...]})");
  int exit_code = kExitOk;
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  std::string target = DirectInferTarget(flags.name);
  if (target.empty()) {
    auto instance = client->Call("GET", InstancePath(flags.name));
    if (!instance) {
      Status error = instance.error();
      if (error.details().count("reason") && error.details().at("reason") == "token_scope")
        error = Status::Of(error.code(), error.message() + "; an invoke-only token calls the instance as ACCOUNT/" +
                                             flags.name + " (paddlecloud predict ACCOUNT/" + flags.name + " ...)");
      return FailSignedIn(*client, error);
    }
    target = StringAt(*instance, {"infer_url"});
    if (target.empty()) return Fail(Status::Internal("the server's answer names no infer_url for " + flags.name));
  }
  ClientOptions options = client->options();
  options.timeout = kPredictTimeout;
  auto gateway = ApiClient::Create(std::move(options));
  if (!gateway) return Fail(gateway.error());
  auto answer = gateway->Send("POST", target, *request, {{"Content-Type", "application/json"}});
  if (!answer) return FailSignedIn(*client, answer.error());
  if (answer->status < 200 || answer->status >= 300)
    return FailSignedIn(*client, ErrorFromResponse(answer->status, answer->body, answer->header("retry-after")));
  std::cout << answer->body;
  if (!answer->body.empty() && answer->body.back() != '\n') std::cout << "\n";
  return kExitOk;
}

}  // namespace paddlecloud::client
