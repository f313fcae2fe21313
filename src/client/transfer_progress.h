// TransferProgress: what `paddlecloud cp` shows of its transfers, and its rate limit.
//
// On a terminal (stderr) each file gets a line redrawn in place (bytes, percent, rate) at most
// every 100 ms; otherwise nothing is shown until Summary. Update also keeps the transfer under the
// rate limit: it blocks while the file's bytes are ahead of it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace paddlecloud::client {

class TransferProgress {
 public:
  // `rate_limit` in bytes per second; 0: none.
  explicit TransferProgress(std::uint64_t rate_limit);

  // A file starts; `done` of its `total` bytes are there already (a resumed transfer).
  void Begin(const std::string& label, std::uint64_t total, std::uint64_t done);
  // `done` bytes of the file are there now.
  void Update(std::uint64_t done);
  // The file is done (ok) or the transfer stopped.
  void End(bool ok);
  // "Uploaded 3 files (1.2 MiB) in 0.4 s (3.0 MiB/s)": what this run moved, on stderr.
  void Summary(const std::string& verb) const;
  // A note that replaces the progress line on a terminal ("checksumming FILE ..."); "" clears it.
  void Note(const std::string& text) const;

  bool tty() const { return tty_; }

 private:
  using Clock = std::chrono::steady_clock;
  void Draw(bool force);

  bool tty_;
  std::uint64_t rate_;
  Clock::time_point start_;
  Clock::time_point file_start_{};
  Clock::time_point last_draw_{};
  std::string label_;
  std::uint64_t total_ = 0, base_ = 0, done_ = 0;
  std::uint64_t drawn_ = 0;  // done_ when the line was last drawn
  std::uint64_t moved_ = 0;  // bytes sent or received in this run
  std::uint64_t files_ = 0, bytes_ = 0;
  bool open_line_ = false;
};

}  // namespace paddlecloud::client
