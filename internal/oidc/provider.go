package oidc

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

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
	// refreshGrant in grant_refresh.go); 0 means never.
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
// client.ErrNotFound. An implementation may cache, but a
// client changed, disabled or removed by any process on the same data (the
// admin CLI) must be seen by the next call (store.Clients checks a
// generation counter on each). GetWithLock also returns when the
// failed-authentication lock on the client or on addr ends (the zero time
// when neither is locked), and that lock even when the client is unknown.
type ClientStore interface {
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
// introspection. New hands each unit only the part it uses, declared next
// to that unit (docs/architecture.md has the table). Each write is one
// transaction;
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
// The units hold its parts: TokenEndpoint a tokenSigner (SignAs), Authorizer
// and LogoutEndpoint a hintVerifier (Verify), Documents a KeySet.
type Signer interface {
	SignAs(alg keys.Algorithm, payload []byte) (string, error)
	JWKS() []byte
	JWKSETag() string
	Verify(compact string) ([]byte, error)
}

// Provider is inkpass's OpenID Provider: a thin composition of the
// protocol's units, each built by its own constructor over only the ports it
// uses (docs/architecture.md has the table). New builds them all from the
// full set of dependencies that cmd/inkpass wires; the units' methods are
// the Provider's through embedding, so internal/web sees one value that
// implements every port it declares. The Provider itself holds no store and
// decides nothing.
type Provider struct {
	*Authorizer      // authorize.go: ParseAuthorize, NeedsLogin, Grant, ErrorResponse
	*PendingRequests // authorize.go: the requests kept while the user signs in
	*Sessions        // sessions.go: StartSession, Session, EndSession
	*Consents        // consent.go: NeedsConsent, RecordConsent
	*LogoutEndpoint  // logout.go: ParseLogout, Logout
	*TokenEndpoint   // token.go and grant_*.go: TokenHandler
	*UserInfo        // userinfo.go: UserInfoHandler
	*Revocation      // revoke.go: RevokeHandler
	*Introspection   // revoke.go: IntrospectHandler
	*Documents       // discovery.go: Discovery, JWKS and their handlers
}

// New wires the provider over its stores: each unit gets its part of them.
func New(cfg Config, clients ClientStore, tokens GrantStore, users UserFinder, store Store, signer Signer) (*Provider, error) {
	if _, err := url.Parse(cfg.Issuer); err != nil || cfg.Issuer == "" {
		return nil, fmt.Errorf("oidc: bad issuer %q", cfg.Issuer)
	}
	if cfg.RefreshReuseInterval < 0 {
		return nil, fmt.Errorf("oidc: negative refresh reuse interval %v", cfg.RefreshReuseInterval)
	}
	cfg = cfg.withDefaults()
	// One client authenticator for the token endpoint, revocation and
	// introspection, so that the three count failures in one throttle.
	auth := NewClientAuthenticator(cfg, clients, store)
	sessions := NewSessions(cfg, store, users)
	return &Provider{
		Authorizer:      NewAuthorizer(cfg, clients, signer, users, tokens),
		PendingRequests: NewPendingRequests(cfg, store),
		Sessions:        sessions,
		Consents:        NewConsents(store),
		LogoutEndpoint:  NewLogoutEndpoint(cfg, clients, signer, sessions, store),
		TokenEndpoint:   NewTokenEndpoint(cfg, auth, tokens, users, signer),
		UserInfo:        NewUserInfo(cfg, tokens, users),
		Revocation:      NewRevocation(cfg, auth, store),
		Introspection:   NewIntrospection(cfg, auth, store, users),
		Documents:       NewDocuments(cfg, signer),
	}, nil
}

// withDefaults fills what a Config may leave out: the clock, a logger that
// discards, no audit, no metrics, the default client throttle and pending
// request lifetime. Every unit's constructor applies it, so a unit built
// alone in a test behaves as the one New builds.
func (cfg Config) withDefaults() Config {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.AuthRequestTTL <= 0 {
		cfg.AuthRequestTTL = 30 * time.Minute
	}
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	if cfg.Audit == nil {
		cfg.Audit = audit.Discard{}
	}
	cfg.ClientThrottle = cfg.ClientThrottle.withDefaults()
	return cfg
}
