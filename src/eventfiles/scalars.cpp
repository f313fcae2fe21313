#include "eventfiles/scalars.h"

#include <optional>

#include "common/utf8.h"
#include "eventfiles/wire.h"

namespace paddlecloud::eventfiles {
namespace {

using wire::Field;
using wire::WireType;

// Field numbers of the published protos.
namespace tb {
constexpr std::uint32_t kEventWallTime = 1, kEventStep = 2, kEventSummary = 5;
constexpr std::uint32_t kSummaryValue = 1;
constexpr std::uint32_t kValueTag = 1, kValueSimpleValue = 2, kValueTensor = 8;
// Members of Value's oneof `value`: the last one in the bytes is the one set.
constexpr bool IsValueOneofMember(std::uint32_t number) { return (number >= 2 && number <= 6) || number == 8; }
constexpr std::uint32_t kTensorDtype = 1, kTensorShape = 2, kTensorContent = 4, kTensorFloatVal = 5,
                        kTensorDoubleVal = 6, kTensorIntVal = 7, kTensorInt64Val = 10;
constexpr std::uint32_t kShapeDim = 2, kShapeUnknownRank = 3, kDimSize = 1;
constexpr std::uint64_t kDtFloat = 1, kDtDouble = 2, kDtInt32 = 3, kDtInt64 = 9;
}  // namespace tb

namespace vdl {
constexpr std::uint32_t kRecordValues = 1;
constexpr std::uint32_t kValueId = 1, kValueTag = 2, kValueTimestamp = 3, kValueValue = 4;
// Members of Value's oneof `one_value`: value = 4, then image, audio, embeddings, histogram, pr_curve,
// meta_data (= 10) and whatever later versions add: every field of Value after timestamp.
constexpr bool IsValueOneofMember(std::uint32_t number) { return number >= 4; }
}  // namespace vdl

// A value that parses, or why not: malformed bytes, or a well-formed message that holds no scalar.
enum class Parse { kOk, kNotScalar, kMalformed };

// The element count and first element of one repeated numeric field, packed or not.
struct NumberList {
  std::uint64_t count = 0;
  double first = 0;
  void Add(double value) {
    if (count++ == 0) first = value;
  }
};

enum class Encoding { kFixed32Float, kFixed64Double, kVarintInt32, kVarintInt64 };

double Decode(Encoding encoding, std::uint64_t raw) {
  switch (encoding) {
    case Encoding::kFixed32Float: return wire::AsFloat(static_cast<std::uint32_t>(raw));
    case Encoding::kFixed64Double: return wire::AsDouble(raw);
    case Encoding::kVarintInt32: return static_cast<std::int32_t>(static_cast<std::uint32_t>(raw));
    case Encoding::kVarintInt64: return static_cast<double>(static_cast<std::int64_t>(raw));
  }
  return 0;
}

WireType ElementWireType(Encoding encoding) {
  switch (encoding) {
    case Encoding::kFixed32Float: return WireType::kFixed32;
    case Encoding::kFixed64Double: return WireType::kFixed64;
    default: return WireType::kVarint;
  }
}

// Adds `field`'s elements to `list`; false when malformed. A field of another wire type is ignored.
bool AddElements(const Field& field, Encoding encoding, NumberList& list) {
  if (field.type == ElementWireType(encoding)) {
    const std::uint64_t raw = field.type == WireType::kFixed32 ? field.fixed32
                              : field.type == WireType::kFixed64 ? field.fixed64 : field.varint;
    list.Add(Decode(encoding, raw));
    return true;
  }
  if (field.type != WireType::kLengthDelimited) return true;
  wire::Reader packed(field.bytes);
  while (!packed.empty()) {
    std::uint64_t raw = 0;
    std::uint32_t raw32 = 0;
    bool ok = false;
    switch (ElementWireType(encoding)) {
      case WireType::kFixed32: ok = packed.ReadFixed32(raw32); raw = raw32; break;
      case WireType::kFixed64: ok = packed.ReadFixed64(raw); break;
      default: ok = packed.ReadVarint(raw); break;
    }
    if (!ok) return false;
    list.Add(Decode(encoding, raw));
  }
  return true;
}

// Whether a TensorShapeProto describes exactly one element (no dims, or every dim of size 1).
Parse ShapeHoldsOneElement(std::string_view shape) {
  wire::Reader reader(shape);
  Field field;
  bool one = true;
  while (reader.Next(field)) {
    if (field.number == tb::kShapeUnknownRank && field.type == WireType::kVarint && field.varint != 0) one = false;
    if (field.number != tb::kShapeDim || field.type != WireType::kLengthDelimited) continue;
    wire::Reader dim(field.bytes);
    Field dim_field;
    while (dim.Next(dim_field))
      if (dim_field.number == tb::kDimSize && dim_field.type == WireType::kVarint && dim_field.varint != 1) one = false;
    if (dim.error()) return Parse::kMalformed;
  }
  if (reader.error()) return Parse::kMalformed;
  return one ? Parse::kOk : Parse::kNotScalar;
}

struct DtypeLayout {
  std::uint32_t val_field;
  Encoding encoding;
  std::size_t content_bytes;  // size of one element in tensor_content
};

std::optional<DtypeLayout> LayoutOf(std::uint64_t dtype) {
  switch (dtype) {
    case tb::kDtFloat: return DtypeLayout{tb::kTensorFloatVal, Encoding::kFixed32Float, 4};
    case tb::kDtDouble: return DtypeLayout{tb::kTensorDoubleVal, Encoding::kFixed64Double, 8};
    case tb::kDtInt32: return DtypeLayout{tb::kTensorIntVal, Encoding::kVarintInt32, 4};
    case tb::kDtInt64: return DtypeLayout{tb::kTensorInt64Val, Encoding::kVarintInt64, 8};
    default: return std::nullopt;
  }
}

double DecodeContent(const DtypeLayout& layout, std::string_view content) {
  std::uint64_t raw = 0;
  for (std::size_t i = layout.content_bytes; i-- > 0;) raw = raw << 8 | static_cast<unsigned char>(content[i]);
  if (layout.encoding == Encoding::kVarintInt32 || layout.encoding == Encoding::kVarintInt64) {
    return layout.content_bytes == 4 ? static_cast<double>(static_cast<std::int32_t>(raw))
                                     : static_cast<double>(static_cast<std::int64_t>(raw));
  }
  return Decode(layout.encoding, raw);
}

// The single element of a TensorProto, if it has exactly one of a supported dtype.
Parse ParseScalarTensor(std::string_view tensor, double& value) {
  std::uint64_t dtype = 0;
  std::string_view shape, content;
  bool has_content = false;
  wire::Reader reader(tensor);
  Field field;
  while (reader.Next(field)) {  // first pass: dtype, shape and content may come in any order
    if (field.number == tb::kTensorDtype && field.type == WireType::kVarint) dtype = field.varint;
    if (field.number == tb::kTensorShape && field.type == WireType::kLengthDelimited) shape = field.bytes;
    if (field.number == tb::kTensorContent && field.type == WireType::kLengthDelimited) {
      content = field.bytes;
      has_content = true;
    }
  }
  if (reader.error()) return Parse::kMalformed;
  if (const Parse shape_parse = ShapeHoldsOneElement(shape); shape_parse != Parse::kOk) return shape_parse;
  const auto layout = LayoutOf(dtype);
  if (!layout) return Parse::kNotScalar;
  if (has_content && !content.empty()) {
    if (content.size() != layout->content_bytes) return Parse::kNotScalar;
    value = DecodeContent(*layout, content);
    return Parse::kOk;
  }
  NumberList values;
  wire::Reader second(tensor);
  while (second.Next(field))
    if (field.number == layout->val_field && !AddElements(field, layout->encoding, values)) return Parse::kMalformed;
  if (values.count != 1) return Parse::kNotScalar;
  value = values.first;
  return Parse::kOk;
}

// One Summary.Value: its tag and scalar, if it holds one.
Parse ParseSummaryValue(std::string_view bytes, std::string_view& tag, double& value) {
  std::optional<double> simple_value;
  std::string_view tensor;
  bool has_tensor = false;
  wire::Reader reader(bytes);
  Field field;
  while (reader.Next(field)) {
    if (field.number == tb::kValueTag && field.type == WireType::kLengthDelimited) tag = field.bytes;
    if (tb::IsValueOneofMember(field.number)) {
      simple_value.reset();
      has_tensor = false;
    }
    if (field.number == tb::kValueSimpleValue && field.type == WireType::kFixed32)
      simple_value = wire::AsFloat(field.fixed32);
    if (field.number == tb::kValueTensor && field.type == WireType::kLengthDelimited) {
      tensor = field.bytes;
      has_tensor = true;
    }
  }
  if (reader.error()) return Parse::kMalformed;
  if (simple_value) {
    value = *simple_value;
    return Parse::kOk;
  }
  return has_tensor ? ParseScalarTensor(tensor, value) : Parse::kNotScalar;
}

// Appends `point` unless its tag is not UTF-8.
void Emit(std::vector<ScalarPoint>& out, std::string_view tag, std::int64_t step, double wall_time_s, double value) {
  if (IsValidUtf8(tag)) out.push_back(ScalarPoint{std::string(tag), step, wall_time_s, value});
}

Extracted Finish(std::vector<ScalarPoint>& out, std::size_t before, bool malformed) {
  if (malformed) {
    out.resize(before);
    return Extracted::kMalformed;
  }
  return out.size() > before ? Extracted::kScalars : Extracted::kNone;
}

}  // namespace

Extracted ExtractTensorBoardScalars(std::string_view event, std::vector<ScalarPoint>& out) {
  double wall_time = 0;
  std::int64_t step = 0;
  std::optional<std::string_view> summary;
  wire::Reader reader(event);
  Field field;
  while (reader.Next(field)) {
    if (field.number == tb::kEventWallTime && field.type == WireType::kFixed64) wall_time = wire::AsDouble(field.fixed64);
    if (field.number == tb::kEventStep && field.type == WireType::kVarint) step = static_cast<std::int64_t>(field.varint);
    if (field.number == tb::kEventSummary && field.type == WireType::kLengthDelimited) summary = field.bytes;
  }
  if (reader.error()) return Extracted::kMalformed;
  if (!summary) return Extracted::kNone;

  const std::size_t before = out.size();
  wire::Reader values(*summary);
  while (values.Next(field)) {
    if (field.number != tb::kSummaryValue || field.type != WireType::kLengthDelimited) continue;
    std::string_view tag;
    double value = 0;
    const Parse parse = ParseSummaryValue(field.bytes, tag, value);
    if (parse == Parse::kMalformed) return Finish(out, before, true);
    if (parse == Parse::kOk) Emit(out, tag, step, wall_time, value);
  }
  return Finish(out, before, values.error());
}

Extracted ExtractVisualDlScalars(std::string_view record, std::vector<ScalarPoint>& out) {
  const std::size_t before = out.size();
  wire::Reader reader(record);
  Field field;
  while (reader.Next(field)) {
    if (field.number != vdl::kRecordValues || field.type != WireType::kLengthDelimited) continue;
    std::int64_t step = 0, timestamp_ms = 0;
    std::string_view tag;
    std::optional<float> value;
    wire::Reader inner(field.bytes);
    Field f;
    while (inner.Next(f)) {
      if (f.number == vdl::kValueId && f.type == WireType::kVarint) step = static_cast<std::int64_t>(f.varint);
      if (f.number == vdl::kValueTag && f.type == WireType::kLengthDelimited) tag = f.bytes;
      if (f.number == vdl::kValueTimestamp && f.type == WireType::kVarint) timestamp_ms = static_cast<std::int64_t>(f.varint);
      if (vdl::IsValueOneofMember(f.number)) value.reset();
      if (f.number == vdl::kValueValue && f.type == WireType::kFixed32) value = wire::AsFloat(f.fixed32);
    }
    if (inner.error()) return Finish(out, before, true);
    if (value) Emit(out, tag, step, static_cast<double>(timestamp_ms) / 1000.0, *value);
  }
  return Finish(out, before, reader.error());
}

}  // namespace paddlecloud::eventfiles
