// One grammar for the quantities people type anywhere in PaddleCloud (server settings, job specs,
// CLI flags): durations, byte sizes and CPU quantities, as Kubernetes writes resource quantities.
//
// A quantity is a non-negative decimal number ("3", "1.5", ".5") followed by a unit, with no
// space; the value is rounded up to the unit's smallest step (1 ms, 1 byte, 1 millicore).
//   durations  ms, s, m, h, d, w ("500ms", "90s", "1.5h", "7d"); a bare number is seconds
//   byte sizes k or K (1000), M, G, T, P, E (powers of 1000) and Ki, Mi, Gi, Ti, Pi, Ei (powers of
//              1024), each optionally followed by B ("64MiB", "2GB"); a bare number (or "B")
//              is bytes. Memory quantities are byte sizes.
//   CPU        cores ("2", "0.5") or millicores with m ("500m")
// Errors are InvalidArgument naming the text and an example; callers add the field's name.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace paddlecloud::units {

Result<std::chrono::milliseconds> ParseDuration(std::string_view text);
Result<std::int64_t> ParseByteSize(std::string_view text);
Result<std::int64_t> ParseCpuMilli(std::string_view text);
// A whole number of things (GPUs, jobs): digits only.
Result<std::int64_t> ParseCount(std::string_view text);

// The shortest text the parsers read back to the same value: "2", "500m"; "512Mi", "1536".
std::string CpuQuantity(std::int64_t milli);
std::string ByteQuantity(std::int64_t bytes);

// For people: "1 CPU", "0.5 CPUs"; "512Mi" (a whole binary unit, else rounded up to Mi; "N bytes"
// below 1Mi).
std::string DescribeCpu(std::int64_t milli);
std::string DescribeBytes(std::int64_t bytes);

}  // namespace paddlecloud::units
