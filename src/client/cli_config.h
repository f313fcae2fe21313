// The command line's settings: the config file `paddlecloud login` writes, and how flags, the
// environment and that file combine into the server URL, token and CA file of a command.
//
// The file is ~/.paddlecloud/config ($HOME respected; $PADDLECLOUD_CLI_CONFIG names another path), one
// JSON object: {"server": "https://...", "token": "pct_...", "cacert": "/path/ca.pem"} ("cacert"
// optional). The Python SDK reads the same file. It holds a secret, so it is written atomically
// (temporary file + fsync + rename) with mode 0600, in a directory created with mode 0700. Members
// this version does not know are kept when the file is rewritten.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include <boost/json/object.hpp>

#include "client/proxy.h"
#include "common/status.h"

namespace paddlecloud::client {

// Environment variables by name; commands take it as a parameter so tests can pass their own.
using Environment = std::map<std::string, std::string>;
// The process's environment.
Environment ProcessEnvironment();

inline constexpr char kServerEnv[] = "PADDLE_CLOUD_URL";     // also set in every job pod
inline constexpr char kTokenEnv[] = "PADDLE_CLOUD_TOKEN";    // also set in every job pod
inline constexpr char kConfigPathEnv[] = "PADDLECLOUD_CLI_CONFIG";

struct CliConfig {
  std::string server;
  std::string token;
  std::string cacert;
  boost::json::object other;  // members not named above, kept as they are
};

// $PADDLECLOUD_CLI_CONFIG, else $HOME/.paddlecloud/config (the user database's home directory when
// HOME is unset). InvalidArgument when neither can be found.
Result<std::string> ConfigPath(const Environment& env);
// Creates the missing directories of `dir` with mode 0700 whatever the umask (the CLI's config
// directory holds secrets); InvalidArgument naming the directory otherwise.
Status MakePrivateDirs(const std::filesystem::path& dir);

// Reads the file at `path`. A missing file is an empty config. Errors (InvalidArgument) name the
// path and the problem: unreadable, not JSON, not an object, a member that is not a string.
Result<CliConfig> ReadConfig(const std::string& path);

// Replaces the file at `path` atomically with mode 0600, creating missing parent directories with
// mode 0700. Empty members are left out. The old file is intact when this fails.
Status WriteConfig(const std::string& path, const CliConfig& config);

// Connection flags a command was given ("" when absent).
struct ConnectionFlags {
  std::string server;  // --server
  std::string cacert;  // --cacert
  std::string cert;    // --cert
  std::string key;     // --key
};

// What a command connects with, and where each value came from (for messages).
struct Settings {
  std::string server;         // "" when none is known
  std::string server_source;  // "--server", "PADDLE_CLOUD_URL", "the config file"
  std::string token;          // "" when none
  std::string token_source;   // "PADDLE_CLOUD_TOKEN", "the config file"
  std::string cacert;
  std::string cert;
  std::string key;
  ProxyEnvironment proxy;  // from the environment (client/proxy.h)
};

// server: --server > $PADDLE_CLOUD_URL > config. token: $PADDLE_CLOUD_TOKEN > config.
// cacert: --cacert > config. The config's token and cacert belong to the config's server: they are
// used only when the chosen server is that one, so a stored token never goes to another server.
Settings ResolveSettings(const ConnectionFlags& flags, const Environment& env, const CliConfig& config);

// Whether two server URLs name the same server (scheme and host compared case-insensitively,
// trailing slashes ignored).
bool SameServer(const std::string& a, const std::string& b);

}  // namespace paddlecloud::client
