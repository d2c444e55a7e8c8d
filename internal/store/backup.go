package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
)

// Backup writes a consistent copy of the live database to path with VACUUM
// INTO: one read transaction, so writers carry on and the copy is a single
// point in time. The target must not exist; it is created 0600.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.pg {
		return errors.New("backup: the database is PostgreSQL: back it up with pg_dump or continuous archiving (README, \"Back up and restore\")")
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup: %s already exists", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("backup: %w", err)
	}
	// Create the file empty first (VACUUM INTO accepts an empty file) so
	// that it is private from its first byte.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	f.Close()
	if _, err := db.read.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		os.Remove(path)
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return verifyCopy(ctx, path)
}

// verifyCopy opens the copy read-only and runs SQLite's integrity check.
func verifyCopy(ctx context.Context, path string) error {
	pool, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro")
	if err != nil {
		return fmt.Errorf("verify backup: %w", err)
	}
	defer pool.Close()
	var res string
	if err := pool.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
		return fmt.Errorf("verify backup: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("verify backup: integrity check says %s", res)
	}
	return nil
}
