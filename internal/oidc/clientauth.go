package oidc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/user"
)

// ClientThrottle is the policy for failed client authentications at /token,
// /revoke and /introspect: counted per client_id and per client address,
// the first few free, then each failure locks the key twice as long as the
// one before, up to MaxLock. While a key is locked, requests that present a
// secret are refused before the secret is looked at (RFC 6749 §10.10, RFC
// 9700 §2.5: client secrets must not be open to guessing).
type ClientThrottle struct {
	FreeFailuresPerClient  int
	FreeFailuresPerAddress int
	BaseLock               time.Duration
	MaxLock                time.Duration
	// Window: failures older than this are forgotten.
	Window time.Duration
}

// DefaultClientThrottle is the login throttle's policy
// (user.DefaultThrottlePolicy), a client in place of a username.
func DefaultClientThrottle() ClientThrottle {
	d := user.DefaultThrottlePolicy()
	return ClientThrottle{
		FreeFailuresPerClient:  d.FreeFailuresPerUsername,
		FreeFailuresPerAddress: d.FreeFailuresPerAddress,
		BaseLock:               d.BaseLock,
		MaxLock:                d.MaxLock,
		Window:                 d.Window,
	}
}

func (t ClientThrottle) withDefaults() ClientThrottle {
	d := DefaultClientThrottle()
	if t.FreeFailuresPerClient <= 0 {
		t.FreeFailuresPerClient = d.FreeFailuresPerClient
	}
	if t.FreeFailuresPerAddress <= 0 {
		t.FreeFailuresPerAddress = d.FreeFailuresPerAddress
	}
	if t.BaseLock <= 0 {
		t.BaseLock = d.BaseLock
	}
	if t.MaxLock < t.BaseLock {
		t.MaxLock = max(d.MaxLock, t.BaseLock)
	}
	if t.Window <= 0 {
		t.Window = d.Window
	}
	return t
}

// lockFor is the lock the failures-th failure earns when free are free:
// the login throttle's back-off (user.ThrottlePolicy.LockFor).
func (t ClientThrottle) lockFor(free int) func(int) time.Duration {
	p := user.ThrottlePolicy{BaseLock: t.BaseLock, MaxLock: t.MaxLock}
	return func(failures int) time.Duration { return p.LockFor(failures, free) }
}

// ThrottleStore counts failed client authentications (store.DB implements
// it): against the address, and the client unless clientID is empty,
// setting their locks, in one transaction, forgetting failures older than
// window, so concurrent failures are all counted. The locks are read back by
// ClientStore.GetWithLock.
type ThrottleStore interface {
	RecordClientFailure(ctx context.Context, clientID, addr string, now time.Time, window time.Duration, lockClient, lockAddr func(failures int) time.Duration) error
}

// ClientAuthenticator authenticates the client of a request to /token,
// /revoke or /introspect (RFC 6749 §2.3), throttling failed attempts. It
// needs the clients and the throttle's counts, nothing else; the endpoints
// hold it as a clientAuthenticator.
type ClientAuthenticator struct {
	cfg      Config
	clients  ClientStore
	throttle ThrottleStore
}

// NewClientAuthenticator authenticates clients from clients, counting
// failures in throttle under cfg.ClientThrottle and auditing them to
// cfg.Audit.
func NewClientAuthenticator(cfg Config, clients ClientStore, throttle ThrottleStore) *ClientAuthenticator {
	return &ClientAuthenticator{cfg: cfg.withDefaults(), clients: clients, throttle: throttle}
}

// clientAuthenticator is what the client-authenticated endpoints ask of
// ClientAuthenticator, so that a test of an endpoint may give it a fake.
type clientAuthenticator interface {
	// authenticateClient returns the authenticated client and the secret
	// it presented ("" for a public client), or the OAuth error to answer.
	authenticateClient(ctx context.Context, r *http.Request, form url.Values) (*client.Client, string, *Error)
}

var _ clientAuthenticator = (*ClientAuthenticator)(nil)

// authenticateClient applies the client's registered method (RFC 6749 §2.3,
// OIDC Core §9): exactly one of Basic, body secret, or none for public
// clients; either secret method unless the client's is pinned
// (client.AcceptsAuthMethod).
func (a *ClientAuthenticator) authenticateClient(ctx context.Context, r *http.Request, form url.Values) (*client.Client, string, *Error) {
	var id, secret, method string
	basicID, basicSecret, hasBasic := r.BasicAuth()
	switch {
	case hasBasic && form.Has("client_secret"):
		return nil, "", errInvalidRequest("use one client authentication method, not two")
	case hasBasic:
		// RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
		var err1, err2 error
		id, err1 = url.QueryUnescape(basicID)
		secret, err2 = url.QueryUnescape(basicSecret)
		if err1 != nil || err2 != nil {
			return nil, "", basicFailure(errInvalidClient("malformed client credentials"))
		}
		if bodyID := form.Get("client_id"); bodyID != "" && bodyID != id {
			return nil, "", basicFailure(errInvalidClient("client_id does not match the credentials"))
		}
		method = client.AuthSecretBasic
	case form.Has("client_secret"):
		id, secret, method = form.Get("client_id"), form.Get("client_secret"), client.AuthSecretPost
	default:
		id, method = form.Get("client_id"), client.AuthNone
	}
	if id == "" {
		return nil, "", errInvalidClient("client authentication is missing")
	}
	wrap := func(e *Error) *Error {
		if hasBasic {
			return basicFailure(e)
		}
		return e
	}
	// A request that presents a secret may be a guess: it is throttled per
	// client and per address, and the lock is checked before the secret.
	guess := method != client.AuthNone
	addr := clientAddr(r)
	// The throttle counts an IPv6 client by its /64, as the login throttle
	// does: one host holds a whole /64. The audit keeps the full address.
	throttleAddr := user.AddressKey(addr)
	failed := func(known bool, reason string) *Error {
		if guess {
			a.clientFailed(ctx, id, addr, throttleAddr, known, reason)
		}
		return wrap(errInvalidClient("client authentication failed").withCause(errors.New(reason)))
	}
	var c *client.Client
	var err error
	if guess {
		var until time.Time
		c, until, err = a.clients.GetWithLock(ctx, id, throttleAddr)
		if err != nil && !errors.Is(err, client.ErrNotFound) {
			return nil, "", errServer(err)
		}
		if e := a.clientLocked(until); e != nil {
			return nil, "", wrap(e)
		}
	} else {
		c, err = a.clients.Get(ctx, id)
	}
	if errors.Is(err, client.ErrNotFound) {
		return nil, "", failed(false, "unknown client")
	}
	if err != nil {
		return nil, "", errServer(err)
	}
	if !c.Enabled {
		return nil, "", failed(true, "client disabled")
	}
	if !c.AcceptsAuthMethod(method) {
		return nil, "", failed(true, "client used "+method+", registered for "+c.AuthMethod)
	}
	if method != client.AuthNone && !c.VerifySecret(secret) {
		return nil, "", failed(true, "wrong client secret")
	}
	return c, secret, nil
}

func basicFailure(e *Error) *Error { e.BasicChallenge = true; return e }

// clientAddrKey carries the client address the web layer worked out
// (trusted proxies included).
type clientAddrKey struct{}

// WithClientAddr tells the endpoints which address a request comes from,
// for counting failed client authentications.
func WithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, addr)
}

// clientAddr is the address WithClientAddr set, or the connection's peer.
func clientAddr(r *http.Request) string {
	if a, ok := r.Context().Value(clientAddrKey{}).(string); ok && a != "" {
		return a
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// clientLocked refuses a request whose client or address is locked until
// until, before any secret is verified.
func (a *ClientAuthenticator) clientLocked(until time.Time) *Error {
	now := a.cfg.Now()
	if !until.After(now) {
		return nil
	}
	e := errInvalidClient("too many failed client authentications; try again later")
	e.RetryAfter = until.Sub(now)
	return e
}

// clientFailed counts and audits one failed client authentication, per
// client id and per address (throttleAddr, an IPv6 client by its /64). An
// unknown id is counted as a known one is, so that its lock comes after as
// many failures: otherwise "too many failed client authentications" would
// tell a guesser which ids are registered.
func (a *ClientAuthenticator) clientFailed(ctx context.Context, id, addr, throttleAddr string, known bool, reason string) {
	t := a.cfg.ClientThrottle
	counted := id
	if len(counted) > client.MaxIDLength {
		// No client can have such an id, so its lock tells nothing; not
		// worth a row the size of the request.
		counted = ""
	}
	if err := a.throttle.RecordClientFailure(ctx, counted, throttleAddr, a.cfg.Now(), t.Window,
		t.lockFor(t.FreeFailuresPerClient), t.lockFor(t.FreeFailuresPerAddress)); err != nil {
		a.cfg.Logger.ErrorContext(ctx, "count failed client authentication", "err", err)
	}
	ev := audit.Event{Kind: audit.ClientAuthFailed, Addr: addr, Detail: reason}
	if known {
		ev.ClientID = id
	} else {
		// The id someone tried is not a registered client: keep it out of
		// the client_id column, bounded, for the operator to read.
		ev.Detail = fmt.Sprintf("%s (client_id %q)", reason, truncate(id, 64))
	}
	if err := a.cfg.Audit.Record(ctx, ev); err != nil {
		a.cfg.Logger.ErrorContext(ctx, "audit", "err", err)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
