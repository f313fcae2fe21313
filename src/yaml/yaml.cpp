#include "yaml/yaml.h"

#include <yaml.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace paddlecloud::yaml {
namespace {

namespace json = boost::json;

Status ErrorAt(const yaml_mark_t& mark, std::string_view what) {
  return Status::InvalidArgument("yaml: line " + std::to_string(mark.line + 1) + ", column " +
                                 std::to_string(mark.column + 1) + ": " + std::string(what));
}

Status ParserError(const yaml_parser_t& parser) {
  std::string what = parser.problem ? parser.problem : "malformed YAML";
  if (parser.context) {
    what += " (";
    what += parser.context;
    what += " at line " + std::to_string(parser.context_mark.line + 1) + ", column " +
            std::to_string(parser.context_mark.column + 1) + ")";
  }
  return ErrorAt(parser.problem_mark, what);
}

bool IsDigits(std::string_view s, bool (*ok)(char)) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!ok(c)) return false;
  }
  return true;
}
bool Dec(char c) { return c >= '0' && c <= '9'; }
bool Hex(char c) { return Dec(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool Oct(char c) { return c >= '0' && c <= '7'; }

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?  (YAML 1.2 core float, finite forms only)
bool IsFloat(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  std::size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && Dec(s[i])) ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && Dec(s[i])) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    std::size_t exp_digits = 0;
    while (i < s.size() && Dec(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

std::optional<json::value> ParseInt(std::string_view s) {
  bool negative = false;
  std::string_view body = s;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  int base = 10;
  if (body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'o')) {
    if (s.size() != body.size()) return std::nullopt;  // no sign on 0x / 0o in the core schema
    base = body[1] == 'x' ? 16 : 8;
    body.remove_prefix(2);
    if (!IsDigits(body, base == 16 ? Hex : Oct)) return std::nullopt;
  } else if (!IsDigits(body, Dec)) {
    return std::nullopt;
  } else if (body.size() > 1 && body[0] == '0' && IsDigits(body, Oct)) {
    base = 8;  // YAML 1.1 octal, as kubectl reads it: "defaultMode: 0644" is 420
  }
  std::uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), magnitude, base);
  if (ec == std::errc() && end == body.data() + body.size()) {
    if (!negative) {
      if (magnitude <= static_cast<std::uint64_t>(INT64_MAX)) return json::value(static_cast<std::int64_t>(magnitude));
      return json::value(magnitude);
    }
    if (magnitude <= static_cast<std::uint64_t>(INT64_MAX) + 1) {
      return json::value(static_cast<std::int64_t>(0 - magnitude));
    }
  }
  if (base != 10) return std::nullopt;
  // Too large for 64 bits: keep it as a number, as JSON parsers do.
  double d = 0;
  auto [dend, dec] = std::from_chars(body.data(), body.data() + body.size(), d);
  if (dec != std::errc() || dend != body.data() + body.size()) return std::nullopt;
  return json::value(negative ? -d : d);
}

std::optional<json::value> ParseFloat(std::string_view s) {
  if (!IsFloat(s)) return std::nullopt;
  bool negative = false;
  if (s[0] == '-' || s[0] == '+') {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  double d = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;  // out of range
  return json::value(negative ? -d : d);
}

bool IsNull(std::string_view s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

std::optional<bool> ParseBool(std::string_view s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

json::value ResolvePlain(std::string_view s) {
  if (IsNull(s)) return nullptr;
  if (auto b = ParseBool(s)) return *b;
  if (auto i = ParseInt(s)) return *i;
  if (auto f = ParseFloat(s)) return *f;
  return json::string(s);
}

Result<json::value> ResolveScalar(const yaml_event_t& event) {
  const auto& scalar = event.data.scalar;
  std::string_view text(reinterpret_cast<const char*>(scalar.value), scalar.length);
  std::string_view tag = scalar.tag ? reinterpret_cast<const char*>(scalar.tag) : "";
  if (tag.empty()) {
    if (scalar.style == YAML_PLAIN_SCALAR_STYLE) return ResolvePlain(text);
    return json::value(json::string(text));
  }
  constexpr std::string_view kCore = "tag:yaml.org,2002:";
  if (tag == "!" || tag == std::string(kCore) + "str" || tag == std::string(kCore) + "binary" ||
      tag == std::string(kCore) + "timestamp") {
    return json::value(json::string(text));
  }
  std::optional<json::value> value;
  if (tag == std::string(kCore) + "null") {
    if (IsNull(text)) value = json::value(nullptr);
  } else if (tag == std::string(kCore) + "bool") {
    if (auto b = ParseBool(text)) value = json::value(*b);
  } else if (tag == std::string(kCore) + "int") {
    value = ParseInt(text);
  } else if (tag == std::string(kCore) + "float") {
    value = ParseInt(text);
    if (value) value = json::value(value->to_number<double>());
    else value = ParseFloat(text);
  } else {
    return Err(ErrorAt(event.start_mark, "unsupported tag " + std::string(tag)));
  }
  if (!value) return Err(ErrorAt(event.start_mark, "\"" + std::string(text) + "\" is not a valid " + std::string(tag)));
  return std::move(*value);
}

// One open mapping or sequence.
struct Frame {
  json::value container;
  std::optional<std::string> key;  // a mapping's key waiting for its value
};

class Builder {
 public:
  // Adds a finished value to the open container, or makes it the document's root.
  Status Add(json::value value, const yaml_mark_t& mark) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return Status::Ok();
    }
    Frame& top = stack_.back();
    if (top.container.is_array()) {
      top.container.get_array().push_back(std::move(value));
      return Status::Ok();
    }
    if (!top.key) return ErrorAt(mark, "mapping keys must be scalars");
    top.container.get_object().emplace(*top.key, std::move(value));
    top.key.reset();
    return Status::Ok();
  }
  // A scalar in key position of the open mapping: the next value's key.
  bool WantsKey() const { return !stack_.empty() && stack_.back().container.is_object() && !stack_.back().key; }
  Status Key(std::string key, const yaml_mark_t& mark) {
    if (stack_.back().container.get_object().contains(key)) return ErrorAt(mark, "duplicate key \"" + key + "\"");
    stack_.back().key = std::move(key);
    return Status::Ok();
  }
  Status Open(json::value container, const yaml_mark_t& mark) {
    if (WantsKey()) return ErrorAt(mark, "mapping keys must be scalars");
    if (static_cast<int>(stack_.size()) >= kMaxYamlDepth) {
      return ErrorAt(mark, "nesting deeper than " + std::to_string(kMaxYamlDepth) + " levels");
    }
    stack_.push_back(Frame{std::move(container), std::nullopt});
    return Status::Ok();
  }
  Status Close(const yaml_mark_t& mark) {
    json::value done = std::move(stack_.back().container);
    stack_.pop_back();
    return Add(std::move(done), mark);
  }
  std::optional<json::value> TakeRoot() {
    std::optional<json::value> root = std::move(root_);
    root_.reset();
    return root;
  }

 private:
  std::vector<Frame> stack_;
  std::optional<json::value> root_;
};

bool HasAnchor(const yaml_event_t& event) {
  switch (event.type) {
    case YAML_SCALAR_EVENT: return event.data.scalar.anchor != nullptr;
    case YAML_MAPPING_START_EVENT: return event.data.mapping_start.anchor != nullptr;
    case YAML_SEQUENCE_START_EVENT: return event.data.sequence_start.anchor != nullptr;
    default: return false;
  }
}

class Parser {
 public:
  Parser() { ok_ = yaml_parser_initialize(&parser_) != 0; }
  ~Parser() {
    if (ok_) yaml_parser_delete(&parser_);
  }
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;
  bool ok() const { return ok_; }
  yaml_parser_t* get() { return &parser_; }

 private:
  yaml_parser_t parser_{};
  bool ok_ = false;
};

class Event {
 public:
  ~Event() {
    if (filled_) yaml_event_delete(&event_);
  }
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  bool Next(yaml_parser_t* parser) {
    if (filled_) yaml_event_delete(&event_);
    filled_ = yaml_parser_parse(parser, &event_) != 0;
    return filled_;
  }
  const yaml_event_t& get() const { return event_; }

 private:
  yaml_event_t event_{};
  bool filled_ = false;
};

}  // namespace

Result<std::vector<json::value>> ParseYamlDocuments(std::string_view text) {
  if (text.size() > kMaxYamlBytes) {
    return Err(Status::InvalidArgument("yaml: input larger than " + std::to_string(kMaxYamlBytes >> 20) + " MiB"));
  }
  Parser parser;
  if (!parser.ok()) return Err(Status::Internal("yaml: cannot initialize libyaml"));
  yaml_parser_set_input_string(parser.get(), reinterpret_cast<const unsigned char*>(text.data()), text.size());

  std::vector<json::value> documents;
  Builder builder;
  Event event;
  for (;;) {
    if (!event.Next(parser.get())) return Err(ParserError(*parser.get()));
    const yaml_event_t& e = event.get();
    if (HasAnchor(e) || e.type == YAML_ALIAS_EVENT) {
      return Err(ErrorAt(e.start_mark, "anchors and aliases (& and *) are not supported"));
    }
    switch (e.type) {
      case YAML_STREAM_END_EVENT:
        return documents;
      case YAML_DOCUMENT_END_EVENT:
        if (auto root = builder.TakeRoot(); root && !root->is_null()) documents.push_back(std::move(*root));
        break;
      case YAML_SCALAR_EVENT:
        if (builder.WantsKey()) {
          PC_RETURN_IF_ERROR(builder.Key(
              std::string(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length), e.start_mark));
        } else {
          auto value = ResolveScalar(e);
          if (!value) return Err(value.error());
          PC_RETURN_IF_ERROR(builder.Add(std::move(*value), e.start_mark));
        }
        break;
      case YAML_MAPPING_START_EVENT:
        PC_RETURN_IF_ERROR(builder.Open(json::object(), e.start_mark));
        break;
      case YAML_SEQUENCE_START_EVENT:
        PC_RETURN_IF_ERROR(builder.Open(json::array(), e.start_mark));
        break;
      case YAML_MAPPING_END_EVENT:
      case YAML_SEQUENCE_END_EVENT:
        PC_RETURN_IF_ERROR(builder.Close(e.start_mark));
        break;
      default:  // stream and document starts, no-op events
        break;
    }
  }
}

}  // namespace paddlecloud::yaml
