// The inputs and outputs of an ONNX model as the inference protocol names them, read straight from
// the model's protobuf bytes (OpenCV does not expose declared input shapes, and Debian has no ONNX
// schema for libprotobuf).
//
// Only ModelProto.graph (field 7) is walked: its inputs (11) and outputs (12), each a
// ValueInfoProto with a name and a tensor type (element type, dims), and the initializer names (5)
// so weights listed among the inputs (ONNX IR < 4) are not reported as inputs. Every length is
// checked against what remains of the buffer, so a truncated or hostile file yields an error, never
// a read past the end; unknown fields are skipped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace paddlecloud::model_server {

struct TensorSpec {
  std::string name;
  std::string datatype;              // the protocol's name: "FP32", "INT64", "BYTES" ...
  std::vector<std::int64_t> shape;   // -1 for a dynamic (symbolic or unknown) dimension
};

struct ModelSignature {
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
};

// InvalidArgument when the bytes are not a model with a graph.
Result<ModelSignature> ReadOnnxSignature(std::string_view model_bytes);

// The protocol's datatype for an ONNX TensorProto.DataType ("FP32" for 1); "" when unknown.
std::string_view DatatypeOfOnnxElementType(std::int64_t element_type);

}  // namespace paddlecloud::model_server
