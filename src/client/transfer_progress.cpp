#include "client/transfer_progress.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <thread>

#include "client/output.h"
#include "client/terminal.h"

namespace paddlecloud::client {

using namespace std::chrono_literals;

TransferProgress::TransferProgress(std::uint64_t rate_limit)
    : tty_(StderrIsTerminal()), rate_(rate_limit), start_(Clock::now()) {}

void TransferProgress::Begin(const std::string& label, std::uint64_t total, std::uint64_t done) {
  label_ = label;
  total_ = total;
  base_ = done;
  done_ = done;
  file_start_ = Clock::now();
  last_draw_ = {};
  open_line_ = false;
  Draw(true);
}

void TransferProgress::Update(std::uint64_t done) {
  if (done > done_) moved_ += done - done_;
  done_ = done;
  if (rate_ > 0 && done_ > base_) {
    auto due = file_start_ + std::chrono::nanoseconds(static_cast<std::int64_t>(
                                 static_cast<double>(done_ - base_) * 1e9 / static_cast<double>(rate_)));
    if (due > Clock::now()) std::this_thread::sleep_until(due);
  }
  Draw(false);
}

void TransferProgress::End(bool ok) {
  if (ok) {
    ++files_;
    bytes_ += total_;
    done_ = total_;
    if (!open_line_ || drawn_ != total_) Draw(true);
  }
  if (open_line_) std::cerr << "\n" << std::flush;
  open_line_ = false;
}

void TransferProgress::Summary(const std::string& verb) const {
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_);
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1f", static_cast<double>(elapsed.count()) / 1000.0);
  std::cerr << verb << " " << files_ << (files_ == 1 ? " file" : " files") << " (" << FormatBytes(bytes_) << ") in "
            << seconds << " s";
  if (elapsed.count() > 0 && moved_ > 0)
    std::cerr << " (" << FormatBytes(static_cast<std::uint64_t>(static_cast<double>(moved_) * 1000.0 /
                                                                static_cast<double>(elapsed.count())))
              << "/s)";
  std::cerr << "\n";
}

void TransferProgress::Note(const std::string& text) const {
  if (tty_) std::cerr << "\r" << text << "\x1b[K" << std::flush;
}

void TransferProgress::Draw(bool force) {
  if (!tty_) return;
  auto now = Clock::now();
  if (!force && now - last_draw_ < 100ms) return;
  last_draw_ = now;
  int percent = total_ == 0 ? 100 : static_cast<int>(std::min<std::uint64_t>(done_, total_) * 100 / total_);
  char head[16];
  std::snprintf(head, sizeof head, "%3d%%", percent);
  std::string line = label_ + "  " + head + " " + FormatBytes(done_) + " / " + FormatBytes(total_);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - file_start_).count();
  if (ms > 0 && done_ > base_)
    line += "  " + FormatBytes(static_cast<std::uint64_t>(static_cast<double>(done_ - base_) * 1000.0 /
                                                         static_cast<double>(ms))) + "/s";
  std::cerr << "\r" << line << "\x1b[K" << std::flush;
  open_line_ = true;
  drawn_ = done_;
}

}  // namespace paddlecloud::client
