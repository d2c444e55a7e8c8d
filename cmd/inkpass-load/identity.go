package main

import (
	"context"
	"encoding/binary"
	"net/http"
	"net/netip"
	"strconv"
)

// userPool lends each login a username that no other login holds. The
// server checks one password per username at a time and answers a second
// concurrent attempt with 429, so two simultaneous logins as one user would
// measure the throttle, not the login. When there are fewer users than
// logins at once, a login waits here for a free user, and that wait is part
// of its latency.
type userPool struct{ free chan string }

func newUserPool(base string, n int) *userPool {
	p := &userPool{free: make(chan string, n)}
	for _, u := range usernames(base, n) {
		p.free <- u
	}
	return p
}

// usernames are the -users names: base alone for one user, else base1…baseN
// (scripts/load.sh creates the same).
func usernames(base string, n int) []string {
	if n <= 1 {
		return []string{base}
	}
	out := make([]string, n)
	for i := range out {
		out[i] = base + strconv.Itoa(i+1)
	}
	return out
}

func (p *userPool) take(ctx context.Context) (string, error) {
	select {
	case u := <-p.free:
		return u, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (p *userPool) put(u string) { p.free <- u }

// browserAddr is the address worker i's browsers claim in X-Forwarded-For:
// the i+1th of -client-addrs, so that no two workers share one and the
// server's per-address limits (at most 8 sign-ins running or waiting, failure
// counts, pending sign-ins) see each worker as its own client. Empty without
// -client-addrs. The header is only data: every connection still goes to
// -url.
func browserAddr(prefix netip.Prefix, i int) string {
	if !prefix.IsValid() {
		return ""
	}
	b := prefix.Addr().As4()
	binary.BigEndian.PutUint32(b[:], binary.BigEndian.Uint32(b[:])+uint32(i)+1)
	return netip.AddrFrom4(b).String()
}

// forwardedFor sets X-Forwarded-For on every request of one browser, as a
// reverse proxy in front of inkpass would.
type forwardedFor struct {
	base http.RoundTripper
	addr string
}

func (f forwardedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.addr)
	return f.base.RoundTrip(r)
}
