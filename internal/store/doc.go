// Package store is the one place that opens inkpass's SQLite database: its
// pragmas, the migrations from migrations/, the check that an adopted studio
// database matches the documented schema, and the SQL behind every repository
// interface the other packages declare.
//
// It maps rows to domain types and translates driver errors into the domain's
// sentinels (user.ErrNotFound, user.ErrUsernameTaken, ...); it never decides a
// rule, and no SQL error text leaves it unwrapped for a user to read.
package store
