#include "kube_test_server/kube_util.h"

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>

namespace paddlecloud::kube_test {
namespace json = boost::json;

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool ValidLabelKey(std::string_view key) {
  if (key.empty() || key.size() > 317) return false;
  for (char c : key) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/')) return false;
  }
  return true;
}

bool ValidLabelValue(std::string_view value) {
  if (value.size() > 63) return false;
  for (char c : value) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

// Splits on commas outside parentheses.
std::vector<std::string_view> SplitTop(std::string_view text) {
  std::vector<std::string_view> parts;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '(') ++depth;
    if (text[i] == ')') --depth;
    if (text[i] == ',' && depth == 0) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(text.substr(start));
  return parts;
}

std::optional<std::string> LabelOf(const json::object& object, const std::string& key) {
  auto meta = object.if_contains("metadata");
  if (meta == nullptr || !meta->is_object()) return std::nullopt;
  auto l = meta->as_object().if_contains("labels");
  if (l == nullptr || !l->is_object()) return std::nullopt;
  auto v = l->as_object().if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

}  // namespace

std::optional<LabelSelector> ParseLabelSelector(std::string_view text, std::string* error) {
  LabelSelector out;
  text = Trim(text);
  if (text.empty()) return out;
  for (std::string_view raw : SplitTop(text)) {
    std::string_view part = Trim(raw);
    LabelRequirement req;
    auto fail = [&](const std::string& why) {
      *error = "unable to parse requirement: " + why + ": \"" + std::string(part) + "\"";
      return std::nullopt;
    };
    if (part.empty()) return fail("empty requirement");
    std::size_t op_pos;
    if (part.front() == '!') {
      req.op = LabelRequirement::kNotExists;
      req.key = std::string(Trim(part.substr(1)));
    } else if ((op_pos = part.find("!=")) != std::string_view::npos) {
      req.op = LabelRequirement::kNotEq;
      req.key = std::string(Trim(part.substr(0, op_pos)));
      req.values.emplace_back(Trim(part.substr(op_pos + 2)));
    } else if ((op_pos = part.find("==")) != std::string_view::npos) {
      req.key = std::string(Trim(part.substr(0, op_pos)));
      req.values.emplace_back(Trim(part.substr(op_pos + 2)));
    } else if ((op_pos = part.find('=')) != std::string_view::npos) {
      req.key = std::string(Trim(part.substr(0, op_pos)));
      req.values.emplace_back(Trim(part.substr(op_pos + 1)));
    } else if (auto paren = part.find('('); paren != std::string_view::npos) {
      if (part.back() != ')') return fail("missing ')'");
      std::string_view head = Trim(part.substr(0, paren));
      auto space = head.find_last_of(" \t");
      if (space == std::string_view::npos) return fail("expected 'in' or 'notin'");
      std::string_view op = head.substr(space + 1);
      req.key = std::string(Trim(head.substr(0, space)));
      if (op == "in") {
        req.op = LabelRequirement::kIn;
      } else if (op == "notin") {
        req.op = LabelRequirement::kNotIn;
      } else {
        return fail("unknown operator " + std::string(op));
      }
      std::string_view inner = part.substr(paren + 1, part.size() - paren - 2);
      for (std::string_view v : SplitTop(inner)) req.values.emplace_back(Trim(v));
    } else {
      req.op = LabelRequirement::kExists;
      req.key = std::string(part);
    }
    if (!ValidLabelKey(req.key)) return fail("invalid label key");
    for (const auto& v : req.values) {
      if (!ValidLabelValue(v)) return fail("invalid label value");
    }
    out.push_back(std::move(req));
  }
  return out;
}

bool Matches(const LabelSelector& selector, const json::object& object) {
  for (const auto& req : selector) {
    auto value = LabelOf(object, req.key);
    bool in_values = value && std::find(req.values.begin(), req.values.end(), *value) != req.values.end();
    switch (req.op) {
      case LabelRequirement::kEq:
      case LabelRequirement::kIn:
        if (!in_values) return false;
        break;
      case LabelRequirement::kNotEq:
      case LabelRequirement::kNotIn:
        if (in_values) return false;
        break;
      case LabelRequirement::kExists:
        if (!value) return false;
        break;
      case LabelRequirement::kNotExists:
        if (value) return false;
        break;
    }
  }
  return true;
}

bool MatchesLabelSelectorObject(const json::value& selector, const json::object& object) {
  if (!selector.is_object()) return false;
  LabelSelector reqs;
  if (auto ml = selector.as_object().if_contains("matchLabels"); ml && ml->is_object()) {
    for (const auto& [k, v] : ml->as_object()) {
      if (v.is_string()) reqs.push_back({LabelRequirement::kEq, std::string(k), {std::string(v.as_string())}});
    }
  }
  if (auto me = selector.as_object().if_contains("matchExpressions"); me && me->is_array()) {
    for (const auto& e : me->as_array()) {
      LabelRequirement r;
      r.key = StringAt(e, {"key"});
      std::string op = StringAt(e, {"operator"});
      r.op = op == "In"            ? LabelRequirement::kIn
             : op == "NotIn"       ? LabelRequirement::kNotIn
             : op == "Exists"      ? LabelRequirement::kExists
                                   : LabelRequirement::kNotExists;
      if (auto vals = Find(e, {"values"}); vals && vals->is_array()) {
        for (const auto& v : vals->as_array()) {
          if (v.is_string()) r.values.emplace_back(v.as_string());
        }
      }
      reqs.push_back(std::move(r));
    }
  }
  if (reqs.empty()) return true;
  return Matches(reqs, object);
}

std::string SelectorString(const json::object& match_labels) {
  std::string out;
  for (const auto& [k, v] : match_labels) {
    if (!out.empty()) out += ",";
    out += std::string(k) + "=" + (v.is_string() ? std::string(v.as_string()) : "");
  }
  return out;
}

std::optional<std::vector<FieldRequirement>> ParseFieldSelector(std::string_view text, std::string* error) {
  std::vector<FieldRequirement> out;
  text = Trim(text);
  if (text.empty()) return out;
  for (std::string_view raw : SplitTop(text)) {
    std::string_view part = Trim(raw);
    FieldRequirement req;
    std::size_t pos;
    if ((pos = part.find("!=")) != std::string_view::npos) {
      req.negate = true;
      req.field = std::string(Trim(part.substr(0, pos)));
      req.value = std::string(Trim(part.substr(pos + 2)));
    } else if ((pos = part.find("==")) != std::string_view::npos) {
      req.field = std::string(Trim(part.substr(0, pos)));
      req.value = std::string(Trim(part.substr(pos + 2)));
    } else if ((pos = part.find('=')) != std::string_view::npos) {
      req.field = std::string(Trim(part.substr(0, pos)));
      req.value = std::string(Trim(part.substr(pos + 1)));
    } else {
      *error = "invalid selector: '" + std::string(part) + "'; can't understand '" + std::string(part) + "'";
      return std::nullopt;
    }
    if (req.field != "metadata.name" && req.field != "metadata.namespace" && req.field != "status.phase" &&
        req.field != "spec.nodeName") {
      *error = "\"" + req.field + "\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"";
      return std::nullopt;
    }
    out.push_back(std::move(req));
  }
  return out;
}

bool Matches(const std::vector<FieldRequirement>& selector, const json::object& object) {
  json::value v(object);
  for (const auto& req : selector) {
    std::string actual;
    if (req.field == "metadata.name") actual = StringAt(v, {"metadata", "name"});
    if (req.field == "metadata.namespace") actual = StringAt(v, {"metadata", "namespace"});
    if (req.field == "status.phase") actual = StringAt(v, {"status", "phase"});
    if (req.field == "spec.nodeName") actual = StringAt(v, {"spec", "nodeName"});
    if ((actual == req.value) == req.negate) return false;
  }
  return true;
}

namespace {
// Parses a quantity into a value scaled by 1000 (milli-units), rounding up.
std::optional<long double> ParseQuantity(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return std::nullopt;
  std::size_t i = 0;
  if (text[0] == '+' || text[0] == '-') ++i;
  std::size_t digits_start = i;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == digits_start) return std::nullopt;
  long double number;
  try {
    number = std::stold(std::string(text.substr(0, i)));
  } catch (...) {
    return std::nullopt;
  }
  std::string_view suffix = text.substr(i);
  long double mult = 1;
  if (suffix.empty()) mult = 1;
  else if (suffix == "m") mult = 1e-3L;
  else if (suffix == "k") mult = 1e3L;
  else if (suffix == "M") mult = 1e6L;
  else if (suffix == "G") mult = 1e9L;
  else if (suffix == "T") mult = 1e12L;
  else if (suffix == "P") mult = 1e15L;
  else if (suffix == "Ki") mult = 1024.0L;
  else if (suffix == "Mi") mult = 1024.0L * 1024;
  else if (suffix == "Gi") mult = 1024.0L * 1024 * 1024;
  else if (suffix == "Ti") mult = 1024.0L * 1024 * 1024 * 1024;
  else if (suffix == "Pi") mult = 1024.0L * 1024 * 1024 * 1024 * 1024;
  else if (suffix.size() > 1 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    try {
      mult = std::pow(10.0L, std::stoi(std::string(suffix.substr(1))));
    } catch (...) {
      return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  return number * mult;
}
}  // namespace

std::optional<std::int64_t> ParseMilli(std::string_view text) {
  auto q = ParseQuantity(text);
  if (!q) return std::nullopt;
  return static_cast<std::int64_t>(std::ceil(*q * 1000 - 1e-9L));
}

std::optional<std::int64_t> ParseUnits(std::string_view text) {
  auto q = ParseQuantity(text);
  if (!q) return std::nullopt;
  return static_cast<std::int64_t>(std::ceil(*q - 1e-9L));
}

std::optional<std::int64_t> QuantityMilli(const json::value& v) {
  if (v.is_string()) return ParseMilli(v.as_string());
  if (v.is_int64()) return v.as_int64() * 1000;
  if (v.is_uint64()) return static_cast<std::int64_t>(v.as_uint64()) * 1000;
  if (v.is_double()) return static_cast<std::int64_t>(std::ceil(v.as_double() * 1000));
  return std::nullopt;
}

std::optional<std::int64_t> QuantityUnits(const json::value& v) {
  if (v.is_string()) return ParseUnits(v.as_string());
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64()) return static_cast<std::int64_t>(v.as_uint64());
  if (v.is_double()) return static_cast<std::int64_t>(std::ceil(v.as_double()));
  return std::nullopt;
}

void MergePatch(json::value& target, const json::value& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = json::object();
  auto& t = target.as_object();
  for (const auto& [k, v] : patch.as_object()) {
    if (v.is_null()) {
      t.erase(k);
    } else {
      MergePatch(t[k], v);
    }
  }
}

std::string Rfc3339(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<std::int64_t> ParseRfc3339(std::string_view text) {
  std::tm tm{};
  std::string s(text);
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) return std::nullopt;
  std::string_view rest(end);
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest.front()))) rest.remove_prefix(1);
  }
  if (rest != "Z") return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string NowRfc3339() {
  return Rfc3339(std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count());
}

std::string NowRfc3339Nano() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now);
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now - seconds).count();
  std::string s = Rfc3339(seconds.count());
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(nanos));
  s.insert(s.size() - 1, frac);
  return s;
}

std::optional<std::string> NormalizeRfc3339Nano(std::string_view text) {
  auto seconds = ParseRfc3339(text);
  if (!seconds) return std::nullopt;
  std::string fraction;
  if (auto dot = text.find('.'); dot != std::string_view::npos) {
    for (std::size_t i = dot + 1; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
      fraction += text[i];
    }
  }
  fraction.resize(9, '0');
  std::string s = Rfc3339(*seconds);
  s.insert(s.size() - 1, "." + fraction);
  return s;
}

namespace {
std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return rng;
}
}  // namespace

std::string RandomSuffix(std::size_t n) {
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += kAlphabet[Rng()() % kAlphabet.size()];
  return out;
}

std::string NewUid() {
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out += '-';
    out += kHex[Rng()() % 16];
  }
  return out;
}

bool IsDnsLabel(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return name.front() != '-' && name.back() != '-';
}

bool IsDnsSubdomain(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    auto dot = name.find('.', start);
    std::string_view label = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!IsDnsLabel(label)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

const json::value* Find(const json::value& v, std::initializer_list<std::string_view> path) {
  const json::value* cur = &v;
  for (auto key : path) {
    if (!cur->is_object()) return nullptr;
    cur = cur->as_object().if_contains(key);
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

std::string StringAt(const json::value& v, std::initializer_list<std::string_view> path, std::string fallback) {
  const json::value* found = Find(v, path);
  if (found == nullptr || !found->is_string()) return fallback;
  return std::string(found->as_string());
}

std::int64_t IntAt(const json::value& v, std::initializer_list<std::string_view> path, std::int64_t fallback) {
  const json::value* found = Find(v, path);
  if (found == nullptr) return fallback;
  if (found->is_int64()) return found->as_int64();
  if (found->is_uint64()) return static_cast<std::int64_t>(found->as_uint64());
  if (found->is_double()) return static_cast<std::int64_t>(found->as_double());
  return fallback;
}

const json::value* Find(const json::object& o, std::initializer_list<std::string_view> path) {
  if (path.size() == 0) return nullptr;
  auto it = path.begin();
  const json::value* cur = o.if_contains(*it);
  for (++it; cur != nullptr && it != path.end(); ++it) {
    if (!cur->is_object()) return nullptr;
    cur = cur->as_object().if_contains(*it);
  }
  return cur;
}

std::string StringAt(const json::object& o, std::initializer_list<std::string_view> path, std::string fallback) {
  const json::value* found = Find(o, path);
  if (found == nullptr || !found->is_string()) return fallback;
  return std::string(found->as_string());
}

std::int64_t IntAt(const json::object& o, std::initializer_list<std::string_view> path, std::int64_t fallback) {
  const json::value* found = Find(o, path);
  if (found == nullptr) return fallback;
  if (found->is_int64()) return found->as_int64();
  if (found->is_uint64()) return static_cast<std::int64_t>(found->as_uint64());
  if (found->is_double()) return static_cast<std::int64_t>(found->as_double());
  return fallback;
}

json::object& ObjectAt(json::object& o, std::string_view key) {
  json::value& v = o[key];
  if (!v.is_object()) v = json::object();
  return v.as_object();
}

}  // namespace paddlecloud::kube_test
