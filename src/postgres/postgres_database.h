// The PostgreSQL adapter of the Database port (libpq), chosen with database_url = postgresql://...
//
// A pool of up to `pool_size` connections, opened as needed; a caller blocks while all are in use.
// A connection the server closed while it sat idle (a restart, an administrator's kill) is noticed
// before use and reconnected; one that fails mid-statement fails that statement with kUnavailable
// and is reconnected by its next user. Every statement has a server-side timeout.
//
// Statements are translated (postgres_sql.h) and prepared once per connection. Parameters are sent
// untyped, so PostgreSQL reads each as what its context wants (the column's type, a function's
// argument); where nothing says, as the value's own type.
//
// Transactions keep the port's SQLite semantics: each takes one database-wide advisory lock first,
// so transactions (of every replica) run one at a time and a body's reads see every earlier commit.
// A body is run again (up to 3 times) when PostgreSQL reports a serialization failure or deadlock
// against an autocommit statement; bodies therefore keep their effects inside the Session.
// Migrations hold a session-level advisory lock: of two servers migrating at once, one waits.
//
// Errors: constraint violations -> kConflict; connection loss, statement timeout, server shutting
// down or out of resources -> kUnavailable; anything else -> kInternal (with the SQL, for logs).
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "db/database.h"

namespace paddlecloud::db {

struct PostgresOptions {
  std::string url;  // postgresql://user:password@host:port/dbname?...
  int pool_size = 8;
  int statement_timeout_ms = 30000;
  int connect_timeout_s = 5;
};

// Connects once up front: kUnavailable (the URL's password left out) when the server cannot be
// reached; kInvalidArgument for a URL libpq cannot parse or pool_size < 1.
Result<std::unique_ptr<Database>> OpenPostgresDatabase(const PostgresOptions& options);

// The URL with any password replaced by "***", for logs and messages.
std::string RedactDatabaseUrl(std::string_view url);

}  // namespace paddlecloud::db
