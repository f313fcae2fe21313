#include "client/cli_config.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include "common/fs.h"

extern char** environ;

namespace paddlecloud::client {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string Errno() { return fsutil::ErrnoText(errno); }

// "scheme://host:port/path" with the parts that do not distinguish servers normalized.
std::string Canonical(const std::string& url) {
  std::string trimmed = url;
  while (!trimmed.empty() && trimmed.back() == '/') trimmed.pop_back();
  auto parsed = boost::urls::parse_absolute_uri(trimmed);
  if (!parsed) return trimmed;
  auto lower = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  std::string scheme = lower(std::string(parsed->scheme()));
  std::string port = parsed->has_port() && !parsed->port().empty() ? std::string(parsed->port())
                     : scheme == "https"                           ? "443"
                                                                   : "80";
  return scheme + "://" + lower(std::string(parsed->encoded_host())) + ":" + port + std::string(parsed->encoded_path());
}

}  // namespace

Status MakePrivateDirs(const fs::path& dir) {
  if (dir.empty()) return Status::Ok();
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return Status::Ok();
  PC_RETURN_IF_ERROR(MakePrivateDirs(dir.parent_path()));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return Status::InvalidArgument("cannot create directory " + dir.string() + ": " + Errno());
  ::chmod(dir.c_str(), 0700);
  return Status::Ok();
}

Environment ProcessEnvironment() {
  Environment out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string_view::npos) out.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return out;
}

Result<std::string> ConfigPath(const Environment& env) {
  if (auto it = env.find(kConfigPathEnv); it != env.end() && !it->second.empty()) return it->second;
  std::string home;
  if (auto it = env.find("HOME"); it != env.end()) home = it->second;
  if (home.empty()) {
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (::getpwuid_r(::getuid(), &pw, buf.data(), buf.size(), &found) == 0 && found && found->pw_dir)
      home = found->pw_dir;
  }
  if (home.empty())
    return Err(Status::InvalidArgument("cannot find the config file: HOME is not set (or set PADDLECLOUD_CLI_CONFIG)"));
  return (fs::path(home) / ".paddlecloud" / "config").string();
}

Result<CliConfig> ReadConfig(const std::string& path) {
  CliConfig config;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return config;
    return Err(Status::InvalidArgument("cannot read config file " + path + ": " + Errno()));
  }
  std::string text;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string why = Errno();
      ::close(fd);
      return Err(Status::InvalidArgument("cannot read config file " + path + ": " + why));
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > (1u << 20)) {
      ::close(fd);
      return Err(Status::InvalidArgument("config file " + path + " is larger than 1 MiB; it is not a PaddleCloud config"));
    }
  }
  ::close(fd);
  const std::string fix = "; fix it, or delete it and run paddlecloud login";
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec) return Err(Status::InvalidArgument("config file " + path + " is not valid JSON (" + ec.message() + ")" + fix));
  if (!value.is_object())
    return Err(Status::InvalidArgument("config file " + path + " must hold a JSON object like {\"server\": \"...\"}" + fix));
  for (auto& [key, member] : value.as_object()) {
    std::string* slot = key == "server" ? &config.server : key == "token" ? &config.token : key == "cacert" ? &config.cacert
                                                                                                          : nullptr;
    if (!slot) {
      config.other.emplace(key, member);
      continue;
    }
    if (member.is_null()) continue;
    if (!member.is_string())
      return Err(Status::InvalidArgument("config file " + path + ": \"" + std::string(key) + "\" must be a string" + fix));
    *slot = std::string(member.as_string());
  }
  return config;
}

Status WriteConfig(const std::string& path, const CliConfig& config) {
  fs::path target(path);
  fs::path dir = target.parent_path();
  PC_RETURN_IF_ERROR(MakePrivateDirs(dir));

  json::object object = config.other;
  if (!config.server.empty()) object["server"] = config.server;
  else object.erase("server");
  if (!config.token.empty()) object["token"] = config.token;
  else object.erase("token");
  if (!config.cacert.empty()) object["cacert"] = config.cacert;
  else object.erase("cacert");
  std::string text = json::serialize(object) + "\n";

  Status written = fsutil::WriteFileAtomic(path, text, {.mode = 0600});  // it holds the token
  if (!written.ok()) return Status::InvalidArgument("config file: " + written.message());
  return Status::Ok();
}

bool SameServer(const std::string& a, const std::string& b) { return Canonical(a) == Canonical(b); }

Settings ResolveSettings(const ConnectionFlags& flags, const Environment& env, const CliConfig& config) {
  auto env_value = [&](const char* name) {
    auto it = env.find(name);
    return it == env.end() ? std::string() : it->second;
  };
  Settings s;
  if (!flags.server.empty()) {
    s.server = flags.server;
    s.server_source = "--server";
  } else if (std::string v = env_value(kServerEnv); !v.empty()) {
    s.server = v;
    s.server_source = kServerEnv;
  } else if (!config.server.empty()) {
    s.server = config.server;
    s.server_source = "the config file";
  }
  while (!s.server.empty() && s.server.back() == '/') s.server.pop_back();
  bool config_server = !config.server.empty() && !s.server.empty() && SameServer(s.server, config.server);
  if (std::string v = env_value(kTokenEnv); !v.empty()) {
    s.token = v;
    s.token_source = kTokenEnv;
  } else if (config_server && !config.token.empty()) {
    s.token = config.token;
    s.token_source = "the config file";
  }
  s.cacert = !flags.cacert.empty() ? flags.cacert : config_server ? config.cacert : "";
  s.cert = flags.cert;
  s.key = flags.key;
  s.proxy = ProxyEnvironmentFrom(env);
  return s;
}

}  // namespace paddlecloud::client
