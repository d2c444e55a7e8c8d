package oidc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
)

// Unit tests of client authentication at the token endpoint (RFC 6749 §2.3,
// OIDC Core §9) on fakes: the method rules, the pinned method, public
// clients, disabled clients and the failure throttle. Secrets are HMACs, so
// nothing here is slow.

const unitAddr = "192.0.2.1" // httptest's RemoteAddr host

func TestAuthenticateClient_Unit(t *testing.T) {
	tests := []struct {
		name      string
		basic     []string // id, secret as sent in the header (already encoded)
		form      url.Values
		lock      string // a client id or address locked for a minute
		wantID    string // the client authenticated, "" when refused
		wantCode  string
		challenge bool // WWW-Authenticate: Basic
		counted   int  // failures counted by the throttle
	}{
		{name: "basic", basic: []string{unitWeb, unitSecret}, wantID: unitWeb},
		{name: "post, when the method is not pinned", form: url.Values{"client_id": {unitWeb}, "client_secret": {unitSecret}}, wantID: unitWeb},
		{name: "basic with a matching client_id in the body", basic: []string{unitWeb, unitSecret}, form: url.Values{"client_id": {unitWeb}}, wantID: unitWeb},
		{name: "basic with form-encoded parts", basic: []string{url.QueryEscape(unitWeb), url.QueryEscape(unitSecret)}, wantID: unitWeb},
		{name: "basic that is not form-encoded", basic: []string{unitWeb, "%zz"}, wantCode: "invalid_client", challenge: true},
		{name: "basic and a body secret at once", basic: []string{unitWeb, unitSecret}, form: url.Values{"client_secret": {unitSecret}}, wantCode: "invalid_request"},
		{name: "basic naming another client in the body", basic: []string{unitWeb, unitSecret}, form: url.Values{"client_id": {unitPinned}},
			wantCode: "invalid_client", challenge: true},
		{name: "the pinned method", form: url.Values{"client_id": {unitPinned}, "client_secret": {unitSecret}}, wantID: unitPinned},
		{name: "the other method than the pinned one", basic: []string{unitPinned, unitSecret}, wantCode: "invalid_client", challenge: true, counted: 1},
		{name: "a wrong secret", basic: []string{unitWeb, "wrong"}, wantCode: "invalid_client", challenge: true, counted: 1},
		{name: "a wrong secret in the body", form: url.Values{"client_id": {unitWeb}, "client_secret": {"wrong"}}, wantCode: "invalid_client", counted: 1},
		{name: "an unknown client with a secret", basic: []string{"nobody", unitSecret}, wantCode: "invalid_client", challenge: true, counted: 1},
		{name: "a disabled client with its right secret", basic: []string{unitOff, unitSecret}, wantCode: "invalid_client", challenge: true, counted: 1},
		{name: "a public client with none", form: url.Values{"client_id": {unitApp}}, wantID: unitApp},
		{name: "a public client sending a secret", form: url.Values{"client_id": {unitApp}, "client_secret": {"x"}}, wantCode: "invalid_client", counted: 1},
		{name: "a confidential client without its secret is refused, not counted", form: url.Values{"client_id": {unitWeb}}, wantCode: "invalid_client"},
		{name: "no client at all", wantCode: "invalid_client"},
		{name: "a locked client, even with the right secret", basic: []string{unitWeb, unitSecret}, lock: unitWeb, wantCode: "invalid_client", challenge: true},
		{name: "a locked address, for any client", form: url.Values{"client_id": {unitPinned}, "client_secret": {unitSecret}}, lock: unitAddr, wantCode: "invalid_client"},
		{name: "a lock does not stop a public client, which presents no secret", form: url.Values{"client_id": {unitApp}}, lock: unitAddr, wantID: unitApp},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The authenticator alone, on its two ports.
			now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			clients, throttle := newFakeClients(t), &fakeThrottle{}
			auth := NewClientAuthenticator(unitConfig(&now), clients, throttle)
			if tc.lock != "" {
				clients.locks[tc.lock] = now.Add(time.Minute)
			}
			form := tc.form
			if form == nil {
				form = url.Values{}
			}
			r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.basic != nil {
				r.SetBasicAuth(tc.basic[0], tc.basic[1])
			}
			c, _, e := auth.authenticateClient(context.Background(), r, form)
			switch {
			case tc.wantID != "" && e != nil:
				t.Fatalf("refused: %v", e)
			case tc.wantID != "" && c.ID != tc.wantID:
				t.Fatalf("authenticated %s, want %s", c.ID, tc.wantID)
			case tc.wantID == "" && e == nil:
				t.Fatalf("authenticated %s, want %s", c.ID, tc.wantCode)
			case e != nil && (e.Code != tc.wantCode || e.BasicChallenge != tc.challenge):
				t.Fatalf("error %v (Basic challenge %v), want %s (%v)", e, e.BasicChallenge, tc.wantCode, tc.challenge)
			}
			if tc.lock != "" && e != nil && (e.RetryAfter != time.Minute) {
				t.Errorf("a locked request says Retry-After %v, want the lock's minute", e.RetryAfter)
			}
			if got := throttle.count(); got != tc.counted {
				t.Errorf("failures counted = %d (%v), want %d", got, throttle.failures, tc.counted)
			}
		})
	}
}

// An unknown client's failure is counted as a known one's is, under its
// id and the address, so its lock tells nothing about which ids exist.
func TestAuthenticateClient_UnitUnknownClientIsCountedLikeAKnownOne(t *testing.T) {
	u := newUnit(t)
	r := httptest.NewRequest(http.MethodPost, "/token", nil)
	r.SetBasicAuth("invented", "guess")
	if _, _, e := u.p.TokenEndpoint.auth.authenticateClient(context.Background(), r, url.Values{}); e == nil {
		t.Fatal("an unknown client authenticated")
	}
	r = httptest.NewRequest(http.MethodPost, "/token", nil)
	r.SetBasicAuth(unitWeb, "guess")
	if _, _, e := u.p.TokenEndpoint.auth.authenticateClient(context.Background(), r, url.Values{}); e == nil {
		t.Fatal("a wrong secret authenticated")
	}
	// Counted alike, an unknown id locks after as many failures as a real
	// one: the lock does not tell a guesser which ids are registered.
	want := []string{"invented@" + unitAddr, unitWeb + "@" + unitAddr}
	if strings.Join(u.throttle.failures, " ") != strings.Join(want, " ") {
		t.Errorf("failures = %v, want %v", u.throttle.failures, want)
	}
}

// The client throttle's back-off: the free failures lock nothing, then each
// failure doubles the lock from BaseLock up to MaxLock.
func TestClientThrottle_UnitLockFor(t *testing.T) {
	lock := DefaultClientThrottle().withDefaults().lockFor(5)
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{
		{1, 0}, {5, 0}, {6, 2 * time.Second}, {7, 4 * time.Second}, {8, 8 * time.Second},
		{14, 512 * time.Second}, {15, 15 * time.Minute}, {1000, 15 * time.Minute},
	} {
		if got := lock(tc.failures); got != tc.want {
			t.Errorf("lockFor(5)(%d) = %v, want %v", tc.failures, got, tc.want)
		}
	}
}

// An IPv6 client is throttled by its /64, as at the login form: picking
// another address inside it must not start a fresh count. The audit keeps
// the address as it came.
func TestAuthenticateClient_UnitIPv6CountedBy64(t *testing.T) {
	u := newUnit(t)
	for _, addr := range []string{"2001:db8:0:42::1", "2001:db8:0:42:ffff::9"} {
		r := httptest.NewRequest(http.MethodPost, "/token", nil)
		r = r.WithContext(WithClientAddr(r.Context(), addr))
		r.SetBasicAuth(unitWeb, "guess")
		if _, _, e := u.p.TokenEndpoint.auth.authenticateClient(r.Context(), r, url.Values{}); e == nil {
			t.Fatal("a wrong secret authenticated")
		}
	}
	want := unitWeb + "@2001:db8:0:42::/64"
	if len(u.throttle.failures) != 2 || u.throttle.failures[0] != want || u.throttle.failures[1] != want {
		t.Errorf("failures = %v, want both counted as %s", u.throttle.failures, want)
	}
}

// TestClientAuthenticator_AuditsEachFailure builds the authenticator on its
// own ports (clients, throttle, an audit recorder) and checks what it audits:
// a known client's failure under its id, an unknown id only inside the
// detail, never in the client_id column; a success audits nothing.
func TestClientAuthenticator_AuditsEachFailure(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rec := &fakeAudit{}
	cfg := unitConfig(&now)
	cfg.Audit = rec
	auth := NewClientAuthenticator(cfg, newFakeClients(t), &fakeThrottle{})
	for _, basic := range [][2]string{{unitWeb, unitSecret}, {unitWeb, "wrong"}, {"invented", "guess"}} {
		r := httptest.NewRequest(http.MethodPost, "/token", nil)
		r.SetBasicAuth(basic[0], basic[1])
		auth.authenticateClient(r.Context(), r, url.Values{})
	}
	if len(rec.events) != 2 {
		t.Fatalf("audited %d events, want the 2 failures: %+v", len(rec.events), rec.events)
	}
	known, unknown := rec.events[0], rec.events[1]
	if known.Kind != audit.ClientAuthFailed || known.ClientID != unitWeb || known.Detail != "wrong client secret" || known.Addr != unitAddr {
		t.Errorf("a known client's failure audited as %+v", known)
	}
	if unknown.ClientID != "" || !strings.Contains(unknown.Detail, `"invented"`) {
		t.Errorf("an unknown id's failure audited as %+v", unknown)
	}
}
