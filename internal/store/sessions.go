package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/inkpass/inkpass/internal/session"
)

// CreateSession stores a session under the hash of its cookie token. Its
// authentication methods are stored space-separated (RFC 8176 values hold no
// spaces; one that does is refused). A session that names none is stored so
// and read back with none; the provider never starts one like that.
func (db *DB) CreateSession(ctx context.Context, tokenHash []byte, s session.Session) error {
	amr, err := encodeAMR(s.AMR)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO inkpass_sessions (token_hash, sid, user_id, auth_time, amr, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, tokenHash, s.SID, s.UserID, s.AuthTime.Unix(), amr, s.CreatedAt.Unix(), s.ExpiresAt.Unix())
		if err != nil {
			return fmt.Errorf("create session: %w", err)
		}
		return nil
	})
}

// SessionByTokenHash returns the live session (not expired, not revoked, user
// still active) or session.ErrNotFound. A live session of a user who is no
// longer active is a *session.InactiveUserError (which matches ErrNotFound):
// the caller may then RevokeInactiveUser; this read changes nothing.
func (db *DB) SessionByTokenHash(ctx context.Context, tokenHash []byte) (*session.Session, error) {
	var s session.Session
	var auth, created, expires int64
	var amr string
	var active bool
	err := db.read.QueryRowContext(ctx, `SELECT s.sid, s.user_id, s.auth_time, s.amr, s.created_at, s.expires_at, `+activeSQL("u")+`
		FROM inkpass_sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > ?`,
		tokenHash, db.now().Unix()).Scan(&s.SID, &s.UserID, &auth, &amr, &created, &expires, &active)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, session.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get session: %w", err)
	}
	if !active {
		return nil, &session.InactiveUserError{UserID: s.UserID}
	}
	s.AuthTime, s.CreatedAt, s.ExpiresAt = time.Unix(auth, 0), time.Unix(created, 0), time.Unix(expires, 0)
	s.AMR = strings.Fields(amr)
	return &s, nil
}

// encodeAMR is a session's authentication methods as stored.
func encodeAMR(amr []string) (string, error) {
	for _, m := range amr {
		if m == "" || strings.ContainsFunc(m, unicode.IsSpace) {
			return "", fmt.Errorf("authentication method %q is not an RFC 8176 value", m)
		}
	}
	return strings.Join(amr, " "), nil
}

// RevokeSession ends the session with that cookie hash and, in the same
// transaction, queues a back-channel logout for each client that took part in
// it. Revoking an unknown session is not an error: signing out twice is fine
// (and queues nothing the second time).
func (db *DB) RevokeSession(ctx context.Context, tokenHash []byte) error {
	err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		now := db.now().Unix()
		if err := queueLogouts(ctx, tx, now, "s.token_hash = ?", tokenHash); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE inkpass_sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL`, now, tokenHash); err != nil {
			return fmt.Errorf("revoke session: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	db.wakeOutbox()
	return nil
}

// SaveAuthRequest keeps a pending authorization request until expires, with
// the sid of the session that satisfied its login step ("" when none has
// yet). The browser keeps at most keep pending requests: older ones beyond
// that are forgotten, so one browser cannot fill the table.
func (db *DB) SaveAuthRequest(ctx context.Context, idHash, browserHash []byte, data []byte, loginSID string, expires time.Time, keep int) error {
	return db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// Forget abandoned requests as new ones arrive, so the table stays small.
		if _, err := tx.ExecContext(ctx, `DELETE FROM inkpass_auth_requests WHERE expires_at <= ?`, db.now().Unix()); err != nil {
			return fmt.Errorf("save auth request: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO inkpass_auth_requests (id_hash, browser_hash, data, login_sid, expires_at) VALUES (?, ?, ?, ?, ?)`,
			idHash, browserHash, string(data), sql.NullString{String: loginSID, Valid: loginSID != ""}, expires.Unix())
		if err != nil {
			return fmt.Errorf("save auth request: %w", err)
		}
		// rowid grows with each insert, so it orders the browser's requests
		// by age even within one second.
		_, err = tx.ExecContext(ctx, `DELETE FROM inkpass_auth_requests WHERE browser_hash = ? AND rowid NOT IN
			(SELECT rowid FROM inkpass_auth_requests WHERE browser_hash = ? ORDER BY rowid DESC LIMIT ?)`,
			browserHash, browserHash, keep)
		if err != nil {
			return fmt.Errorf("save auth request: drop the browser's oldest: %w", err)
		}
		return nil
	})
}

// AuthRequest returns a pending request's data, and the sid of the session
// that satisfied its login step ("" when none has), if it is live and was
// made by the same browser.
func (db *DB) AuthRequest(ctx context.Context, idHash, browserHash []byte) ([]byte, string, error) {
	var data string
	var loginSID sql.NullString
	err := db.read.QueryRowContext(ctx, `SELECT data, login_sid FROM inkpass_auth_requests WHERE id_hash = ? AND browser_hash = ? AND expires_at > ?`,
		idHash, browserHash, db.now().Unix()).Scan(&data, &loginSID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", session.ErrAuthRequestNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("get auth request: %w", err)
	}
	return []byte(data), loginSID.String, nil
}

// SetAuthRequestLogin records that the session sid satisfied the login step of
// this browser's live pending request.
func (db *DB) SetAuthRequestLogin(ctx context.Context, idHash, browserHash []byte, sid string) error {
	n, err := db.exec(ctx, `UPDATE inkpass_auth_requests SET login_sid = ? WHERE id_hash = ? AND browser_hash = ? AND expires_at > ?`,
		sid, idHash, browserHash, db.now().Unix())
	if err != nil {
		return fmt.Errorf("record auth request login: %w", err)
	}
	if n == 0 {
		return session.ErrAuthRequestNotFound
	}
	return nil
}

// DeleteAuthRequest ends a pending request once answered; a request is
// answered once.
func (db *DB) DeleteAuthRequest(ctx context.Context, idHash []byte) error {
	n, err := db.exec(ctx, `DELETE FROM inkpass_auth_requests WHERE id_hash = ?`, idHash)
	if err != nil {
		return fmt.Errorf("delete auth request: %w", err)
	}
	if n == 0 {
		return session.ErrAuthRequestNotFound
	}
	return nil
}
