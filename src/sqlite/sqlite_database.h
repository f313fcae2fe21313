// The SQLite adapter of the Database port: the zero-setup embedded store (<data>/paddlecloud.db).
//
// Every connection runs in WAL mode with synchronous=NORMAL, foreign keys on and a busy timeout.
// Callers share a small pool of connections; one is held for a statement or a whole Transaction,
// and a caller blocks while all are in use. Transactions start with BEGIN IMMEDIATE, so writers
// queue for the lock up front instead of deadlocking on a read-to-write upgrade; a Transaction that
// only reads still takes the write lock (plain Query calls read concurrently from the WAL).
// Statements are prepared once per connection and cached by their SQL text, so pass constant SQL
// with `?` placeholders rather than formatting values into it.
//
// Errors: a constraint violation -> kConflict; the lock still held by another writer after the busy
// timeout, or I/O failure -> kUnavailable; any other SQL error -> kInternal (message carries
// sqlite's text and the SQL, for logs only). Each call runs one statement; a migration's SQL may hold
// several.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "db/database.h"

namespace paddlecloud::db {

struct SqliteOptions {
  // The database file, created when missing. Its parent directory must exist.
  std::string path;
  // How long a statement waits for a lock held by another connection before kUnavailable.
  int busy_timeout_ms = 5000;
  // Connections kept open (>= 1).
  int pool_size = 4;
};

// Opens every connection of the pool up front. kUnavailable (naming the path) when the file cannot
// be opened or is not a database; kInvalidArgument for an empty path or pool_size < 1.
Result<std::unique_ptr<Database>> OpenSqliteDatabase(const SqliteOptions& options);

}  // namespace paddlecloud::db
