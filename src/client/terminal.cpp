#include "client/terminal.h"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <iostream>

namespace paddlecloud::client {
namespace {

termios saved_termios;
volatile sig_atomic_t echo_off = 0;

// Puts the terminal back as it was, then lets the signal do what it would have done.
void RestoreAndReraise(int signal) {
  if (echo_off) ::tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_termios);
  std::signal(signal, SIG_DFL);
  ::raise(signal);
}

Result<std::string> ReadLine() {
  std::string line;
  if (!std::getline(std::cin, line)) return Err(Status::InvalidArgument("standard input ended before an answer"));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

bool StdinIsTerminal() { return ::isatty(STDIN_FILENO) == 1; }
bool StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }
bool StdoutIsTerminal() { return ::isatty(STDOUT_FILENO) == 1; }

Result<std::string> PromptLine(const std::string& prompt) {
  if (StdinIsTerminal()) std::cerr << prompt << std::flush;
  return ReadLine();
}

Result<std::string> PromptSecret(const std::string& prompt) {
  if (!StdinIsTerminal()) return ReadLine();
  if (::tcgetattr(STDIN_FILENO, &saved_termios) != 0) {
    std::cerr << prompt << std::flush;
    return ReadLine();
  }
  termios quiet = saved_termios;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ECHONL;
  struct sigaction action {}, old_int{}, old_term{}, old_hup{};
  action.sa_handler = RestoreAndReraise;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, &old_int);
  ::sigaction(SIGTERM, &action, &old_term);
  ::sigaction(SIGHUP, &action, &old_hup);
  echo_off = 1;
  // Echo goes off before the prompt shows, and nothing typed after it is discarded (TCSADRAIN).
  ::tcsetattr(STDIN_FILENO, TCSADRAIN, &quiet);
  std::cerr << prompt << std::flush;
  auto line = ReadLine();
  ::tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_termios);
  echo_off = 0;
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  ::sigaction(SIGHUP, &old_hup, nullptr);
  return line;
}

}  // namespace paddlecloud::client
