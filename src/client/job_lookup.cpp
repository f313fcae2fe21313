#include "client/job_lookup.h"

#include <algorithm>
#include <cctype>

#include "client/command_support.h"

namespace paddlecloud::client {
namespace {

namespace json = boost::json;

bool AllDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

}  // namespace

Result<json::value> ResolveJob(ApiClient& client, const std::string& ref) {
  if (AllDigits(ref)) return client.Call("GET", "/api/v1/jobs/" + ref);
  std::string cursor;
  for (int page = 0; page < 20; ++page) {
    std::string target = "/api/v1/jobs?limit=500&name=" + EncodeComponent(ref);
    if (!cursor.empty()) target += "&cursor=" + EncodeComponent(cursor);
    auto list = client.Call("GET", target);
    if (!list) return Err(list.error());
    for (const auto& item : ArrayAt(*list, "items")) {
      if (StringAt(item, {"name"}) == ref)
        return client.Call("GET", "/api/v1/jobs/" + std::to_string(IntAt(item, {"id"})));
    }
    cursor = StringAt(*list, {"next_cursor"});
    if (cursor.empty()) break;
  }
  return Err(Status::NotFound("no job named '" + ref + "'; `paddlecloud jobs` lists your jobs"));
}

std::optional<OpenedJob> OpenJob(const ConnectionFlags& flags, const Environment& env, const std::string& ref,
                                 int& exit_code) {
  auto client = ConnectSignedIn(flags, env, exit_code);
  if (!client) return std::nullopt;
  auto job = ResolveJob(*client, ref);
  if (!job) {
    exit_code = FailSignedIn(*client, job.error());
    return std::nullopt;
  }
  return OpenedJob{std::move(client), std::move(*job)};
}

}  // namespace paddlecloud::client
