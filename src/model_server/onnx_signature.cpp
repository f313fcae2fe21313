#include "model_server/onnx_signature.h"

#include <optional>
#include <set>

namespace paddlecloud::model_server {
namespace {

// One field of a protobuf message: its number and, by wire type, an integer or a byte range.
struct Field {
  std::uint32_t number = 0;
  std::uint32_t wire_type = 0;
  std::uint64_t integer = 0;     // varint (0) and fixed (1, 5) fields
  std::string_view bytes;        // length-delimited (2) fields
};

// Iterates the fields of one message; Next() fails on malformed input instead of reading past it.
class MessageReader {
 public:
  explicit MessageReader(std::string_view data) : data_(data) {}

  bool done() const { return pos_ >= data_.size(); }

  Result<Field> Next() {
    auto key = Varint();
    if (!key) return std::unexpected(Truncated());
    Field field{.number = static_cast<std::uint32_t>(*key >> 3), .wire_type = static_cast<std::uint32_t>(*key & 7)};
    switch (field.wire_type) {
      case 0: {
        auto value = Varint();
        if (!value) return std::unexpected(Truncated());
        field.integer = *value;
        return field;
      }
      case 1: return Skip(8, field);
      case 5: return Skip(4, field);
      case 2: {
        auto length = Varint();
        if (!length || *length > data_.size() - pos_) return std::unexpected(Truncated());
        field.bytes = data_.substr(pos_, *length);
        pos_ += *length;
        return field;
      }
      default:
        return std::unexpected(Status::InvalidArgument("not an ONNX model: unsupported protobuf wire type " +
                                                       std::to_string(field.wire_type)));
    }
  }

 private:
  std::optional<std::uint64_t> Varint() {
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64 && pos_ < data_.size(); shift += 7) {
      auto byte = static_cast<unsigned char>(data_[pos_++]);
      value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return value;
    }
    return std::nullopt;
  }
  Result<Field> Skip(std::size_t size, Field field) {
    if (size > data_.size() - pos_) return std::unexpected(Truncated());
    pos_ += size;
    return field;
  }
  static Status Truncated() { return Status::InvalidArgument("not an ONNX model: truncated or malformed protobuf"); }

  std::string_view data_;
  std::size_t pos_ = 0;
};

// Calls `visit(field)` for every field of `message`; stops at the first error.
template <typename Visit>
Status ForEachField(std::string_view message, Visit&& visit) {
  MessageReader reader(message);
  while (!reader.done()) {
    auto field = reader.Next();
    if (!field) return field.error();
    PC_RETURN_IF_ERROR(visit(*field));
  }
  return Status::Ok();
}

// TensorShapeProto.Dimension: dim_value (1) or dim_param (2, symbolic: dynamic).
Result<std::int64_t> ReadDimension(std::string_view message) {
  std::int64_t dim = -1;
  PC_RETURN_IF_ERROR(ForEachField(message, [&](const Field& f) {
    if (f.number == 1 && f.wire_type == 0) dim = static_cast<std::int64_t>(f.integer);
    return Status::Ok();
  }));
  return dim > 0 ? dim : -1;
}

// TypeProto.Tensor: elem_type (1), shape (2: TensorShapeProto with repeated dim (1)).
Status ReadTensorType(std::string_view message, TensorSpec& spec) {
  return ForEachField(message, [&](const Field& f) -> Status {
    if (f.number == 1 && f.wire_type == 0) spec.datatype = DatatypeOfOnnxElementType(static_cast<std::int64_t>(f.integer));
    if (f.number != 2 || f.wire_type != 2) return Status::Ok();
    return ForEachField(f.bytes, [&](const Field& dim) -> Status {
      if (dim.number != 1 || dim.wire_type != 2) return Status::Ok();
      auto value = ReadDimension(dim.bytes);
      if (!value) return value.error();
      spec.shape.push_back(*value);
      return Status::Ok();
    });
  });
}

// ValueInfoProto: name (1), type (2: TypeProto with tensor_type (1)).
Result<TensorSpec> ReadValueInfo(std::string_view message) {
  TensorSpec spec;
  PC_RETURN_IF_ERROR(ForEachField(message, [&](const Field& f) -> Status {
    if (f.number == 1 && f.wire_type == 2) spec.name = std::string(f.bytes);
    if (f.number != 2 || f.wire_type != 2) return Status::Ok();
    return ForEachField(f.bytes, [&](const Field& type) -> Status {
      return type.number == 1 && type.wire_type == 2 ? ReadTensorType(type.bytes, spec) : Status::Ok();
    });
  }));
  if (spec.name.empty()) return std::unexpected(Status::InvalidArgument("ONNX graph has a tensor without a name"));
  return spec;
}

// TensorProto.name (8).
Result<std::string> ReadInitializerName(std::string_view message) {
  std::string name;
  PC_RETURN_IF_ERROR(ForEachField(message, [&](const Field& f) {
    if (f.number == 8 && f.wire_type == 2) name = std::string(f.bytes);
    return Status::Ok();
  }));
  return name;
}

Result<ModelSignature> ReadGraph(std::string_view graph) {
  ModelSignature signature;
  std::set<std::string, std::less<>> initializers;
  PC_RETURN_IF_ERROR(ForEachField(graph, [&](const Field& f) -> Status {
    if (f.wire_type != 2) return Status::Ok();
    if (f.number == 5) {
      auto name = ReadInitializerName(f.bytes);
      if (!name) return name.error();
      initializers.insert(std::move(*name));
    } else if (f.number == 11 || f.number == 12) {
      auto spec = ReadValueInfo(f.bytes);
      if (!spec) return spec.error();
      (f.number == 11 ? signature.inputs : signature.outputs).push_back(std::move(*spec));
    }
    return Status::Ok();
  }));
  std::erase_if(signature.inputs, [&](const TensorSpec& input) { return initializers.contains(input.name); });
  if (signature.inputs.empty() || signature.outputs.empty())
    return std::unexpected(Status::InvalidArgument("ONNX graph declares no inputs or no outputs"));
  return signature;
}

}  // namespace

std::string_view DatatypeOfOnnxElementType(std::int64_t element_type) {
  switch (element_type) {
    case 1: return "FP32";
    case 2: return "UINT8";
    case 3: return "INT8";
    case 4: return "UINT16";
    case 5: return "INT16";
    case 6: return "INT32";
    case 7: return "INT64";
    case 8: return "BYTES";
    case 9: return "BOOL";
    case 10: return "FP16";
    case 11: return "FP64";
    case 12: return "UINT32";
    case 13: return "UINT64";
    case 16: return "BF16";
    default: return "";
  }
}

Result<ModelSignature> ReadOnnxSignature(std::string_view model_bytes) {
  std::optional<std::string_view> graph;
  PC_RETURN_IF_ERROR(ForEachField(model_bytes, [&](const Field& f) {
    if (f.number == 7 && f.wire_type == 2) graph = f.bytes;
    return Status::Ok();
  }));
  if (!graph) return std::unexpected(Status::InvalidArgument("not an ONNX model: no graph"));
  return ReadGraph(*graph);
}

}  // namespace paddlecloud::model_server
