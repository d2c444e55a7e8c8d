package storetest

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	"github.com/go-oauth2/oauth2/v4/models"

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
	t := models.NewToken()
	t.ClientID, t.UserID, t.RedirectURI, t.Scope = c.ID, strconv.FormatInt(u.ID, 10), c.RedirectURIs[0], "openid offline_access"
	t.Code, t.CodeCreateAt, t.CodeExpiresIn = session.NewToken(), e.clock.Now(), time.Minute
	t.AccessExpiresIn = time.Hour
	t.Extension = url.Values{session.ExtGrantID: {grantID}}
	if sid != "" {
		t.Extension.Set(session.ExtSID, sid)
	}
	return t.Code, grantID, e.Tokens.Create(e.ctx, t)
}

// pair is an access and refresh token issued together.
type pair struct{ Access, Refresh string }

// errRefused stands for "the store answered nil": go-oauth2 turns that into
// invalid_grant.
var errRefused = errors.New("refused: the store found no live code or token")

// redeem is the token endpoint's code exchange, in go-oauth2's order
// (manage.Manager.GenerateAccessToken): load the code, mark it used, store
// the new tokens with the code's grant.
func (e *env) redeem(code string) (pair, error) {
	ti, err := e.Tokens.GetByCode(e.ctx, code)
	if err != nil {
		return pair{}, fmt.Errorf("GetByCode: %w", err)
	}
	if ti == nil {
		return pair{}, errRefused
	}
	if err := e.Tokens.RemoveByCode(e.ctx, code); err != nil {
		return pair{}, fmt.Errorf("RemoveByCode: %w", err)
	}
	return e.storeTokens(ti)
}

// storeTokens stores a first access and refresh token for a loaded code.
func (e *env) storeTokens(ti oauth2.TokenInfo) (pair, error) {
	t := models.NewToken()
	t.ClientID, t.UserID, t.RedirectURI, t.Scope = ti.GetClientID(), ti.GetUserID(), ti.GetRedirectURI(), ti.GetScope()
	t.Access, t.AccessCreateAt, t.AccessExpiresIn = session.NewSortableToken(), e.clock.Now(), ti.GetAccessExpiresIn()
	t.Refresh, t.RefreshCreateAt, t.RefreshExpiresIn = session.NewSortableToken(), e.clock.Now(), 24*time.Hour
	t.Extension = extension(ti)
	if err := e.Tokens.Create(e.ctx, t); err != nil {
		return pair{}, fmt.Errorf("Create: %w", err)
	}
	return pair{t.Access, t.Refresh}, nil
}

func extension(ti oauth2.TokenInfo) url.Values {
	if x, ok := ti.(oauth2.ExtendableTokenInfo); ok && x.GetExtension() != nil {
		return x.GetExtension()
	}
	return url.Values{}
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

// refresh is the token endpoint's refresh, in go-oauth2's order
// (manage.Manager.RefreshAccessToken, with oidc's GetByRefreshFor lookup):
// load the refresh token for the presenting client, set a new pair on it,
// store it (which retires the old refresh token), then retire the old one
// again as the library does.
func (e *env) refresh(refresh, clientID string, reuse time.Duration) (pair, error) {
	ti, err := e.Tokens.GetByRefreshFor(e.ctx, refresh, clientID, reuse)
	if err != nil {
		return pair{}, fmt.Errorf("GetByRefreshFor: %w", err)
	}
	if ti == nil {
		return pair{}, errRefused
	}
	next := pair{session.NewSortableToken(), session.NewSortableToken()}
	ti.SetAccess(next.Access)
	ti.SetAccessCreateAt(e.clock.Now())
	ti.SetAccessExpiresIn(time.Hour)
	ti.SetRefresh(next.Refresh)
	if err := e.Tokens.Create(e.ctx, ti); err != nil {
		return pair{}, fmt.Errorf("Create: %w", err)
	}
	if err := e.Tokens.RemoveByRefresh(e.ctx, refresh); err != nil {
		return pair{}, fmt.Errorf("RemoveByRefresh: %w", err)
	}
	return next, nil
}

func (e *env) accessLive(access string) bool {
	e.t.Helper()
	ti, err := e.Tokens.GetByAccess(e.ctx, access)
	if err != nil {
		e.t.Fatalf("GetByAccess: %v", err)
	}
	return ti != nil
}

// refreshLive reports whether a refresh token that was never rotated still
// refreshes. It reads through TokenRecord, never GetByRefresh: reading a
// retired refresh token is itself reuse, and burns its family.
func (e *env) refreshLive(refresh string) bool {
	e.t.Helper()
	rec, err := e.Store.TokenRecord(e.ctx, refresh, "refresh_token")
	if err != nil {
		e.t.Fatalf("TokenRecord: %v", err)
	}
	return rec != nil && rec.Kind == "refresh_token" && rec.Active
}

// codeLive reports whether an unredeemed code may still be redeemed. Only
// for codes never redeemed: loading a used code is a replay.
func (e *env) codeLive(code string) bool {
	e.t.Helper()
	ti, err := e.Tokens.GetByCode(e.ctx, code)
	if err != nil {
		e.t.Fatalf("GetByCode: %v", err)
	}
	return ti != nil
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
