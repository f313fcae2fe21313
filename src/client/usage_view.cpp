#include "client/usage_view.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "client/command_support.h"
#include "client/output.h"

namespace paddlecloud::client {
namespace {

namespace json = boost::json;

std::optional<double> NumberOf(const json::value* v) {
  if (!v || !(v->is_double() || v->is_int64() || v->is_uint64())) return std::nullopt;
  return v->to_number<double>();
}

std::optional<double> NumberAt(const json::value& v, std::initializer_list<std::string_view> path) {
  const json::value* cur = &v;
  for (auto key : path) {
    if (!cur->is_object()) return std::nullopt;
    cur = cur->as_object().if_contains(key);
    if (!cur) return std::nullopt;
  }
  return NumberOf(cur);
}

// The last mean of `name` in `metrics` that is not null, and the index of its bucket.
std::optional<std::pair<double, std::size_t>> LastMean(const json::value& metrics, std::string_view name) {
  if (!metrics.is_object()) return std::nullopt;
  const json::value* metric = metrics.as_object().if_contains(name);
  if (!metric) return std::nullopt;
  const auto& means = ArrayAt(*metric, "mean");
  for (std::size_t i = means.size(); i-- > 0;)
    if (auto v = NumberOf(&means[i])) return std::pair{*v, i};
  return std::nullopt;
}

// Sets `out` to the last mean of `name` and moves `t_ms` to its bucket's time when later.
void TakeLast(const json::value& metrics, std::string_view name, const json::array& t, std::optional<double>& out,
              std::int64_t& t_ms) {
  auto last = LastMean(metrics, name);
  if (!last) return;
  out = last->first;
  if (last->second < t.size()) t_ms = std::max(t_ms, IntAt(t[last->second], {}));
}

const json::value& MetricsOf(const json::value& v) {
  static const json::value kNone;
  const json::value* m = v.is_object() ? v.as_object().if_contains("metrics") : nullptr;
  return m ? *m : kNone;
}

std::string Fixed(double v, int decimals) {
  char text[48];
  std::snprintf(text, sizeof text, "%.*f", decimals, v);
  return text;
}

std::string Percent(const std::optional<double>& used, double of) {
  if (!used || of <= 0) return "-";
  return Fixed(*used / of * 100, 0) + "%";
}

std::string Rate(const std::optional<double>& bytes_per_s) {
  return FormatBytes(static_cast<std::uint64_t>(std::max(0.0, std::round(*bytes_per_s)))) + "/s";
}

std::string JobTitle(const JobTop& job) { return job.name + " (id " + std::to_string(job.id) + ")"; }

// The columns of `pod` that show "-" because nothing was read ("CPU, MEMORY"); GPU columns only
// for a pod that has GPUs.
std::string UnreadColumns(const PodTop& pod) {
  std::vector<std::string> unread;
  if (!pod.cpu_cores) unread.push_back("CPU");
  if (!pod.memory_working_set_bytes) unread.push_back("MEMORY");
  if (pod.gpus > 0 && !pod.gpu_utilization_percent) unread.push_back("GPU%");
  if (pod.gpus > 0 && !pod.gpu_memory_used_bytes) unread.push_back("GPU MEM");
  std::string text;
  for (const auto& column : unread) text += (text.empty() ? "" : ", ") + column;
  return text;
}

// Why values show "-": the server's reason, else that the latest samples held none.
std::string Reason(const std::string& not_measured) {
  return not_measured.empty() ? "no recent sample" : not_measured;
}

json::value Nullable(const std::optional<double>& v) { return v ? json::value(*v) : json::value(nullptr); }
json::value NullableBytes(const std::optional<double>& v) {
  return v ? json::value(std::llround(*v)) : json::value(nullptr);
}

json::value NullablePercent(const std::optional<double>& used, double of) {
  if (!used || of <= 0) return nullptr;
  return *used / of * 100;
}

}  // namespace

JobTop TopFromUsage(const json::value& usage, const std::string& job_name) {
  JobTop top{.id = IntAt(usage, {"job"}), .name = job_name, .state = StringAt(usage, {"state"}),
             .interval_ms = IntAt(usage, {"interval_ms"})};
  const json::array& t = ArrayAt(usage, "t");
  for (const auto& p : ArrayAt(usage, "pods")) {
    PodTop pod{.name = StringAt(p, {"name"}), .role = StringAt(p, {"role"}), .phase = StringAt(p, {"phase"}),
               .cpu_request = NumberAt(p, {"requests", "cpu"}).value_or(0),
               .memory_limit = IntAt(p, {"limits", "memory_bytes"}),
               .gpus = IntAt(p, {"requests", "gpus"}),
               .not_measured = StringAt(p, {"not_measured"})};
    const json::value& metrics = MetricsOf(p);
    TakeLast(metrics, "cpu_cores", t, pod.cpu_cores, top.t_ms);
    TakeLast(metrics, "memory_working_set_bytes", t, pod.memory_working_set_bytes, top.t_ms);
    TakeLast(metrics, "gpu_utilization_percent", t, pod.gpu_utilization_percent, top.t_ms);
    TakeLast(metrics, "gpu_memory_used_bytes", t, pod.gpu_memory_used_bytes, top.t_ms);
    TakeLast(metrics, "gpu_memory_total_bytes", t, pod.gpu_memory_total_bytes, top.t_ms);
    top.pods.push_back(std::move(pod));
  }
  const json::value network = usage.is_object() && usage.as_object().contains("network") ? usage.at("network")
                                                                                         : json::value();
  TakeLast(MetricsOf(network), "network_rx_bytes_per_s", t, top.network_rx_bytes_per_s, top.t_ms);
  TakeLast(MetricsOf(network), "network_tx_bytes_per_s", t, top.network_tx_bytes_per_s, top.t_ms);
  top.network_not_measured = StringAt(network, {"not_measured"});
  return top;
}

void ApplySample(JobTop& top, const json::value& sample) {
  top.t_ms = IntAt(sample, {"t"}, top.t_ms);
  const json::value* pods = sample.is_object() ? sample.as_object().if_contains("pods") : nullptr;
  if (pods && pods->is_object()) {
    for (auto& pod : top.pods) {  // a pod the sample leaves out was not read: its values are stale
      pod.cpu_cores = pod.memory_working_set_bytes = pod.gpu_utilization_percent = std::nullopt;
      pod.gpu_memory_used_bytes = pod.gpu_memory_total_bytes = std::nullopt;
    }
    for (const auto& [name, values] : pods->as_object()) {
      auto pod = std::find_if(top.pods.begin(), top.pods.end(), [&](const PodTop& p) { return p.name == name; });
      if (pod == top.pods.end()) pod = top.pods.insert(top.pods.end(), PodTop{.name = std::string(name)});
      pod->cpu_cores = NumberAt(values, {"cpu_cores"});
      pod->memory_working_set_bytes = NumberAt(values, {"memory_working_set_bytes"});
      pod->gpu_utilization_percent = NumberAt(values, {"gpu_utilization_percent"});
      pod->gpu_memory_used_bytes = NumberAt(values, {"gpu_memory_used_bytes"});
      pod->gpu_memory_total_bytes = NumberAt(values, {"gpu_memory_total_bytes"});
    }
  }
  top.network_rx_bytes_per_s = NumberAt(sample, {"network", "network_rx_bytes_per_s"});
  top.network_tx_bytes_per_s = NumberAt(sample, {"network", "network_tx_bytes_per_s"});
}

std::string FormatMemory(double bytes) {
  static const char* const kUnits[] = {"Ki", "Mi", "Gi", "Ti"};
  if (bytes < 1024) return Fixed(std::max(0.0, bytes), 0);
  double value = bytes / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  return Fixed(value, value < 10 ? 1 : 0) + kUnits[unit];
}

std::string FormatTop(const std::vector<JobTop>& jobs) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> notes;
  for (const auto& job : jobs) {
    for (const auto& pod : job.pods) {
      std::string gpu_memory = "-";
      if (pod.gpus > 0 && pod.gpu_memory_used_bytes) {
        gpu_memory = FormatMemory(*pod.gpu_memory_used_bytes);
        if (pod.gpu_memory_total_bytes) gpu_memory += "/" + FormatMemory(*pod.gpu_memory_total_bytes);
      }
      rows.push_back({pod.name, pod.cpu_cores ? Fixed(*pod.cpu_cores, 2) : "-", Percent(pod.cpu_cores, pod.cpu_request),
                      pod.memory_working_set_bytes ? FormatMemory(*pod.memory_working_set_bytes) : "-",
                      Percent(pod.memory_working_set_bytes, static_cast<double>(pod.memory_limit)),
                      pod.gpus > 0 && pod.gpu_utilization_percent ? Fixed(*pod.gpu_utilization_percent, 0) + "%" : "-",
                      gpu_memory});
      if (std::string unread = UnreadColumns(pod); !unread.empty())
        notes.push_back("  " + pod.name + " (" + unread + "): " + Reason(pod.not_measured));
    }
  }
  std::string out = FormatTable({"POD", "CPU", "CPU%", "MEMORY", "MEM%", "GPU%", "GPU MEM"}, rows);
  for (const auto& job : jobs) {
    out += "Network of " + JobTitle(job) + ": ";
    if (job.network_rx_bytes_per_s && job.network_tx_bytes_per_s) {
      out += "rx " + Rate(job.network_rx_bytes_per_s) + ", tx " + Rate(job.network_tx_bytes_per_s) + "\n";
    } else {
      out += "- (not measured: " + Reason(job.network_not_measured) + ")\n";
    }
  }
  if (!notes.empty()) {
    out += "Not measured (shown as -):\n";
    for (const auto& note : notes) out += note + "\n";
  }
  return out;
}

json::value TopJson(const std::vector<JobTop>& jobs) {
  json::array items;
  for (const auto& job : jobs) {
    json::array pods;
    for (const auto& pod : job.pods)
      pods.push_back(json::object{
          {"name", pod.name},
          {"role", pod.role},
          {"phase", pod.phase},
          {"cpu_cores", Nullable(pod.cpu_cores)},
          {"cpu_percent_of_request", NullablePercent(pod.cpu_cores, pod.cpu_request)},
          {"memory_working_set_bytes", NullableBytes(pod.memory_working_set_bytes)},
          {"memory_percent_of_limit",
           NullablePercent(pod.memory_working_set_bytes, static_cast<double>(pod.memory_limit))},
          {"gpu_utilization_percent", Nullable(pod.gpu_utilization_percent)},
          {"gpu_memory_used_bytes", NullableBytes(pod.gpu_memory_used_bytes)},
          {"gpu_memory_total_bytes", NullableBytes(pod.gpu_memory_total_bytes)},
          {"not_measured", pod.not_measured}});
    items.push_back(json::object{{"id", job.id},
                                 {"name", job.name},
                                 {"state", job.state},
                                 {"t", job.t_ms > 0 ? json::value(job.t_ms) : json::value(nullptr)},
                                 {"pods", std::move(pods)},
                                 {"network", json::object{{"rx_bytes_per_s", NullableBytes(job.network_rx_bytes_per_s)},
                                                          {"tx_bytes_per_s", NullableBytes(job.network_tx_bytes_per_s)},
                                                          {"not_measured", job.network_not_measured}}}});
  }
  return json::object{{"jobs", std::move(items)}};
}

std::string BarChart(const std::vector<double>& values, int height, const std::string& unit, const std::string& first,
                     const std::string& last) {
  static const char* const kEighths[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  double top = 0;
  for (double v : values) top = std::max(top, v);
  char small[32];
  std::snprintf(small, sizeof small, "%.2g", top);
  std::string top_label = (top >= 10 ? Fixed(top, 0) : top >= 0.1 ? Fixed(top, 2) : std::string(small)) + " " + unit;
  std::string zero_label = "0 " + unit;
  std::size_t label_width = std::max(top_label.size(), zero_label.size());
  auto pad = [&](const std::string& label) { return std::string(label_width - label.size(), ' ') + label; };
  std::string out;
  for (int row = height - 1; row >= 0; --row) {
    std::string line = row == height - 1 ? pad(top_label) : row == 0 ? pad(zero_label) : std::string(label_width, ' ');
    line += " │";
    for (double v : values) {
      long eighths = top > 0 ? std::lround(v / top * height * 8) : 0;
      if (v > 0 && eighths == 0) eighths = 1;  // a little use still shows
      long fill = std::clamp<long>(eighths - row * 8L, 0, 8);
      line += kEighths[fill];
      line += " ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  std::string axis_indent(label_width + 2, ' ');
  std::size_t width = values.size() * 2;
  std::string labels = first;
  if (width > first.size() + last.size()) labels += std::string(width - first.size() - last.size() - 1, ' ') + last;
  out += axis_indent + labels + "\n";
  return out;
}

namespace {

std::string WindowText(const std::string& window) {
  if (window == "1d") return "last 24 hours";
  if (window == "7d") return "last 7 days";
  if (window == "30d") return "last 30 days";
  return window;
}

std::string Hours(double seconds) { return Fixed(seconds / 3600, 2) + " h"; }

}  // namespace

std::string FormatAccountUsage(const json::value& usage) {
  double cpu = NumberAt(usage, {"cpu_seconds"}).value_or(0), gpu = NumberAt(usage, {"gpu_seconds"}).value_or(0);
  std::string window = WindowText(StringAt(usage, {"window"}));
  std::string out = "CPU time, " + window + ": " + Hours(cpu) + " (" + Fixed(cpu, 0) + " core-seconds)\n" +
                    "GPU time, " + window + ": " + Hours(gpu) + " (" + Fixed(gpu, 0) + " GPU-seconds)\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& u : ArrayAt(usage, "users"))
    rows.push_back({StringAt(u, {"email"}), Fixed(NumberAt(u, {"cpu_seconds"}).value_or(0) / 3600, 2),
                    Fixed(NumberAt(u, {"gpu_seconds"}).value_or(0) / 3600, 2)});
  out += rows.empty() ? "No usage in this window.\n" : FormatTable({"USER", "CPU HOURS", "GPU HOURS"}, rows);

  const auto& daily = ArrayAt(usage, "daily");
  if (daily.empty()) return out;
  std::vector<double> cpu_hours, gpu_hours;
  for (const auto& d : daily) {
    cpu_hours.push_back(NumberAt(d, {"cpu_seconds"}).value_or(0) / 3600);
    gpu_hours.push_back(NumberAt(d, {"gpu_seconds"}).value_or(0) / 3600);
  }
  std::string first = StringAt(daily.front(), {"day"}), last = StringAt(daily.back(), {"day"});
  out += "\nCPU hours per day, last " + std::to_string(daily.size()) + " days (UTC):\n" +
         BarChart(cpu_hours, 8, "h", first, last);
  if (std::any_of(gpu_hours.begin(), gpu_hours.end(), [](double h) { return h > 0; }))
    out += "\nGPU hours per day:\n" + BarChart(gpu_hours, 8, "h", first, last);
  return out;
}

namespace {

// One resource of a quota answer: how to print its amounts.
struct QuotaRow {
  const char* label;
  const char* key;  // in "quota", "in_use" and "capacity"
  std::string (*format)(double);
};

std::string CountText(double v) { return Fixed(v, std::floor(v) == v ? 0 : 1); }
std::string MemoryText(double v) { return FormatMemory(v); }

constexpr QuotaRow kQuotaRows[] = {{"CPU", "cpu", CountText},
                                   {"Memory", "memory_bytes", MemoryText},
                                   {"GPUs", "gpus", CountText},
                                   {"Running jobs", "running_jobs", CountText},
                                   {"Storage", "storage_bytes", MemoryText}};

// "[██████░░░░░░░░░░░░░░]  30%": what is in use of `of`.
std::string UseBar(double used, double of) {
  if (of <= 0) return "";
  constexpr int kWidth = 20;
  double share = std::clamp(used / of, 0.0, 1.0);
  int full = static_cast<int>(std::round(share * kWidth));
  std::string bar = "[";
  for (int i = 0; i < kWidth; ++i) bar += i < full ? "\u2588" : "\u2591";
  return bar + "] " + Fixed(used / of * 100, 0) + "%";
}

// "2 / 8" (a limit), "2" (none).
std::string OfLimit(const QuotaRow& row, const json::value& member) {
  std::string used = row.format(NumberAt(member, {"in_use", row.key}).value_or(0));
  auto limit = NumberAt(member, {"limits", row.key});
  return limit ? used + " / " + row.format(*limit) : used;
}

}  // namespace

std::string FormatQuota(const json::value& quota) {
  std::vector<std::vector<std::string>> rows;
  for (const QuotaRow& row : kQuotaRows) {
    double used = NumberAt(quota, {"in_use", row.key}).value_or(0);
    auto limit = NumberAt(quota, {"quota", row.key});
    auto capacity = NumberAt(quota, {"capacity", row.key});
    std::string bound = limit ? row.format(*limit)
                              : capacity ? "no quota (cluster: " + row.format(*capacity) + ")" : "no quota";
    rows.push_back({row.label, row.format(used), bound, UseBar(used, limit.value_or(capacity.value_or(0)))});
  }
  std::string out = FormatTable({"RESOURCE", "IN USE", "QUOTA", ""}, rows);
  const auto& members = ArrayAt(quota, "members");
  if (members.empty()) return out;
  std::vector<std::vector<std::string>> limits;
  for (const auto& m : members)
    limits.push_back({StringAt(m, {"email"}), OfLimit(kQuotaRows[0], m), OfLimit(kQuotaRows[1], m),
                      OfLimit(kQuotaRows[2], m), OfLimit(kQuotaRows[3], m)});
  return out + "\nIn use / limit of each member (no limit: only the account's quota):\n" +
         FormatTable({"MEMBER", "CPU", "MEMORY", "GPUS", "RUNNING JOBS"}, limits);
}

}  // namespace paddlecloud::client
