#include "client/wait_progress.h"

#include <iostream>

#include "client/output.h"
#include "client/terminal.h"

namespace paddlecloud::client {

WaitProgress::WaitProgress(std::string subject)
    : subject_(std::move(subject)), tty_(StderrIsTerminal()), start_(std::chrono::steady_clock::now()) {}

void WaitProgress::Show(const std::string& state) {
  auto waited = std::chrono::steady_clock::now() - start_;
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(waited).count();
  if (tty_) {
    std::cerr << "\r" << subject_ << " " << state << "  " << FormatAge(seconds) << "\x1b[K" << std::flush;
    drawn_ = true;
  } else if (state != last_) {
    std::cerr << subject_ << " " << state << "\n";
  }
  last_ = state;
}

void WaitProgress::Finish() {
  if (drawn_) std::cerr << "\n";
  drawn_ = false;
}

}  // namespace paddlecloud::client
