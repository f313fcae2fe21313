// HTTP routes of accounts: registration, verification, sign-in/out, passwords, invitations,
// members, API tokens and the audit log. Handlers parse, call AccountService on the blocking pool
// and render JSON; rules live in the service.
#pragma once

#include <chrono>

#include "accounts/account_service.h"
#include "blocking/work_pool.h"
#include "http/router.h"

namespace paddlecloud::api {

void AddAccountRoutes(http::Router& router, accounts::AccountService& accounts, blocking::WorkPool& pool,
                      std::chrono::seconds session_lifetime);

}  // namespace paddlecloud::api
