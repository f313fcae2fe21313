// `paddlecloud serve`, `serving list|scale|deactivate|activate|delete|logs` and `predict`: serving
// instances (docs/serving.md, "Serving instances (the platform)") from the command line.
//
// Exit codes as the job commands': kExitOk, kExitError (an API, auth or network error with the
// server's message, naming the field of a bad flag; an instance that failed while --wait waited; an
// inference the model refused), kExitUsage (bad flags or input: a MODEL_PATH that is neither a
// local model nor a cloud path, an invalid --name, a request file that is not JSON). Results go to
// stdout, progress and notes to stderr.
#pragma once

#include <cstdint>
#include <string>

#include <boost/json/value.hpp>

#include "client/cli_config.h"
#include "client/command_support.h"
#include "common/status.h"

namespace paddlecloud::client {

struct ServeFlags {
  ConnectionFlags connection;
  std::string model;       // a cloud path ("models/fit", "pc:models/fit"), or a local model to upload first
  std::string name;
  std::string runtime;     // onnx | python | command; empty: InferRuntime
  std::string model_file;  // runtime onnx: the .onnx file in the model
  std::string model_py;    // a local file whose source is sent as `model_py` (runtime python)
  std::string command;     // runtime command
  int replicas = -1;       // -1 (and "" below): not sent, the server's defaults
  std::string cpu;         // per replica, Kubernetes quantities
  std::string memory;
  int gpus = -1;
  bool is_public = false;  // anonymous requests may call the gateway
  bool wait = false;       // until ready, showing the replicas as they get ready; then the URLs
};

// When `model` names a local model (ResolveModelSource) it is uploaded first to models/<name>/
// (resumable, with progress on stderr; a name that an instance already has is refused before the
// upload), then POST /api/v1/serving launches the instance. Prints its state and gateway URL.
int Serve(const ServeFlags& flags, const Environment& env);

struct ServingListFlags {
  ConnectionFlags connection;
  std::string output = "table";  // table | json (the API's answer)
};

// FormatServingList of GET /api/v1/serving, or the answer as JSON.
int ListServing(const ServingListFlags& flags, const Environment& env);

struct ServingScaleFlags {
  ConnectionFlags connection;
  std::string name;
  int replicas = 1;
  bool wait = false;
};

// POST /api/v1/serving/{name}/scale; prints the instance's state (with `wait`, once ready).
int ScaleServing(const ServingScaleFlags& flags, const Environment& env);

struct ServingNameFlags {
  ConnectionFlags connection;
  std::string name;
  bool wait = false;  // activate only: until ready
};

// POST .../deactivate (its replicas drain and stop; it stays listed), POST .../activate (its last
// replica count), DELETE (drained, then forgotten with its model snapshot, logs and metrics).
int DeactivateServing(const ServingNameFlags& flags, const Environment& env);
int ActivateServing(const ServingNameFlags& flags, const Environment& env);
int DeleteServing(const ServingNameFlags& flags, const Environment& env);

struct ServingLogsFlags {
  ConnectionFlags connection;
  std::string name;
  int replica = 0;
  int lines = 100;
  bool follow = false;
};

// The last `lines` lines of a replica's log; with `follow`, then what it writes (FollowLog) until
// the stream ends, or Ctrl-C.
int ServingLogs(const ServingLogsFlags& flags, const Environment& env);

struct PredictFlags {
  ConnectionFlags connection;
  std::string name;       // an instance of the signed-in account, or "ACCOUNT/NAME" (no API call first)
  std::string json_file;  // an Open Inference Protocol (v2) infer request body; "-": stdin
};

// POSTs the request to the instance's gateway (`infer_url`) with the CLI's token and prints the
// answer. A refused inference prints the model's or the gateway's message (kExitError).
int Predict(const PredictFlags& flags, const Environment& env);

// --- pieces with their own tests -------------------------------------------------------------

// What `serve MODEL_PATH` serves: a local folder, .onnx file or .tar.gz/.tgz archive that exists
// (uploaded first), or a cloud path. "pc:PATH" is always a cloud path; a path that starts with
// "/", "./" or "../" is always local. InvalidArgument (field "model") naming the problem: a
// local path that does not exist or is another kind of file, a bad cloud path.
struct ModelSource {
  bool local = false;
  std::string path;  // the local path as typed, or the normalized cloud path
};
Result<ModelSource> ResolveModelSource(const std::string& model_path);

// Where a local model goes in the cloud: "models/<name>" for a folder, "models/<name>/<file name>"
// for a file (the model the instance is launched from).
std::string UploadedModelPath(const std::string& name, const std::string& local_path, bool is_folder);

// The runtime: `runtime` when set; else "command" with a command, "python" with model.py source,
// else "onnx".
std::string InferRuntime(const std::string& runtime, const std::string& command, const std::string& model_py);

// InvalidArgument (field "name") unless `name` is a DNS-1123 label of 1..40 characters.
Status CheckServingName(const std::string& name);

// "ready", "starting (0/2 replicas ready)", "failed (CrashLoopBackOff)", "degraded (1/2 replicas ready)".
std::string ServingStateText(const boost::json::value& instance);

// The table of `serving list` (the API's {"instances": [...]}): NAME, RUNTIME, REPLICAS
// (ready/desired), QPS, P99, ERRORS (the error rate in percent), STATE, URL (`server` + url); "-"
// where the gateway has no figures yet. "No serving instances.\n" for none.
std::string FormatServingList(const boost::json::value& list, const std::string& server);

// The gateway's infer target for "ACCOUNT/NAME": "/serving/ACCOUNT/NAME/v2/models/NAME/infer"
// (components percent-encoded); "" when `name` has no '/'.
std::string DirectInferTarget(const std::string& name);

}  // namespace paddlecloud::client
