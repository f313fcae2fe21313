#include "client/cloud_files.h"

#include "client/command_support.h"

namespace paddlecloud::client {

namespace json = boost::json;

constexpr int kListPage = 1000;  // the server's largest page

std::string JoinCloud(const std::string& folder, const std::string& name) {
  if (folder.empty()) return name;
  if (name.empty()) return folder;
  return folder + "/" + name;
}

std::string BaseName(const std::string& cloud) {
  auto slash = cloud.rfind('/');
  return slash == std::string::npos ? cloud : cloud.substr(slash + 1);
}

std::string ParentOf(const std::string& cloud) {
  auto slash = cloud.rfind('/');
  return slash == std::string::npos ? "" : cloud.substr(0, slash);
}

bool SafeName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\\') == std::string::npos && name.find('\0') == std::string::npos;
}

std::string FilesTarget(const std::string& path) { return "/api/v1/files/" + EncodePath(path); }

bool IsFolder(const json::value& entry) { return StringAt(entry, {"kind"}) == "folder"; }

Result<json::value> Stat(ApiClient& client, const std::string& path) {
  return client.Call("GET", FilesTarget(path) + "?limit=1");
}

Result<std::vector<json::value>> ListAll(ApiClient& client, const std::string& path, const std::string& sort,
                                         bool descending, json::value* head) {
  std::vector<json::value> entries;
  std::string cursor;
  for (int page = 0;; ++page) {
    std::string target = FilesTarget(path) + "?sort=" + sort + "&order=" + (descending ? "desc" : "asc") +
                         "&limit=" + std::to_string(kListPage);
    if (!cursor.empty()) target += "&cursor=" + EncodePath(cursor);
    auto answer = client.Call("GET", target);
    if (!answer) return Err(answer.error());
    if (page == 0 && head) *head = *answer;
    if (!Has(*answer, "entries")) break;  // a file
    for (const auto& entry : ArrayAt(*answer, "entries")) entries.push_back(entry);
    std::string next = StringAt(*answer, {"next_cursor"});
    if (next.empty() || next == cursor) break;
    cursor = next;
  }
  return entries;
}

Status EnsureFolder(ApiClient& client, const std::string& path) {
  if (path.empty()) return Status::Ok();
  auto made = client.Call("POST", "/api/v1/folders", json::object{{"path", path}});
  if (made) return Status::Ok();
  if (made.error().code() != Code::kConflict) return made.error();
  auto existing = Stat(client, path);
  if (existing && IsFolder(*existing)) return Status::Ok();
  return Status::Conflict(path + " exists and is not a folder");
}

}  // namespace paddlecloud::client
