// Status and Result<T>: how errors cross module boundaries in PaddleCloud.
//
// A Status is either OK (free: no allocation) or carries a Code and a human message. Each Code maps
// to exactly one HTTP status and one stable machine-readable string, so the API layer can render any
// error without knowing where it came from. Optional `field` names the offending input field and
// `details` carries extra machine-readable context (rendered as JSON object members).
#pragma once

#include <expected>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace paddlecloud {

enum class Code {
  kOk,
  kInvalidArgument,    // 400 invalid_argument: bad input; `field` names it
  kUnauthenticated,    // 401 unauthenticated
  kPermissionDenied,   // 403 permission_denied
  kNotFound,           // 404 not_found (also: another tenant's resource)
  kMethodNotAllowed,   // 405 method_not_allowed
  kConflict,           // 409 conflict
  kPayloadTooLarge,    // 413 payload_too_large
  kUnsupportedMedia,   // 415 unsupported_media_type
  kRangeNotSatisfiable,// 416 range_not_satisfiable
  kResourceExhausted,  // 429 too_many_requests (throttling)
  kQuotaExceeded,      // 403 quota_exceeded
  kInsufficientStorage,// 507 insufficient_storage (the disk is full)
  kUnavailable,        // 503 unavailable (dependency down, shutting down)
  kInternal,           // 500 internal: never carries internals to the client
};

// Stable snake_case name used in API error bodies ("not_found").
std::string_view CodeName(Code code);
// HTTP status code for `code`.
int HttpStatusOf(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  // Lets PC_RETURN_IF_ERROR return Err(status) from functions returning Status or Result<T>.
  Status(std::unexpected<Status> error) : Status(std::move(error.error())) {}  // NOLINT(implicit)
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string message, std::string field = "") {
    return Status(Code::kInvalidArgument, std::move(message), std::move(field));
  }
  static Status Unauthenticated(std::string message) { return Status(Code::kUnauthenticated, std::move(message)); }
  static Status PermissionDenied(std::string message) { return Status(Code::kPermissionDenied, std::move(message)); }
  static Status NotFound(std::string message) { return Status(Code::kNotFound, std::move(message)); }
  static Status Conflict(std::string message) { return Status(Code::kConflict, std::move(message)); }
  static Status PayloadTooLarge(std::string message) { return Status(Code::kPayloadTooLarge, std::move(message)); }
  static Status ResourceExhausted(std::string message) { return Status(Code::kResourceExhausted, std::move(message)); }
  static Status QuotaExceeded(std::string message) { return Status(Code::kQuotaExceeded, std::move(message)); }
  static Status InsufficientStorage(std::string message) {
    return Status(Code::kInsufficientStorage, std::move(message));
  }
  static Status Unavailable(std::string message) { return Status(Code::kUnavailable, std::move(message)); }
  static Status Internal(std::string message) { return Status(Code::kInternal, std::move(message)); }
  static Status Of(Code code, std::string message, std::string field = "") {
    return Status(code, std::move(message), std::move(field));
  }

  bool ok() const { return rep_ == nullptr; }
  Code code() const { return rep_ ? rep_->code : Code::kOk; }
  const std::string& message() const { return rep_ ? rep_->message : Empty(); }
  const std::string& field() const { return rep_ ? rep_->field : Empty(); }
  // Extra string members for the error's "details" object.
  const std::map<std::string, std::string>& details() const;
  Status& WithDetail(std::string key, std::string value);

  // "not_found: job 'x' does not exist" — for logs and tests.
  std::string ToString() const;

 private:
  struct Rep {
    Code code;
    std::string message;
    std::string field;
    std::map<std::string, std::string> details;
  };
  Status(Code code, std::string message, std::string field = "");
  static const std::string& Empty();
  std::shared_ptr<Rep> rep_;
};

// A value or the Status explaining why there is none. The error is never OK.
template <typename T>
using Result = std::expected<T, Status>;

inline std::unexpected<Status> Err(Status s) { return std::unexpected<Status>(std::move(s)); }

// The error of a Result, or OK when it holds a value.
template <typename T>
Status StatusOf(const Result<T>& result) {
  return result ? Status::Ok() : result.error();
}

}  // namespace paddlecloud

// Propagate a non-OK Status from an expression yielding Status.
#define PC_RETURN_IF_ERROR(expr)                  \
  do {                                            \
    ::paddlecloud::Status pc_status__ = (expr);   \
    if (!pc_status__.ok()) return ::paddlecloud::Err(std::move(pc_status__)); \
  } while (0)
