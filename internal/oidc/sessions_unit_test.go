package oidc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/session"
)

// Unit tests of the session units, each on its own fakes: Sessions on a
// session store and the users' RevokeInactiveUser, Consents on a consent
// store, LogoutEndpoint on clients, a hint verifier, a session ender and a
// session token revoker.

func TestSessions_OnTheSessionStoreAndInactiveRevokerOnly(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	store, users := &fakeSessions{inactive: map[int64]bool{4: true}}, &fakeUsers{}
	ss := NewSessions(unitConfig(&now), store, users)

	if _, _, err := ss.StartSession(ctx, 2, nil); err == nil {
		t.Error("a session without an authentication method started")
	}
	cookie, s, err := ss.StartSession(ctx, 2, []string{"pwd", "otp", "mfa"})
	if err != nil {
		t.Fatal(err)
	}
	if !s.AuthTime.Equal(now) || !s.ExpiresAt.Equal(now.Add(time.Hour)) || !slices.Equal(s.AMR, []string{"pwd", "otp", "mfa"}) || s.SID == "" {
		t.Errorf("session %+v", s)
	}
	if _, ok := store.m[string(session.Hash(cookie))]; !ok {
		t.Error("the session is not stored under its cookie's hash")
	}
	got, err := ss.Session(ctx, cookie)
	if err != nil || got == nil || got.SID != s.SID {
		t.Fatalf("Session = %+v, %v", got, err)
	}
	for _, c := range []string{"", "unknown"} {
		if got, err := ss.Session(ctx, c); got != nil || err != nil {
			t.Errorf("Session(%q) = %+v, %v; want none", c, got, err)
		}
	}

	// A deactivated user's session is none, and what they hold is revoked.
	gone, _, _ := ss.StartSession(ctx, 4, []string{"pwd"})
	if got, err := ss.Session(ctx, gone); got != nil || err != nil {
		t.Errorf("a deactivated user's session = %+v, %v; want none", got, err)
	}
	if !slices.Equal(users.revoked, []int64{4}) {
		t.Errorf("revoked users %v, want [4]", users.revoked)
	}

	if err := ss.EndSession(ctx, cookie); err != nil || store.revoked != 1 {
		t.Fatalf("EndSession: %v, %d revoked", err, store.revoked)
	}
	if got, _ := ss.Session(ctx, cookie); got != nil {
		t.Error("an ended session is still found")
	}
}

func TestConsents_OnTheConsentStoreOnly(t *testing.T) {
	ctx := context.Background()
	store := &fakeConsents{}
	cs := NewConsents(store)
	third := &AuthRequest{ClientID: unitWeb, Scopes: []string{"openid", "email"}}
	if need, err := cs.NeedsConsent(ctx, third, 2); err != nil || !need {
		t.Fatalf("a third-party request without consent: %v, %v; want consent", need, err)
	}
	if err := cs.RecordConsent(ctx, third, 2); err != nil {
		t.Fatal(err)
	}
	if need, _ := cs.NeedsConsent(ctx, third, 2); need {
		t.Error("consent asked again after it was given")
	}
	if need, _ := cs.NeedsConsent(ctx, third, 4); !need {
		t.Error("one user's consent answered for another")
	}
	wider := &AuthRequest{ClientID: unitWeb, Scopes: []string{"openid", "email", "profile"}}
	if need, _ := cs.NeedsConsent(ctx, wider, 2); !need {
		t.Error("a wider scope did not ask again")
	}
	first := &AuthRequest{ClientID: unitApp, FirstParty: true, Scopes: []string{"openid"}}
	if need, _ := cs.NeedsConsent(ctx, first, 2); need {
		t.Error("a first-party client asked for consent")
	}
	if need, _ := cs.NeedsConsent(ctx, &AuthRequest{ClientID: unitApp, FirstParty: true, Prompt: []string{"consent"}}, 2); !need {
		t.Error("prompt=consent did not ask")
	}
}

// fakeEnder records the cookies signed out.
type fakeEnder struct{ ended []string }

func (f *fakeEnder) EndSession(_ context.Context, cookie string) error {
	f.ended = append(f.ended, cookie)
	return nil
}

func TestLogoutEndpoint_OnItsOwnPorts(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cfg := unitConfig(&now)
	ender, tokens := &fakeEnder{}, &fakeRecords{}
	le := NewLogoutEndpoint(cfg, newFakeClients(t), fakeSigner{}, ender, tokens)
	hint, err := mintIDToken(cfg, fakeSigner{}, idTokenInput{user: unitUsersMap()[2], clientID: unitWeb, scopes: []string{"openid"}, sid: "sid-1"})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		params    url.Values
		wantError bool
		wantURI   string
		proven    bool // ProvenFor the session sid-1 of user 2
	}{
		{"a hint names the client and proves the session", url.Values{"id_token_hint": {hint}}, false, "", true},
		{"a registered post-logout URI is kept", url.Values{"client_id": {unitWeb}, "post_logout_redirect_uri": {unitWebSignedOut}}, false, unitWebSignedOut, false},
		{"a redirect URI is no post-logout URI", url.Values{"client_id": {unitWeb}, "post_logout_redirect_uri": {unitWebCB}}, true, "", false},
		{"an unregistered one is refused", url.Values{"client_id": {unitWeb}, "post_logout_redirect_uri": {"https://evil.example/"}}, true, "", false},
		{"a URI without a client is refused", url.Values{"post_logout_redirect_uri": {unitWebSignedOut}}, true, "", false},
		{"a hint not signed here is refused", url.Values{"id_token_hint": {"a.b.c"}}, true, "", false},
		{"a hint for another client than client_id is refused", url.Values{"id_token_hint": {hint}, "client_id": {unitApp}}, true, "", false},
	}
	s := &session.Session{SID: "sid-1", UserID: 2}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, e := le.ParseLogout(httptest.NewRequest(http.MethodGet, PathEndSession+"?"+tc.params.Encode(), nil))
			if (e != nil) != tc.wantError {
				t.Fatalf("ParseLogout = %+v, %v; want error %v", l, e, tc.wantError)
			}
			if e != nil {
				if !e.NoRedirect {
					t.Errorf("a logout error may be redirected: %v", e)
				}
				return
			}
			if l.RedirectURI != tc.wantURI || l.ProvenFor(s) != tc.proven {
				t.Errorf("request %+v: proven %v, want URI %q proven %v", l, l.ProvenFor(s), tc.wantURI, tc.proven)
			}
		})
	}

	if err := le.Logout(context.Background(), "cookie-1", s); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tokens.revoked, []string{"session:sid-1"}) || !slices.Equal(ender.ended, []string{"cookie-1"}) {
		t.Errorf("Logout revoked %v and ended %v", tokens.revoked, ender.ended)
	}
}
