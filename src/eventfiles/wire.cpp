#include "eventfiles/wire.h"

#include <bit>

namespace paddlecloud::eventfiles::wire {
namespace {

constexpr std::uint32_t kMaxFieldNumber = (1u << 29) - 1;
constexpr int kMaxGroupDepth = 64;  // deeper nesting is treated as malformed, so recursion is bounded
constexpr std::uint64_t kStartGroup = 3;
constexpr std::uint64_t kEndGroup = 4;

std::uint64_t LoadLittleEndian(std::string_view bytes, int width) {
  std::uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) value = value << 8 | static_cast<unsigned char>(bytes[i]);
  return value;
}

}  // namespace

bool Reader::ReadVarint(std::uint64_t& value) {
  std::uint64_t result = 0;
  for (std::size_t i = 0; i < 10 && i < rest_.size(); ++i) {
    const auto byte = static_cast<unsigned char>(rest_[i]);
    result |= std::uint64_t{byte & 0x7Fu} << (7 * i);
    if ((byte & 0x80u) == 0) {
      if (i == 9 && byte > 1) return false;  // more than 64 bits
      rest_.remove_prefix(i + 1);
      value = result;
      return true;
    }
  }
  return false;  // truncated, or longer than 10 bytes
}

bool Reader::ReadFixed32(std::uint32_t& value) {
  if (rest_.size() < 4) return false;
  value = static_cast<std::uint32_t>(LoadLittleEndian(rest_, 4));
  rest_.remove_prefix(4);
  return true;
}

bool Reader::ReadFixed64(std::uint64_t& value) {
  if (rest_.size() < 8) return false;
  value = LoadLittleEndian(rest_, 8);
  rest_.remove_prefix(8);
  return true;
}

bool Reader::Next(Field& field) {
  while (!rest_.empty() && !error_) {
    std::uint64_t key = 0;
    if (!ReadVarint(key)) return Fail();
    const std::uint64_t number = key >> 3;
    const std::uint64_t type = key & 7;
    if (number == 0 || number > kMaxFieldNumber) return Fail();
    field = Field{.number = static_cast<std::uint32_t>(number)};
    switch (type) {
      case 0:
        field.type = WireType::kVarint;
        return ReadVarint(field.varint) || Fail();
      case 1:
        field.type = WireType::kFixed64;
        return ReadFixed64(field.fixed64) || Fail();
      case 2: {
        std::uint64_t length = 0;
        if (!ReadVarint(length) || length > rest_.size()) return Fail();
        field.type = WireType::kLengthDelimited;
        field.bytes = rest_.substr(0, length);
        rest_.remove_prefix(length);
        return true;
      }
      case 5:
        field.type = WireType::kFixed32;
        return ReadFixed32(field.fixed32) || Fail();
      case kStartGroup:
        if (!SkipGroup(field.number)) return Fail();
        continue;
      default:  // an end group without its start, or wire types 6 and 7, which do not exist
        return Fail();
    }
  }
  return false;
}

// Skips the fields of a group up to its end tag, including nested groups, without recursion.
bool Reader::SkipGroup(std::uint32_t number) {
  std::uint32_t open[kMaxGroupDepth];
  int depth = 0;
  open[depth++] = number;
  while (depth > 0) {
    std::uint64_t key = 0;
    if (!ReadVarint(key)) return false;
    const std::uint64_t inner = key >> 3;
    std::uint64_t scratch = 0;
    std::uint32_t scratch32 = 0;
    switch (key & 7) {
      case 0: if (!ReadVarint(scratch)) return false; break;
      case 1: if (!ReadFixed64(scratch)) return false; break;
      case 5: if (!ReadFixed32(scratch32)) return false; break;
      case 2:
        if (!ReadVarint(scratch) || scratch > rest_.size()) return false;
        rest_.remove_prefix(scratch);
        break;
      case kStartGroup:
        if (depth == kMaxGroupDepth || inner == 0 || inner > kMaxFieldNumber) return false;
        open[depth++] = static_cast<std::uint32_t>(inner);
        break;
      case kEndGroup:
        if (inner != open[depth - 1]) return false;
        --depth;
        break;
      default: return false;
    }
  }
  return true;
}

double AsDouble(std::uint64_t fixed64) { return std::bit_cast<double>(fixed64); }
float AsFloat(std::uint32_t fixed32) { return std::bit_cast<float>(fixed32); }

}  // namespace paddlecloud::eventfiles::wire
