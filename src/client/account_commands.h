// `paddlecloud login`, `logout` and `whoami`: signing the command line in and out.
//
// Each returns the process exit code: kExitOk, kExitError (an API, auth, network or config error;
// the message is on stderr prefixed "paddlecloud: ") or kExitUsage (bad flags or input). Secrets
// (password, token) are never printed.
#pragma once

#include <string>

#include "client/cli_config.h"
#include "client/command_support.h"

namespace paddlecloud::client {

struct LoginFlags {
  ConnectionFlags connection;
  std::string email;       // prompted for when empty
  std::string token_name;  // default "paddlecloud CLI on <hostname>"
};

// Prompts for what is missing, trades email + password for a new API token
// (POST /api/v1/auth/tokens), stores server + token (+ cacert) in the config file and prints
// "Signed in to <server> as <email> (account <id>)".
int Login(const LoginFlags& flags, const Environment& env);

// Revokes the stored token on its server (best effort, with a warning when that fails) and
// removes it from the config file.
int Logout(const ConnectionFlags& flags, const Environment& env);

// Prints who the current credentials belong to; kExitError "not signed in: ..." without one.
int Whoami(const ConnectionFlags& flags, const Environment& env);

}  // namespace paddlecloud::client
