#include "model_server/inference_protocol.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace paddlecloud::model_server {
namespace json = boost::json;
namespace {

// OpenCV takes dimensions as int; the body limit keeps real tensors far below this anyway.
constexpr std::int64_t kMaxElements = std::numeric_limits<std::int32_t>::max();

Status TensorError(std::string_view tensor, std::string message) {
  return Status::InvalidArgument("input '" + std::string(tensor) + "': " + message, "inputs");
}

Result<std::vector<std::int64_t>> ReadShape(const json::value* value, const TensorSpec& spec) {
  if (!value || !value->is_array()) return std::unexpected(TensorError(spec.name, "shape must be an array of integers"));
  std::vector<std::int64_t> shape;
  std::int64_t elements = 1;
  for (const auto& dim : value->as_array()) {
    if (!dim.is_int64() && !dim.is_uint64()) return std::unexpected(TensorError(spec.name, "shape must be an array of integers"));
    auto size = dim.is_int64() ? dim.as_int64() : static_cast<std::int64_t>(std::min<std::uint64_t>(dim.as_uint64(), kMaxElements));
    if (size < 1) return std::unexpected(TensorError(spec.name, "shape dimensions must be at least 1"));
    if (size > kMaxElements || elements > kMaxElements / size)
      return std::unexpected(TensorError(spec.name, "shape " + json::serialize(*value) + " is too large"));
    elements *= size;
    shape.push_back(size);
  }
  bool matches = shape.size() == spec.shape.size();
  for (std::size_t i = 0; matches && i < shape.size(); ++i) matches = spec.shape[i] < 0 || spec.shape[i] == shape[i];
  if (!matches) {
    json::array expected;
    for (auto dim : spec.shape) expected.push_back(dim);
    return std::unexpected(TensorError(spec.name, "shape " + json::serialize(*value) + " does not match the model's " +
                                                      json::serialize(expected) + " (-1: any size)"));
  }
  return shape;
}

// Appends the numbers of a flat or nested array; false at the first value that is not one.
bool Flatten(const json::value& value, bool booleans, std::vector<float>& out) {
  if (value.is_array()) {
    for (const auto& item : value.as_array())
      if (!Flatten(item, booleans, out)) return false;
    return true;
  }
  if (value.is_number()) out.push_back(static_cast<float>(value.to_number<double>()));
  else if (booleans && value.is_bool()) out.push_back(value.as_bool() ? 1.0f : 0.0f);
  else return false;
  return true;
}

Result<Tensor> ReadInput(const json::object& input, const TensorSpec& spec) {
  auto datatype = input.if_contains("datatype");
  if (!datatype || !datatype->is_string()) return std::unexpected(TensorError(spec.name, "datatype is missing"));
  if (datatype->as_string() != spec.datatype)
    return std::unexpected(TensorError(spec.name, "datatype " + std::string(datatype->as_string()) +
                                                      " does not match the model's " + spec.datatype));
  auto shape = ReadShape(input.if_contains("shape"), spec);
  if (!shape) return std::unexpected(shape.error());
  Tensor tensor{.name = spec.name, .shape = std::move(*shape)};
  std::int64_t elements = 1;
  for (auto dim : tensor.shape) elements *= dim;
  auto data = input.if_contains("data");
  if (!data || !data->is_array()) return std::unexpected(TensorError(spec.name, "data must be an array"));
  tensor.data.reserve(static_cast<std::size_t>(std::min<std::int64_t>(elements, 1 << 24)));
  if (!Flatten(*data, spec.datatype == "BOOL", tensor.data))
    return std::unexpected(TensorError(spec.name, "data holds a value that is not a number"));
  auto infinite = std::ranges::find_if(tensor.data, [](float v) { return !std::isfinite(v); });
  if (infinite != tensor.data.end())
    return std::unexpected(TensorError(spec.name, "data[" + std::to_string(infinite - tensor.data.begin()) +
                                                      "] is not a finite FP32 number"));
  if (static_cast<std::int64_t>(tensor.data.size()) != elements)
    return std::unexpected(TensorError(spec.name, "data has " + std::to_string(tensor.data.size()) +
                                                      " elements but the shape needs " + std::to_string(elements)));
  return tensor;
}

Result<std::vector<Tensor>> ReadInputs(const json::value* value, const ModelSignature& signature) {
  if (!value || !value->is_array() || value->as_array().empty())
    return std::unexpected(Status::InvalidArgument("inputs must be a non-empty array", "inputs"));
  std::vector<std::optional<Tensor>> by_position(signature.inputs.size());
  for (const auto& item : value->as_array()) {
    auto name = item.is_object() ? item.as_object().if_contains("name") : nullptr;
    if (!name || !name->is_string()) return std::unexpected(Status::InvalidArgument("every input needs a name", "inputs"));
    std::size_t i = 0;
    while (i < signature.inputs.size() && signature.inputs[i].name != name->as_string()) ++i;
    if (i == signature.inputs.size())
      return std::unexpected(TensorError(name->as_string(), "the model has no such input"));
    if (by_position[i]) return std::unexpected(TensorError(name->as_string(), "given twice"));
    auto tensor = ReadInput(item.as_object(), signature.inputs[i]);
    if (!tensor) return std::unexpected(tensor.error());
    by_position[i] = std::move(*tensor);
  }
  std::vector<Tensor> inputs;
  for (std::size_t i = 0; i < by_position.size(); ++i) {
    if (!by_position[i]) return std::unexpected(TensorError(signature.inputs[i].name, "missing"));
    inputs.push_back(std::move(*by_position[i]));
  }
  return inputs;
}

Result<std::vector<std::string>> ReadOutputNames(const json::value* value, const ModelSignature& signature) {
  std::vector<std::string> names;
  if (!value) {
    for (const auto& output : signature.outputs) names.push_back(output.name);
    return names;
  }
  if (!value->is_array()) return std::unexpected(Status::InvalidArgument("outputs must be an array", "outputs"));
  std::set<std::string, std::less<>> known;
  for (const auto& output : signature.outputs) known.insert(output.name);
  for (const auto& item : value->as_array()) {
    auto name = item.is_object() ? item.as_object().if_contains("name") : nullptr;
    if (!name || !name->is_string()) return std::unexpected(Status::InvalidArgument("every output needs a name", "outputs"));
    if (!known.contains(name->as_string()))
      return std::unexpected(Status::InvalidArgument("output '" + std::string(name->as_string()) +
                                                     "': the model has no such output", "outputs"));
    names.emplace_back(name->as_string());
  }
  if (names.empty()) return std::unexpected(Status::InvalidArgument("outputs must not be empty", "outputs"));
  return names;
}

json::object TensorMetadata(const TensorSpec& spec) {
  json::array shape;
  for (auto dim : spec.shape) shape.push_back(dim);
  return {{"name", spec.name}, {"datatype", spec.datatype}, {"shape", std::move(shape)}};
}

}  // namespace

Result<InferRequest> ParseInferRequest(std::string_view body, const ModelSignature& signature) {
  boost::system::error_code ec;
  json::value root = json::parse(body, ec);
  if (ec || !root.is_object())
    return std::unexpected(Status::InvalidArgument("the request body must be a JSON object" +
                                                   (ec ? ": " + ec.message() : std::string())));
  const auto& object = root.as_object();
  InferRequest request;
  if (auto id = object.if_contains("id")) {
    if (!id->is_string()) return std::unexpected(Status::InvalidArgument("id must be a string", "id"));
    request.id = std::string(id->as_string());
  }
  auto inputs = ReadInputs(object.if_contains("inputs"), signature);
  if (!inputs) return std::unexpected(inputs.error());
  request.inputs = std::move(*inputs);
  auto outputs = ReadOutputNames(object.if_contains("outputs"), signature);
  if (!outputs) return std::unexpected(outputs.error());
  request.output_names = std::move(*outputs);
  return request;
}

std::string RenderInferResponse(std::string_view model_name, const std::optional<std::string>& id,
                                const std::vector<Tensor>& outputs) {
  json::array rendered;
  for (const auto& output : outputs) {
    json::array shape(output.shape.begin(), output.shape.end());
    json::array data;
    data.reserve(output.data.size());
    for (float v : output.data) {
      if (std::isfinite(v)) data.push_back(static_cast<double>(v));
      else data.push_back(nullptr);  // JSON has no NaN or Infinity
    }
    rendered.push_back(json::object{{"name", output.name}, {"datatype", "FP32"}, {"shape", std::move(shape)},
                                    {"data", std::move(data)}});
  }
  json::object body{{"model_name", model_name}, {"outputs", std::move(rendered)}};
  if (id) body["id"] = *id;
  return json::serialize(body);
}

json::object ModelMetadata(std::string_view model_name, const ModelSignature& signature) {
  json::array inputs, outputs;
  for (const auto& spec : signature.inputs) inputs.push_back(TensorMetadata(spec));
  for (const auto& spec : signature.outputs) outputs.push_back(TensorMetadata(spec));
  return {{"name", model_name}, {"versions", json::array{}}, {"platform", "onnx"},
          {"inputs", std::move(inputs)}, {"outputs", std::move(outputs)}};
}

std::string ErrorBody(std::string_view message) { return json::serialize(json::object{{"error", message}}); }

}  // namespace paddlecloud::model_server
