// Package postgres is inkpass's PostgreSQL storage: today the connection
// settings and the check of the studio's users table against SCHEMA.md, as
// `inkpass check` runs it; the stores behind the storage contract
// (internal/store/storetest) come next.
//
// PostgreSQL is for more than one inkpass server on one database; SQLite
// (internal/store) stays the default for one studio on one machine.
package postgres
