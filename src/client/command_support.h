// What every client command shares: messages and exit codes, reading the API's JSON, and
// connecting with the signed-in user's settings.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "client/api_client.h"
#include "client/cli_config.h"
#include "common/status.h"

namespace paddlecloud::client {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

// The message of `s` as a person should read it; throttling always says when to retry.
std::string Describe(const Status& s);
// Prints "paddlecloud: <message>" on stderr and returns kExitError.
int Fail(const Status& s);
// Prints "paddlecloud: <message>" on stderr and returns kExitUsage.
int FailUsage(const std::string& message);
void Warn(const std::string& message);

// The string / integer at `path` of nested objects; "" / `fallback` when absent or another type.
std::string StringAt(const boost::json::value& v, std::initializer_list<std::string_view> path);
std::int64_t IntAt(const boost::json::value& v, std::initializer_list<std::string_view> path,
                   std::int64_t fallback = 0);
// The array / non-negative integer / true at `key` of an object; empty / 0 / false otherwise.
const boost::json::array& ArrayAt(const boost::json::value& v, std::string_view key);
std::uint64_t UintAt(const boost::json::value& v, std::string_view key);
bool BoolAt(const boost::json::value& v, std::string_view key);
bool Has(const boost::json::value& v, std::string_view key);

// Seconds since the Unix epoch (the API's timestamps).
std::int64_t NowSeconds();

// Files named by flags must be readable before anything is sent.
Status CheckFiles(const Settings& s);
ClientOptions OptionsFor(const Settings& s, std::string token);
std::string NotSignedIn(const std::string& server);

// A client with the signed-in user's server and credentials. Without them (or with unreadable
// files or a bad URL) prints why and sets `exit_code` (kExitError "not signed in", kExitUsage for
// bad flags), returning nullopt.
std::optional<ApiClient> ConnectSignedIn(const ConnectionFlags& flags, const Environment& env, int& exit_code);

// Fail() for an error of a signed-in command: an Unauthenticated answer adds how to sign in again.
int FailSignedIn(const ApiClient& client, const Status& s);
// FailSignedIn() for a refused request body: the message also names the field the server blamed
// when it does not already.
int FailRequest(const ApiClient& client, const Status& s);

}  // namespace paddlecloud::client
