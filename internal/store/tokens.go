package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/session"
)

// Tokens is the grant store over inkpass_codes and inkpass_tokens: each
// operation is one named atomic step of a grant's life (oidc.GrantStore).
//   - IssueCode stores a code only for a live session and a live client, and
//     records the client's part in the session, in one transaction;
//   - RedeemCode marks a code used only after the caller accepted it (PKCE,
//     client, redirect_uri), so a wrong verifier never burns the code; a
//     used code is reported as *session.ReplayedError, and nothing written;
//   - IssueTokens and RotateRefresh store tokens only while the client is
//     enabled and the grant not burned, checked in the writing transaction:
//     a revocation racing a code exchange leaves no live token;
//   - RotateRefresh retires the old refresh token in the transaction that
//     stores the new pair, so of two concurrent rotations exactly one wins;
//     the loser is answered in the family within the reuse interval
//     (reuseAllowed) and is *session.ReusedError otherwise.
//
// Reads never write: the token endpoint decides to RevokeGrant on a replay
// or a reuse.
type Tokens struct{ db *DB }

// Tokens returns the grant store.
func (db *DB) Tokens() *Tokens { return &Tokens{db: db} }

// userIDArg is a grant's user as the user_id column keeps it: NULL for
// none (client_credentials).
func userIDArg(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// encodeExtension keeps the grant id and sid in the extension too, as rows
// written before the grant core did.
func encodeExtension(g session.Grant) string {
	ext := url.Values{}
	for k, v := range g.Extension {
		ext[k] = v
	}
	ext.Set(session.ExtGrantID, g.ID)
	if g.SID != "" {
		ext.Set(session.ExtSID, g.SID)
	}
	return ext.Encode()
}

// IssueCode stores code for cg, live for ttl on the store's clock. It fails
// with session.ErrClientGone when the client is removed or disabled, and
// with session.ErrNotFound when cg's session is no longer live.
func (ts *Tokens) IssueCode(ctx context.Context, code string, cg session.CodeGrant, ttl time.Duration) error {
	if cg.ID == "" {
		return errors.New("store code: no grant id")
	}
	h := session.Hash(code)
	ext := encodeExtension(cg.Grant)
	return ts.db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// The store's clock stamps what it stores: expiry is checked
		// against the same clock.
		created := ts.db.now()
		res, err := tx.ExecContext(ctx, `INSERT INTO inkpass_codes (grant_id, client_id, code_hash, user_id, sid, redirect_uri, scope,
			code_challenge, code_challenge_method, extension, access_ttl, created_at, expires_at)
			SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13 WHERE `+clientLive+``,
			cg.ID, cg.ClientID, h, userIDArg(cg.UserID), cg.SID, cg.RedirectURI, cg.Scope,
			cg.Challenge, cg.ChallengeMethod, ext, int64(cg.AccessTTL/time.Second),
			created.Unix(), expiry(created, ttl))
		if err != nil {
			return fmt.Errorf("store code: %w", err)
		}
		if err := mustAffect(res, session.ErrClientGone); err != nil {
			return err
		}
		// The session was live when /authorize loaded it; a logout, password
		// change or deactivation since has ended it and found no code to
		// revoke. Checked here, in the transaction that stores the code, so
		// no code outlives its session.
		if cg.SID != "" {
			var live bool
			err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM inkpass_sessions WHERE sid = ? AND revoked_at IS NULL AND expires_at > ?)`,
				cg.SID, created.Unix()).Scan(&live)
			if err != nil {
				return fmt.Errorf("store code: check session: %w", err)
			}
			if !live {
				return fmt.Errorf("store code: %w", session.ErrNotFound)
			}
		}
		return noteSessionClient(ctx, tx, cg.SID, cg.ClientID)
	})
}

// RedeemCode marks a live code used and returns it, if accept, given the
// code, returns nil; accept's error is returned as is and the code stays
// unused (accept must only look: it may run more than once). A code that is
// unknown, expired or revoked is session.ErrGrantInvalid; one used already
// is a *session.ReplayedError, and nothing is written: the caller revokes.
// Of two concurrent redemptions exactly one succeeds.
func (ts *Tokens) RedeemCode(ctx context.Context, code string, accept func(*session.CodeGrant) error) (*session.CodeGrant, error) {
	h := session.Hash(code)
	var out *session.CodeGrant
	err := ts.db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		out = nil
		var (
			cg                          session.CodeGrant
			ext                         string
			accessTTL, created, expires int64
			used, revoked               sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, `SELECT grant_id, client_id, user_id, sid, redirect_uri, scope, code_challenge,
			code_challenge_method, extension, access_ttl, created_at, expires_at, used_at, revoked_at FROM inkpass_codes WHERE code_hash = ?`, h).
			Scan(&cg.ID, &cg.ClientID, &cg.UserID, &cg.SID, &cg.RedirectURI, &cg.Scope, &cg.Challenge, &cg.ChallengeMethod, &ext,
				&accessTTL, &created, &expires, &used, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return session.ErrGrantInvalid
		}
		if err != nil {
			return fmt.Errorf("redeem code: %w", err)
		}
		now := ts.db.now().Unix()
		switch {
		case used.Valid:
			return &session.ReplayedError{GrantID: cg.ID}
		case revoked.Valid || now >= expires:
			// A revoked code (logout, app revoked, deactivation, client
			// removed) is just dead: presenting it is no attack.
			return session.ErrGrantInvalid
		}
		cg.AccessTTL = time.Duration(accessTTL) * time.Second
		cg.ExpiresAt = time.Unix(expires, 0)
		cg.Extension, _ = url.ParseQuery(ext)
		if err := accept(&cg); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE inkpass_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL AND revoked_at IS NULL`, now, h)
		if err != nil {
			return fmt.Errorf("redeem code: %w", err)
		}
		if err := mustAffect(res, session.ErrGrantInvalid); err != nil {
			return err
		}
		out = &cg
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// IssueTokens stores the first tokens of grant g (a code exchange) or of a
// client_credentials grant. It fails with session.ErrClientGone when the
// client is removed or disabled and with session.ErrGrantInvalid when the
// grant was burned (a replay, or a revocation that raced the exchange and
// burned the grant of a code redeemed moments before: burnRedeemedCodes).
func (ts *Tokens) IssueTokens(ctx context.Context, g session.Grant, t session.IssuedTokens) error {
	if g.ID == "" {
		return errors.New("store token: no grant id")
	}
	ext := encodeExtension(g)
	return ts.db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return insertTokens(ctx, tx, ts.db.now().Unix(), g, ext, t, time.Time{}, time.Time{})
	})
}

// insertTokens stores one issuance, if the client is live and the grant not
// burned. A refresh token gets refreshStart and refreshExpires (those of its
// family) or, when they are zero, starts now for t.RefreshTTL.
func insertTokens(ctx context.Context, tx *sql.Tx, now int64, g session.Grant, ext string, t session.IssuedTokens, refreshStart, refreshExpires time.Time) error {
	var refreshHash, refreshCreated, refreshExp any
	if t.Refresh != "" {
		refreshHash = session.Hash(t.Refresh)
		if refreshStart.IsZero() {
			refreshStart = time.Unix(now, 0)
			refreshExpires = refreshStart.Add(t.RefreshTTL)
		}
		refreshCreated, refreshExp = refreshStart.Unix(), refreshExpires.Unix()
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO inkpass_tokens (grant_id, client_id, user_id, sid, scope, redirect_uri, extension,
		access_hash, access_created_at, access_expires_at, refresh_hash, refresh_created_at, refresh_expires_at)
		SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13 WHERE `+clientLive+`
		AND NOT EXISTS (SELECT 1 FROM inkpass_revoked_grants WHERE grant_id = ?1)`,
		g.ID, g.ClientID, userIDArg(g.UserID), g.SID, t.Scope, g.RedirectURI, ext,
		session.Hash(t.Access), now, expiry(time.Unix(now, 0), t.AccessTTL),
		refreshHash, refreshCreated, refreshExp)
	if err != nil {
		return fmt.Errorf("store token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	// Nothing stored: say why.
	var burned bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM inkpass_revoked_grants WHERE grant_id = ?)`, g.ID).Scan(&burned); err != nil {
		return fmt.Errorf("store token: %w", err)
	}
	if burned {
		return session.ErrGrantInvalid
	}
	return session.ErrClientGone
}

// RotateRefresh retires old's refresh token and stores t in its family, in
// one transaction. The family keeps its first refresh token's expiry:
// rotation does not extend a grant forever. The access token the old refresh
// token was issued with retires too. When old was retired meanwhile (a
// concurrent refresh of the same token won, or old was loaded retired within
// the reuse interval) reuseAllowed decides: answered in the family, or a
// *session.ReusedError with nothing written, for the caller to revoke.
// A burned grant is session.ErrGrantInvalid, a client removed or disabled
// session.ErrClientGone; either way the old token stays as it was.
func (ts *Tokens) RotateRefresh(ctx context.Context, old *session.RefreshGrant, t session.IssuedTokens) error {
	ext := encodeExtension(old.Grant)
	return ts.db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		now := ts.db.now().Unix()
		// The burned-grant check is part of the update, so a rotation that
		// succeeds costs one statement before its insert.
		res, err := tx.ExecContext(ctx, `UPDATE inkpass_tokens SET refresh_rotated_at = ?1, access_revoked_at = COALESCE(access_revoked_at, ?1)
			WHERE id = ?2 AND refresh_rotated_at IS NULL AND revoked_at IS NULL
			AND NOT EXISTS (SELECT 1 FROM inkpass_revoked_grants WHERE grant_id = ?3)`, now, old.Row, old.ID)
		if err != nil {
			return fmt.Errorf("rotate refresh token: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var burned bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM inkpass_revoked_grants WHERE grant_id = ?)`, old.ID).Scan(&burned); err != nil {
				return fmt.Errorf("rotate refresh token: %w", err)
			}
			if burned {
				return session.ErrGrantInvalid
			}
			// Retired already: by a concurrent refresh of the same token
			// (we lost the race) or before it was loaded. Within the reuse
			// interval that is a relying party's parallel refresh, answered
			// in the same family; otherwise it is reuse. This transaction is
			// the one place that decides, so two refreshes cannot both see
			// the token live, and a grace is never given after the interval.
			allowed, err := reuseAllowed(ctx, tx, old, now)
			if err != nil {
				return err
			}
			if !allowed {
				return &session.ReusedError{GrantID: old.ID}
			}
		}
		// A failure here rolls the rotation above back too: the old refresh
		// token stays as it was, dead with its client.
		return insertTokens(ctx, tx, now, old.Grant, ext, t, old.RefreshCreated, old.RefreshExpires)
	})
}

// reuseAllowed decides, in the rotating transaction, whether the retired
// refresh token old may still be answered, and records it when so. It may
// when old was loaded with a reuse interval and, on its row as it is now:
//   - it was retired (rotated) at most the interval ago, counted from its
//     first rotation: a reuse it allowed does not extend the window, so the
//     old token is dead once the interval has passed;
//   - the client presenting it is the client it was issued to;
//   - it is not revoked and its family has not expired;
//   - no later refresh token of the grant has been retired: once a successor
//     was used, whoever still holds the old token is not a request that
//     raced the first (Auth0 allows only the previous token, too).
//
// The new pair joins the family; the successor issued first stays valid,
// and each successor rotates on its own, so using one never retires the
// other. Reuse of any retired token outside these rules revokes them all.
// The audit record names the client, the user and the grant, never a token.
func reuseAllowed(ctx context.Context, tx *sql.Tx, old *session.RefreshGrant, now int64) (bool, error) {
	if old.Reuse <= 0 || old.Presenter == "" {
		return false, nil
	}
	var rotated int64
	err := tx.QueryRowContext(ctx, `SELECT t.refresh_rotated_at FROM inkpass_tokens t
		WHERE t.id = ?1 AND t.client_id = ?2 AND t.revoked_at IS NULL
		AND t.refresh_rotated_at IS NOT NULL AND t.refresh_rotated_at >= ?4
		AND t.refresh_expires_at > ?3
		AND NOT EXISTS (SELECT 1 FROM inkpass_tokens n WHERE n.grant_id = t.grant_id AND n.id > t.id AND n.refresh_rotated_at IS NOT NULL)`,
		old.Row, old.Presenter, now, now-reuseWindow(old.Reuse)).Scan(&rotated)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check refresh token reuse: %w", err)
	}
	err = recordAudit(ctx, tx, audit.Event{At: time.Unix(now, 0), Kind: audit.RefreshReuseAllowed, UserID: old.UserID, ClientID: old.Presenter,
		Detail: fmt.Sprintf("grant %s: refresh token presented again %d s after its rotation, within the reuse interval", old.ID, now-rotated)})
	if err != nil {
		return false, fmt.Errorf("audit refresh token reuse: %w", err)
	}
	return true, nil
}

// reuseWindow is the reuse interval in the store's whole seconds, rounded
// up: a retired token is answered while now - retired <= reuseWindow, and so
// for at least the interval after its rotation and less than a second more.
func reuseWindow(reuse time.Duration) int64 {
	return int64((reuse + time.Second - 1) / time.Second)
}

// clientLive is true when the client ?2 exists and is enabled. The client
// cache has already said so; this is the check that cannot race with a
// removal, because it runs in the transaction that stores the token.
const clientLive = `EXISTS (SELECT 1 FROM inkpass_clients WHERE id = ?2 AND enabled = 1)`

// expiry is a unix time; 0 would mean "never", which inkpass never issues.
func expiry(created time.Time, ttl time.Duration) int64 {
	return created.Add(ttl).Unix()
}

// commitThen lets a transaction commit its writes (a revocation) and still
// report an error to the caller.
type commitThen struct{ err error }

func (c commitThen) Error() string { return c.err.Error() }
func (c commitThen) Unwrap() error { return c.err }

func errCommitThen(err error) error { return commitThen{err} }

// RevokeGrant revokes every token of a grant and burns the grant id, so a
// token still being minted for it cannot be stored afterwards.
func (ts *Tokens) RevokeGrant(ctx context.Context, grantID, reason string) error {
	return ts.db.RevokeGrant(ctx, grantID, reason)
}

// tokenClientLive, selected from inkpass_tokens, is whether the token's
// client still exists and is enabled: a token of a removed or disabled
// client is dead whatever its row says.
const tokenClientLive = `EXISTS (SELECT 1 FROM inkpass_clients c WHERE c.id = inkpass_tokens.client_id AND c.enabled = 1)`

const tokenColumns = `id, grant_id, client_id, user_id, sid, scope, redirect_uri, extension, access_expires_at,
	refresh_created_at, refresh_expires_at, access_revoked_at, refresh_rotated_at, revoked_at, ` + tokenClientLive

type tokenRow struct {
	id                                     int64
	g                                      session.Grant
	accessRevoked, refreshRotated, revoked sql.NullInt64
	accessExpires                          int64
	refreshCreated, refreshExpires         sql.NullInt64
	clientLive                             bool
}

func scanToken(r rowScanner) (*tokenRow, error) {
	row := &tokenRow{}
	var ext string
	var userID sql.NullInt64
	if err := r.Scan(&row.id, &row.g.ID, &row.g.ClientID, &userID, &row.g.SID, &row.g.Scope, &row.g.RedirectURI, &ext, &row.accessExpires,
		&row.refreshCreated, &row.refreshExpires, &row.accessRevoked, &row.refreshRotated, &row.revoked, &row.clientLive); err != nil {
		return nil, err
	}
	row.g.UserID = userID.Int64
	row.g.Extension, _ = url.ParseQuery(ext)
	return row, nil
}

// AccessGrant returns the grant of a live access token (not expired, not
// revoked, its client still enabled) or session.ErrGrantInvalid. It does not
// look at the user: the caller checks that the user is still active, since
// the studio's app may deactivate a user without revoking anything.
func (ts *Tokens) AccessGrant(ctx context.Context, access string) (*session.AccessGrant, error) {
	row, err := scanToken(ts.db.read.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM inkpass_tokens WHERE access_hash = ?`, session.Hash(access)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, session.ErrGrantInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("get access token: %w", err)
	}
	if !row.clientLive || row.revoked.Valid || row.accessRevoked.Valid || ts.db.now().Unix() >= row.accessExpires {
		return nil, session.ErrGrantInvalid
	}
	return &session.AccessGrant{Grant: row.g, ExpiresAt: time.Unix(row.accessExpires, 0)}, nil
}

// RefreshGrant finds a refresh token presented by clientID, for a refresh
// with reuse interval reuse. It only reads. A live token is returned; a
// token of a removed or disabled client, revoked, or expired is
// session.ErrGrantInvalid. A retired (rotated) one is *session.ReusedError
// (RFC 9700 §4.14.2) unless it is presented by its own client within the
// interval (reuseWindow): then it is returned with Retired set, and
// RotateRefresh decides (reuseAllowed). A live token of another client is
// returned too: the caller refuses it.
func (ts *Tokens) RefreshGrant(ctx context.Context, refresh, clientID string, reuse time.Duration) (*session.RefreshGrant, error) {
	row, err := scanToken(ts.db.read.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM inkpass_tokens WHERE refresh_hash = ?`, session.Hash(refresh)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, session.ErrGrantInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("get refresh token: %w", err)
	}
	if !row.clientLive {
		return nil, session.ErrGrantInvalid
	}
	now := ts.db.now().Unix()
	retired := row.refreshRotated.Valid && !row.revoked.Valid
	if retired {
		// The window check here only spares a token that may still be
		// answered; reuseAllowed has the last word.
		if reuse <= 0 || clientID == "" || clientID != row.g.ClientID || now-row.refreshRotated.Int64 > reuseWindow(reuse) {
			return nil, &session.ReusedError{GrantID: row.g.ID}
		}
	} else if row.revoked.Valid {
		return nil, session.ErrGrantInvalid
	}
	if now >= row.refreshExpires.Int64 {
		return nil, session.ErrGrantInvalid
	}
	return &session.RefreshGrant{Grant: row.g, Row: row.id, Retired: retired,
		RefreshCreated: time.Unix(row.refreshCreated.Int64, 0), RefreshExpires: time.Unix(row.refreshExpires.Int64, 0),
		Presenter: clientID, Reuse: reuse}, nil
}
