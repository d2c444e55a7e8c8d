package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"
)

// DefaultPruneBatch is how many rows one prune transaction deletes at most.
// A few thousand rows take milliseconds; one DELETE of 1.5 million expired
// rows held the write lock for 9 s, stalling every sign-in and the studio's
// own app ("database is locked").
const DefaultPruneBatch = 2000

// PruneResult counts what Prune deleted, for the log.
type PruneResult struct {
	Codes, Tokens, Sessions, AuthRequests, Grants, Throttle int64
}

// pruneStep deletes the rows of table that match where, walking the table in
// key order (the rowid, or a WITHOUT ROWID table's primary key), so that each
// batch starts where the last one ended and reads each row once.
type pruneStep struct {
	n     *int64
	table string
	key   []string // the key's columns, in the primary key's order
	where string   // may use @now, @cut and @window
}

// Prune deletes what can no longer matter: codes a day past expiry (replays
// within that day still revoke their grant), tokens whose access and refresh
// lifetimes both ended a day ago, sessions a week past their end, abandoned
// authorization requests, burned grant ids older than any refresh token could
// be, and throttle entries whose lock and window have passed. The audit trail
// is never pruned. Other tables that grow are kept small elsewhere: the
// second factor's pending proofs, remembered devices and passkey ceremonies,
// and the client throttle, by their own writes (TestDB_PrunedOnWrite);
// inkpass_session_clients, with their sessions (ON DELETE CASCADE); the
// back-channel and mail outboxes, by their workers.
//
// Each transaction deletes at most Options.PruneBatch rows, and the writer is
// free between them, so sign-ins and the studio's app write in between
// however much has expired. A failure stops Prune; what it deleted stays
// deleted and the next run carries on.
func (db *DB) Prune(ctx context.Context, refreshTTL, throttleWindow time.Duration) (PruneResult, error) {
	// On PostgreSQL one replica prunes at a time; the others skip.
	var r PruneResult
	_, err := db.OnlyOnce(ctx, pgPruneLock, func(ctx context.Context) error {
		var err error
		r, err = db.prune(ctx, refreshTTL, throttleWindow)
		return err
	})
	return r, err
}

func (db *DB) prune(ctx context.Context, refreshTTL, throttleWindow time.Duration) (PruneResult, error) {
	now := db.now().Unix()
	day := int64(24 * time.Hour / time.Second)
	var r PruneResult
	steps := []struct {
		pruneStep
		args []any
	}{
		{pruneStep{&r.Codes, "inkpass_codes", []string{"rowid"}, `expires_at < @cut`}, []any{sql.Named("cut", now-day)}},
		{pruneStep{&r.Tokens, "inkpass_tokens", []string{"id"}, `access_expires_at < @cut AND (refresh_expires_at IS NULL OR refresh_expires_at < @cut)`}, []any{sql.Named("cut", now-day)}},
		{pruneStep{&r.Sessions, "inkpass_sessions", []string{"id"}, `expires_at < @cut OR revoked_at < @cut`}, []any{sql.Named("cut", now-7*day)}},
		{pruneStep{&r.AuthRequests, "inkpass_auth_requests", []string{"rowid"}, `expires_at < @cut`}, []any{sql.Named("cut", now)}},
		{pruneStep{&r.Grants, "inkpass_revoked_grants", []string{"grant_id"}, `revoked_at < @cut`}, []any{sql.Named("cut", now-int64(refreshTTL/time.Second)-day)}},
		{pruneStep{&r.Throttle, "inkpass_login_throttle", []string{"scope", "key"}, `locked_until < @now AND last_failure_at < @window`},
			[]any{sql.Named("now", now), sql.Named("window", now-int64(throttleWindow/time.Second))}},
	}
	for _, s := range steps {
		if err := db.pruneTable(ctx, s.pruneStep, s.args); err != nil {
			return r, fmt.Errorf("prune %s: %w", s.table, err)
		}
	}
	return r, nil
}

// pruneTable deletes s's rows a batch at a time. Each batch finds the key of
// its last row (the batch-th match after the previous batch), then deletes
// the matches up to it: two statements on the primary key's b-tree, in one
// short transaction.
func (db *DB) pruneTable(ctx context.Context, s pruneStep, args []any) error {
	cols := strings.Join(s.key, ", ")
	lo, hi := make([]string, len(s.key)), make([]string, len(s.key))
	for i := range s.key {
		lo[i], hi[i] = fmt.Sprintf("@lo%d", i), fmt.Sprintf("@hi%d", i)
	}
	after := fmt.Sprintf("(%s) > (%s)", cols, strings.Join(lo, ", "))
	upTo := fmt.Sprintf("(%s) <= (%s)", cols, strings.Join(hi, ", "))
	var last []any // the key of the last row deleted; nil before the first batch
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		cond := "(" + s.where + ")"
		bound := append([]any(nil), args...)
		if last != nil {
			cond += " AND " + after
			for i, v := range last {
				bound = append(bound, sql.Named(fmt.Sprintf("lo%d", i), v))
			}
		}
		var done bool
		var n int64
		err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			end := make([]any, len(s.key))
			ptrs := make([]any, len(s.key))
			for i := range end {
				ptrs[i] = &end[i]
			}
			q := fmt.Sprintf(`SELECT %s FROM %s WHERE %s ORDER BY %s LIMIT 1 OFFSET %d`, cols, s.table, cond, cols, db.pruneBatch-1)
			err := tx.QueryRowContext(ctx, q, bound...).Scan(ptrs...)
			del, dargs := cond, bound
			switch {
			case errors.Is(err, sql.ErrNoRows):
				// Fewer than a batch are left: delete them all.
				done = true
			case err != nil:
				return err
			default:
				del += " AND " + upTo
				dargs = append(append([]any(nil), bound...), named("hi", end)...)
				last = end
			}
			res, err := tx.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE %s`, s.table, del), dargs...)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return err
		}
		*s.n += n
		if done {
			return nil
		}
		if db.afterPruneBatch != nil {
			db.afterPruneBatch()
		}
		// Let the requests that are ready to write queue their jobs before
		// the next batch, so they share its commit rather than wait for a
		// string of batches.
		runtime.Gosched()
	}
}

func named(prefix string, vals []any) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = sql.Named(fmt.Sprintf("%s%d", prefix, i), v)
	}
	return out
}
