// `paddlecloud`: the control plane server and the command-line client of its REST API.
//
// Exit codes: 0 success, 1 an API, auth, network or config error (message on stderr, prefixed
// "paddlecloud: "), 2 a usage error (bad flags or input).
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>

#include "client/account_commands.h"
#include "client/file_commands.h"
#include "client/job_commands.h"
#include "client/usage_commands.h"
#include "client/board_commands.h"
#include "client/notebook_commands.h"
#include "client/serving_commands.h"
#include "config/server_config.h"
#include "ops/ops_routes.h"
#include "server/platform.h"
#include "server/migrate_db.h"
#include "server/quota_admin.h"

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
    "PADDLECLOUD_CLI_CONFIG), JSON {\"server\", \"token\", \"cacert\"}, written by `paddlecloud login`; its\n"
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

// The subcommands and what runs each once parsed. Client commands' flags live here, as long as
// the program.
class Commands {
 public:
  explicit Commands(CLI::App& app) : app_(app) {}

  // Adds client command `name`, run by `run` with its flags; returns the command and the flags to
  // declare its options on.
  template <typename Flags>
  std::pair<CLI::App*, Flags&> Add(const std::string& name, const std::string& description,
                                   int (*run)(const Flags&, const paddlecloud::client::Environment&)) {
    auto flags = std::make_shared<Flags>();
    CLI::App* command = app_.add_subcommand(name, description);
    runs_.push_back({command, [flags, run] { return run(*flags, paddlecloud::client::ProcessEnvironment()); }});
    return {command, *flags};
  }
  void Add(CLI::App* command, std::function<int()> run) { runs_.push_back({command, std::move(run)}); }

  CLI::App& app() { return app_; }

  // Runs the parsed command; 0 when none was (--help and --version exit while parsing).
  int RunParsed() const {
    for (const auto& [command, run] : runs_)
      if (command->parsed()) return run();
    return 0;
  }

 private:
  CLI::App& app_;
  std::vector<std::pair<CLI::App*, std::function<int()>>> runs_;
};

void AddServerCommand(Commands& commands) {
  using namespace paddlecloud;
  CLI::App* server = commands.app().add_subcommand("server", "Run the control plane: REST API, web UI and reconcilers");
  server->footer(
      "Every setting can also come from the environment (PADDLECLOUD_<KEY>, e.g. PADDLECLOUD_DATA_DIR) or\n"
      "a config file of `key = value` lines (--config). Precedence: flags > environment > file > defaults.");
  auto flag_values = std::make_shared<std::map<std::string, std::string>>();
  for (const auto& setting : config::ServerSettings()) {
    std::string description = setting.help;
    if (!setting.default_value.empty()) description += " [default: " + setting.default_value + "]";
    description += " (env " + setting.env + ")";
    server->add_option_function<std::string>(
        setting.flag, [flag_values, key = setting.key](const std::string& v) { (*flag_values)[key] = v; }, description);
  }
  commands.Add(server, [flag_values] {
    auto config = config::ResolveServerConfig(*flag_values, Environment());
    if (!config) {
      std::cerr << "paddlecloud server: " << config.error().message() << "\n";
      return 2;
    }
    ConfigureLogging(config->log_level);
    return server::RunServer(*config);
  });
}

void AddAccountCommands(Commands& commands) {
  namespace client = paddlecloud::client;
  auto [login, login_flags] =
      commands.Add("login", "Sign in: store an API token for a server in ~/.paddlecloud/config", client::Login);
  AddConnectionOptions(login, login_flags.connection);
  login->add_option("--email", login_flags.email, "Your account's email (prompted for when absent)");
  login->add_option("--token-name", login_flags.token_name,
                    "Name of the API token to create [default: paddlecloud CLI on <hostname>]");
  login->footer(std::string(kClientFooter) +
                "\nThe password is read without echo; when standard input is not a terminal, from its first line.");

  auto [logout, logout_flags] =
      commands.Add("logout", "Sign out: revoke the stored API token and remove it from the config", client::Logout);
  AddConnectionOptions(logout, logout_flags, /*with_server=*/false);

  auto [whoami, whoami_flags] = commands.Add("whoami", "Show the signed-in user, account, role and server", client::Whoami);
  AddConnectionOptions(whoami, whoami_flags);
}

void AddSubmitCommand(Commands& commands) {
  namespace client = paddlecloud::client;
  auto [submit, submit_flags] =
      commands.Add("submit", "Submit a training job: upload DIR as its code and start its pods", client::SubmitJob);
  AddConnectionOptions(submit, submit_flags.connection);
  CLI::Option* dir_option =
      submit->add_option("dir", submit_flags.dir, "Directory of the job's code, packed and uploaded; pods run in it");
  CLI::Option* workdir_option = submit->add_option(
      "--workdir", submit_flags.workdir, "Run in this folder of the account's files instead of uploading a DIR");
  dir_option->excludes(workdir_option);
  submit->add_option("--name", submit_flags.name, "Job name: lower-case letters, digits and '-'")->required();
  submit->add_option("--entry", submit_flags.entry, "Command every pod runs, e.g. \"python3 train.py\"")->required();
  submit->add_option("--trainers", submit_flags.trainers, "Number of trainers")
      ->check(CLI::PositiveNumber)->capture_default_str();
  submit->add_option("--ps", submit_flags.ps, "Number of parameter servers")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  submit->add_option("--cpu", submit_flags.cpu, "CPU per trainer (\"1\", \"500m\")")->capture_default_str();
  submit->add_option("--mem", submit_flags.mem, "Memory per trainer (\"512Mi\", \"2Gi\")")->capture_default_str();
  submit->add_option("--gpu", submit_flags.gpu, "GPUs per trainer")->check(CLI::NonNegativeNumber)->capture_default_str();
  submit->add_option("--ps-cpu", submit_flags.ps_cpu, "CPU per parameter server [default: the server's, 1]");
  submit->add_option("--ps-mem", submit_flags.ps_mem, "Memory per parameter server [default: the server's, 1Gi]");
  submit->add_option("--env", submit_flags.env, "Environment variable NAME=VALUE for every pod (repeatable)")
      ->allow_extra_args(false);
  submit->add_option("--image", submit_flags.image, "Container image (cluster backends that run images)");
  submit->add_option("--max-restarts", submit_flags.max_restarts, "Restarts of a failed pod [default: 0]")
      ->check(CLI::NonNegativeNumber);
  submit->add_option("--fault-tolerant", submit_flags.fault_tolerant,
                     "Trainer failures the job survives [default: 0]")
      ->check(CLI::NonNegativeNumber);
  submit->add_flag("--follow,-f", submit_flags.follow,
                   "Print the first trainer's log until the job ends; exit 0 only if it succeeded");
  submit->footer(std::string(kClientFooter) +
                 "\nDIR is packed as tar.gz without .git, __pycache__ and *.pyc; symbolic links must stay inside\n"
                 "DIR. Upload progress goes to stderr. Without DIR or --workdir the job gets an empty directory.");
}

void AddJobCommands(Commands& commands) {
  namespace client = paddlecloud::client;
  auto [jobs, jobs_flags] = commands.Add("jobs", "List your jobs, newest first", client::ListJobs);
  AddConnectionOptions(jobs, jobs_flags.connection);
  jobs->add_option("--status", jobs_flags.status, "Only jobs in this state")
      ->check(CLI::IsMember({"running", "succeeded", "failed", "stopped"}));
  jobs->add_option("--name", jobs_flags.name, "Only jobs whose name contains this");
  jobs->add_flag("--all", jobs_flags.all, "Every user's jobs of the account (master user only)");
  jobs->add_option("-n,--limit", jobs_flags.limit, "At most this many jobs")
      ->check(CLI::PositiveNumber)->capture_default_str();

  auto [logs, logs_flags] = commands.Add("logs", "Print a pod's log (the first trainer's by default)", client::JobLogs);
  AddConnectionOptions(logs, logs_flags.connection);
  logs->add_option("job", logs_flags.job, "Job id, or name (the newest job of that name)")->required();
  logs->add_option("--pod", logs_flags.pod, "Pod name, or its end (\"trainer-1\", \"pserver-0\")");
  logs->add_option("-n,--lines", logs_flags.lines, "Print the last N lines")
      ->check(CLI::Range(0, 100000))->capture_default_str();
  logs->add_flag("-f,--follow", logs_flags.follow, "Keep printing new lines until the job ends");

  auto [kill_command, kill_flags] =
      commands.Add("kill", "Stop a job: its pods get SIGTERM, then SIGKILL after a grace period", client::KillJob);
  AddConnectionOptions(kill_command, kill_flags.connection);
  kill_command->add_option("job", kill_flags.job, "Job id, or name (the newest job of that name)")->required();
  kill_command->add_flag_callback("--no-wait", [&wait = kill_flags.wait] { wait = false; },
                                  "Return once the stop is requested, without waiting for the pods to end");

  auto [describe, describe_flags] =
      commands.Add("describe", "Show a job: spec, state, pods and recent events", client::DescribeJob);
  AddConnectionOptions(describe, describe_flags.connection);
  describe->add_option("job", describe_flags.job, "Job id, or name (the newest job of that name)")->required();
  describe->add_option("--events", describe_flags.events, "Show this many of the latest events")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
}

// What jobs use now and what the account used (docs/monitoring.md).
void AddUsageCommands(Commands& commands) {
  namespace client = paddlecloud::client;
  auto [top, top_flags] =
      commands.Add("top", "Show the CPU, memory and GPU each pod of your running jobs uses now", client::Top);
  AddConnectionOptions(top, top_flags.connection);
  top->add_option("job", top_flags.job, "Job id, or name (the newest job of that name) [default: every running job]");
  top->add_flag("-w,--watch", top_flags.watch, "Keep refreshing: at every sample of JOB until it ends, or Ctrl-C");
  top->add_option("-o,--output", top_flags.output, "table or json")
      ->check(CLI::IsMember({"table", "json"}))->capture_default_str();
  top->footer(std::string(kClientFooter) +
              "\nCPU is in cores (CPU% of the request), MEMORY the working set (MEM% of the limit), GPU% the mean\n"
              "utilization of the pod's GPUs. Values are the latest means over the last three sampling intervals of\n"
              "GET /api/v1/jobs/{job}/usage (a job that has ended: its last ones); \"-\" is a value that was not\n"
              "measured, with the reason below the table. --watch with JOB redraws at every sample of the live\n"
              "stream (/usage/stream) until the job ends; without JOB it reads every running job again each\n"
              "sampling interval. When stdout is not a terminal each refresh is appended (json: one per line).");

  auto [usage, usage_flags] =
      commands.Add("usage", "Show your account's CPU and GPU time, per user and per day", client::AccountUsage);
  AddConnectionOptions(usage, usage_flags.connection);
  usage->add_option("--window", usage_flags.window, "Totals over the last 1d, 7d or 30d")
      ->check(CLI::IsMember({"1d", "7d", "30d"}))->capture_default_str();
  usage->add_option("-o,--output", usage_flags.output, "table or json")
      ->check(CLI::IsMember({"table", "json"}))->capture_default_str();
  usage->footer(std::string(kClientFooter) +
                "\nCPU time is measured (core-seconds the pods used), GPU time is GPUs held by running pods. The\n"
                "account's master sees every user, a member their own usage. The chart shows the last 30 UTC days.");

  auto [quota, quota_flags] =
      commands.Add("quota", "Show your account's quota against what its jobs use now, and members' limits", client::ShowQuota);
  AddConnectionOptions(quota, quota_flags.connection);
  quota->add_option("-o,--output", quota_flags.output, "table or json")
      ->check(CLI::IsMember({"table", "json"}))->capture_default_str();
  quota->footer(std::string(kClientFooter) +
                "\nIn use: what the account's admitted, unfinished pods request. The platform's operator sets the\n"
                "account's quota (paddlecloud admin quota set, on the server machine); the account's master sets\n"
                "members' limits on the Quota page.");
}

// Paddle Board (docs/board.md).
void AddBoardCommands(Commands& commands) {
  namespace client = paddlecloud::client;
  auto [board, board_flags] =
      commands.Add("board", "Show the curves a job drew on its board, or export every point", client::ShowBoard);
  AddConnectionOptions(board, board_flags.connection);
  board->add_option("job", board_flags.job, "Job id, or name (the newest job of that name)")->required();
  board->add_option("-o,--output", board_flags.output, "table or json")
      ->check(CLI::IsMember({"table", "json"}))->capture_default_str();
  board->add_option("--export", board_flags.export_format, "Print every raw point instead, as csv or json")
      ->check(CLI::IsMember({"csv", "json"}));
  board->footer(std::string(kClientFooter) +
                "\nThe graphs are drawn live on the Board page (/jobs/<id>/board). --export prints every point\n"
                "(graph, curve, pod, step, wall time, value) as GET /api/v1/jobs/{job}/board/export gives them.");
}

// The user's Jupyter Notebook (docs/notebooks.md): `paddlecloud notebook start|stop|status|open`.
void AddNotebookCommands(Commands& commands) {
  namespace client = paddlecloud::client;
  CLI::App* notebook = commands.app().add_subcommand("notebook", "Start, stop, show or open your Jupyter Notebook");
  notebook->require_subcommand(1);

  auto start_flags = std::make_shared<client::NotebookStartFlags>();
  CLI::App* start = notebook->add_subcommand("start", "Start your notebook (its files are your workspace/)");
  AddConnectionOptions(start, start_flags->connection);
  start->add_option("--cpu", start_flags->cpu, "CPU (\"2\", \"500m\") [default: the last start's, else the server's]");
  start->add_option("--memory", start_flags->memory, "Memory (\"4Gi\") [default: the last start's, else the server's]");
  start->add_option("--gpus", start_flags->gpus, "GPUs [default: the last start's, else the server's]")
      ->check(CLI::NonNegativeNumber);
  start->add_flag("--wait", start_flags->wait, "Wait until it runs, showing its state and what it waits for");
  commands.Add(start, [start_flags] { return client::StartNotebook(*start_flags, client::ProcessEnvironment()); });

  auto stop_flags = std::make_shared<client::ConnectionFlags>();
  CLI::App* stop = notebook->add_subcommand("stop", "Stop your notebook; its files are kept");
  AddConnectionOptions(stop, *stop_flags);
  commands.Add(stop, [stop_flags] { return client::StopNotebook(*stop_flags, client::ProcessEnvironment()); });

  auto status_flags = std::make_shared<client::NotebookStatusFlags>();
  CLI::App* status = notebook->add_subcommand("status", "Show your notebook: state, resources, activity");
  AddConnectionOptions(status, status_flags->connection);
  status->add_option("-o,--output", status_flags->output, "text or json")
      ->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  commands.Add(status, [status_flags] { return client::NotebookStatus(*status_flags, client::ProcessEnvironment()); });

  auto open_flags = std::make_shared<client::ConnectionFlags>();
  CLI::App* open = notebook->add_subcommand("open", "Print (and open in a browser, when one is at hand) your notebook's link");
  AddConnectionOptions(open, *open_flags);
  open->footer(std::string(kClientFooter) +
               "\nThe link goes through the platform's sign-in handoff: open it in a browser signed in to the platform.");
  commands.Add(open, [open_flags] { return client::OpenNotebook(*open_flags, client::ProcessEnvironment()); });
}

// Serving instances (docs/serving.md): `paddlecloud serve`, `serving ...` and `predict`.
void AddServeCommand(Commands& commands) {
  namespace client = paddlecloud::client;
  auto [serve, serve_flags] = commands.Add(
      "serve", "Launch a model as an HTTP inference service (Open Inference Protocol v2)", client::Serve);
  AddConnectionOptions(serve, serve_flags.connection);
  serve->add_option("MODEL_PATH", serve_flags.model,
                    "Cloud path of the model (models/fit, pc:models/fit), or a local folder, .onnx or .tar.gz "
                    "(uploaded first to models/NAME/)")
      ->required();
  serve->add_option("--name", serve_flags.name, "Instance name: 1-40 of a-z 0-9 '-'; its URL's last part")->required();
  serve->add_option("--runtime", serve_flags.runtime,
                    "onnx, python or command [default: command with --command, python with --model-py, else onnx]")
      ->check(CLI::IsMember({"onnx", "python", "command"}));
  serve->add_option("--model-file", serve_flags.model_file, "Runtime onnx: the .onnx file in the model [default: the only one]");
  serve->add_option("--model-py", serve_flags.model_py, "Runtime python: a local model.py to serve the model with");
  serve->add_option("--command", serve_flags.command, "Runtime command: run by /bin/sh in the model, serving v2 on $PORT");
  serve->add_option("--replicas", serve_flags.replicas, "Number of replicas [default: 1]")->check(CLI::NonNegativeNumber);
  serve->add_option("--cpu", serve_flags.cpu, "CPU per replica (\"1\", \"500m\") [default: the server's, 1]");
  serve->add_option("--mem", serve_flags.memory, "Memory per replica (\"512Mi\", \"2Gi\") [default: the server's, 1Gi]");
  serve->add_option("--gpu", serve_flags.gpus, "GPUs per replica [default: 0]")->check(CLI::NonNegativeNumber);
  serve->add_flag("--public", serve_flags.is_public, "Anyone may call it, without a token");
  serve->add_flag("--wait", serve_flags.wait, "Wait until every replica is ready, then print the URLs");
  serve->footer(std::string(kClientFooter) +
                "\nMODEL_PATH is local when it exists here (or starts with /, ./ or ../): a folder, an .onnx file or a\n"
                "tar.gz archive, uploaded to models/NAME/ with progress on stderr (resumable: run the command again).\n"
                "Call it with `paddlecloud predict NAME --json request.json`, or any KServe v2 client at the printed\n"
                "URL with `Authorization: Bearer <API token>`.");
}

void AddServingGroup(Commands& commands) {
  namespace client = paddlecloud::client;
  CLI::App* serving = commands.app().add_subcommand("serving", "List, scale, deactivate, activate or delete serving instances");
  serving->require_subcommand(1);
  auto list_flags = std::make_shared<client::ServingListFlags>();
  CLI::App* list = serving->add_subcommand("list", "Your serving instances: replicas, QPS, p99 latency, errors, state, URL");
  AddConnectionOptions(list, list_flags->connection);
  list->add_option("-o,--output", list_flags->output, "table or json")
      ->check(CLI::IsMember({"table", "json"}))->capture_default_str();
  commands.Add(list, [list_flags] { return client::ListServing(*list_flags, client::ProcessEnvironment()); });

  auto scale_flags = std::make_shared<client::ServingScaleFlags>();
  CLI::App* scale = serving->add_subcommand("scale", "Change the number of replicas (no request is dropped)");
  AddConnectionOptions(scale, scale_flags->connection);
  scale->add_option("name", scale_flags->name, "Instance name")->required();
  scale->add_option("replicas", scale_flags->replicas, "Number of replicas")->required();
  scale->add_flag("--wait", scale_flags->wait, "Wait until every replica is ready");
  commands.Add(scale, [scale_flags] { return client::ScaleServing(*scale_flags, client::ProcessEnvironment()); });

  using NameCommand = int (*)(const client::ServingNameFlags&, const client::Environment&);
  for (auto [verb, description, run] :
       {std::tuple<const char*, const char*, NameCommand>{
            "deactivate", "Stop its replicas once their requests are answered; it stays listed", client::DeactivateServing},
        {"activate", "Start a deactivated instance again, with its last number of replicas", client::ActivateServing},
        {"delete", "Stop it and forget it, with its model snapshot, logs and metrics", client::DeleteServing}}) {
    auto flags = std::make_shared<client::ServingNameFlags>();
    CLI::App* command = serving->add_subcommand(verb, description);
    AddConnectionOptions(command, flags->connection);
    command->add_option("name", flags->name, "Instance name")->required();
    if (run == client::ActivateServing) command->add_flag("--wait", flags->wait, "Wait until every replica is ready");
    commands.Add(command, [flags, run] { return run(*flags, client::ProcessEnvironment()); });
  }

  auto logs_flags = std::make_shared<client::ServingLogsFlags>();
  CLI::App* logs = serving->add_subcommand("logs", "Print a replica's log");
  AddConnectionOptions(logs, logs_flags->connection);
  logs->add_option("name", logs_flags->name, "Instance name")->required();
  logs->add_option("--replica", logs_flags->replica, "Replica index")->check(CLI::NonNegativeNumber)->capture_default_str();
  logs->add_option("-n,--lines", logs_flags->lines, "Print the last N lines")
      ->check(CLI::Range(0, 100000))->capture_default_str();
  logs->add_flag("-f,--follow", logs_flags->follow, "Keep printing new lines until the replica's log ends, or Ctrl-C");
  commands.Add(logs, [logs_flags] { return client::ServingLogs(*logs_flags, client::ProcessEnvironment()); });

  auto [predict, predict_flags] =
      commands.Add("predict", "Send an inference request (Open Inference Protocol v2) to a serving instance", client::Predict);
  AddConnectionOptions(predict, predict_flags.connection);
  predict->add_option("name", predict_flags.name,
                      "Instance name, or ACCOUNT/NAME (e.g. for a public instance of another account)")
      ->required();
  predict->add_option("--json", predict_flags.json_file, "The v2 request body: a JSON file, or - for stdin")->required();
  predict->footer(std::string(kClientFooter) +
                  "\nExample request: {\"inputs\": [{\"name\": \"x\", \"shape\": [1, 13], \"datatype\": \"FP32\", "
                  "\"data\": [...]}]}.\nThe answer is printed as the model gives it: {\"model_name\", \"outputs\": [...]}.");
}

// Files: datasets, models, workspace (docs/files.md).
void AddFileCommands(Commands& commands) {
  namespace client = paddlecloud::client;
  auto [ls, ls_flags] =
      commands.Add("ls", "List a folder of your files (datasets/, models/, workspace/, public/, shared/)", client::ListFiles);
  AddConnectionOptions(ls, ls_flags.connection);
  ls->add_option("path", ls_flags.path, "Cloud path, e.g. datasets/mnist [default: the top level]");
  ls->add_flag("-l,--long", ls_flags.long_format, "Show size (bytes), modification time and who uploaded each file");
  ls->add_flag("--human", ls_flags.human, "With -l: sizes as 1.5 MiB instead of bytes");
  ls->add_option("--sort", ls_flags.sort, "Order by name (folders first), size or modified")
      ->check(CLI::IsMember({"name", "size", "modified"}))->capture_default_str();
  ls->add_flag("-r,--reverse", ls_flags.reverse, "Reverse the order");

  auto [cp, cp_flags] =
      commands.Add("cp", "Copy files to, from or within the cloud (cloud paths as pc:PATH)", client::CopyFiles);
  AddConnectionOptions(cp, cp_flags.connection);
  cp->add_option("paths", cp_flags.args, "SRC... DEST: local paths, or cloud paths written pc:datasets/mnist")
      ->required()->expected(2, -1);
  cp->add_flag("-r,--recursive", cp_flags.recursive, "Copy folders with everything in them");
  cp->add_option("--limit-rate", cp_flags.limit_rate, "At most this many bytes per second: 500K (500,000), 2Mi (2 MiB), 1G");
  cp->footer(std::string(kClientFooter) +
             "\nExamples: paddlecloud cp -r ./data pc:datasets/mnist     paddlecloud cp pc:models/out/model.bin .\n"
             "When DEST is an existing folder, ends with '/' or several SRCs are given, each SRC is copied into it.\n"
             "Uploads resume where they stopped when the same command is run again (sessions are remembered in\n"
             "~/.paddlecloud/uploads/); downloads go to DEST.part first and resume from it. Progress goes to\n"
             "stderr (a line per file on a terminal, else a summary at the end).");

  auto [rm, rm_flags] = commands.Add("rm", "Remove cloud files or folders", client::RemoveFiles);
  AddConnectionOptions(rm, rm_flags.connection);
  rm->add_option("paths", rm_flags.paths, "Cloud paths, e.g. datasets/old")->required();
  rm->add_flag("-r,--recursive", rm_flags.recursive, "Remove folders with everything in them");

  auto [mkdir, mkdir_flags] = commands.Add("mkdir", "Create cloud folders (with missing parents)", client::MakeFolders);
  AddConnectionOptions(mkdir, mkdir_flags.connection);
  mkdir->add_option("paths", mkdir_flags.paths, "Cloud paths, e.g. datasets/mnist/images")->required();
  mkdir->add_flag("-p,--parents", mkdir_flags.parents, "No error when the folder exists already");

  auto [mv, mv_flags] = commands.Add("mv", "Rename or move a cloud file or folder", client::MoveFile);
  AddConnectionOptions(mv, mv_flags.connection);
  mv->add_option("src", mv_flags.source, "Cloud path to move")->required();
  mv->add_option("dest", mv_flags.dest, "New cloud path, or an existing folder to move it into")->required();
}

void AddSharingCommands(Commands& commands) {
  namespace client = paddlecloud::client;
  auto [share, share_flags] =
      commands.Add("share", "Share a dataset or model folder with an account, or by a public link", client::ShareFiles);
  AddConnectionOptions(share, share_flags.connection);
  share->add_option("path", share_flags.path, "Cloud path in datasets/ or models/")->required();
  CLI::Option* share_account = share->add_option("--account", share_flags.account, "The account to share with");
  CLI::Option* share_link = share->add_flag("--link", share_flags.link, "Create a public link (no sign-in needed)");
  share_account->excludes(share_link);
  share->add_option("--expires", share_flags.expires, "The share ends after this long: 7d, 12h, 30m, 2w [default: never]");

  auto [unshare, unshare_flags] =
      commands.Add("unshare", "Revoke a share (its id from `paddlecloud shares`)", client::Unshare);
  AddConnectionOptions(unshare, unshare_flags.connection);
  unshare->add_option("id", unshare_flags.id, "Share id")->required();

  auto [shares, shares_flags] = commands.Add("shares", "List your account's shares", client::ListShares);
  AddConnectionOptions(shares, shares_flags.connection);
  shares->add_flag("--with-me", shares_flags.with_me, "What other accounts shared with yours instead");

  auto [publish, publish_flags] =
      commands.Add("publish", "Publish a cloud folder or archive as a public model or dataset", client::Publish);
  AddConnectionOptions(publish, publish_flags.connection);
  publish->add_option("path", publish_flags.path,
                      "Cloud path of a folder, or of a .tar, .tar.gz, .tgz or .zip archive (upload it with cp first)")
      ->required();
  publish->add_option("--name", publish_flags.name, "Name: 1-63 of a-z 0-9 - _ .")->required();
  publish->add_option("--version", publish_flags.version, "Version: 1-63 of A-Z a-z 0-9 - _ . +")->required();
  publish->add_option("--description", publish_flags.description, "What it is");
  publish->add_option("--kind", publish_flags.kind, "model or dataset [default: from the path, models/ or datasets/]")
      ->check(CLI::IsMember({"model", "dataset"}));
}

// `paddlecloud admin quota set|show`: the operator's commands, run on the server's machine.
void AddAdminCommands(Commands& commands) {
  using paddlecloud::server::QuotaAdminRequest;
  CLI::App* admin = commands.app().add_subcommand("admin", "Operator commands, run on the server's machine");
  admin->require_subcommand(1);
  CLI::App* quota = admin->add_subcommand("quota", "An account's quota of jobs and storage");
  quota->require_subcommand(1);
  auto set_request = std::make_shared<QuotaAdminRequest>();
  CLI::App* set = quota->add_subcommand("set", "Set an account's quota (the server may be running)");
  struct QuotaFlag {
    const char* flag;
    const char* resource;
    const char* help;
  };
  for (const QuotaFlag& q : {QuotaFlag{"--cpu", "cpu", "CPU its jobs may request together (\"64\", \"500m\")"},
                             QuotaFlag{"--memory", "memory", "memory its jobs may request together (\"256Gi\")"},
                             QuotaFlag{"--gpu", "gpus", "GPUs its jobs may request together"},
                             QuotaFlag{"--jobs", "running_jobs", "jobs it may run at once (the rest wait)"},
                             QuotaFlag{"--storage", "storage", "bytes it may store (\"1Ti\")"}})
    set->add_option_function<std::string>(
        q.flag, [set_request, resource = std::string(q.resource)](const std::string& v) { set_request->set[resource] = v; },
        std::string(q.help) + "; none: no quota");
  auto show_request = std::make_shared<QuotaAdminRequest>();
  CLI::App* show = quota->add_subcommand("show", "Show an account's quota");
  for (auto [command, request] : {std::pair{set, set_request}, std::pair{show, show_request}}) {
    command->add_option("account", request->account, "The account's id, or its master user's email")->required();
    command->add_option("--data-dir", request->data_dir, "The server's data dir")->required();
    command->add_option("--database-url", request->database_url, "The server's database_url, when it is PostgreSQL")
        ->envname("PADDLECLOUD_DATABASE_URL");
    commands.Add(command, [request] { return paddlecloud::server::RunQuotaAdmin(*request, std::cout, std::cerr); });
  }

  auto migrate_request = std::make_shared<paddlecloud::server::MigrateDbRequest>();
  CLI::App* migrate = admin->add_subcommand(
      "migrate-db", "Copy a stopped server's SQLite database into PostgreSQL, to run several servers on it");
  migrate->add_option("--data-dir", migrate_request->data_dir, "The server's data dir")->required();
  migrate->add_option("--to", migrate_request->to, "The PostgreSQL database: postgresql://USER:PASSWORD@HOST/DB")
      ->required()
      ->check([](const std::string& url) {
        return url.starts_with("postgresql://") || url.starts_with("postgres://") ? std::string()
                                                                                  : std::string("must start with postgresql://");
      });
  migrate->add_flag("--replace", migrate_request->replace, "Empty a target that already holds data, then copy");
  commands.Add(migrate, [migrate_request] {
    return paddlecloud::server::RunMigrateDb(*migrate_request, std::cout, std::cerr);
  });
}

}  // namespace

int main(int argc, char** argv) {
  using namespace paddlecloud;
  CLI::App app{"PaddleCloud: run distributed PaddlePaddle training, notebooks and model serving"};
  app.name("paddlecloud");
  app.set_version_flag("--version", std::string(ops::Version()) + " (" + std::string(ops::Commit()) + ")");
  app.require_subcommand(1);
  Commands commands(app);
  AddServerCommand(commands);
  AddAccountCommands(commands);
  AddSubmitCommand(commands);
  AddJobCommands(commands);
  AddUsageCommands(commands);
  AddBoardCommands(commands);
  AddNotebookCommands(commands);
  AddServeCommand(commands);
  AddServingGroup(commands);
  AddFileCommands(commands);
  AddSharingCommands(commands);
  AddAdminCommands(commands);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help, the version, or the error
    return code == 0 ? 0 : client::kExitUsage;
  }
  return commands.RunParsed();
}
