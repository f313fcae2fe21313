// `paddlecloud ls`, `cp`, `rm`, `mkdir`, `mv`, `share`, `unshare`, `shares` and `publish`: the
// account's files (datasets, models, workspace; see docs/files.md) from the command line.
//
// Cloud paths are relative and `/`-separated: `datasets/mnist/train.csv`, checked by the rule of
// docs/files.md ("The cloud-path rule") before anything is sent (a usage error), except that a
// leading `/` is dropped; trailing `/`s are dropped. In `cp` a cloud path carries the prefix `pc:` (`pc:datasets/mnist`), so a local
// folder named `datasets` is never mistaken for one; every other argument of `cp` is a local path (a
// local path that starts with "pc:" is written `./pc:...`).
//
// Each returns the process exit code as the other commands do: kExitOk, kExitError (an API, auth or
// network error: the server's message on stderr prefixed "paddlecloud: ") or kExitUsage (bad flags or
// input). Listings and results go to stdout; progress and notes to stderr.
//
// Transfers (`cp`): see client/file_transfer.h; on a terminal each file gets a progress line
// (bytes, percent, rate); otherwise only a final summary is printed (on stderr).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/cli_config.h"
#include "client/command_support.h"
#include "common/status.h"

namespace paddlecloud::client {

struct LsFlags {
  ConnectionFlags connection;
  std::string path;           // empty: the top-level folders
  bool long_format = false;   // -l: size, modified, uploaded by
  bool human = false;         // sizes as "1.5 MiB" instead of bytes
  std::string sort = "name";  // name | size | modified
  bool reverse = false;
};

// Lists a folder (every page), or shows a file's entry. Folders are printed with a trailing "/".
int ListFiles(const LsFlags& flags, const Environment& env);

struct CpFlags {
  ConnectionFlags connection;
  std::vector<std::string> args;  // SRC... DEST
  bool recursive = false;
  std::string limit_rate;         // bytes per second, with an optional K/M/G suffix (powers of 1024); empty: none
};

// Copies local → cloud (upload), cloud → local (download) or cloud → cloud (a server-side copy).
// As cp(1): when DEST is an existing folder, ends with "/" or there are several SRCs, each SRC goes
// into DEST under its own name; otherwise DEST is the new name. Folders need -r.
int CopyFiles(const CpFlags& flags, const Environment& env);

struct RmFlags {
  ConnectionFlags connection;
  std::vector<std::string> paths;
  bool recursive = false;  // folders and their contents
};

int RemoveFiles(const RmFlags& flags, const Environment& env);

struct MkdirFlags {
  ConnectionFlags connection;
  std::vector<std::string> paths;
  bool parents = false;  // -p: no error when the folder exists
};

// Creates folders (and their missing parents).
int MakeFolders(const MkdirFlags& flags, const Environment& env);

struct MvFlags {
  ConnectionFlags connection;
  std::string source;
  std::string dest;  // an existing folder: SRC moves into it
};

int MoveFile(const MvFlags& flags, const Environment& env);

struct ShareFlags {
  ConnectionFlags connection;
  std::string path;
  std::string account;  // share with this account
  bool link = false;    // or by a public link
  std::string expires;  // "7d", "12h", "30m", "90s", "2w"; empty: never
};

// Prints the share's id, and for a link its full URL (on a line of its own).
int ShareFiles(const ShareFlags& flags, const Environment& env);

struct UnshareFlags {
  ConnectionFlags connection;
  std::string id;
};

int Unshare(const UnshareFlags& flags, const Environment& env);

struct SharesFlags {
  ConnectionFlags connection;
  bool with_me = false;  // what others shared with this account instead
};

int ListShares(const SharesFlags& flags, const Environment& env);

struct PublishFlags {
  ConnectionFlags connection;
  std::string path;  // a cloud folder or archive (.tar, .tar.gz, .tgz, .zip)
  std::string name;
  std::string version;
  std::string description;
  std::string kind;  // model | dataset; empty: from the path (models/ or datasets/)
};

// Publishes a cloud folder or archive as public/<kind>s/<account>/<name>/<version>.
int Publish(const PublishFlags& flags, const Environment& env);

// --- pieces with their own tests -------------------------------------------------------------

// A cloud path as typed, checked and normalized (leading "/" and trailing "/"s dropped); `trailing`
// tells whether it ended with "/". InvalidArgument (field "path") naming the problem.
Result<std::string> NormalizeCloudPath(const std::string& text, bool* trailing = nullptr);
// A byte size per second (common/units.h), with an optional "/s": "2Mi" → 2097152, "500K" →
// 500000, "1.5M/s" → 1500000; InvalidArgument otherwise or when 0.
Result<std::uint64_t> ParseRate(const std::string& text);
// A duration (common/units.h) in whole seconds, rounded up: "7d" → 604800, "90s", "1.5h";
// InvalidArgument otherwise or when 0.
Result<std::int64_t> ParseExpirySeconds(const std::string& text);

}  // namespace paddlecloud::client
