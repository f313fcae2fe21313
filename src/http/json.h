// JSON in and out of handlers, and the API's error format.
//
// Errors render as  HTTP status + {"error":{"code":"...","message":"...","details":{...}}}
// where details carries "field" when the Status names one. Internal errors never show their
// message to the client: it is logged with the request id instead.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/status.h"
#include "http/message.h"

namespace paddlecloud::http {

// A JSON response with Content-Type application/json.
Response JsonResponse(int status, const boost::json::value& body);
// The error format for `status` (must not be OK).
Response ErrorResponse(const Status& status);
// 302 to `location`, not cached (a browser navigation's next step).
Response RedirectResponse(const std::string& location);

// Parses a request body that must be one JSON object. Errors say where parsing failed.
Result<boost::json::object> ParseJsonObject(std::string_view body);

// Reads typed fields from a JSON object; every error names the field. Call Finish() last to
// reject fields that were never read (typos like "num_trainers" must not pass silently).
class JsonReader {
 public:
  explicit JsonReader(const boost::json::object& object) : object_(object) {}

  Result<std::string> String(std::string_view field);
  Result<std::optional<std::string>> OptionalString(std::string_view field);
  Result<std::int64_t> Int(std::string_view field);
  Result<std::optional<std::int64_t>> OptionalInt(std::string_view field);
  Result<bool> Bool(std::string_view field);
  Result<std::optional<bool>> OptionalBool(std::string_view field);
  // The raw value (object, array ...) for the caller to interpret; nullptr when absent.
  const boost::json::value* Raw(std::string_view field);

  // InvalidArgument naming the first field present but never read.
  Status Finish() const;

 private:
  const boost::json::value* Take(std::string_view field);
  const boost::json::object& object_;
  std::set<std::string, std::less<>> read_;
};

}  // namespace paddlecloud::http
