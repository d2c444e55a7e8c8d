package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/inkpass/inkpass/internal/session"
)

// The admin console's view of who is signed in where: a user's live browser
// sessions, ending one, ending all. The apps a user let in are
// ConnectedApps, and withdrawing one is RevokeClientAccess (consents.go).
// The sessions table keeps no user agent, address or last-seen time, so
// none is listed.

// UserSessions lists the user's live sessions (not expired, not revoked),
// newest first, each with the clients that took part in it.
func (db *DB) UserSessions(ctx context.Context, userID int64) ([]session.Live, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT s.sid, s.auth_time, s.amr, s.created_at, s.expires_at,
			coalesce((SELECT group_concat(client_id, ' ') FROM (SELECT sc.client_id FROM inkpass_session_clients sc
				WHERE sc.sid = s.sid ORDER BY sc.client_id) AS c), '')
		FROM inkpass_sessions s
		WHERE s.user_id = ? AND s.revoked_at IS NULL AND s.expires_at > ?
		ORDER BY s.created_at DESC, s.id DESC`, userID, db.now().Unix())
	if err != nil {
		return nil, fmt.Errorf("list sessions of user %d: %w", userID, err)
	}
	defer rows.Close()
	var out []session.Live
	for rows.Next() {
		var l session.Live
		var auth, created, expires int64
		var amr, clients string
		if err := rows.Scan(&l.SID, &auth, &amr, &created, &expires, &clients); err != nil {
			return nil, fmt.Errorf("list sessions of user %d: %w", userID, err)
		}
		l.UserID = userID
		l.AuthTime, l.CreatedAt, l.ExpiresAt = time.Unix(auth, 0), time.Unix(created, 0), time.Unix(expires, 0)
		l.AMR, l.Clients = strings.Fields(amr), strings.Fields(clients)
		out = append(out, l)
	}
	return out, rows.Err()
}

// EndUserSession ends the user's live session sid as a sign-out does, in
// one transaction: back-channel logouts queued for the clients that took
// part, the session revoked, and the tokens and unredeemed codes issued
// under it revoked. session.ErrNotFound when the user has no live session
// sid (another user's sid included).
func (db *DB) EndUserSession(ctx context.Context, userID int64, sid string) error {
	return db.wakeOutboxAfter(db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		now := db.now().Unix()
		var live bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM inkpass_sessions
			WHERE sid = ? AND user_id = ? AND revoked_at IS NULL AND expires_at > ?)`, sid, userID, now).Scan(&live); err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		if !live {
			return session.ErrNotFound
		}
		if err := queueLogouts(ctx, tx, now, "s.sid = ?", sid); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE inkpass_sessions SET revoked_at = ? WHERE sid = ? AND revoked_at IS NULL`, now, sid); err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE inkpass_tokens SET revoked_at = ? WHERE sid = ? AND revoked_at IS NULL`, now, sid); err != nil {
			return fmt.Errorf("end session: revoke its tokens: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE inkpass_codes SET revoked_at = ? WHERE sid = ? AND used_at IS NULL AND revoked_at IS NULL`, now, sid); err != nil {
			return fmt.Errorf("end session: revoke its codes: %w", err)
		}
		return burnRedeemedCodes(ctx, tx, now, "sid = ?", sid)
	}))
}

// EndUserSessions signs the user out everywhere, in one transaction: every
// session ended (back-channel logouts queued), every token and unredeemed
// code revoked, as a deactivation does, the user staying active. Consents
// stay: signing in again asks no new approval. It returns how many live
// sessions it ended.
func (db *DB) EndUserSessions(ctx context.Context, userID int64) (int, error) {
	var n int
	err := db.wakeOutboxAfter(db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		now := db.now().Unix()
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM inkpass_sessions
			WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?`, userID, now).Scan(&n); err != nil {
			return fmt.Errorf("end sessions of user %d: %w", userID, err)
		}
		return revokeUserGrants(ctx, tx, userID, now)
	}))
	if err != nil {
		return 0, err
	}
	return n, nil
}

// SignedInUsers lists the users who hold a live session, the most recently
// signed-in first, with how many live sessions each holds and when the
// newest began; at most limit of them (0: all).
func (db *DB) SignedInUsers(ctx context.Context, limit int) ([]session.SignedIn, error) {
	q := `SELECT s.user_id, coalesce(u.username, ''), count(*), max(s.created_at)
		FROM inkpass_sessions s LEFT JOIN users u ON u.id = s.user_id
		WHERE s.revoked_at IS NULL AND s.expires_at > ?
		GROUP BY s.user_id, u.username ORDER BY 4 DESC, 1`
	args := []any{db.now().Unix()}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list signed-in users: %w", err)
	}
	defer rows.Close()
	var out []session.SignedIn
	for rows.Next() {
		var s session.SignedIn
		var latest int64
		if err := rows.Scan(&s.UserID, &s.Username, &s.Sessions, &latest); err != nil {
			return nil, fmt.Errorf("list signed-in users: %w", err)
		}
		s.Latest = time.Unix(latest, 0)
		out = append(out, s)
	}
	return out, rows.Err()
}
