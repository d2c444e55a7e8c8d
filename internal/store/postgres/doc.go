// Package postgres holds what inkpass knows about PostgreSQL apart from the
// store's queries: the connection settings (the URL's password redacted in
// every message) and the check of the studio's users table against
// SCHEMA.md, as SQLAlchemy creates it there. internal/store runs its one set
// of queries over PostgreSQL (store.OpenPostgres) and uses this check when
// it adopts a database; `inkpass check` uses it read-only.
//
// PostgreSQL is for more than one inkpass server on one database; SQLite
// stays the default for one studio on one machine.
package postgres
