// `paddlecloud notebook start|stop|status|open`: the user's private Jupyter Notebook
// (docs/notebooks.md). Exit codes as the job commands': kExitOk, kExitError (an API, auth or
// network error with the server's message, naming the field of a bad flag; a notebook that failed
// or stopped while --wait waited), kExitUsage (bad flags). Results go to stdout, progress and notes
// to stderr.
#pragma once

#include <cstdint>
#include <string>

#include <boost/json/value.hpp>

#include "client/cli_config.h"
#include "client/command_support.h"

namespace paddlecloud::client {

struct NotebookStartFlags {
  ConnectionFlags connection;
  std::string cpu;     // Kubernetes quantities; empty: not sent (the defaults, or the last start's)
  std::string memory;
  int gpus = -1;       // -1: not sent
  bool wait = false;   // until it runs (or fails), showing its state and wait reason meanwhile
};

// POST /api/v1/notebook/start with the given resources; prints the state. With `wait`, polls
// GET /api/v1/notebook until `running` (kExitOk), `failed` or `stopped` (kExitError with its
// message and log tail), or 10 minutes.
int StartNotebook(const NotebookStartFlags& flags, const Environment& env);

// POST /api/v1/notebook/stop; its files stay.
int StopNotebook(const ConnectionFlags& flags, const Environment& env);

struct NotebookStatusFlags {
  ConnectionFlags connection;
  std::string output = "text";  // text | json (the API's answer)
};

// GET /api/v1/notebook: FormatNotebook's text, or the answer as JSON.
int NotebookStatus(const NotebookStatusFlags& flags, const Environment& env);

// Prints the handoff URL of the notebook's page (HandoffUrl); on stderr that a browser signed in to
// the platform must open it. When stdout is a terminal and $BROWSER (its first command) or
// xdg-open is at hand, also starts it with the URL.
int OpenNotebook(const ConnectionFlags& flags, const Environment& env);

// "<server>/api/v1/notebook/handoff?next=<path, percent-encoded>".
std::string HandoffUrl(const std::string& server, const std::string& notebook_path);

// The notebook (the API's JSON) as two columns: State (with its reason), Message, Resources,
// Started/Ready/Last activity (with ages relative to `now`, unix seconds), Idle timeout, Max age,
// Restarts, and the end of Jupyter's log when it failed.
std::string FormatNotebook(const boost::json::value& notebook, std::int64_t now);

// "1 CPU, 2Gi memory, 0 GPUs" for a notebook whose resources are {"cpu": "1", "memory": "2Gi", "gpus": 0}.
std::string FormatNotebookResources(const boost::json::value& notebook);

}  // namespace paddlecloud::client
