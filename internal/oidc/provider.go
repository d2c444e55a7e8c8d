package oidc

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/server"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

// Config is what the protocol needs to know.
type Config struct {
	Issuer     string
	CodeTTL    time.Duration
	AccessTTL  time.Duration
	IDTokenTTL time.Duration
	RefreshTTL time.Duration
	// RefreshReuseInterval is how long a just-rotated refresh token may be
	// presented again by its own client and still be answered (see
	// Provider.refresh); 0 means never.
	RefreshReuseInterval time.Duration
	SessionTTL           time.Duration
	// AuthRequestTTL is how long a user may take to sign in.
	AuthRequestTTL time.Duration
	Now            func() time.Time
	Logger         *slog.Logger
	// Audit records security events (token revocations); nil records none.
	Audit audit.Recorder
	// Metrics counts issued tokens; nil counts nothing.
	Metrics interface{ TokenIssued(grantType string) }
	// ClientThrottle limits failed client authentications; zero fields
	// take DefaultClientThrottle's values.
	ClientThrottle ClientThrottle
}

type noMetrics struct{}

func (noMetrics) TokenIssued(string) {}

// ClientStore finds clients. Get returns a client enabled or not, or
// client.ErrNotFound; GetByID (go-oauth2's lookup) also answers
// client.ErrNotFound for a disabled one. An implementation may cache, but a
// client changed, disabled or removed by any process on the same data (the
// admin CLI) must be seen by the next call (store.Clients checks a
// generation counter on each). GetWithLock also returns when the
// failed-authentication lock on the client or on addr ends (the zero time
// when neither is locked), and that lock even when the client is unknown.
type ClientStore interface {
	oauth2.ClientStore
	Get(ctx context.Context, id string) (*client.Client, error)
	GetWithLock(ctx context.Context, id, addr string) (*client.Client, time.Time, error)
}

// UserFinder finds a user by id, active or not (user.ErrNotFound when there
// is none). RevokeInactiveUser ends the sessions, tokens and unredeemed
// codes of a user found inactive (the studio's app deactivates users without
// revoking anything), queuing back-channel logouts, in one transaction; it
// does nothing if the user is active.
type UserFinder interface {
	UserByID(ctx context.Context, id int64) (*user.User, error)
	RevokeInactiveUser(ctx context.Context, id int64) error
}

// Store is everything the Provider keeps in a database, one interface so
// that one value (store.DB) wires it: browser sessions (SessionStore),
// pending authorization requests (AuthRequestStore), consents
// (ConsentStore), the counts of failed client authentications
// (ThrottleStore), and the token records behind revocation and
// introspection. Each unit of the Provider holds only the port it uses,
// declared next to it. Each write is one transaction;
// internal/store/storetest checks an implementation against this contract.
type Store interface {
	ThrottleStore
	SessionStore
	AuthRequestStore
	ConsentStore

	// TokenRecord finds an access or refresh token by value (hint only
	// orders the search, RFC 7009 §2.1); nil when unknown. Active is false
	// once expired, revoked, rotated, or its client removed or disabled.
	TokenRecord(ctx context.Context, token, hint string) (*session.TokenRecord, error)
	// RevokeAccessToken revokes one access token; its refresh token lives.
	RevokeAccessToken(ctx context.Context, token string) error
	// RevokeGrant revokes every token of a grant and burns the grant id,
	// so a token still being minted for it cannot be stored afterwards.
	RevokeGrant(ctx context.Context, grantID, reason string) error
	// RevokeSessionTokens revokes the tokens and unredeemed codes issued
	// under session sid, and burns the grant of a code of it being
	// exchanged at that moment.
	RevokeSessionTokens(ctx context.Context, sid string) error
}

// Signer signs ID tokens and publishes the keys that verify them; keys.Set
// implements it. SignAs signs with the active key of one algorithm, a
// client's id_token_signed_response_alg: a JWT for a client (an ID token, a
// logout token) uses that client's algorithm, which its relying party checks.
type Signer interface {
	SignAs(alg keys.Algorithm, payload []byte) (string, error)
	JWKS() []byte
	JWKSETag() string
	Verify(compact string) ([]byte, error)
}

// Provider is inkpass's OpenID Provider. Its storage is held as narrow
// ports, each declared beside the unit that uses it: sessions (sessions.go),
// authReqs (authorize.go), consents (consent.go), records (revoke.go:
// revocation, introspection, logout) and throttle (clientauth.go); the
// signer serves ID tokens, JWKS and id_token_hint checks.
type Provider struct {
	cfg      Config
	log      *slog.Logger
	mgr      *manage.Manager
	srv      *server.Server
	clients  ClientStore
	tokens   oauth2.TokenStore
	users    UserFinder
	sessions SessionStore
	authReqs AuthRequestStore
	consents ConsentStore
	records  TokenRecords
	audit    audit.Recorder
	signer   Signer
	throttle ThrottleStore
	// refreshes is the token store's client-aware refresh lookup, set only
	// when a reuse interval is configured.
	refreshes refreshLoader

	discovery atomic.Pointer[discoveryDoc]
}

// New wires the provider on go-oauth2 with inkpass's stricter rules.
func New(cfg Config, clients ClientStore, tokens oauth2.TokenStore, users UserFinder, sessions Store, signer Signer) (*Provider, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.AuthRequestTTL <= 0 {
		cfg.AuthRequestTTL = 30 * time.Minute
	}
	if _, err := url.Parse(cfg.Issuer); err != nil || cfg.Issuer == "" {
		return nil, fmt.Errorf("oidc: bad issuer %q", cfg.Issuer)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	if cfg.Audit == nil {
		cfg.Audit = audit.Discard{}
	}
	cfg.ClientThrottle = cfg.ClientThrottle.withDefaults()
	p := &Provider{cfg: cfg, log: cfg.Logger, clients: memoClients{clients}, tokens: tokens, users: users, audit: cfg.Audit,
		sessions: sessions, authReqs: sessions, consents: sessions, records: sessions, signer: signer, throttle: sessions}
	if cfg.RefreshReuseInterval < 0 {
		return nil, fmt.Errorf("oidc: negative refresh reuse interval %v", cfg.RefreshReuseInterval)
	}
	if cfg.RefreshReuseInterval > 0 {
		rl, ok := tokens.(refreshLoader)
		if !ok {
			return nil, fmt.Errorf("oidc: a refresh reuse interval needs a token store with GetByRefreshFor, not %T", tokens)
		}
		p.refreshes = rl
	}

	m := manage.NewManager()
	m.MapClientStorage(memoClients{clients})
	m.MapTokenStorage(memoTokens{tokens})
	m.MapAuthorizeGenerate(codeGenerator{})
	m.MapAccessGenerate(randomGenerator{})
	m.SetAuthorizeCodeExp(cfg.CodeTTL)
	// Refresh tokens are generated for every code grant here and dropped by
	// randomGenerator unless the client may refresh and asked for offline_access.
	m.SetAuthorizeCodeTokenCfg(&manage.Config{AccessTokenExp: cfg.AccessTTL, RefreshTokenExp: cfg.RefreshTTL, IsGenerateRefresh: true})
	m.SetClientTokenCfg(&manage.Config{AccessTokenExp: cfg.AccessTTL})
	m.SetRefreshTokenCfg(&manage.RefreshingConfig{
		AccessTokenExp:    cfg.AccessTTL,
		RefreshTokenExp:   cfg.RefreshTTL,
		IsGenerateRefresh: true,
		// The store's Create retires the old refresh token and its access
		// token in the same transaction that stores the new ones; the
		// library's separate removals would be two more writes, and not
		// atomic with the rotation.
		IsRemoveAccess:     false,
		IsRemoveRefreshing: false,
		// The family keeps its first refresh token's expiry: rotation does
		// not extend a grant forever.
		IsResetRefreshTime: false,
	})
	// The library's default is a host-suffix match; RFC 9700 §4.1.3 wants
	// exact string comparison.
	m.SetValidateURIHandler(client.ExactRedirectURI)
	m.SetExtractExtensionHandler(extractExtension)
	p.mgr = m

	s := server.NewServer(&server.Config{
		TokenType:                   "Bearer",
		AllowedResponseTypes:        []oauth2.ResponseType{oauth2.Code},
		AllowedGrantTypes:           []oauth2.GrantType{oauth2.AuthorizationCode, oauth2.Refreshing, oauth2.ClientCredentials},
		AllowedCodeChallengeMethods: []oauth2.CodeChallengeMethod{oauth2.CodeChallengeS256},
	}, m)
	// Never let a library path redirect to a URI we have not validated.
	s.SetPreRedirectErrorHandler(func(w http.ResponseWriter, req *server.AuthorizeRequest, err error) error { return err })
	// Which grants a client may use is checked by ParseAuthorize and the
	// token handler before the library runs (the library's
	// ClientAuthorizedHandler sees no context, so it would cost a database
	// read of its own). Scopes are checked there too, and again here.
	s.SetClientScopeHandler(func(tgr *oauth2.TokenGenerateRequest) (bool, error) {
		c, err := p.clients.Get(tgr.Request.Context(), tgr.ClientID)
		if err != nil {
			return false, err
		}
		return c.AllowsScope(strings.Fields(tgr.Scope)), nil
	})
	p.srv = s
	return p, nil
}

// clientMemoKey holds the client a token request authenticated, so that the
// library's own lookups of the same client in that request cost nothing.
type clientMemoKey struct{}

func withClient(ctx context.Context, c *client.Client) context.Context {
	return context.WithValue(ctx, clientMemoKey{}, c)
}

// memoClients answers from the request's memo when it holds the client asked
// for, and from the store otherwise.
type memoClients struct{ ClientStore }

func (m memoClients) memo(ctx context.Context, id string) *client.Client {
	if c, ok := ctx.Value(clientMemoKey{}).(*client.Client); ok && c.ID == id {
		return c
	}
	return nil
}

func (m memoClients) Get(ctx context.Context, id string) (*client.Client, error) {
	if c := m.memo(ctx, id); c != nil {
		return c, nil
	}
	return m.ClientStore.Get(ctx, id)
}

func (m memoClients) GetByID(ctx context.Context, id string) (oauth2.ClientInfo, error) {
	if c := m.memo(ctx, id); c != nil && c.Enabled {
		return c, nil
	}
	return m.ClientStore.GetByID(ctx, id)
}

// ctxKey carries the extension a new code or token should get into
// go-oauth2's ExtractExtensionHandler, which sees only the request.
type ctxKey struct{}

func withExtension(ctx context.Context, ext url.Values) *http.Request {
	return (&http.Request{Header: http.Header{}}).WithContext(context.WithValue(ctx, ctxKey{}, ext))
}

// extractExtension merges the request's extension into the token's. For a
// code exchange the library has already copied the code's extension (nonce,
// auth_time, sid, grant id) and the request carries none.
func extractExtension(tgr *oauth2.TokenGenerateRequest, ti oauth2.ExtendableTokenInfo) {
	if tgr.Request == nil {
		return
	}
	ext, _ := tgr.Request.Context().Value(ctxKey{}).(url.Values)
	if len(ext) == 0 {
		return
	}
	merged := url.Values{}
	for k, v := range ti.GetExtension() {
		merged[k] = slices.Clone(v)
	}
	for k, v := range ext {
		merged[k] = slices.Clone(v)
	}
	ti.SetExtension(merged)
}

// randomGenerator makes access and refresh tokens: 256 random bits each (RFC
// 6749 §10.10) after the time they were made (session.NewSortableToken),
// opaque to clients. A refresh token is made only for a client allowed
// to refresh that asked for offline_access (OIDC Core §11).
type randomGenerator struct{}

func (randomGenerator) Token(ctx context.Context, data *oauth2.GenerateBasic, isGenRefresh bool) (string, string, error) {
	access := session.NewSortableToken()
	refresh := ""
	if isGenRefresh && wantsRefresh(data) {
		refresh = session.NewSortableToken()
	}
	return access, refresh, nil
}

func wantsRefresh(data *oauth2.GenerateBasic) bool {
	c, ok := data.Client.(*client.Client)
	if !ok || !c.AllowsGrant(client.GrantRefreshToken) || data.TokenInfo == nil {
		return false
	}
	return slices.Contains(strings.Fields(data.TokenInfo.GetScope()), "offline_access")
}

// codeGenerator makes authorization codes: 256 random bits, sortable.
type codeGenerator struct{}

func (codeGenerator) Token(context.Context, *oauth2.GenerateBasic) (string, error) {
	return session.NewSortableToken(), nil
}

var (
	_ oauth2.AuthorizeGenerate = codeGenerator{}
	_ oauth2.AccessGenerate    = randomGenerator{}
)

// refreshMemoKey carries the refresh token the endpoint already loaded.
type refreshMemoKey struct{}

// refreshLoader finds a refresh token for the client presenting it, sparing
// a just-retired one within the reuse interval (store.Tokens). What it
// returns goes to the token store's Create, which decides.
type refreshLoader interface {
	GetByRefreshFor(ctx context.Context, refresh, clientID string, reuse time.Duration) (oauth2.TokenInfo, error)
}

// codeMemoKey carries the authorization code the endpoint already loaded
// (and checked the PKCE verifier against).
type codeMemoKey struct{}

type memoTokens struct{ oauth2.TokenStore }

func (m memoTokens) GetByCode(ctx context.Context, code string) (oauth2.TokenInfo, error) {
	if ti, ok := ctx.Value(codeMemoKey{}).(oauth2.TokenInfo); ok && ti.GetCode() == code {
		return ti, nil
	}
	return m.TokenStore.GetByCode(ctx, code)
}

func (m memoTokens) GetByRefresh(ctx context.Context, refresh string) (oauth2.TokenInfo, error) {
	if ti, ok := ctx.Value(refreshMemoKey{}).(oauth2.TokenInfo); ok && ti.GetRefresh() == refresh {
		return ti, nil
	}
	return m.TokenStore.GetByRefresh(ctx, refresh)
}
