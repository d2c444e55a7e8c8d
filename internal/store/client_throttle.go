package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RecordClientFailure counts one failed client authentication against addr
// and, unless clientID is empty (none given, or too long to be one), against
// clientID (registered or not: the caller counts both alike), and
// sets each key's lock, in one transaction. Failures older than window are
// forgotten first; entries whose lock and window have both passed are
// deleted as it goes, so the table holds only what can still matter.
func (db *DB) RecordClientFailure(ctx context.Context, clientID, addr string, now time.Time, window time.Duration, lockClient, lockAddr func(failures int) time.Duration) error {
	return db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		db.markClientsChanged()
		if _, err := tx.ExecContext(ctx, `DELETE FROM inkpass_client_throttle WHERE locked_until < ?1 AND last_failure_at < ?2`,
			now.Unix(), now.Add(-window).Unix()); err != nil {
			return fmt.Errorf("prune client throttle: %w", err)
		}
		type throttleKey struct {
			scope, key string
			lockFor    func(int) time.Duration
		}
		keys := []throttleKey{{"address", addr, lockAddr}}
		if clientID != "" {
			keys = append(keys, throttleKey{"client", clientID, lockClient})
		}
		for _, k := range keys {
			var failures int
			var last int64
			err := tx.QueryRowContext(ctx, `SELECT failures, last_failure_at FROM inkpass_client_throttle WHERE scope = ? AND key = ?`,
				k.scope, k.key).Scan(&failures, &last)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("read client throttle: %w", err)
			}
			if now.Sub(time.Unix(last, 0)) > window {
				failures = 0
			}
			failures++
			var until int64
			if d := k.lockFor(failures); d > 0 {
				until = lockEnd(now, d)
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO inkpass_client_throttle (scope, key, failures, last_failure_at, locked_until)
				VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (scope, key) DO UPDATE SET failures = excluded.failures,
					last_failure_at = excluded.last_failure_at, locked_until = excluded.locked_until`,
				k.scope, k.key, failures, now.Unix(), until)
			if err != nil {
				return fmt.Errorf("write client throttle: %w", err)
			}
		}
		return nil
	})
}
