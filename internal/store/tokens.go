package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/models"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/session"
)

// Tokens implements go-oauth2's TokenStore over inkpass_codes and
// inkpass_tokens, with the atomicity the library does not ask for:
//   - Create stores a code or token only if its client still exists and is
//     enabled, checked in the same transaction: a client removed or disabled
//     while a request was in flight never gets a live token;
//   - RemoveByCode fails when the code was already used, and a used code found
//     again by GetByCode revokes everything its first exchange issued;
//   - Create, given a token that GetByRefresh loaded, retires that refresh
//     token in the same transaction and fails if it was already retired, so two
//     concurrent refreshes cannot both succeed; GetByRefresh of a retired
//     refresh token revokes the whole grant (RFC 9700 §4.14.2);
//   - GetByRefreshFor relaxes that for a reuse interval: the family's latest
//     retired refresh token, presented again by its own client within the
//     interval, gets a new token of the same family (see reuseAllowed).
type Tokens struct{ db *DB }

var _ oauth2.TokenStore = (*Tokens)(nil)

// Tokens returns the token store.
func (db *DB) Tokens() *Tokens { return &Tokens{db: db} }

// loadedToken is a token read back from the store: the library's model plus
// the row it came from, so that a refresh can retire exactly that row.
type loadedToken struct {
	*models.Token
	rowID int64
	// loadedRefresh is the refresh token it was loaded by: when a refresh
	// makes no new one (the client narrowed the scope and dropped
	// offline_access), the library leaves this value in place and it must not
	// be stored again.
	loadedRefresh string
	// reuse and presenter are GetByRefreshFor's interval and client: with
	// them, Create may answer a refresh token that was retired meanwhile
	// instead of revoking its grant.
	reuse     time.Duration
	presenter string
}

// New implements oauth2.TokenInfo.
func (t *loadedToken) New() oauth2.TokenInfo { return models.NewToken() }

func extensionOf(ti oauth2.TokenInfo) url.Values {
	if e, ok := ti.(oauth2.ExtendableTokenInfo); ok && e.GetExtension() != nil {
		return e.GetExtension()
	}
	return url.Values{}
}

// Create stores a code, or a new access (and refresh) token. A code issued
// in a session (its extension's sid) that is no longer live is refused with
// session.ErrNotFound.
func (ts *Tokens) Create(ctx context.Context, ti oauth2.TokenInfo) error {
	ext := extensionOf(ti)
	grantID := ext.Get(session.ExtGrantID)
	if grantID == "" {
		return errors.New("store token: no grant id")
	}
	if code := ti.GetCode(); code != "" && ti.GetAccess() == "" {
		return ts.createCode(ctx, ti, ext, grantID)
	}
	return ts.db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		now := ts.db.now().Unix()
		burned := func() error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM inkpass_revoked_grants WHERE grant_id = ?`, grantID).Scan(&n); err != nil {
				return fmt.Errorf("store token: %w", err)
			}
			if n > 0 {
				return oerrors.ErrInvalidGrant
			}
			return nil
		}
		if lt, ok := ti.(*loadedToken); ok && lt.rowID != 0 {
			// A rotation. The access token it was issued with retires too:
			// the library's RemoveByAccess cannot find it, as a refresh
			// token load carries no access token value. The burned-grant
			// check is part of the update, so a rotation that succeeds
			// costs one statement before its insert.
			res, err := tx.ExecContext(ctx, `UPDATE inkpass_tokens SET refresh_rotated_at = ?1, access_revoked_at = COALESCE(access_revoked_at, ?1)
				WHERE id = ?2 AND refresh_rotated_at IS NULL AND revoked_at IS NULL
				AND NOT EXISTS (SELECT 1 FROM inkpass_revoked_grants WHERE grant_id = ?3)`, now, lt.rowID, grantID)
			if err != nil {
				return fmt.Errorf("rotate refresh token: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				if err := burned(); err != nil {
					return err
				}
				// Retired already: by a concurrent refresh of the same token
				// (we lost the race) or before it was loaded. Within the
				// reuse interval that is a relying party's parallel refresh,
				// answered in the same family; otherwise it is reuse, and
				// reuse burns the grant. This transaction is the one place
				// that decides, so two refreshes cannot both see the token
				// live, and a grace is never given after the interval.
				allowed, err := reuseAllowed(ctx, tx, lt, grantID, now)
				if err != nil {
					return err
				}
				if !allowed {
					if err := revokeGrant(ctx, tx, grantID, now, reasonRefreshReused); err != nil {
						return err
					}
					return errCommitThen(oerrors.ErrInvalidRefreshToken)
				}
			}
		} else if ti.GetUserID() != "" {
			// A code exchange: the code may have been replayed (and its
			// grant burned) since it was loaded. A client_credentials grant
			// is born here, so nothing can have burned it yet.
			if err := burned(); err != nil {
				return err
			}
		}
		var refreshHash any
		var refreshCreated, refreshExpires any
		r := ti.GetRefresh()
		lt, loaded := ti.(*loadedToken)
		if loaded && r == lt.loadedRefresh {
			r = ""
		}
		if r != "" {
			refreshHash = session.Hash(r)
			// A rotated refresh token keeps its family's start and expiry;
			// a new one starts now on the store's clock.
			start := time.Unix(now, 0)
			if loaded {
				start = ti.GetRefreshCreateAt()
			}
			refreshCreated = start.Unix()
			refreshExpires = expiry(start, ti.GetRefreshExpiresIn())
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO inkpass_tokens (grant_id, client_id, user_id, sid, scope, redirect_uri, extension,
			access_hash, access_created_at, access_expires_at, refresh_hash, refresh_created_at, refresh_expires_at)
			SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13 WHERE `+clientLive+``,
			grantID, ti.GetClientID(), ti.GetUserID(), ext.Get(session.ExtSID), ti.GetScope(), ti.GetRedirectURI(), ext.Encode(),
			session.Hash(ti.GetAccess()), now, expiry(time.Unix(now, 0), ti.GetAccessExpiresIn()),
			refreshHash, refreshCreated, refreshExpires)
		if err != nil {
			return fmt.Errorf("store token: %w", err)
		}
		// Rolls the rotation above back too: the old refresh token stays
		// as it was, dead with its client.
		return mustAffect(res, oerrors.ErrInvalidClient)
	})
}

// reuseAllowed decides, in the rotating transaction, whether the retired
// refresh token lt may still be answered, and records it when so. It may when
// lt was loaded by GetByRefreshFor with a reuse interval and, on its row as it
// is now:
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
func reuseAllowed(ctx context.Context, tx *sql.Tx, lt *loadedToken, grantID string, now int64) (bool, error) {
	if lt.reuse <= 0 || lt.presenter == "" {
		return false, nil
	}
	var rotated int64
	err := tx.QueryRowContext(ctx, `SELECT t.refresh_rotated_at FROM inkpass_tokens t
		WHERE t.id = ?1 AND t.client_id = ?2 AND t.revoked_at IS NULL
		AND t.refresh_rotated_at IS NOT NULL AND t.refresh_rotated_at >= ?3 - ?4
		AND t.refresh_expires_at > ?3
		AND NOT EXISTS (SELECT 1 FROM inkpass_tokens n WHERE n.grant_id = t.grant_id AND n.id > t.id AND n.refresh_rotated_at IS NOT NULL)`,
		lt.rowID, lt.presenter, now, reuseWindow(lt.reuse)).Scan(&rotated)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check refresh token reuse: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO inkpass_audit (at, kind, user_id, client_id, detail)
		VALUES (?1, ?2, CAST(NULLIF(?3, '') AS INTEGER), ?4, ?5)`,
		now, string(audit.RefreshReuseAllowed), lt.GetUserID(), lt.presenter,
		fmt.Sprintf("grant %s: refresh token presented again %d s after its rotation, within the reuse interval", grantID, now-rotated))
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

func (ts *Tokens) createCode(ctx context.Context, ti oauth2.TokenInfo, ext url.Values, grantID string) error {
	return ts.db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// The store's clock, not the library's time.Now, stamps what it
		// stores: expiry is checked against the same clock.
		created := ts.db.now()
		res, err := tx.ExecContext(ctx, `INSERT INTO inkpass_codes (grant_id, client_id, code_hash, user_id, sid, redirect_uri, scope,
			code_challenge, code_challenge_method, extension, access_ttl, created_at, expires_at)
			SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13 WHERE `+clientLive+``,
			grantID, ti.GetClientID(), session.Hash(ti.GetCode()), ti.GetUserID(), ext.Get(session.ExtSID), ti.GetRedirectURI(), ti.GetScope(),
			ti.GetCodeChallenge(), string(ti.GetCodeChallengeMethod()), ext.Encode(), int64(ti.GetAccessExpiresIn()/time.Second),
			created.Unix(), expiry(created, ti.GetCodeExpiresIn()))
		if err != nil {
			return fmt.Errorf("store code: %w", err)
		}
		if err := mustAffect(res, oerrors.ErrInvalidClient); err != nil {
			return err
		}
		// The session was live when /authorize loaded it; a logout, password
		// change or deactivation since has ended it and found no code to
		// revoke. Checked here, in the transaction that stores the code, so
		// no code outlives its session.
		if sid := ext.Get(session.ExtSID); sid != "" {
			var live bool
			err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM inkpass_sessions WHERE sid = ? AND revoked_at IS NULL AND expires_at > ?)`,
				sid, created.Unix()).Scan(&live)
			if err != nil {
				return fmt.Errorf("store code: check session: %w", err)
			}
			if !live {
				return fmt.Errorf("store code: %w", session.ErrNotFound)
			}
		}
		return noteSessionClient(ctx, tx, ext.Get(session.ExtSID), ti.GetClientID())
	})
}

// commitThen lets a transaction commit its writes (a revocation) and still
// report an error to the caller.
type commitThen struct{ err error }

func (c commitThen) Error() string { return c.err.Error() }
func (c commitThen) Unwrap() error { return c.err }

func errCommitThen(err error) error { return commitThen{err} }

// GetByCode returns a live code, or nil when it is unknown, expired or
// revoked. A code that was already used is a replay (RFC 6749 §4.1.2): its
// grant is revoked and nil returned, which the library reports as
// invalid_grant. A revoked code (logout, app revoked, deactivation, client
// removed) is just dead: presenting it is no attack.
func (ts *Tokens) GetByCode(ctx context.Context, code string) (oauth2.TokenInfo, error) {
	var (
		t                           = models.NewToken()
		grantID, method, ext        string
		accessTTL, created, expires int64
		used, revoked               sql.NullInt64
	)
	h := session.Hash(code)
	err := ts.db.read.QueryRowContext(ctx, `SELECT grant_id, client_id, user_id, redirect_uri, scope, code_challenge,
		code_challenge_method, extension, access_ttl, created_at, expires_at, used_at, revoked_at FROM inkpass_codes WHERE code_hash = ?`, h).
		Scan(&grantID, &t.ClientID, &t.UserID, &t.RedirectURI, &t.Scope, &t.CodeChallenge, &method, &ext, &accessTTL, &created, &expires, &used, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get code: %w", err)
	}
	if used.Valid {
		if err := ts.burn(ctx, grantID, reasonCodeReplayed); err != nil {
			return nil, err
		}
		return nil, nil
	}
	if revoked.Valid || ts.db.now().Unix() >= expires {
		return nil, nil
	}
	t.Code = code
	t.CodeChallengeMethod = method
	t.CodeCreateAt = time.Unix(created, 0)
	t.CodeExpiresIn = time.Duration(expires-created) * time.Second
	t.AccessExpiresIn = time.Duration(accessTTL) * time.Second
	t.Extension, _ = url.ParseQuery(ext)
	return t, nil
}

func (ts *Tokens) burn(ctx context.Context, grantID, reason string) error {
	return ts.db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return revokeGrant(ctx, tx, grantID, ts.db.now().Unix(), reason)
	})
}

// RemoveByCode marks a code used. It fails when the code was used already, so
// that of two concurrent exchanges exactly one wins; the loser burns the
// grant. A code revoked since it was loaded fails without burning anything.
func (ts *Tokens) RemoveByCode(ctx context.Context, code string) error {
	h := session.Hash(code)
	return ts.db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		now := ts.db.now().Unix()
		res, err := tx.ExecContext(ctx, `UPDATE inkpass_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL AND revoked_at IS NULL`, now, h)
		if err != nil {
			return fmt.Errorf("use code: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var grantID string
		if err := tx.QueryRowContext(ctx, `SELECT grant_id FROM inkpass_codes WHERE code_hash = ? AND used_at IS NOT NULL`, h).Scan(&grantID); err == nil {
			if err := revokeGrant(ctx, tx, grantID, now, reasonCodeReplayed); err != nil {
				return err
			}
		}
		return errCommitThen(oerrors.ErrInvalidAuthorizeCode)
	})
}

// tokenClientLive, selected from inkpass_tokens, is whether the token's
// client still exists and is enabled: a token of a removed or disabled
// client is dead whatever its row says.
const tokenClientLive = `EXISTS (SELECT 1 FROM inkpass_clients c WHERE c.id = inkpass_tokens.client_id AND c.enabled = 1)`

const tokenColumns = `id, grant_id, client_id, user_id, scope, redirect_uri, extension, access_created_at, access_expires_at,
	refresh_created_at, refresh_expires_at, access_revoked_at, refresh_rotated_at, revoked_at, ` + tokenClientLive

type tokenRow struct {
	t                                      *loadedToken
	grantID                                string
	accessRevoked, refreshRotated, revoked sql.NullInt64
	accessExpires                          int64
	refreshExpires                         sql.NullInt64
	clientLive                             bool
}

func scanToken(r rowScanner) (*tokenRow, error) {
	row := &tokenRow{t: &loadedToken{Token: models.NewToken()}}
	var ext string
	var accessCreated int64
	var refreshCreated sql.NullInt64
	t := row.t
	if err := r.Scan(&t.rowID, &row.grantID, &t.ClientID, &t.UserID, &t.Scope, &t.RedirectURI, &ext, &accessCreated, &row.accessExpires,
		&refreshCreated, &row.refreshExpires, &row.accessRevoked, &row.refreshRotated, &row.revoked, &row.clientLive); err != nil {
		return nil, err
	}
	t.Extension, _ = url.ParseQuery(ext)
	t.AccessCreateAt = time.Unix(accessCreated, 0)
	t.AccessExpiresIn = time.Duration(row.accessExpires-accessCreated) * time.Second
	if refreshCreated.Valid {
		t.RefreshCreateAt = time.Unix(refreshCreated.Int64, 0)
		t.RefreshExpiresIn = time.Duration(row.refreshExpires.Int64-refreshCreated.Int64) * time.Second
	}
	return row, nil
}

// GetByAccess returns a live access token (not expired, not revoked, its
// client still enabled) or nil. It does not look at the user: the caller
// checks that the user is still active (oidc's activeUser), since the
// studio's app may deactivate a user without revoking anything.
func (ts *Tokens) GetByAccess(ctx context.Context, access string) (oauth2.TokenInfo, error) {
	row, err := scanToken(ts.db.read.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM inkpass_tokens WHERE access_hash = ?`, session.Hash(access)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get access token: %w", err)
	}
	if !row.clientLive || row.revoked.Valid || row.accessRevoked.Valid || ts.db.now().Unix() >= row.accessExpires {
		return nil, nil
	}
	row.t.Access = access
	return row.t, nil
}

// GetByRefresh returns a live refresh token or nil. A retired (already
// rotated) one is reuse: the grant is revoked first.
func (ts *Tokens) GetByRefresh(ctx context.Context, refresh string) (oauth2.TokenInfo, error) {
	return ts.GetByRefreshFor(ctx, refresh, "", 0)
}

// GetByRefreshFor is GetByRefresh for a refresh request by clientID with a
// reuse interval. A refresh token of that client retired within the interval
// (reuseWindow) is returned instead of revoking its grant; Create, given it,
// decides in its transaction whether it is still answered (reuseAllowed) or
// its grant revoked after all. A retired token presented by another client
// is reuse. Reads never grant: nothing is issued until Create.
func (ts *Tokens) GetByRefreshFor(ctx context.Context, refresh, clientID string, reuse time.Duration) (oauth2.TokenInfo, error) {
	row, err := scanToken(ts.db.read.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM inkpass_tokens WHERE refresh_hash = ?`, session.Hash(refresh)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get refresh token: %w", err)
	}
	if !row.clientLive {
		return nil, nil
	}
	now := ts.db.now()
	if row.refreshRotated.Valid && !row.revoked.Valid {
		// The window check here only spares a token that may still be
		// answered from being burned by the read; reuseAllowed has the
		// last word.
		if reuse <= 0 || clientID == "" || clientID != row.t.ClientID || now.Unix()-row.refreshRotated.Int64 > reuseWindow(reuse) {
			if err := ts.burn(ctx, row.grantID, reasonRefreshReused); err != nil {
				return nil, err
			}
			return nil, nil
		}
	} else if row.revoked.Valid || row.refreshRotated.Valid {
		return nil, nil
	}
	if now.Unix() >= row.refreshExpires.Int64 {
		return nil, nil
	}
	row.t.Refresh = refresh
	row.t.loadedRefresh = refresh
	row.t.reuse, row.t.presenter = reuse, clientID
	return row.t, nil
}

// RemoveByAccess revokes one access token (the library calls it for the
// previous access token after a refresh).
func (ts *Tokens) RemoveByAccess(ctx context.Context, access string) error {
	_, err := ts.db.exec(ctx, `UPDATE inkpass_tokens SET access_revoked_at = ? WHERE access_hash = ? AND access_revoked_at IS NULL`,
		ts.db.now().Unix(), session.Hash(access))
	if err != nil {
		return fmt.Errorf("revoke access token: %w", err)
	}
	return nil
}

// RemoveByRefresh retires a refresh token. After a rotation Create has
// already done so; this is then a no-op.
func (ts *Tokens) RemoveByRefresh(ctx context.Context, refresh string) error {
	_, err := ts.db.exec(ctx, `UPDATE inkpass_tokens SET refresh_rotated_at = ? WHERE refresh_hash = ? AND refresh_rotated_at IS NULL`,
		ts.db.now().Unix(), session.Hash(refresh))
	if err != nil {
		return fmt.Errorf("retire refresh token: %w", err)
	}
	return nil
}
