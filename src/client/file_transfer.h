// The transfer engine of `paddlecloud cp`: resumable uploads and downloads of files and folders.
//
// Uploads use the resumable upload protocol: each file gets an upload session (POST
// /api/v1/uploads with its size and SHA-256, which the server verifies) whose id is remembered in
// a state file (UploadStatePath; its format is docs/upload-state.md) until the upload completes,
// so running the same `cp` again after it was interrupted (killed, network gone) continues at the
// server's offset ("resuming FILE at N bytes"). A local file that changed since, or a session the
// server no longer has, starts over. The file body is streamed, never read whole. Downloads are
// written to DEST.part and renamed when complete; a DEST.part left by an interrupted download is
// continued with a Range request (when the server's ETag of the file is still the one it was
// started with, remembered in <config dir>/downloads/). Folders are walked file by file (not as a
// tar), so each file resumes on its own. A dropped connection is retried (resuming) a few times;
// then the error says to run the same command again.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "client/api_client.h"
#include "client/cli_config.h"
#include "client/transfer_progress.h"
#include "common/digest.h"
#include "common/status.h"

namespace paddlecloud::client {

struct TransferContext {
  ApiClient& client;
  const Environment& env;
  TransferProgress& progress;
};

// The local file `local` to the cloud path `cloud` (`label` names it in progress and messages).
Status UploadFile(TransferContext& ctx, const std::string& local, const std::string& label, const std::string& cloud);
// The local folder `local` as the cloud folder `cloud`, file by file, creating its folders.
Status UploadTree(TransferContext& ctx, const std::string& local, const std::string& cloud);
// The cloud file `cloud` (of `size` bytes, for the progress) to `local`, through `local`.part.
Status DownloadFile(TransferContext& ctx, const std::string& cloud, const std::string& local, std::uint64_t size);
// The cloud folder `cloud` into the local folder `local`, file by file.
Status DownloadTree(TransferContext& ctx, const std::string& cloud, const std::string& local);

// The last component of a local path as typed ("./data/" → "data", "." → the current folder's name).
std::string LocalName(const std::string& path);
// A local path as shown in messages: without trailing '/'s.
std::string DisplayPath(std::string path);

// Lower-case hex SHA-256 of a file's contents (read in chunks); of bytes: common/digest.h.
Result<std::string> Sha256OfFile(const std::string& path);
// The state file of an upload session: <config dir>/uploads/<sha256(server "\n" local "\n" cloud)>.json,
// `local` being the absolute, lexically normal path. The Python SDK uses the same files.
Result<std::string> UploadStatePath(const Environment& env, const std::string& server, const std::string& local,
                                    const std::string& cloud);

}  // namespace paddlecloud::client
