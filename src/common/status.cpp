#include "common/status.h"

namespace paddlecloud {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kInvalidArgument: return "invalid_argument";
    case Code::kUnauthenticated: return "unauthenticated";
    case Code::kPermissionDenied: return "permission_denied";
    case Code::kNotFound: return "not_found";
    case Code::kMethodNotAllowed: return "method_not_allowed";
    case Code::kConflict: return "conflict";
    case Code::kPayloadTooLarge: return "payload_too_large";
    case Code::kUnsupportedMedia: return "unsupported_media_type";
    case Code::kRangeNotSatisfiable: return "range_not_satisfiable";
    case Code::kResourceExhausted: return "too_many_requests";
    case Code::kQuotaExceeded: return "quota_exceeded";
    case Code::kInsufficientStorage: return "insufficient_storage";
    case Code::kUnavailable: return "unavailable";
    case Code::kInternal: return "internal";
  }
  return "internal";
}

int HttpStatusOf(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return 400;
    case Code::kUnauthenticated: return 401;
    case Code::kPermissionDenied: return 403;
    case Code::kNotFound: return 404;
    case Code::kMethodNotAllowed: return 405;
    case Code::kConflict: return 409;
    case Code::kPayloadTooLarge: return 413;
    case Code::kUnsupportedMedia: return 415;
    case Code::kRangeNotSatisfiable: return 416;
    case Code::kResourceExhausted: return 429;
    case Code::kQuotaExceeded: return 403;
    case Code::kInsufficientStorage: return 507;
    case Code::kUnavailable: return 503;
    case Code::kInternal: return 500;
  }
  return 500;
}

Status::Status(Code code, std::string message, std::string field)
    : rep_(std::make_shared<Rep>(Rep{code, std::move(message), std::move(field), {}})) {}

const std::string& Status::Empty() {
  static const std::string empty;
  return empty;
}

const std::map<std::string, std::string>& Status::details() const {
  static const std::map<std::string, std::string> none;
  return rep_ ? rep_->details : none;
}

Status& Status::WithDetail(std::string key, std::string value) {
  if (rep_) {
    // Copy on write: a Status may be shared by copies.
    if (rep_.use_count() > 1) rep_ = std::make_shared<Rep>(*rep_);
    rep_->details[std::move(key)] = std::move(value);
  }
  return *this;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(CodeName(code()));
  out += ": ";
  out += message();
  if (!field().empty()) out += " (field " + field() + ")";
  return out;
}

}  // namespace paddlecloud
