package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Report is what Inspect found on a PostgreSQL database, without changing
// anything.
type Report struct {
	// Server is the server's version string.
	Server string
	// Users is true when the studio's users table exists in Schema.
	Users  bool
	Schema string
	// Differences say how users differs from SCHEMA.md; empty when it
	// matches or is missing.
	Differences []string
}

// Inspect connects to the database at dsn (password, when not empty,
// replacing the URL's) read-only and compares the users table in schema
// ("public" when empty) with the documented one.
func Inspect(ctx context.Context, dsn, password, schema string) (*Report, error) {
	if schema == "" {
		schema = "public"
	}
	cfg, err := ConnConfig(dsn, password)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %s", Redacted(dsn), connectReason(err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// Inspect changes nothing, and says so to the server too.
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", Redacted(dsn), err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	r := &Report{Schema: schema}
	if err := tx.QueryRow(ctx, `SHOW server_version`).Scan(&r.Server); err != nil {
		return nil, fmt.Errorf("inspect %s: %w", Redacted(dsn), err)
	}
	diff, err := UsersDifferences(ctx, tx.Conn(), schema)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", Redacted(dsn), err)
	}
	if len(diff) == 1 && diff[0] == "table is missing" {
		return r, nil
	}
	r.Users = true
	r.Differences = diff
	return r, nil
}

// connectReason is a connection error in one line an operator can act on,
// without the password.
func connectReason(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return fmt.Sprintf("%s (SQLSTATE %s)", pgErr.Message, pgErr.Code)
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return connErr.Unwrap().Error()
	}
	return err.Error()
}
