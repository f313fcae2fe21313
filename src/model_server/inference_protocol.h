// The subset of the Open Inference Protocol (KServe v2, REST) the model server speaks: parsing an
// infer request against the model's signature, and rendering answers. Pure functions, no I/O.
//
// Request:  {"id"?: str, "parameters"?: {...}, "inputs": [{"name", "shape": [int], "datatype",
//            "data": flat or nested array of numbers (true/false for BOOL), "parameters"?}],
//            "outputs"?: [{"name", "parameters"?}]}
// Response: {"model_name", "model_version"?, "id"?, "outputs": [{"name", "shape", "datatype",
//            "data": flat row-major array; null for a NaN or infinite value}]}
// Errors:   {"error": "<message>"}  (the protocol's error shape, not the platform API's)
//
// A request is rejected (InvalidArgument, the message naming the tensor and the problem) when an
// input is unknown, repeated or missing, its datatype differs from the model's, its shape has a
// different rank, a dimension below 1 or a fixed dimension that differs, its data is not numeric
// or not finite as FP32, or the number of elements is not the product of the shape. "parameters" are accepted and ignored (no binary extension).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/status.h"
#include "model_server/onnx_signature.h"

namespace paddlecloud::model_server {

// A tensor's values as the runtime takes them (OpenCV DNN computes in float).
struct Tensor {
  std::string name;
  std::vector<std::int64_t> shape;
  std::vector<float> data;  // row-major
};

struct InferRequest {
  std::optional<std::string> id;
  std::vector<Tensor> inputs;                // in the signature's input order
  std::vector<std::string> output_names;     // requested, else every output of the signature
};

Result<InferRequest> ParseInferRequest(std::string_view body, const ModelSignature& signature);

// Outputs are reported as FP32 (what the runtime computes).
std::string RenderInferResponse(std::string_view model_name, const std::optional<std::string>& id,
                                const std::vector<Tensor>& outputs);

// GET /v2/models/{name}: {"name", "versions": [], "platform": "onnx", "inputs": [...], "outputs": [...]}.
boost::json::object ModelMetadata(std::string_view model_name, const ModelSignature& signature);

// {"error": message}.
std::string ErrorBody(std::string_view message);

}  // namespace paddlecloud::model_server
