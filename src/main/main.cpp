// `paddlecloud`: the control plane server and the command-line client of its REST API.
//
// Exit codes: 0 success, 1 an API, auth, network or config error (message on stderr, prefixed
// "paddlecloud: "), 2 a usage error (bad flags or input).
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <map>

#include "client/account_commands.h"
#include "cluster/local/pod_supervisor.h"
#include "config/server_config.h"
#include "ops/ops_routes.h"
#include "server/platform.h"

extern char** environ;

namespace {

std::map<std::string, std::string> Environment() {
  std::map<std::string, std::string> out;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos && entry.rfind("PADDLECLOUD_", 0) == 0) out[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return out;
}

void ConfigureLogging(const std::string& level) {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(level));
}

constexpr char kClientFooter[] =
    "The server URL comes from --server, else PADDLE_CLOUD_URL, else the config file; the token from\n"
    "PADDLE_CLOUD_TOKEN, else the config file. The config file is ~/.paddlecloud/config (or\n"
    "PADDLECLOUD_CONFIG), JSON {\"server\", \"token\", \"cacert\"}, written by `paddlecloud login`; its\n"
    "token and CA file are used only for the server stored with them.";

// --cacert, --cert, --key (and --server unless `with_server` is false) of a client command.
void AddConnectionOptions(CLI::App* command, paddlecloud::client::ConnectionFlags& flags, bool with_server = true) {
  if (with_server)
    command->add_option("--server", flags.server, "Server URL, e.g. https://paddlecloud.example.com (env PADDLE_CLOUD_URL)");
  command->add_option("--cacert", flags.cacert, "PEM CA certificate(s) to trust for https instead of the system store");
  command->add_option("--cert", flags.cert, "PEM client certificate for mutual TLS (with --key)");
  command->add_option("--key", flags.key, "PEM private key of --cert");
  command->footer(kClientFooter);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace paddlecloud;
  CLI::App app{"PaddleCloud: run distributed PaddlePaddle training, notebooks and model serving"};
  app.name("paddlecloud");
  app.set_version_flag("--version", std::string(ops::Version()) + " (" + std::string(ops::Commit()) + ")");
  app.require_subcommand(1);

  CLI::App* server = app.add_subcommand("server", "Run the control plane: REST API, web UI and reconcilers");
  server->footer(
      "Every setting can also come from the environment (PADDLECLOUD_<KEY>, e.g. PADDLECLOUD_DATA_DIR) or\n"
      "a config file of `key = value` lines (--config). Precedence: flags > environment > file > defaults.");
  std::map<std::string, std::string> flag_values;
  for (const auto& setting : config::ServerSettings()) {
    std::string description = setting.help;
    if (!setting.default_value.empty()) description += " [default: " + setting.default_value + "]";
    description += " (env " + setting.env + ")";
    server->add_option_function<std::string>(
        setting.flag, [&flag_values, key = setting.key](const std::string& v) { flag_values[key] = v; }, description);
  }

  client::LoginFlags login_flags;
  CLI::App* login = app.add_subcommand("login", "Sign in: store an API token for a server in ~/.paddlecloud/config");
  AddConnectionOptions(login, login_flags.connection);
  login->add_option("--email", login_flags.email, "Your account's email (prompted for when absent)");
  login->add_option("--token-name", login_flags.token_name,
                    "Name of the API token to create [default: paddlecloud CLI on <hostname>]");
  login->footer(std::string(kClientFooter) +
                "\nThe password is read without echo; when standard input is not a terminal, from its first line.");

  client::ConnectionFlags logout_flags;
  CLI::App* logout = app.add_subcommand("logout", "Sign out: revoke the stored API token and remove it from the config");
  AddConnectionOptions(logout, logout_flags, /*with_server=*/false);

  client::ConnectionFlags whoami_flags;
  CLI::App* whoami = app.add_subcommand("whoami", "Show the signed-in user, account, role and server");
  AddConnectionOptions(whoami, whoami_flags);

  // Internal (hidden): the local cluster backend runs one per pod; see cluster/local/pod_supervisor.h.
  std::string pod_dir;
  int pod_lock_fd = -1;
  CLI::App* pod_supervisor = app.add_subcommand("pod-supervisor", "Internal: supervise one pod of the local cluster");
  pod_supervisor->group("");
  pod_supervisor->add_option("--pod-dir", pod_dir, "The pod's state directory")->required();
  pod_supervisor->add_option("--lock-fd", pod_lock_fd, "Inherited descriptor holding the pod's supervisor.lock");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help, the version, or the error
    return code == 0 ? 0 : client::kExitUsage;
  }

  if (pod_supervisor->parsed()) return cluster::local::RunPodSupervisor(pod_dir, pod_lock_fd);
  if (login->parsed()) return client::Login(login_flags, client::ProcessEnvironment());
  if (logout->parsed()) return client::Logout(logout_flags, client::ProcessEnvironment());
  if (whoami->parsed()) return client::Whoami(whoami_flags, client::ProcessEnvironment());
  if (server->parsed()) {
    auto config = config::ResolveServerConfig(flag_values, Environment());
    if (!config) {
      std::cerr << "paddlecloud server: " << config.error().message() << "\n";
      return 2;
    }
    ConfigureLogging(config->log_level);
    return server::RunServer(*config);
  }
  return 0;
}
