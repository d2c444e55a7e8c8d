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

// LockedUntil returns the zero time when key is not locked. The login
// service reads locks through Reserve; tests read them here.
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

// ClearFailures forgets key's failures.
func (db *DB) ClearFailures(ctx context.Context, scope, key string) error {
	_, err := db.exec(ctx, `DELETE FROM inkpass_login_throttle WHERE scope = ? AND key = ?`, scope, key)
	if err != nil {
		return fmt.Errorf("clear throttle: %w", err)
	}
	return nil
}

// Reserve charges one attempt to every key, in one write transaction, unless
// one of them is locked at now: then nothing is charged and the longest
// remaining lock comes back as wait. Attempts older than window are forgotten
// first. Each charge counts as a failure until Refund or ClearFailures takes
// it back, and sets the lock its count earns, so a burst of attempts cannot
// all pass the check before any of them is counted. counts[i] is the count
// keys[i] reached, which Refund needs.
func (db *DB) Reserve(ctx context.Context, now time.Time, window time.Duration, keys []user.ThrottleKey) (counts []int, wait time.Duration, err error) {
	err = db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		counts, wait = make([]int, len(keys)), 0
		for i, k := range keys {
			var failures int
			var last, until int64
			err := tx.QueryRowContext(ctx, `SELECT failures, last_failure_at, locked_until FROM inkpass_login_throttle WHERE scope = ? AND key = ?`,
				k.Scope, k.Key).Scan(&failures, &last, &until)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("read throttle: %w", err)
			}
			if until > 0 {
				wait = max(wait, time.Unix(until, 0).Sub(now))
			}
			if now.Sub(time.Unix(last, 0)) > window {
				failures = 0
			}
			counts[i] = failures + 1
		}
		if wait > 0 {
			return nil
		}
		for i, k := range keys {
			var until int64
			if d := k.LockFor(counts[i]); d > 0 {
				until = lockEnd(now, d)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO inkpass_login_throttle (scope, key, failures, last_failure_at, locked_until)
				VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (scope, key) DO UPDATE SET failures = excluded.failures,
					last_failure_at = excluded.last_failure_at, locked_until = excluded.locked_until`,
				k.Scope, k.Key, counts[i], now.Unix(), until)
			if err != nil {
				return fmt.Errorf("write throttle: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("reserve login attempt: %w", err)
	}
	if wait > 0 {
		return nil, wait, nil
	}
	return counts, 0, nil
}

// Refund takes back one attempt that Reserve charged to key and that must not
// count as a failure (it was never evaluated, or it succeeded and key counts
// only failures). When nothing was charged to key since, so its count is
// still count, the lock that charge set is lifted as well: Reserve only
// charges a key that was not locked.
func (db *DB) Refund(ctx context.Context, scope, key string, count int) error {
	_, err := db.exec(ctx, `UPDATE inkpass_login_throttle
		SET failures = failures - 1, locked_until = CASE WHEN failures = ? THEN 0 ELSE locked_until END
		WHERE scope = ? AND key = ? AND failures > 0`, count, scope, key)
	if err != nil {
		return fmt.Errorf("refund login attempt: %w", err)
	}
	return nil
}

// lockEnd is when a lock of d from now ends, in the whole seconds the
// throttle tables store, rounded up: cut short, a 2 s lock would end up to a
// second early and let a guess through that Retry-After said to hold back.
func lockEnd(now time.Time, d time.Duration) int64 {
	end := now.Add(d)
	secs := end.Unix()
	if end.Nanosecond() > 0 {
		secs++
	}
	return secs
}
