#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <limits>

#include "db/database.h"

namespace paddlecloud::db {
namespace {

std::int64_t ClampToInt64(double d) {
  if (std::isnan(d)) return 0;
  // 2^63 is exactly representable; anything at or beyond it saturates, as SQLite's CAST does.
  constexpr double kLimit = 9223372036854775808.0;
  if (d >= kLimit) return std::numeric_limits<std::int64_t>::max();
  if (d < -kLimit) return std::numeric_limits<std::int64_t>::min();
  return static_cast<std::int64_t>(d);  // truncates toward zero
}

std::string_view TrimSpace(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

// Numeric prefix of a text as a double; 0 when there is none.
double ParseReal(std::string_view s) {
  s = TrimSpace(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double d = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec == std::errc::result_out_of_range) {
    return (!s.empty() && s.front() == '-') ? -std::numeric_limits<double>::infinity()
                                            : std::numeric_limits<double>::infinity();
  }
  return ec == std::errc() ? d : 0.0;
}

std::int64_t ParseInt(std::string_view s) {
  std::string_view t = TrimSpace(s);
  if (!t.empty() && t.front() == '+') t.remove_prefix(1);
  std::int64_t i = 0;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), i);
  if (ec == std::errc() && ptr == t.data() + t.size()) return i;
  return ClampToInt64(ParseReal(s));  // "1.5", "1e3", "12abc", out of range
}

std::string FormatReal(double d) {
  char buf[64];
  const auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, d);
  assert(ec == std::errc());
  return std::string(buf, ptr);
}

const Value kNull{};

}  // namespace

const Value& Rows::At(std::size_t row, std::string_view column) const {
  const auto it = std::find(columns_.begin(), columns_.end(), column);
  assert(it != columns_.end() && "Rows: no such column in the query's result");
  assert(row < rows_.size() && "Rows: row index out of range");
  if (it == columns_.end() || row >= rows_.size()) return kNull;
  const auto& r = rows_[row];
  const auto index = static_cast<std::size_t>(it - columns_.begin());
  return index < r.size() ? r[index] : kNull;
}

bool Rows::IsNull(std::size_t row, std::string_view column) const {
  return std::holds_alternative<std::monostate>(At(row, column));
}

std::int64_t Rows::Int(std::size_t row, std::string_view column) const {
  const Value& v = At(row, column);
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return ClampToInt64(*d);
  if (const auto* s = std::get_if<std::string>(&v)) return ParseInt(*s);
  return 0;
}

double Rows::Real(std::size_t row, std::string_view column) const {
  const Value& v = At(row, column);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* s = std::get_if<std::string>(&v)) return ParseReal(*s);
  return 0.0;
}

std::string Rows::Text(std::size_t row, std::string_view column) const {
  const Value& v = At(row, column);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) return FormatReal(*d);
  return "";
}

}  // namespace paddlecloud::db
