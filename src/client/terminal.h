// Reading what a person types: a line, or a secret without echo.
//
// On a terminal the prompt goes to stderr (stdout stays clean for scripts) and a secret is read
// with echo off (restored on Ctrl-C too). When stdin is not a terminal nothing is prompted: the
// next line of stdin is the answer, so scripts and tests can pipe a password in.
#pragma once

#include <string>

#include "common/status.h"

namespace paddlecloud::client {

bool StdinIsTerminal();
bool StderrIsTerminal();
bool StdoutIsTerminal();

// One line (without its line ending). InvalidArgument when stdin ends first.
Result<std::string> PromptLine(const std::string& prompt);
// As PromptLine, with echo off on a terminal.
Result<std::string> PromptSecret(const std::string& prompt);

}  // namespace paddlecloud::client
