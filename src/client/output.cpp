#include "client/output.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace paddlecloud::client {

std::string FormatBytes(std::uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", value, kUnits[unit]);
  return text;
}

std::string FormatAge(std::int64_t seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 120) return std::to_string(seconds) + "s";
  if (seconds < 120 * 60) return std::to_string(seconds / 60) + "m";
  if (seconds < 48 * 3600) return std::to_string(seconds / 3600) + "h";
  return std::to_string(seconds / 86400) + "d";
}

std::string FormatTime(std::int64_t unix_seconds) {
  if (unix_seconds <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm local {};
  ::localtime_r(&t, &local);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
  return text;
}

std::string FormatTable(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(header.size());
  auto measure = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  };
  measure(header);
  for (const auto& row : rows) measure(row);
  std::string out;
  auto emit = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < widths.size(); ++i) {
      std::string cell = i < row.size() ? row[i] : "";
      line += cell;
      if (i + 1 < widths.size()) line += std::string(widths[i] - cell.size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  };
  emit(header);
  for (const auto& row : rows) emit(row);
  return out;
}

std::string FormatProgress(std::uint64_t sent, std::uint64_t total, std::chrono::milliseconds elapsed) {
  int percent = total == 0 ? 100 : static_cast<int>(sent * 100 / total);
  char head[16];
  std::snprintf(head, sizeof head, "%3d%%", percent);
  std::string line = std::string(head) + " " + FormatBytes(sent) + " / " + FormatBytes(total);
  if (elapsed.count() > 0) {
    auto rate = static_cast<std::uint64_t>(static_cast<double>(sent) * 1000.0 / static_cast<double>(elapsed.count()));
    line += "  " + FormatBytes(rate) + "/s";
  }
  return line;
}

bool SseDecoder::Feed(std::string_view bytes, const Handler& on_event) {
  pending_.append(bytes);
  std::size_t start = 0;
  while (true) {
    std::size_t end = pending_.find('\n', start);
    if (end == std::string::npos) break;
    std::string_view line(pending_.data() + start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      if (has_data_) {
        std::string event = event_.empty() ? "message" : event_;
        std::string data = std::move(data_);
        event_.clear();
        data_.clear();
        has_data_ = false;
        if (!on_event(event, data)) {
          pending_.erase(0, start);
          return false;
        }
      } else {
        event_.clear();
      }
      continue;
    }
    if (line.front() == ':') continue;
    std::string_view field = line, value;
    if (auto colon = line.find(':'); colon != std::string_view::npos) {
      field = line.substr(0, colon);
      value = line.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "event") {
      event_ = std::string(value);
    } else if (field == "data") {
      if (has_data_) data_ += "\n";
      data_.append(value);
      has_data_ = true;
    }
  }
  pending_.erase(0, start);
  return true;
}

}  // namespace paddlecloud::client
