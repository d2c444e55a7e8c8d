package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/inkpass/inkpass/internal/user"
)

var _ user.ThrottleStore = (*DB)(nil)

// LockedUntil returns the zero time when key is not locked.
func (db *DB) LockedUntil(ctx context.Context, scope, key string) (time.Time, error) {
	var until int64
	err := db.read.QueryRowContext(ctx, `SELECT locked_until FROM inkpass_login_throttle WHERE scope = ? AND key = ?`, scope, key).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read throttle: %w", err)
	}
	if until == 0 {
		return time.Time{}, nil
	}
	return time.Unix(until, 0), nil
}

// RecordFailure counts one failure and sets the lock in one transaction.
func (db *DB) RecordFailure(ctx context.Context, scope, key string, now time.Time, window time.Duration, lockFor func(int) time.Duration) error {
	return db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var failures int
		var last int64
		err := tx.QueryRowContext(ctx, `SELECT failures, last_failure_at FROM inkpass_login_throttle WHERE scope = ? AND key = ?`, scope, key).Scan(&failures, &last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read throttle: %w", err)
		}
		if now.Sub(time.Unix(last, 0)) > window {
			failures = 0
		}
		failures++
		var until int64
		if d := lockFor(failures); d > 0 {
			until = now.Add(d).Unix()
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO inkpass_login_throttle (scope, key, failures, last_failure_at, locked_until)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (scope, key) DO UPDATE SET failures = excluded.failures,
				last_failure_at = excluded.last_failure_at, locked_until = excluded.locked_until`,
			scope, key, failures, now.Unix(), until)
		if err != nil {
			return fmt.Errorf("write throttle: %w", err)
		}
		return nil
	})
}

// ClearFailures forgets key's failures.
func (db *DB) ClearFailures(ctx context.Context, scope, key string) error {
	_, err := db.exec(ctx, `DELETE FROM inkpass_login_throttle WHERE scope = ? AND key = ?`, scope, key)
	if err != nil {
		return fmt.Errorf("clear throttle: %w", err)
	}
	return nil
}
