package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// PruneResult counts what Prune deleted, for the log.
type PruneResult struct {
	Codes, Tokens, Sessions, AuthRequests, Grants, Throttle int64
}

// Prune deletes what can no longer matter: codes a day past expiry (replays
// within that day still revoke their grant), tokens whose access and refresh
// lifetimes both ended a day ago, sessions a week past their end, abandoned
// authorization requests, burned grant ids older than any refresh token could
// be, and throttle entries whose lock and window have passed. The audit trail
// is never pruned. One transaction per table keeps the writer free between.
func (db *DB) Prune(ctx context.Context, refreshTTL, throttleWindow time.Duration) (PruneResult, error) {
	now := db.now().Unix()
	day := int64(24 * time.Hour / time.Second)
	var r PruneResult
	steps := []struct {
		n    *int64
		sql  string
		args []any
	}{
		{&r.Codes, `DELETE FROM inkpass_codes WHERE expires_at < ?`, []any{now - day}},
		{&r.Tokens, `DELETE FROM inkpass_tokens WHERE access_expires_at < ?1 AND (refresh_expires_at IS NULL OR refresh_expires_at < ?1)`, []any{now - day}},
		{&r.Sessions, `DELETE FROM inkpass_sessions WHERE expires_at < ?1 OR revoked_at < ?1`, []any{now - 7*day}},
		{&r.AuthRequests, `DELETE FROM inkpass_auth_requests WHERE expires_at < ?`, []any{now}},
		{&r.Grants, `DELETE FROM inkpass_revoked_grants WHERE revoked_at < ?`, []any{now - int64(refreshTTL/time.Second) - day}},
		{&r.Throttle, `DELETE FROM inkpass_login_throttle WHERE locked_until < ?1 AND last_failure_at < ?2`, []any{now, now - int64(throttleWindow/time.Second)}},
	}
	for _, s := range steps {
		err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, s.sql, s.args...)
			if err != nil {
				return err
			}
			*s.n, _ = res.RowsAffected()
			return nil
		})
		if err != nil {
			return r, fmt.Errorf("prune: %w", err)
		}
	}
	return r, nil
}
