// The SQL the services write (the port's portable subset, SQLite-flavoured) as PostgreSQL reads it.
//
// Statements: `?` placeholders become $1..$n, and instr(haystack, needle) becomes strpos. Text inside
// '...' literals, "..." identifiers and -- or /* */ comments is left alone.
// Migration scripts (DDL): INTEGER becomes BIGINT (SQLite's integers are 64-bit), `INTEGER PRIMARY
// KEY AUTOINCREMENT` an identity column, REAL DOUBLE PRECISION, BLOB BYTEA, and WITHOUT ROWID goes.
#pragma once

#include <string>
#include <string_view>

namespace paddlecloud::db::postgres {

// The statement with placeholders numbered; `parameters` receives their count.
std::string TranslateStatement(std::string_view sql, int* parameters = nullptr);

std::string TranslateSchema(std::string_view sql);

}  // namespace paddlecloud::db::postgres
