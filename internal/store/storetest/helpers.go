package storetest

import (
	"errors"
	"fmt"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

// seq makes names unique within a process; the suite's names never collide
// with the rows of an adopted database (they all start with "st_").
var seq atomic.Int64

func unique(prefix string) string { return fmt.Sprintf("st_%s_%d", prefix, seq.Add(1)) }

// A fixed string stands in for a password hash: the store keeps hashes, it
// never computes one, so the suite never pays for hashing.
const fakeHash = "$argon2id$v=19$m=19456,t=2,p=1$c3VpdGU$c3RvcmV0ZXN0"

func (e *env) createUser(role user.Role) *user.User {
	e.t.Helper()
	u := &user.User{Username: unique("user"), PasswordHash: fakeHash, Role: role, Active: true}
	id, err := e.Users.CreateUser(e.ctx, u)
	if err != nil {
		e.t.Fatalf("CreateUser(%s): %v", u.Username, err)
	}
	u.ID = id
	return u
}

func (e *env) getUser(id int64) *user.User {
	e.t.Helper()
	u, err := e.Users.UserByID(e.ctx, id)
	if err != nil {
		e.t.Fatalf("UserByID(%d): %v", id, err)
	}
	return u
}

// createClient registers an enabled confidential client allowed the code
// and refresh grants, with a back-channel logout URI.
func (e *env) createClient() *client.Client {
	e.t.Helper()
	id := unique("app")
	c := &client.Client{ID: id, Name: "App " + id, RedirectURIs: []string{"https://" + id + ".example/cb"},
		GrantTypes:           []string{client.GrantAuthorizationCode, client.GrantRefreshToken, client.GrantClientCredentials},
		Scopes:               []string{"openid", "profile", "email", "offline_access"},
		AuthMethod:           client.AuthSecretBasic,
		SecretHash:           []byte("not-a-real-secret-hash"),
		BackchannelLogoutURI: "https://" + id + ".example/backchannel",
		Enabled:              true,
	}
	c.Normalize()
	if err := e.Clients.Create(e.ctx, c); err != nil {
		e.t.Fatalf("create client %s: %v", id, err)
	}
	return c
}

// signIn creates a live session for u and returns its cookie token's hash
// and its sid.
func (e *env) signIn(u *user.User) (tokenHash []byte, sid string) {
	e.t.Helper()
	now := e.clock.Now()
	tokenHash = session.Hash(session.NewToken())
	s := session.Session{SID: unique("sid"), UserID: u.ID, AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := e.Store.CreateSession(e.ctx, tokenHash, s); err != nil {
		e.t.Fatalf("CreateSession: %v", err)
	}
	return tokenHash, s.SID
}

func (e *env) sessionLive(tokenHash []byte) bool {
	e.t.Helper()
	_, err := e.Store.SessionByTokenHash(e.ctx, tokenHash)
	if errors.Is(err, session.ErrNotFound) {
		return false
	}
	if err != nil {
		e.t.Fatalf("SessionByTokenHash: %v", err)
	}
	return true
}

// issueCode stores an authorization code as /authorize does, in session
// sid ("" for none), and returns it with its grant id.
func (e *env) issueCode(c *client.Client, u *user.User, sid string) (code, grantID string) {
	e.t.Helper()
	code, grantID, err := e.tryIssueCode(c, u, sid)
	if err != nil {
		e.t.Fatalf("store code: %v", err)
	}
	return code, grantID
}

func (e *env) tryIssueCode(c *client.Client, u *user.User, sid string) (code, grantID string, err error) {
	grantID = session.NewGrantID()
	code = session.NewToken()
	cg := session.CodeGrant{
		Grant: session.Grant{ID: grantID, ClientID: c.ID, UserID: u.ID, SID: sid, RedirectURI: c.RedirectURIs[0],
			Scope: "openid offline_access", Extension: url.Values{"nonce": {"n-" + grantID}}},
		AccessTTL: time.Hour,
	}
	return code, grantID, e.Tokens.IssueCode(e.ctx, code, cg, time.Minute)
}

// pair is an access and refresh token issued together.
type pair struct{ Access, Refresh string }

// errRefused stands for "the grant store refused": the token endpoint
// answers invalid_grant.
var errRefused = errors.New("refused: the store found no live code or token")

// errPeek is what peekCode's accept answers, so that RedeemCode leaves the
// code unused.
var errPeek = errors.New("peek only")

// peekCode returns a live code as RedeemCode hands it to accept, without
// redeeming it; nil when the code is not live (a used code is not
// revoked: the endpoint decides that, not a look).
func (e *env) peekCode(code string) (*session.CodeGrant, error) {
	var seen *session.CodeGrant
	_, err := e.Tokens.RedeemCode(e.ctx, code, func(cg *session.CodeGrant) error {
		c := *cg
		seen = &c
		return errPeek
	})
	if errors.Is(err, errPeek) {
		return seen, nil
	}
	var replayed *session.ReplayedError
	if errors.Is(err, session.ErrGrantInvalid) || errors.As(err, &replayed) {
		return nil, nil
	}
	return nil, err
}

// redeemOnly is the first half of the token endpoint's code exchange: the
// code marked used, its grant returned. A replay revokes the grant, as the
// endpoint does.
func (e *env) redeemOnly(code string) (*session.CodeGrant, error) {
	cg, err := e.Tokens.RedeemCode(e.ctx, code, func(*session.CodeGrant) error { return nil })
	return cg, e.refused(err)
}

// refused is the token endpoint's handling of a grant store error: a
// replayed code or a reused refresh token revokes its grant; either, and a
// dead code or token, is refused.
func (e *env) refused(err error) error {
	var (
		replayed *session.ReplayedError
		reused   *session.ReusedError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &replayed):
		if rerr := e.Tokens.RevokeGrant(e.ctx, replayed.GrantID, session.ReasonCodeReplayed); rerr != nil {
			return fmt.Errorf("RevokeGrant after a replay: %w", rerr)
		}
		return fmt.Errorf("%w: %w", errRefused, err)
	case errors.As(err, &reused):
		if rerr := e.Tokens.RevokeGrant(e.ctx, reused.GrantID, session.ReasonRefreshReused); rerr != nil {
			return fmt.Errorf("RevokeGrant after a reuse: %w", rerr)
		}
		return fmt.Errorf("%w: %w", errRefused, err)
	case errors.Is(err, session.ErrGrantInvalid):
		return fmt.Errorf("%w: %w", errRefused, err)
	}
	return err
}

// redeem is the token endpoint's code exchange: redeem the code, then store
// the new tokens with the code's grant.
func (e *env) redeem(code string) (pair, error) {
	cg, err := e.redeemOnly(code)
	if err != nil {
		return pair{}, fmt.Errorf("RedeemCode: %w", err)
	}
	return e.storeTokens(cg.Grant)
}

// storeTokens stores a first access and refresh token for grant g.
func (e *env) storeTokens(g session.Grant) (pair, error) {
	t := session.IssuedTokens{Access: session.NewSortableToken(), AccessTTL: time.Hour,
		Refresh: session.NewSortableToken(), RefreshTTL: 24 * time.Hour, Scope: g.Scope}
	if err := e.Tokens.IssueTokens(e.ctx, g, t); err != nil {
		return pair{}, fmt.Errorf("IssueTokens: %w", err)
	}
	return pair{t.Access, t.Refresh}, nil
}

// mustRedeem issues a code to c for u in session sid and redeems it.
func (e *env) mustRedeem(c *client.Client, u *user.User, sid string) (pair, string) {
	e.t.Helper()
	code, grantID := e.issueCode(c, u, sid)
	p, err := e.redeem(code)
	if err != nil {
		e.t.Fatalf("redeem a fresh code: %v", err)
	}
	return p, grantID
}

// refresh is the token endpoint's refresh: find the refresh token for the
// presenting client, then rotate it to a new pair; a reuse revokes the
// family, as the endpoint does.
func (e *env) refresh(refresh, clientID string, reuse time.Duration) (pair, error) {
	old, err := e.Tokens.RefreshGrant(e.ctx, refresh, clientID, reuse)
	if err != nil {
		return pair{}, fmt.Errorf("RefreshGrant: %w", e.refused(err))
	}
	next := pair{session.NewSortableToken(), session.NewSortableToken()}
	t := session.IssuedTokens{Access: next.Access, AccessTTL: time.Hour, Refresh: next.Refresh, Scope: old.Scope}
	if err := e.Tokens.RotateRefresh(e.ctx, old, t); err != nil {
		return pair{}, fmt.Errorf("RotateRefresh: %w", e.refused(err))
	}
	return next, nil
}

func (e *env) accessLive(access string) bool {
	e.t.Helper()
	_, err := e.Tokens.AccessGrant(e.ctx, access)
	if errors.Is(err, session.ErrGrantInvalid) {
		return false
	}
	if err != nil {
		e.t.Fatalf("AccessGrant: %v", err)
	}
	return true
}

// refreshLive reports whether a refresh token that was never rotated still
// refreshes. It reads through TokenRecord: RefreshGrant would report a
// retired token as reuse.
func (e *env) refreshLive(refresh string) bool {
	e.t.Helper()
	rec, err := e.Store.TokenRecord(e.ctx, refresh, "refresh_token")
	if err != nil {
		e.t.Fatalf("TokenRecord: %v", err)
	}
	return rec != nil && rec.Kind == "refresh_token" && rec.Active
}

// codeLive reports whether a code may still be redeemed; looking redeems
// nothing and revokes nothing.
func (e *env) codeLive(code string) bool {
	e.t.Helper()
	cg, err := e.peekCode(code)
	if err != nil {
		e.t.Fatalf("peek code: %v", err)
	}
	return cg != nil
}

// claimAll claims every due back-channel notice.
func (e *env) claimAll() []noticeKey {
	e.t.Helper()
	ns, err := e.Outbox.ClaimLogoutNotices(e.ctx, 100, time.Minute)
	if err != nil {
		e.t.Fatalf("ClaimLogoutNotices: %v", err)
	}
	var out []noticeKey
	for _, n := range ns {
		out = append(out, noticeKey{n.ClientID, n.SID, n.Subject})
	}
	return out
}

type noticeKey struct{ ClientID, SID, Subject string }
