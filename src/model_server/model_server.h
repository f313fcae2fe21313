// `paddlecloud-model-server`: one ONNX model served over the Open Inference Protocol (KServe v2
// REST), on the platform's HTTP server. What a serving replica runs for the ONNX runtime.
//
//   paddlecloud-model-server --model PATH.onnx --name NAME [--port N (default $PORT, else 8080)]
//                            [--listen 127.0.0.1] [--threads N (default: cores)] [--max-body BYTES]
//
// The model is loaded before the port is opened: a model OpenCV cannot load makes the process exit
// 1 with the reason on stderr, never serve half-ready. Once listening it prints
// "paddlecloud-model-server: model NAME ready on HOST:PORT" on stdout. SIGTERM/SIGINT finish
// in-flight requests and exit 0.
//
// Routes (answers are JSON; errors are {"error": "<message>"}, see inference_protocol.h):
//   GET  /v2                          {"name","version","extensions":[]}
//   GET  /v2/health/live              {"live":true}
//   GET  /v2/health/ready             {"ready":true}
//   GET  /v2/models/{name}            metadata: name, platform "onnx", inputs/outputs (name, datatype, shape)
//   GET  /v2/models/{name}/ready      {"name","ready":true}
//   POST /v2/models/{name}/infer      inference; 400 bad tensor, 404 another model's name,
//                                     413 body over --max-body, 405 another method on any route
// Inference (parsing, the run, rendering) happens on `--threads` workers, each with its own
// cv::dnn::Net, so the I/O thread keeps answering health checks under load.
#pragma once

#include <cstdint>
#include <string>

#include "blocking/work_pool.h"
#include "http/router.h"
#include "http/server.h"
#include "model_server/onnx_model.h"

namespace paddlecloud::model_server {

struct ServedModel {
  std::string name;
  OnnxModel* model = nullptr;
  blocking::WorkPool* workers = nullptr;
  std::uint64_t max_body_bytes = 64ull << 20;
};

// Adds the routes above for `served` (which must outlive the router).
void AddProtocolRoutes(http::Router& router, const ServedModel& served);

// Rewrites the HTTP server's own error answers (unknown route 404, 405, 500) into the protocol's
// {"error": "..."} shape.
http::Middleware ProtocolErrors();

// The program: parses argv as above, runs until a signal. Returns the exit code.
int RunModelServer(int argc, char** argv);

}  // namespace paddlecloud::model_server
