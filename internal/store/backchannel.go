package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/inkpass/inkpass/internal/backchannel"
	"github.com/inkpass/inkpass/internal/keys"
)

var _ backchannel.Outbox = (*DB)(nil)

// noteSessionClient records that clientID took part in session sid (a code
// was issued to it there), inside the caller's transaction. A sid that names
// no session (none, or already pruned) records nothing.
func noteSessionClient(ctx context.Context, tx *sql.Tx, sid, clientID string) error {
	if sid == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO inkpass_session_clients (sid, client_id)
		SELECT sid, ? FROM inkpass_sessions WHERE sid = ? ON CONFLICT DO NOTHING`, clientID, sid)
	if err != nil {
		return fmt.Errorf("record session client: %w", err)
	}
	return nil
}

// queueLogouts queues a back-channel logout notice (OpenID Connect
// Back-Channel Logout 1.0) for every enabled client with a
// backchannel_logout_uri that took part in a session that is not yet revoked
// and matches where (over inkpass_sessions s and inkpass_session_clients sc).
// It runs inside the transaction that ends those sessions, before it marks
// them revoked, so that a session ends with its notices queued or not at all,
// and is never announced twice.
//
// The subject is computed here, in SQL, as the session user's id in decimal:
// it must equal oidc.Subject(user, client), the sub of the ID tokens the
// logout token speaks of. Change both together (storetest's Subject case
// checks they agree).
func queueLogouts(ctx context.Context, tx *sql.Tx, now int64, where string, args ...any) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO inkpass_backchannel_outbox (client_id, sid, subject, created_at, next_attempt_at)
		SELECT sc.client_id, s.sid, CAST(s.user_id AS TEXT), ?, ?
		FROM inkpass_sessions s
		JOIN inkpass_session_clients sc ON sc.sid = s.sid
		JOIN inkpass_clients c ON c.id = sc.client_id
		WHERE s.revoked_at IS NULL AND c.enabled = 1 AND c.backchannel_logout_uri != '' AND (`+where+`)`,
		append([]any{now, now}, args...)...)
	if err != nil {
		return fmt.Errorf("queue back-channel logouts: %w", err)
	}
	return nil
}

func (db *DB) outboxChan() chan struct{} {
	db.outboxOnce.Do(func() { db.outboxWake = make(chan struct{}, 1) })
	return db.outboxWake
}

// wakeOutbox tells this process's worker that notices may have been queued;
// it never blocks. Call it after the transaction committed.
func (db *DB) wakeOutbox() {
	select {
	case db.outboxChan() <- struct{}{}:
	default:
	}
}

// wakeOutboxAfter wakes the worker when a transaction that may have queued
// notices committed (err == nil), and returns err.
func (db *DB) wakeOutboxAfter(err error) error {
	if err == nil {
		db.wakeOutbox()
	}
	return err
}

// LogoutNoticeQueued receives after this process queued logout notices.
// Notices queued by another process (the CLI) are not signalled: the worker
// polls for them.
func (db *DB) LogoutNoticeQueued() <-chan struct{} { return db.outboxChan() }

// ClaimLogoutNotices implements backchannel.Outbox. Finding nothing due is
// one read and no write.
func (db *DB) ClaimLogoutNotices(ctx context.Context, limit int, lease time.Duration) ([]backchannel.Notice, error) {
	now := db.now().Unix()
	var due bool
	if err := db.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM inkpass_backchannel_outbox WHERE next_attempt_at <= ?)`, now).Scan(&due); err != nil {
		return nil, fmt.Errorf("claim logout notices: %w", err)
	}
	if !due {
		return nil, nil
	}
	var out []backchannel.Notice
	err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, `SELECT o.id, o.client_id, CASE WHEN c.enabled = 1 THEN c.backchannel_logout_uri ELSE '' END,
			o.sid, o.subject, o.attempts + 1, coalesce(c.id_token_alg, '')
			FROM inkpass_backchannel_outbox o LEFT JOIN inkpass_clients c ON c.id = o.client_id
			WHERE o.next_attempt_at <= ? ORDER BY o.next_attempt_at, o.id LIMIT ?`, now, limit)
		if err != nil {
			return fmt.Errorf("claim logout notices: %w", err)
		}
		defer rows.Close()
		var ids []string
		for rows.Next() {
			var n backchannel.Notice
			var uri sql.NullString
			var alg string
			if err := rows.Scan(&n.ID, &n.ClientID, &uri, &n.SID, &n.Subject, &n.Attempt, &alg); err != nil {
				return fmt.Errorf("claim logout notices: %w", err)
			}
			n.URI, n.Alg = uri.String, keys.Algorithm(alg)
			out = append(out, n)
			ids = append(ids, fmt.Sprint(n.ID))
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("claim logout notices: %w", err)
		}
		rows.Close()
		if len(ids) == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE inkpass_backchannel_outbox SET attempts = attempts + 1, next_attempt_at = ?
			WHERE id IN (`+strings.Join(ids, ", ")+`)`, now+int64(lease/time.Second))
		if err != nil {
			return fmt.Errorf("claim logout notices: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteLogoutNotice implements backchannel.Outbox.
func (db *DB) DeleteLogoutNotice(ctx context.Context, id int64) error {
	if _, err := db.exec(ctx, `DELETE FROM inkpass_backchannel_outbox WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete logout notice: %w", err)
	}
	return nil
}

// RetryLogoutNotice implements backchannel.Outbox.
func (db *DB) RetryLogoutNotice(ctx context.Context, id int64, at time.Time) error {
	if _, err := db.exec(ctx, `UPDATE inkpass_backchannel_outbox SET next_attempt_at = ? WHERE id = ?`, at.Unix(), id); err != nil {
		return fmt.Errorf("reschedule logout notice: %w", err)
	}
	return nil
}
