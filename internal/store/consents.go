package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/inkpass/inkpass/internal/session"
)

// ConsentScopes returns the scopes a user has approved for a client (nil when
// none).
func (db *DB) ConsentScopes(ctx context.Context, userID int64, clientID string) ([]string, error) {
	var scope string
	err := db.read.QueryRowContext(ctx, `SELECT scope FROM inkpass_consents WHERE user_id = ? AND client_id = ?`, userID, clientID).Scan(&scope)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get consent: %w", err)
	}
	return strings.Fields(scope), nil
}

// GrantConsent remembers that the user approved scopes for the client, added
// to what they approved before.
func (db *DB) GrantConsent(ctx context.Context, userID int64, clientID string, scopes []string) error {
	return db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var prev string
		err := tx.QueryRowContext(ctx, `SELECT scope FROM inkpass_consents WHERE user_id = ? AND client_id = ?`, userID, clientID).Scan(&prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("grant consent: %w", err)
		}
		all := strings.Fields(prev)
		for _, s := range scopes {
			if !slices.Contains(all, s) {
				all = append(all, s)
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO inkpass_consents (user_id, client_id, scope, granted_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at`,
			userID, clientID, strings.Join(all, " "), db.now().Unix())
		if err != nil {
			return fmt.Errorf("grant consent: %w", err)
		}
		return nil
	})
}

// RevokeClientAccess withdraws a user's consent for a client and revokes every
// token the client holds for them, in one transaction, which also queues a
// back-channel logout of the user's sessions at that client (the sessions
// themselves go on, for the other clients).
func (db *DB) RevokeClientAccess(ctx context.Context, userID int64, clientID string) error {
	err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		now := db.now().Unix()
		if err := queueLogouts(ctx, tx, now, "s.user_id = ? AND sc.client_id = ?", userID, clientID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM inkpass_session_clients WHERE client_id = ?
			AND sid IN (SELECT sid FROM inkpass_sessions WHERE user_id = ?)`, clientID, userID); err != nil {
			return fmt.Errorf("revoke client access: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM inkpass_consents WHERE user_id = ? AND client_id = ?`, userID, clientID); err != nil {
			return fmt.Errorf("revoke consent: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE inkpass_tokens SET revoked_at = ? WHERE user_id = ? AND client_id = ? AND revoked_at IS NULL`,
			now, userID, clientID); err != nil {
			return fmt.Errorf("revoke client tokens: %w", err)
		}
		// A code issued just before must not turn into tokens afterwards.
		if _, err := tx.ExecContext(ctx, `UPDATE inkpass_codes SET revoked_at = ? WHERE user_id = ? AND client_id = ? AND used_at IS NULL AND revoked_at IS NULL`,
			now, userID, clientID); err != nil {
			return fmt.Errorf("revoke client codes: %w", err)
		}
		return burnRedeemedCodes(ctx, tx, now, "user_id = ? AND client_id = ?", userID, clientID)
	})
	if err != nil {
		return err
	}
	db.wakeOutbox()
	return nil
}

// ConnectedApps lists the clients that hold the user's consent or a live
// refresh token, by client name.
func (db *DB) ConnectedApps(ctx context.Context, userID int64) ([]session.App, error) {
	now := db.now().Unix()
	rows, err := db.read.QueryContext(ctx, `
		WITH apps(client_id, scope) AS (
			SELECT client_id, scope FROM inkpass_consents WHERE user_id = ?1
			UNION ALL
			SELECT client_id, scope FROM inkpass_tokens
			WHERE user_id = ?1 AND refresh_hash IS NOT NULL AND revoked_at IS NULL
			  AND refresh_rotated_at IS NULL AND refresh_expires_at > ?2
		)
		SELECT a.client_id, COALESCE(c.name, a.client_id), group_concat(a.scope, ' ')
		FROM apps a LEFT JOIN inkpass_clients c ON c.id = a.client_id
		GROUP BY a.client_id, c.name ORDER BY 2`, userID, now)
	if err != nil {
		return nil, fmt.Errorf("list connected apps: %w", err)
	}
	defer rows.Close()
	var out []session.App
	for rows.Next() {
		var a session.App
		var scopes string
		if err := rows.Scan(&a.ClientID, &a.ClientName, &scopes); err != nil {
			return nil, fmt.Errorf("list connected apps: %w", err)
		}
		var uniq []string
		for _, s := range strings.Fields(scopes) {
			if !slices.Contains(uniq, s) {
				uniq = append(uniq, s)
			}
		}
		a.Scope = strings.Join(uniq, " ")
		out = append(out, a)
	}
	return out, rows.Err()
}

// TokenRecord finds an access or refresh token by its value. hint
// ("access_token" or "refresh_token") only decides which is tried first
// (RFC 7009 §2.1). It returns nil when the token is unknown; a token whose
// client was removed or disabled is not Active.
func (db *DB) TokenRecord(ctx context.Context, token, hint string) (*session.TokenRecord, error) {
	h := session.Hash(token)
	order := []string{"access_token", "refresh_token"}
	if hint == "refresh_token" {
		order = []string{"refresh_token", "access_token"}
	}
	now := db.now().Unix()
	for _, kind := range order {
		q := `SELECT grant_id, client_id, COALESCE(CAST(user_id AS TEXT), ''), sid, scope, access_created_at, access_expires_at,
			access_revoked_at IS NULL AND revoked_at IS NULL AND ` + tokenClientLive + ` FROM inkpass_tokens WHERE access_hash = ?`
		if kind == "refresh_token" {
			q = `SELECT grant_id, client_id, COALESCE(CAST(user_id AS TEXT), ''), sid, scope, refresh_created_at, refresh_expires_at,
				refresh_rotated_at IS NULL AND revoked_at IS NULL AND ` + tokenClientLive + ` FROM inkpass_tokens WHERE refresh_hash = ?`
		}
		var r session.TokenRecord
		var iat, exp int64
		var live bool
		err := db.read.QueryRowContext(ctx, q, h).Scan(&r.GrantID, &r.ClientID, &r.UserID, &r.SID, &r.Scope, &iat, &exp, &live)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("find token: %w", err)
		}
		r.Kind, r.IssuedAt, r.ExpiresAt = kind, time.Unix(iat, 0), time.Unix(exp, 0)
		r.Active = live && now < exp
		return &r, nil
	}
	return nil, nil
}

// RevokeAccessToken revokes one access token by value.
func (db *DB) RevokeAccessToken(ctx context.Context, token string) error {
	_, err := db.exec(ctx, `UPDATE inkpass_tokens SET access_revoked_at = ? WHERE access_hash = ? AND access_revoked_at IS NULL`,
		db.now().Unix(), session.Hash(token))
	if err != nil {
		return fmt.Errorf("revoke access token: %w", err)
	}
	return nil
}

// RevokeGrant revokes every token of a grant (a refresh token's family).
func (db *DB) RevokeGrant(ctx context.Context, grantID, reason string) error {
	return db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return revokeGrant(ctx, tx, grantID, db.now().Unix(), reason)
	})
}

// RevokeSessionTokens revokes the tokens and unredeemed codes issued under a
// browser session (RP-initiated logout ends them with the session).
func (db *DB) RevokeSessionTokens(ctx context.Context, sid string) error {
	if sid == "" {
		return nil
	}
	return db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		now := db.now().Unix()
		if _, err := tx.ExecContext(ctx, `UPDATE inkpass_tokens SET revoked_at = ? WHERE sid = ? AND revoked_at IS NULL`, now, sid); err != nil {
			return fmt.Errorf("revoke session tokens: %w", err)
		}
		// Codes issued under the session but not yet redeemed die with it.
		if _, err := tx.ExecContext(ctx, `UPDATE inkpass_codes SET revoked_at = ? WHERE sid = ? AND used_at IS NULL AND revoked_at IS NULL`, now, sid); err != nil {
			return fmt.Errorf("revoke session codes: %w", err)
		}
		return burnRedeemedCodes(ctx, tx, now, "sid = ?", sid)
	})
}
