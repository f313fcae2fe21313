#include "http/json.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace paddlecloud::http {

namespace json = boost::json;

Response JsonResponse(int status, const json::value& body) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  r.body = json::serialize(body);
  return r;
}

Response RedirectResponse(const std::string& location) {
  Response response;
  response.status = 302;
  response.headers.Add("Location", location);
  response.headers.Add("Cache-Control", "no-store");
  return response;
}

Response ErrorResponse(const Status& status) {
  json::object error;
  error["code"] = CodeName(status.code());
  if (status.code() == Code::kInternal) {
    error["message"] = "internal error; the server log has the details under this request's id";
  } else {
    error["message"] = status.message();
    json::object details;
    if (!status.field().empty()) details["field"] = status.field();
    for (const auto& [k, v] : status.details()) details[k] = v;
    if (!details.empty()) error["details"] = std::move(details);
  }
  return JsonResponse(HttpStatusOf(status.code()), json::object{{"error", std::move(error)}});
}

Result<json::object> ParseJsonObject(std::string_view body) {
  if (body.empty()) return Err(Status::InvalidArgument("request body is empty; expected a JSON object"));
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 64;
  json::value value = json::parse(body, ec, {}, options);
  if (ec) {
    return Err(Status::InvalidArgument("request body is not valid JSON: " + ec.message()));
  }
  if (!value.is_object()) return Err(Status::InvalidArgument("request body must be a JSON object"));
  return std::move(value.as_object());
}

const json::value* JsonReader::Take(std::string_view field) {
  read_.insert(std::string(field));
  auto it = object_.find(field);
  if (it == object_.end() || it->value().is_null()) return nullptr;
  return &it->value();
}

const json::value* JsonReader::Raw(std::string_view field) { return Take(field); }

namespace {
Status Missing(std::string_view field) {
  return Status::InvalidArgument("field '" + std::string(field) + "' is required", std::string(field));
}
Status WrongType(std::string_view field, std::string_view expected) {
  return Status::InvalidArgument("field '" + std::string(field) + "' must be " + std::string(expected),
                                 std::string(field));
}
}  // namespace

Result<std::optional<std::string>> JsonReader::OptionalString(std::string_view field) {
  const json::value* v = Take(field);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return Err(WrongType(field, "a string"));
  return std::optional<std::string>(std::string(v->as_string()));
}

Result<std::string> JsonReader::String(std::string_view field) {
  auto v = OptionalString(field);
  if (!v) return Err(v.error());
  if (!*v) return Err(Missing(field));
  return std::move(**v);
}

Result<std::optional<std::int64_t>> JsonReader::OptionalInt(std::string_view field) {
  const json::value* v = Take(field);
  if (!v) return std::optional<std::int64_t>();
  if (v->is_int64()) return std::optional<std::int64_t>(v->as_int64());
  if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return std::optional<std::int64_t>(static_cast<std::int64_t>(v->as_uint64()));
  if (v->is_double()) {
    double d = v->as_double();
    if (d == static_cast<double>(static_cast<std::int64_t>(d)) && d >= -9e15 && d <= 9e15)
      return std::optional<std::int64_t>(static_cast<std::int64_t>(d));
  }
  return Err(WrongType(field, "an integer"));
}

Result<std::int64_t> JsonReader::Int(std::string_view field) {
  auto v = OptionalInt(field);
  if (!v) return Err(v.error());
  if (!*v) return Err(Missing(field));
  return **v;
}

Result<std::optional<bool>> JsonReader::OptionalBool(std::string_view field) {
  const json::value* v = Take(field);
  if (!v) return std::optional<bool>();
  if (!v->is_bool()) return Err(WrongType(field, "true or false"));
  return std::optional<bool>(v->as_bool());
}

Result<bool> JsonReader::Bool(std::string_view field) {
  auto v = OptionalBool(field);
  if (!v) return Err(v.error());
  if (!*v) return Err(Missing(field));
  return **v;
}

Status JsonReader::Finish() const {
  for (const auto& kv : object_) {
    if (!read_.contains(kv.key())) {
      std::string name(kv.key());
      return Status::InvalidArgument("unknown field '" + name + "'", name);
    }
  }
  return Status::Ok();
}

}  // namespace paddlecloud::http
