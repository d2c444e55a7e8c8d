package oidc

import (
	"context"
	"fmt"
	"net"
	"net/http"
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
func (p *Provider) clientLocked(until time.Time) *Error {
	now := p.cfg.Now()
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
func (p *Provider) clientFailed(ctx context.Context, id, addr, throttleAddr string, known bool, reason string) {
	t := p.cfg.ClientThrottle
	counted := id
	if len(counted) > client.MaxIDLength {
		// No client can have such an id, so its lock tells nothing; not
		// worth a row the size of the request.
		counted = ""
	}
	if err := p.throttle.RecordClientFailure(ctx, counted, throttleAddr, p.cfg.Now(), t.Window,
		t.lockFor(t.FreeFailuresPerClient), t.lockFor(t.FreeFailuresPerAddress)); err != nil {
		p.log.ErrorContext(ctx, "count failed client authentication", "err", err)
	}
	ev := audit.Event{Kind: audit.ClientAuthFailed, Addr: addr, Detail: reason}
	if known {
		ev.ClientID = id
	} else {
		// The id someone tried is not a registered client: keep it out of
		// the client_id column, bounded, for the operator to read.
		ev.Detail = fmt.Sprintf("%s (client_id %q)", reason, truncate(id, 64))
	}
	if err := p.audit.Record(ctx, ev); err != nil {
		p.log.ErrorContext(ctx, "audit", "err", err)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
