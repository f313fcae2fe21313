// Test-only writers of protobuf wire bytes, TensorBoard events, VisualDL records and their framings.
#pragma once

#include <bit>
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

#include "eventfiles/crc32c.h"

namespace paddlecloud::eventfiles::testenc {

inline std::string Varint(std::uint64_t value) {
  std::string out;
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
  return out;
}
inline std::string LittleEndian(std::uint64_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
  return out;
}
inline std::string Key(std::uint32_t number, int wire_type) { return Varint(std::uint64_t{number} << 3 | wire_type); }
inline std::string VarintField(std::uint32_t n, std::uint64_t v) { return Key(n, 0) + Varint(v); }
inline std::string DoubleField(std::uint32_t n, double v) { return Key(n, 1) + LittleEndian(std::bit_cast<std::uint64_t>(v), 8); }
inline std::string FloatField(std::uint32_t n, float v) { return Key(n, 5) + LittleEndian(std::bit_cast<std::uint32_t>(v), 4); }
inline std::string BytesField(std::uint32_t n, std::string_view v) { return Key(n, 2) + Varint(v.size()) + std::string(v); }

// TensorBoard: Event{wall_time, step, summary{value{tag, simple_value}}}.
inline std::string SummaryValue(std::string_view tag, float value) { return BytesField(1, tag) + FloatField(2, value); }
inline std::string SummaryWithTensor(std::string_view tag, std::string_view tensor) {
  return BytesField(1, tag) + BytesField(8, tensor);
}
inline std::string Event(double wall_time, std::int64_t step, std::string_view summary_values) {
  return DoubleField(1, wall_time) + VarintField(2, static_cast<std::uint64_t>(step)) + BytesField(5, summary_values);
}
inline std::string ScalarEvent(double wall_time, std::int64_t step, std::string_view tag, float value) {
  return Event(wall_time, step, BytesField(1, SummaryValue(tag, value)));
}
inline std::string FileVersionEvent(double wall_time) {
  return DoubleField(1, wall_time) + BytesField(3, "brain.Event:2");
}

// VisualDL: Record{values{id, tag, timestamp, value}}.
inline std::string VdlScalar(std::int64_t step, std::string_view tag, std::int64_t timestamp_ms, float value) {
  return BytesField(1, VarintField(1, static_cast<std::uint64_t>(step)) + BytesField(2, tag) +
                           VarintField(3, static_cast<std::uint64_t>(timestamp_ms)) + FloatField(4, value));
}

inline std::string TFRecord(std::string_view data) {
  const std::string length = LittleEndian(data.size(), 8);
  return length + LittleEndian(MaskCrc(Crc32c(length)), 4) + std::string(data) + LittleEndian(MaskCrc(Crc32c(data)), 4);
}
inline std::string LengthPrefixed(std::string_view data) { return LittleEndian(data.size(), 8) + std::string(data); }

inline void AppendFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
inline void WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace paddlecloud::eventfiles::testenc
