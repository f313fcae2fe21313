// A minimal reader of the protobuf wire format, enough to pick fields out of serialized messages
// without libprotobuf. Every read is bounds-checked: malformed bytes (a truncated varint, a length
// past the end, an unknown wire type, an unbalanced group) stop the reader with error() set; it never
// reads outside the buffer it was given.
#pragma once

#include <cstdint>
#include <string_view>

namespace paddlecloud::eventfiles::wire {

enum class WireType : std::uint8_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

struct Field {
  std::uint32_t number = 0;
  WireType type = WireType::kVarint;
  std::uint64_t varint = 0;     // kVarint
  std::uint64_t fixed64 = 0;    // kFixed64
  std::uint32_t fixed32 = 0;    // kFixed32
  std::string_view bytes;       // kLengthDelimited: a view into the reader's buffer
};

class Reader {
 public:
  explicit Reader(std::string_view buffer) : rest_(buffer) {}

  // The next field of the message, skipping groups (deprecated wire types 3/4) whole. False at the
  // end of the buffer or on malformed input (then error() is true).
  bool Next(Field& field);
  bool error() const { return error_; }

  // Low-level reads for packed repeated fields; false (and nothing consumed) when malformed.
  bool ReadVarint(std::uint64_t& value);
  bool ReadFixed32(std::uint32_t& value);
  bool ReadFixed64(std::uint64_t& value);
  bool empty() const { return rest_.empty(); }

 private:
  bool SkipGroup(std::uint32_t number);
  bool Fail() { error_ = true; return false; }

  std::string_view rest_;
  bool error_ = false;
};

// Value conversions of the wire's encodings.
double AsDouble(std::uint64_t fixed64);
float AsFloat(std::uint32_t fixed32);

}  // namespace paddlecloud::eventfiles::wire
