#include "client/file_commands.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <optional>

#include <boost/json/value.hpp>

#include "client/api_client.h"
#include "client/cloud_files.h"
#include "client/file_transfer.h"
#include "client/output.h"
#include "common/units.h"

namespace paddlecloud::client {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr std::string_view kCloudPrefix = "pc:";

bool IsCloudArg(const std::string& arg) { return arg.starts_with(kCloudPrefix); }

// --- commands' shared parts -------------------------------------------------------------

// Normalizes a cloud path argument; prints a usage error and returns nullopt when it is bad.
std::optional<std::string> CloudArg(const std::string& text, int& exit_code, bool* trailing = nullptr) {
  auto path = NormalizeCloudPath(text, trailing);
  if (!path) {
    exit_code = FailUsage(path.error().message());
    return std::nullopt;
  }
  return *path;
}

// Whether the cloud `dest` of a copy or move is a folder that things go into.
Result<bool> CloudFolderExists(ApiClient& client, const std::string& dest) {
  if (dest.empty()) return true;
  auto entry = Stat(client, dest);
  if (entry) return IsFolder(*entry);
  if (entry.error().code() == Code::kNotFound) return false;
  return Err(entry.error());
}

std::string SizeText(const json::value& entry, bool human) {
  if (IsFolder(entry)) return "-";
  std::uint64_t size = UintAt(entry, "size");
  return human ? FormatBytes(size) : std::to_string(size);
}

std::string ShareLink(const ApiClient& client, const json::value& share) {
  std::string link = StringAt(share, {"link"});
  if (link.empty()) return "";
  return link.starts_with("/") ? client.server() + link : link;
}

}  // namespace

// --- pieces -------------------------------------------------------------------------------

Result<std::string> NormalizeCloudPath(const std::string& text, bool* trailing) {
  auto bad = [&](const std::string& why) {
    return Err(Status::InvalidArgument("invalid cloud path '" + text + "': " + why, "path"));
  };
  std::string path = text;
  if (path.size() > 4096) return bad("it is longer than 4096 bytes");
  if (path.find('\0') != std::string::npos) return bad("it contains a NUL byte");
  if (path.find('\\') != std::string::npos) return bad("use '/' to separate folders, not '\\'");
  std::size_t first = path.find_first_not_of('/');
  path = first == std::string::npos ? "" : path.substr(first);
  bool slash = !path.empty() && path.back() == '/';
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (trailing) *trailing = slash;
  if (path.empty()) return path;
  std::size_t start = 0;
  while (true) {
    std::size_t end = path.find('/', start);
    std::string segment = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (segment.empty()) return bad("it has an empty segment ('//')");
    if (segment == "." || segment == "..") return bad("'" + segment + "' segments are not allowed");
    if (segment.size() > 255) return bad("a name in it is longer than 255 bytes");
    if (std::any_of(segment.begin(), segment.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
      return bad("it contains a control character");
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return path;
}

Result<std::uint64_t> ParseRate(const std::string& text) {
  std::string_view size = text;
  if (size.ends_with("/s")) size.remove_suffix(2);
  auto bytes = units::ParseByteSize(size);
  if (!bytes || *bytes == 0)
    return Err(Status::InvalidArgument("'" + text + "' is not a rate: use bytes per second, e.g. 500K, 2Mi or 1G",
                                       "limit-rate"));
  return static_cast<std::uint64_t>(*bytes);
}

Result<std::int64_t> ParseExpirySeconds(const std::string& text) {
  auto duration = units::ParseDuration(text);
  if (!duration || duration->count() == 0)
    return Err(Status::InvalidArgument("'" + text + "' is not a duration: use e.g. 7d, 12h, 30m, 90s or 2w", "expires"));
  return (duration->count() + 999) / 1000;
}

// --- commands -----------------------------------------------------------------------------

int ListFiles(const LsFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto path = CloudArg(flags.path, exit_code);
  if (!path) return exit_code;
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  json::value head;
  auto entries = ListAll(*client, *path, flags.sort, flags.reverse, &head);
  if (!entries) return FailSignedIn(*client, entries.error());
  bool single = !Has(head, "entries");
  if (single) entries->push_back(head);
  if (!flags.long_format) {
    for (const auto& entry : *entries) {
      std::string name = single ? *path : StringAt(entry, {"name"});
      std::cout << name << (IsFolder(entry) ? "/" : "") << "\n";
    }
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& entry : *entries) {
    std::string by = StringAt(entry, {"uploaded_by"});
    std::string name = single ? *path : StringAt(entry, {"name"});
    rows.push_back({SizeText(entry, flags.human), FormatTime(IntAt(entry, {"modified_at"})), by.empty() ? "-" : by,
                    name + (IsFolder(entry) ? "/" : "")});
  }
  std::cout << FormatTable({"SIZE", "MODIFIED", "UPLOADED BY", "NAME"}, rows);
  return kExitOk;
}

namespace {

// What `cp SRC... DEST` is asked to do, checked before anything is sent.
struct CopyPlan {
  std::vector<std::string> local_sources;  // an upload's, as typed
  std::vector<std::string> cloud_sources;  // a download's or a server-side copy's, normalized
  bool dest_cloud = false;
  std::string dest;   // the normalized cloud path, or the local path as typed
  bool into = false;  // DEST ends with "/" or there are several sources: each goes into DEST
};

// Why the local source `path` of an upload cannot be copied; "" when it can.
std::string LocalSourceProblem(const std::string& path, bool recursive) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) return "cannot copy " + path + ": no such file or folder";
  if (fs::is_directory(status) && !recursive) return path + " is a folder: copy it with -r";
  if (!fs::is_directory(status) && !fs::is_regular_file(status))
    return "cannot copy " + path + ": not a regular file or folder";
  return "";
}

// The plan of a cp; nullopt (with `exit_code` set) after reporting the first problem.
std::optional<CopyPlan> PlanCopy(const CpFlags& flags, int& exit_code) {
  auto usage = [&](const std::string& message) {
    exit_code = FailUsage(message);
    return std::nullopt;
  };
  std::vector<std::string> sources(flags.args.begin(), flags.args.end() - 1);
  const std::string& dest_arg = flags.args.back();
  CopyPlan plan{.dest_cloud = IsCloudArg(dest_arg), .into = sources.size() > 1};
  auto cloud_count = static_cast<std::size_t>(std::count_if(sources.begin(), sources.end(), IsCloudArg));
  if (cloud_count != 0 && cloud_count != sources.size())
    return usage("cp copies either local files to the cloud or cloud files here, not both at once");
  if (cloud_count == 0 && !plan.dest_cloud)
    return usage("cp copies to or from the cloud: write cloud paths as pc:PATH (e.g. pc:datasets/mnist)");
  for (const auto& source : sources) {
    if (cloud_count == 0) {
      if (std::string problem = LocalSourceProblem(source, flags.recursive); !problem.empty()) return usage(problem);
      plan.local_sources.push_back(source);
      continue;
    }
    auto path = CloudArg(source.substr(kCloudPrefix.size()), exit_code);
    if (!path) return std::nullopt;
    if (path->empty()) return usage("cp cannot copy the top level (" + source + "); name a folder or file in it");
    plan.cloud_sources.push_back(*path);
  }
  bool trailing = dest_arg.ends_with("/");
  if (plan.dest_cloud) {
    auto dest = CloudArg(dest_arg.substr(kCloudPrefix.size()), exit_code, &trailing);
    if (!dest) return std::nullopt;
    plan.dest = *dest;
  } else {
    plan.dest = dest_arg;
  }
  plan.into = plan.into || trailing;
  return plan;
}

// Whether the cloud DEST of `plan` is a folder the sources go into.
Result<bool> CopiesIntoCloudFolder(ApiClient& client, const CopyPlan& plan) {
  if (plan.into) return true;
  return CloudFolderExists(client, plan.dest);
}

int UploadSources(TransferContext& ctx, const CopyPlan& plan) {
  auto into = CopiesIntoCloudFolder(ctx.client, plan);
  if (!into) return FailSignedIn(ctx.client, into.error());
  if (plan.into) {
    if (Status made = EnsureFolder(ctx.client, plan.dest); !made.ok()) return FailSignedIn(ctx.client, made);
  }
  for (const auto& source : plan.local_sources) {
    std::string target = *into ? JoinCloud(plan.dest, LocalName(source)) : plan.dest;
    std::error_code ec;
    Status done = fs::is_directory(source, ec) ? UploadTree(ctx, source, target)
                                               : UploadFile(ctx, source, DisplayPath(source), target);
    if (!done.ok()) return FailSignedIn(ctx.client, done);
  }
  ctx.progress.Summary("Uploaded");
  return kExitOk;
}

// cloud → cloud: copied by the server.
int CopyInCloud(ApiClient& client, const CopyPlan& plan, bool recursive) {
  auto into = CopiesIntoCloudFolder(client, plan);
  if (!into) return FailSignedIn(client, into.error());
  for (const auto& source : plan.cloud_sources) {
    auto entry = Stat(client, source);
    if (!entry) return FailSignedIn(client, entry.error());
    if (IsFolder(*entry) && !recursive) return FailUsage("pc:" + source + " is a folder: copy it with -r");
    std::string target = *into ? JoinCloud(plan.dest, BaseName(source)) : plan.dest;
    auto copied = client.Call("POST", "/api/v1/copies", json::object{{"from", source}, {"to", target}});
    if (!copied) return FailSignedIn(client, copied.error());
    std::cerr << "Copied pc:" << source << " to pc:" << target << "\n";
  }
  return kExitOk;
}

int DownloadSources(TransferContext& ctx, const CopyPlan& plan, bool recursive) {
  std::error_code ec;
  bool into = plan.into || fs::is_directory(plan.dest, ec);
  if (into) {
    fs::create_directories(plan.dest, ec);
    if (!fs::is_directory(plan.dest, ec)) return Fail(Status::InvalidArgument("cannot create the folder " + plan.dest));
  }
  for (const auto& source : plan.cloud_sources) {
    auto entry = Stat(ctx.client, source);
    if (!entry) return FailSignedIn(ctx.client, entry.error());
    std::string target = into ? (fs::path(plan.dest) / BaseName(source)).string() : plan.dest;
    Status done;
    if (IsFolder(*entry)) {
      if (!recursive) return FailUsage("pc:" + source + " is a folder: copy it with -r");
      done = DownloadTree(ctx, source, target);
    } else {
      if (fs::is_directory(target, ec)) target = (fs::path(target) / BaseName(source)).string();
      done = DownloadFile(ctx, source, target, UintAt(*entry, "size"));
    }
    if (!done.ok()) return FailSignedIn(ctx.client, done);
  }
  ctx.progress.Summary("Downloaded");
  return kExitOk;
}

}  // namespace

int CopyFiles(const CpFlags& flags, const Environment& env) {
  if (flags.args.size() < 2) return FailUsage("cp needs a source and a destination: cp SRC... DEST");
  std::uint64_t rate = 0;
  if (!flags.limit_rate.empty()) {
    auto parsed = ParseRate(flags.limit_rate);
    if (!parsed) return FailUsage("--limit-rate: " + parsed.error().message());
    rate = *parsed;
  }
  int exit_code = kExitOk;
  auto plan = PlanCopy(flags, exit_code);
  if (!plan) return exit_code;
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  TransferProgress progress(rate);
  TransferContext ctx{*client, env, progress};
  if (!plan->local_sources.empty()) return UploadSources(ctx, *plan);
  if (plan->dest_cloud) return CopyInCloud(*client, *plan, flags.recursive);
  return DownloadSources(ctx, *plan, flags.recursive);
}

// The cloud paths of `args`, each below the top level; nullopt (with `exit_code` set) after
// reporting the first bad one.
std::optional<std::vector<std::string>> CloudArgsBelowTop(const std::vector<std::string>& args,
                                                         const std::string& top_level_error, int& exit_code) {
  std::vector<std::string> paths;
  for (const auto& arg : args) {
    auto path = CloudArg(arg, exit_code);
    if (!path) return std::nullopt;
    if (path->empty()) {
      exit_code = FailUsage(top_level_error);
      return std::nullopt;
    }
    paths.push_back(*path);
  }
  return paths;
}

int RemoveFiles(const RmFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto paths = CloudArgsBelowTop(flags.paths, "rm cannot remove the top level", exit_code);
  if (!paths) return exit_code;
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  int result = kExitOk;
  for (const auto& path : *paths) {
    auto removed = client->Call("DELETE", FilesTarget(path) + (flags.recursive ? "?recursive=true" : ""));
    if (removed) continue;
    Status error = removed.error();
    if (error.code() == Code::kConflict && !flags.recursive)
      error = Status::Conflict(error.message() + " (rm -r removes a folder with its contents)");
    result = FailSignedIn(*client, error);
  }
  return result;
}

int MakeFolders(const MkdirFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto paths = CloudArgsBelowTop(flags.paths, "mkdir needs a folder path, e.g. datasets/mnist", exit_code);
  if (!paths) return exit_code;
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  int result = kExitOk;
  for (const auto& path : *paths) {
    Status made = flags.parents ? EnsureFolder(*client, path)
                                : [&] {
                                    auto answer = client->Call("POST", "/api/v1/folders", json::object{{"path", path}});
                                    return answer ? Status::Ok() : answer.error();
                                  }();
    if (!made.ok()) result = FailSignedIn(*client, made);
  }
  return result;
}

int MoveFile(const MvFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto source = CloudArg(flags.source, exit_code);
  if (!source) return exit_code;
  auto dest = CloudArg(flags.dest, exit_code);
  if (!dest) return exit_code;
  if (source->empty()) return FailUsage("mv cannot move the top level");
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  std::string target = *dest;
  if (target != *source) {
    auto folder = CloudFolderExists(*client, target);
    if (!folder) return FailSignedIn(*client, folder.error());
    if (*folder) target = JoinCloud(target, BaseName(*source));
  }
  auto moved = client->Call("PATCH", FilesTarget(*source), json::object{{"path", target}});
  if (!moved) return FailSignedIn(*client, moved.error());
  return kExitOk;
}

int ShareFiles(const ShareFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto path = CloudArg(flags.path, exit_code);
  if (!path) return exit_code;
  if (flags.link == !flags.account.empty()) return FailUsage("share needs either --account ID or --link");
  std::optional<std::int64_t> expires_at;
  if (!flags.expires.empty()) {
    auto seconds = ParseExpirySeconds(flags.expires);
    if (!seconds) return FailUsage("--expires: " + seconds.error().message());
    expires_at = NowSeconds() + *seconds;
  }
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  json::object body{{"path", *path}};
  if (flags.link) {
    body["link"] = true;
  } else {
    body["account"] = flags.account;
  }
  if (expires_at) body["expires_at"] = *expires_at;
  auto share = client->Call("POST", "/api/v1/shares", body);
  if (!share) return FailSignedIn(*client, share.error());
  std::int64_t id = IntAt(*share, {"id"});
  std::int64_t expires = IntAt(*share, {"expires_at"});
  std::string until = expires > 0 ? ", until " + FormatTime(expires) : "";
  if (flags.link) {
    std::cout << "Share " << id << ": " << *path << " by link" << until << "\n" << ShareLink(*client, *share) << "\n";
  } else {
    std::cout << "Share " << id << ": " << *path << " with " << StringAt(*share, {"account"}) << until << "\n";
  }
  return kExitOk;
}

int Unshare(const UnshareFlags& flags, const Environment& env) {
  if (flags.id.empty() || !std::all_of(flags.id.begin(), flags.id.end(), [](unsigned char c) { return std::isdigit(c); }))
    return FailUsage("unshare takes a share id (a number; `paddlecloud shares` lists them), not '" + flags.id + "'");
  int exit_code = kExitOk;
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  auto revoked = client->Call("DELETE", "/api/v1/shares/" + flags.id);
  if (!revoked) return FailSignedIn(*client, revoked.error());
  std::cout << "Revoked share " << flags.id << "\n";
  return kExitOk;
}

int ListShares(const SharesFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  auto list = client->Call("GET", flags.with_me ? "/api/v1/shared-with-me" : "/api/v1/shares");
  if (!list) return FailSignedIn(*client, list.error());
  const auto& shares = ArrayAt(*list, "shares");
  if (shares.empty()) {
    std::cout << (flags.with_me ? "Nothing is shared with you.\n" : "No shares.\n");
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& share : shares) {
    std::int64_t expires = IntAt(share, {"expires_at"});
    std::string until = expires > 0 ? FormatTime(expires) : "never";
    if (flags.with_me) {
      rows.push_back({std::to_string(IntAt(share, {"id"})), StringAt(share, {"owner_account"}),
                      StringAt(share, {"mount"}), StringAt(share, {"kind"}), until});
    } else {
      std::string with = StringAt(share, {"account"});
      if (with.empty()) with = ShareLink(*client, share);
      rows.push_back({std::to_string(IntAt(share, {"id"})), StringAt(share, {"path"}), StringAt(share, {"kind"}), with,
                      until, FormatTime(IntAt(share, {"created_at"}))});
    }
  }
  if (flags.with_me) {
    std::cout << FormatTable({"ID", "OWNER", "PATH", "KIND", "EXPIRES"}, rows);
  } else {
    std::cout << FormatTable({"ID", "PATH", "KIND", "SHARED WITH", "EXPIRES", "CREATED"}, rows);
  }
  return kExitOk;
}

int Publish(const PublishFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto path = CloudArg(flags.path, exit_code);
  if (!path) return exit_code;
  std::string kind = flags.kind;
  if (kind.empty()) {
    if (path->starts_with("models/")) kind = "model";
    else if (path->starts_with("datasets/")) kind = "dataset";
    else return FailUsage("--kind model|dataset is needed to publish " + *path);
  }
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  json::object body{{"kind", kind}, {"name", flags.name}, {"version", flags.version}, {"path", *path}};
  if (!flags.description.empty()) body["description"] = flags.description;
  auto published = client->Call("POST", "/api/v1/publications", body);
  if (!published) return FailRequest(*client, published.error());
  std::int64_t files = IntAt(*published, {"files"});
  std::cout << "Published " << StringAt(*published, {"kind"}) << " " << StringAt(*published, {"name"}) << " "
            << StringAt(*published, {"version"}) << " (id " << IntAt(*published, {"id"}) << ") as "
            << StringAt(*published, {"path"}) << ": " << files << (files == 1 ? " file, " : " files, ")
            << FormatBytes(UintAt(*published, "bytes")) << "\n";
  return kExitOk;
}

}  // namespace paddlecloud::client