// `paddlecloud`: the control plane server and, as the platform grows, the command-line client.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <map>

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

  CLI11_PARSE(app, argc, argv);

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
