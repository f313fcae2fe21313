// Small pieces of Kubernetes semantics the test API server needs: label and field selectors,
// resource quantities, JSON merge patch (RFC 7386), RFC 3339 times and object names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

namespace paddlecloud::kube_test {

// A parsed label selector: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, joined by ','.
struct LabelRequirement {
  enum Op { kEq, kNotEq, kIn, kNotIn, kExists, kNotExists } op = kEq;
  std::string key;
  std::vector<std::string> values;
};
using LabelSelector = std::vector<LabelRequirement>;

// nullopt with `error` set when the text is not a selector.
std::optional<LabelSelector> ParseLabelSelector(std::string_view text, std::string* error);
bool Matches(const LabelSelector& selector, const boost::json::object& object);
// The matchLabels/matchExpressions form (Deployment and Job selectors).
bool MatchesLabelSelectorObject(const boost::json::value& selector, const boost::json::object& object);
std::string SelectorString(const boost::json::object& match_labels);

struct FieldRequirement {
  std::string field;  // metadata.name, metadata.namespace, status.phase, spec.nodeName
  std::string value;
  bool negate = false;
};
std::optional<std::vector<FieldRequirement>> ParseFieldSelector(std::string_view text, std::string* error);
bool Matches(const std::vector<FieldRequirement>& selector, const boost::json::object& object);

// Quantities: "500m", "2", "1.5", "1Gi", "512Mi", "1G", "100k". Returns milli-units for cpu-like use
// (ParseMilli) or whole units rounded up (ParseUnits). nullopt when not a quantity.
std::optional<std::int64_t> ParseMilli(std::string_view text);
std::optional<std::int64_t> ParseUnits(std::string_view text);
std::optional<std::int64_t> QuantityMilli(const boost::json::value& v);
std::optional<std::int64_t> QuantityUnits(const boost::json::value& v);

// RFC 7386: null deletes, objects merge recursively, anything else replaces.
void MergePatch(boost::json::value& target, const boost::json::value& patch);

std::string NowRfc3339();
std::string NowRfc3339Nano();  // "2026-01-02T03:04:05.123456789Z"
// Any RFC 3339 UTC time ("...05Z", "...05.5Z") in NowRfc3339Nano's form (nine fraction digits).
std::optional<std::string> NormalizeRfc3339Nano(std::string_view text);
std::optional<std::int64_t> ParseRfc3339(std::string_view text);  // "2026-01-02T03:04:05Z" -> Unix seconds
std::string Rfc3339(std::int64_t unix_seconds);
std::string RandomSuffix(std::size_t n);  // lowercase consonants and digits, as Kubernetes generates
std::string NewUid();
// An RFC 1123 subdomain (<= 253 chars, [a-z0-9.-], alphanumeric at both ends).
bool IsDnsSubdomain(std::string_view name);
bool IsDnsLabel(std::string_view name);

// Path helpers on JSON objects; missing parts give nullptr / fallback.
const boost::json::value* Find(const boost::json::value& v, std::initializer_list<std::string_view> path);
std::string StringAt(const boost::json::value& v, std::initializer_list<std::string_view> path,
                     std::string fallback = "");
std::int64_t IntAt(const boost::json::value& v, std::initializer_list<std::string_view> path, std::int64_t fallback);
// The same starting from an object (no copy).
const boost::json::value* Find(const boost::json::object& o, std::initializer_list<std::string_view> path);
std::string StringAt(const boost::json::object& o, std::initializer_list<std::string_view> path,
                     std::string fallback = "");
std::int64_t IntAt(const boost::json::object& o, std::initializer_list<std::string_view> path, std::int64_t fallback);
boost::json::object& ObjectAt(boost::json::object& o, std::string_view key);  // created when missing

}  // namespace paddlecloud::kube_test
