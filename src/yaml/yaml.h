// YAML documents as Boost.JSON values (libyaml underneath).
//
// ParseYamlDocuments reads a multi-document stream ("---" separated) and returns one JSON value per
// non-empty document. Scalars resolve as in YAML 1.2's core schema, restricted to what JSON holds:
//   plain null, Null, NULL, ~ or nothing  -> null
//   plain true/True/TRUE, false/False/FALSE -> bool
//   plain decimal, 0x hex or 0o octal integers -> int64 (uint64 or double when larger); a leading
//     0 means octal as in YAML 1.1 and kubectl ("defaultMode: 0644" is 420)
//   plain floats (1.5, -2e3, .5)          -> double
//   anything else, and every quoted or block (| >) scalar -> string
// Explicit core tags (!!str, !!int, ...) are honoured. Mapping keys become strings; a duplicate
// key, a non-scalar key, an anchor or an alias is an error (no alias expansion: no "billion laughs").
// A document that is null (empty, or just "~") is skipped. Errors name the line and column
// (1-based). Hostile input is capped: at most kMaxYamlBytes of text and kMaxYamlDepth levels
// of nesting.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "common/status.h"

namespace paddlecloud::yaml {

inline constexpr std::size_t kMaxYamlBytes = 64u << 20;
inline constexpr int kMaxYamlDepth = 200;

Result<std::vector<boost::json::value>> ParseYamlDocuments(std::string_view text);

}  // namespace paddlecloud::yaml
