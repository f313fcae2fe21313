#include "client/command_support.h"

#include <unistd.h>

#include <ctime>
#include <iostream>

namespace paddlecloud::client {

namespace json = boost::json;

std::string Describe(const Status& s) {
  std::string message = s.message();
  if (s.code() == Code::kResourceExhausted && s.details().count("retry_after") &&
      message.find("try again") == std::string::npos)
    message += "; try again in " + s.details().at("retry_after") + " s";
  return message;
}

int Fail(const Status& s) {
  std::cerr << "paddlecloud: " << Describe(s) << "\n";
  return kExitError;
}

int FailUsage(const std::string& message) {
  std::cerr << "paddlecloud: " << message << "\n";
  return kExitUsage;
}

void Warn(const std::string& message) { std::cerr << "paddlecloud: warning: " << message << "\n"; }

namespace {
const json::value* At(const json::value& v, std::initializer_list<std::string_view> path) {
  const json::value* cur = &v;
  for (auto key : path) {
    if (!cur->is_object()) return nullptr;
    cur = cur->as_object().if_contains(key);
    if (!cur) return nullptr;
  }
  return cur;
}
}  // namespace

std::string StringAt(const json::value& v, std::initializer_list<std::string_view> path) {
  const json::value* found = At(v, path);
  return found && found->is_string() ? std::string(found->as_string()) : "";
}

std::int64_t IntAt(const json::value& v, std::initializer_list<std::string_view> path, std::int64_t fallback) {
  const json::value* found = At(v, path);
  if (!found) return fallback;
  if (found->is_int64()) return found->as_int64();
  if (found->is_uint64()) return static_cast<std::int64_t>(found->as_uint64());
  return fallback;
}

const json::array& ArrayAt(const json::value& v, std::string_view key) {
  static const json::array kEmpty;
  if (!v.is_object()) return kEmpty;
  const json::value* found = v.as_object().if_contains(key);
  return found && found->is_array() ? found->as_array() : kEmpty;
}

std::uint64_t UintAt(const json::value& v, std::string_view key) {
  std::int64_t n = IntAt(v, {key}, 0);
  return n < 0 ? 0 : static_cast<std::uint64_t>(n);
}

bool BoolAt(const json::value& v, std::string_view key) {
  if (!v.is_object()) return false;
  const json::value* found = v.as_object().if_contains(key);
  return found && found->is_bool() && found->as_bool();
}

bool Has(const json::value& v, std::string_view key) { return v.is_object() && v.as_object().contains(key); }

std::int64_t NowSeconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

Status CheckFiles(const Settings& s) {
  for (auto [file, flag] : {std::pair{&s.cacert, "--cacert"}, {&s.cert, "--cert"}, {&s.key, "--key"}}) {
    if (!file->empty() && ::access(file->c_str(), R_OK) != 0)
      return Status::InvalidArgument(std::string(flag) + ": cannot read " + *file);
  }
  return Status::Ok();
}

ClientOptions OptionsFor(const Settings& s, std::string token) {
  return ClientOptions{.server = s.server, .token = std::move(token), .ca_file = s.cacert, .cert_file = s.cert,
                       .key_file = s.key, .proxy = s.proxy};
}

std::string NotSignedIn(const std::string& server) {
  return "not signed in: run paddlecloud login --server " + (server.empty() ? std::string("URL") : server);
}

std::optional<ApiClient> ConnectSignedIn(const ConnectionFlags& flags, const Environment& env, int& exit_code) {
  auto path = ConfigPath(env);
  if (!path) {
    exit_code = Fail(path.error());
    return std::nullopt;
  }
  auto config = ReadConfig(*path);
  if (!config) {
    exit_code = Fail(config.error());
    return std::nullopt;
  }
  Settings settings = ResolveSettings(flags, env, *config);
  bool has_credential = !settings.token.empty() || !settings.cert.empty();
  if (settings.server.empty() || !has_credential) {
    exit_code = Fail(Status::Unauthenticated(NotSignedIn(settings.server)));
    return std::nullopt;
  }
  if (Status files = CheckFiles(settings); !files.ok()) {
    exit_code = FailUsage(files.message());
    return std::nullopt;
  }
  auto client = ApiClient::Create(OptionsFor(settings, settings.token));
  if (!client) {
    exit_code = FailUsage(client.error().message());
    return std::nullopt;
  }
  exit_code = kExitOk;
  return std::move(*client);
}

int FailSignedIn(const ApiClient& client, const Status& s) {
  Fail(s);
  if (s.code() == Code::kUnauthenticated) std::cerr << "paddlecloud: " << NotSignedIn(client.server()) << "\n";
  return kExitError;
}

int FailRequest(const ApiClient& client, const Status& s) {
  if (s.field().empty() || s.message().find(s.field()) != std::string::npos) return FailSignedIn(client, s);
  return FailSignedIn(client, Status::Of(s.code(), s.message() + " (field " + s.field() + ")", s.field()));
}

}  // namespace paddlecloud::client
