#include "common/units.h"

#include <limits>

namespace paddlecloud::units {

namespace {

struct Unit {
  std::string_view suffix;
  __int128 multiplier;  // of the value's smallest step
};

constexpr __int128 kKi = 1024, kK = 1000;

// value = number * multiplier / divisor, rounded up; false on syntax errors or overflow.
bool Scaled(std::string_view number, __int128 multiplier, __int128 divisor, std::int64_t& out) {
  std::string_view whole = number, fraction;
  if (auto dot = number.find('.'); dot != std::string_view::npos) {
    whole = number.substr(0, dot);
    fraction = number.substr(dot + 1);
  }
  if ((whole.empty() && fraction.empty()) || whole.size() > 19 || fraction.size() > 18) return false;
  __int128 int_part = 0, frac_part = 0, frac_scale = 1;
  for (char c : whole) {
    if (c < '0' || c > '9') return false;
    int_part = int_part * 10 + (c - '0');
  }
  for (char c : fraction) {
    if (c < '0' || c > '9') return false;
    frac_part = frac_part * 10 + (c - '0');
    frac_scale *= 10;
  }
  __int128 numerator = (int_part * frac_scale + frac_part) * multiplier;
  __int128 denominator = frac_scale * divisor;
  __int128 value = (numerator + denominator - 1) / denominator;
  if (value > std::numeric_limits<std::int64_t>::max()) return false;
  out = static_cast<std::int64_t>(value);
  return true;
}

// The number before the longest matching suffix of `units` (or the whole text with `bare`).
bool Parse(std::string_view text, std::initializer_list<Unit> units, __int128 bare, std::int64_t& out) {
  const Unit* best = nullptr;
  for (const Unit& u : units)
    if (text.size() > u.suffix.size() && text.ends_with(u.suffix) && (!best || u.suffix.size() > best->suffix.size()))
      best = &u;
  if (best) return Scaled(text.substr(0, text.size() - best->suffix.size()), best->multiplier, 1, out);
  return bare > 0 && Scaled(text, bare, 1, out);
}

Status Invalid(std::string_view text, std::string_view what, std::string_view example) {
  if (text.starts_with('-')) return Status::InvalidArgument(std::string(what) + " must not be negative");
  return Status::InvalidArgument("\"" + std::string(text) + "\" is not " + std::string(what) + " (use e.g. " +
                                 std::string(example) + ")");
}

std::string Decimal(std::int64_t milli) {
  std::string out = std::to_string(milli / 1000);
  if (std::int64_t rest = milli % 1000) {
    std::string frac = std::to_string(1000 + rest).substr(1);
    while (frac.back() == '0') frac.pop_back();
    out += "." + frac;
  }
  return out;
}

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  std::int64_t ms = 0;
  if (!Parse(text, {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}, {"w", 604'800'000}},
             1000, ms))
    return Err(Invalid(text, "a duration", "500ms, 90s, 30m, 12h, 7d or 2w"));
  return std::chrono::milliseconds(ms);
}

Result<std::int64_t> ParseByteSize(std::string_view text) {
  std::int64_t bytes = 0;
  if (!Parse(text,
             {{"B", 1},           {"k", kK},
              {"K", kK},          {"KB", kK},
              {"kB", kK},         {"M", kK * kK},
              {"MB", kK * kK},    {"G", kK * kK * kK},
              {"GB", kK * kK * kK}, {"T", kK * kK * kK * kK},
              {"TB", kK * kK * kK * kK}, {"P", kK * kK * kK * kK * kK},
              {"PB", kK * kK * kK * kK * kK}, {"E", kK * kK * kK * kK * kK * kK},
              {"EB", kK * kK * kK * kK * kK * kK}, {"Ki", kKi},
              {"KiB", kKi},       {"Mi", kKi * kKi},
              {"MiB", kKi * kKi}, {"Gi", kKi * kKi * kKi},
              {"GiB", kKi * kKi * kKi}, {"Ti", kKi * kKi * kKi * kKi},
              {"TiB", kKi * kKi * kKi * kKi}, {"Pi", kKi * kKi * kKi * kKi * kKi},
              {"PiB", kKi * kKi * kKi * kKi * kKi}, {"Ei", kKi * kKi * kKi * kKi * kKi * kKi},
              {"EiB", kKi * kKi * kKi * kKi * kKi * kKi}},
             1, bytes))
    return Err(Invalid(text, "a size", "512Mi, 64MiB, 1G or 1048576"));
  return bytes;
}

Result<std::int64_t> ParseCpuMilli(std::string_view text) {
  std::int64_t milli = 0;
  if (!Parse(text, {{"m", 1}}, 1000, milli)) return Err(Invalid(text, "a CPU quantity", "2, 500m or 1.5"));
  return milli;
}

Result<std::int64_t> ParseCount(std::string_view text) {
  std::int64_t n = 0;
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos || !Scaled(text, 1, 1, n))
    return Err(Invalid(text, "a whole number", "0, 2 or 10"));
  return n;
}

std::string CpuQuantity(std::int64_t milli) {
  return milli % 1000 == 0 ? std::to_string(milli / 1000) : std::to_string(milli) + "m";
}

std::string ByteQuantity(std::int64_t bytes) {
  for (auto [size, unit] : {std::pair{1LL << 40, "Ti"}, {1LL << 30, "Gi"}, {1LL << 20, "Mi"}, {1LL << 10, "Ki"}})
    if (bytes >= size && bytes % size == 0) return std::to_string(bytes / size) + unit;
  return std::to_string(bytes);
}

std::string DescribeCpu(std::int64_t milli) { return Decimal(milli) + (milli == 1000 ? " CPU" : " CPUs"); }

std::string DescribeBytes(std::int64_t bytes) {
  if (bytes >= (1LL << 10) && bytes % (1LL << 10) == 0) return ByteQuantity(bytes);
  if (bytes >= (1LL << 20)) return std::to_string((bytes + (1LL << 20) - 1) >> 20) + "Mi";
  return std::to_string(bytes) + " bytes";
}

}  // namespace paddlecloud::units
