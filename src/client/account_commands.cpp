#include "client/account_commands.h"

#include <unistd.h>

#include <filesystem>
#include <iostream>

#include <boost/json/value.hpp>

#include "client/api_client.h"
#include "client/command_support.h"
#include "client/terminal.h"

namespace paddlecloud::client {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string Hostname() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "this machine";
  return name;
}

std::string Trim(std::string s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.back())) s.pop_back();
  std::size_t start = 0;
  while (start < s.size() && space(s[start])) ++start;
  return s.substr(start);
}

// Revokes `token` (its first 10 characters are its listed prefix) on the server of `client`.
Status RevokeOwnToken(ApiClient& client, const std::string& token) {
  auto listed = client.Call("GET", "/api/v1/me/tokens");
  if (!listed) return listed.error();
  std::string prefix = token.substr(0, 10);
  std::vector<std::int64_t> ids;
  if (auto* items = listed->is_object() ? listed->as_object().if_contains("items") : nullptr; items && items->is_array()) {
    for (const auto& item : items->as_array()) {
      if (StringAt(item, {"prefix"}) != prefix) continue;
      if (auto* id = item.as_object().if_contains("id"); id && id->is_int64()) ids.push_back(id->as_int64());
    }
  }
  if (ids.size() != 1)
    return Status::NotFound(ids.empty() ? "the server does not list the stored token"
                                        : "several tokens share the stored token's prefix; revoke it in the web UI");
  auto deleted = client.Call("DELETE", "/api/v1/me/tokens/" + std::to_string(ids.front()));
  return StatusOf(deleted);
}

}  // namespace

int Login(const LoginFlags& flags, const Environment& env) {
  auto path = ConfigPath(env);
  if (!path) return Fail(path.error());
  auto config = ReadConfig(*path);
  if (!config) return Fail(config.error());
  Settings settings = ResolveSettings(flags.connection, env, *config);
  if (settings.server.empty()) return FailUsage("no server: pass --server URL (for example --server http://127.0.0.1:8080)");
  if (Status files = CheckFiles(settings); !files.ok()) return FailUsage(files.message());
  auto client = ApiClient::Create(OptionsFor(settings, ""));  // signing in never sends an old token
  if (!client) return FailUsage(client.error().message());

  // Fail on an unreachable or untrusted server before anyone types a password.
  if (auto version = client->Call("GET", "/api/v1/version"); !version && version.error().code() == Code::kUnavailable)
    return Fail(version.error());

  std::string email = Trim(flags.email);
  if (email.empty()) {
    if (!StdinIsTerminal()) return FailUsage("--email is required when standard input is not a terminal");
    auto line = PromptLine("Email: ");
    if (!line) return FailUsage("no email given");
    email = Trim(*line);
  }
  if (email.empty()) return FailUsage("no email given");
  auto password = PromptSecret("Password for " + email + ": ");
  if (!password || password->empty()) return FailUsage("no password given");

  std::string name = flags.token_name.empty() ? "paddlecloud CLI on " + Hostname() : flags.token_name;
  auto created = client->Call("POST", "/api/v1/auth/tokens",
                              json::object{{"email", email}, {"password", *password}, {"name", name}});
  std::fill(password->begin(), password->end(), '\0');
  if (!created) return Fail(created.error());
  std::string token = StringAt(*created, {"token"});
  if (token.empty()) return Fail(Status::Internal("the server's answer has no token"));

  CliConfig updated = *config;
  updated.server = settings.server;
  updated.token = token;
  updated.cacert = settings.cacert.empty() ? "" : fs::absolute(settings.cacert).string();
  auto signed_in = ApiClient::Create(OptionsFor(settings, token));
  if (Status written = WriteConfig(*path, updated); !written.ok()) {
    if (signed_in) (void)RevokeOwnToken(*signed_in, token);  // do not leave an orphan token behind
    return Fail(written);
  }

  std::string account, shown_email = email;
  if (signed_in) {
    if (auto me = signed_in->Call("GET", "/api/v1/me")) {
      account = StringAt(*me, {"user", "account_id"});
      if (std::string e = StringAt(*me, {"user", "email"}); !e.empty()) shown_email = e;
    }
  }
  std::cout << "Signed in to " << settings.server << " as " << shown_email;
  if (!account.empty()) std::cout << " (account " << account << ")";
  std::cout << "\n";
  if (auto it = env.find(kTokenEnv); it != env.end() && !it->second.empty())
    Warn(std::string(kTokenEnv) + " is set in this environment and takes precedence over the stored token");
  if (auto it = env.find(kServerEnv); it != env.end() && !it->second.empty() && !SameServer(it->second, settings.server))
    Warn(std::string(kServerEnv) + " is set to another server and takes precedence over the stored one");
  return kExitOk;
}

int Logout(const ConnectionFlags& flags, const Environment& env) {
  auto path = ConfigPath(env);
  if (!path) return Fail(path.error());
  auto config = ReadConfig(*path);
  if (!config) return Fail(config.error());
  if (config->token.empty()) {
    std::cout << "Not signed in; nothing to do.\n";
    return kExitOk;
  }
  // The stored token goes back to the server it came from, whatever --server or the environment say.
  ConnectionFlags stored = flags;
  stored.server = config->server;
  Settings settings = ResolveSettings(stored, {}, *config);
  settings.token = config->token;
  if (settings.server.empty()) {
    Warn("the config file names no server; the token cannot be revoked there");
  } else if (auto client = ApiClient::Create(OptionsFor(settings, config->token)); !client) {
    Warn("cannot revoke the token: " + client.error().message());
  } else if (Status revoked = RevokeOwnToken(*client, config->token); !revoked.ok()) {
    if (revoked.code() == Code::kUnauthenticated) {
      Warn("the server no longer accepts the stored token (" + revoked.message() + ")");
    } else {
      Warn("could not revoke the token on " + settings.server + ": " + Describe(revoked) +
           "; it stays valid until you revoke it in the web UI");
    }
  }
  CliConfig updated = *config;
  updated.token.clear();
  if (Status written = WriteConfig(*path, updated); !written.ok()) return Fail(written);
  std::cout << "Signed out" << (config->server.empty() ? "" : " of " + config->server) << ".\n";
  if (auto it = env.find(kTokenEnv); it != env.end() && !it->second.empty())
    Warn(std::string(kTokenEnv) + " is still set in this environment");
  return kExitOk;
}

int Whoami(const ConnectionFlags& flags, const Environment& env) {
  auto path = ConfigPath(env);
  if (!path) return Fail(path.error());
  auto config = ReadConfig(*path);
  if (!config) return Fail(config.error());
  Settings settings = ResolveSettings(flags, env, *config);
  bool has_credential = !settings.token.empty() || !settings.cert.empty();  // a client certificate signs in too
  if (settings.server.empty() || !has_credential) return Fail(Status::Unauthenticated(NotSignedIn(settings.server)));
  if (Status files = CheckFiles(settings); !files.ok()) return FailUsage(files.message());
  auto client = ApiClient::Create(OptionsFor(settings, settings.token));
  if (!client) return FailUsage(client.error().message());
  auto me = client->Call("GET", "/api/v1/me");
  if (!me) {
    if (me.error().code() != Code::kUnauthenticated) return Fail(me.error());
    std::cerr << "paddlecloud: " << NotSignedIn(settings.server) << "\n"
              << "paddlecloud: the server says: " << me.error().message();
    if (!settings.token_source.empty()) std::cerr << " (token from " << settings.token_source << ")";
    std::cerr << "\n";
    return kExitError;
  }
  std::string account_id = StringAt(*me, {"user", "account_id"});
  std::string account = account_id;
  if (auto acct = client->Call("GET", "/api/v1/account")) {
    std::string name = StringAt(*acct, {"display_name"});
    if (!name.empty() && name != account_id) account += " (" + name + ")";
  }
  std::cout << "email:    " << StringAt(*me, {"user", "email"}) << "\n"
            << "name:     " << StringAt(*me, {"user", "display_name"}) << "\n"
            << "account:  " << account << "\n"
            << "role:     " << StringAt(*me, {"user", "role"}) << "\n"
            << "server:   " << settings.server << "\n";
  return kExitOk;
}

}  // namespace paddlecloud::client
