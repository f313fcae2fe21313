// What a command that waits for something to start shows on stderr: its state and how long it has
// waited, redrawn in place on a terminal, else one line per change of state.
#pragma once

#include <chrono>
#include <string>

namespace paddlecloud::client {

class WaitProgress {
 public:
  // `subject` starts each line: "Notebook", "Serving fit".
  explicit WaitProgress(std::string subject);
  // The state now ("starting (waiting for 2 CPUs)").
  void Show(const std::string& state);
  // Ends a redrawn line.
  void Finish();

 private:
  std::string subject_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  std::string last_;
  bool drawn_ = false;
};

}  // namespace paddlecloud::client
