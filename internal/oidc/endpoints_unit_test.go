package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/session"
)

// Unit tests of the endpoints relying parties call with a token in hand:
// userinfo, revocation and introspection, each built alone on the fakes of
// its own ports. The client authenticator is faked too (fakeAuth), so these
// units need no ClientStore and no throttle.

// fakeAuth authenticates every request as c.
type fakeAuth struct{ c *client.Client }

func (f fakeAuth) authenticateClient(context.Context, *http.Request, url.Values) (*client.Client, string, *Error) {
	return f.c, "", nil
}

func unitClient(t *testing.T, id string) *client.Client {
	t.Helper()
	c, err := newFakeClients(t).Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// postForm is a form POST to path.
func postForm(path string, form url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func TestUserInfo_OnAccessGrantsAndUsersOnly(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	grants, users := &fakeTokens{}, &fakeUsers{m: unitUsersMap()}
	users.m[4].Active = false
	ui := NewUserInfo(unitConfig(&now), grants, users)
	grants.addAccess("artist", session.Grant{ID: "g1", ClientID: unitWeb, UserID: 2, Scope: "openid email"}, time.Hour)
	grants.addAccess("no-openid", session.Grant{ID: "g2", ClientID: unitWeb, UserID: 2, Scope: "email"}, time.Hour)
	grants.addAccess("gone", session.Grant{ID: "g3", ClientID: unitWeb, UserID: 4, Scope: "openid"}, time.Hour)
	grants.addAccess("machine", session.Grant{ID: "g4", ClientID: unitMachine, Scope: "profile"}, time.Hour)

	tests := []struct {
		name       string
		token      string
		wantStatus int
		wantError  string
	}{
		{"the user's claims for a live token", "artist", http.StatusOK, ""},
		{"a token without openid", "no-openid", http.StatusForbidden, "insufficient_scope"},
		{"a deactivated user's token", "gone", http.StatusUnauthorized, "invalid_token"},
		{"a token without a user", "machine", http.StatusUnauthorized, "invalid_token"},
		{"an unknown token", "nope", http.StatusUnauthorized, "invalid_token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, PathUserInfo, nil)
			r.Header.Set("Authorization", "Bearer "+tc.token)
			w := httptest.NewRecorder()
			ui.UserInfoHandler().ServeHTTP(w, r)
			var body map[string]any
			_ = json.Unmarshal(w.Body.Bytes(), &body)
			if w.Code != tc.wantStatus || (tc.wantError != "" && body["error"] != tc.wantError) {
				t.Fatalf("status %d body %s, want %d %s", w.Code, w.Body, tc.wantStatus, tc.wantError)
			}
			if tc.wantStatus == http.StatusOK && (body["sub"] != Subject(2, unitWeb) || body["email"] != "luna@studio.example") {
				t.Errorf("userinfo = %v", body)
			}
		})
	}
	if !slices.Equal(users.revoked, []int64{4}) {
		t.Errorf("inactive users revoked = %v, want [4]", users.revoked)
	}
}

func TestRevocation_OnAuthenticatorAndTokenRevokerOnly(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		record      *session.TokenRecord // stored under "tok"; nil for none
		wantRevoked []string
		wantAudited int
	}{
		{"a refresh token revokes its grant", &session.TokenRecord{Kind: "refresh_token", GrantID: "g1", ClientID: unitWeb, UserID: "2"},
			[]string{"grant:g1"}, 1},
		{"an access token revokes itself", &session.TokenRecord{Kind: "access_token", GrantID: "g1", ClientID: unitWeb, UserID: "2"},
			[]string{"access:tok"}, 1},
		{"another client's token is left alone", &session.TokenRecord{Kind: "refresh_token", GrantID: "g2", ClientID: unitApp, UserID: "2"},
			nil, 0},
		{"an unknown token is answered all the same", nil, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			records := &fakeRecords{m: map[string]*session.TokenRecord{}}
			if tc.record != nil {
				records.m["tok"] = tc.record
			}
			rec := &fakeAudit{}
			cfg := unitConfig(&now)
			cfg.Audit = rec
			rv := NewRevocation(cfg, fakeAuth{unitClient(t, unitWeb)}, records)
			w := httptest.NewRecorder()
			rv.RevokeHandler().ServeHTTP(w, postForm(PathRevoke, url.Values{"token": {"tok"}}))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if !slices.Equal(records.revoked, tc.wantRevoked) {
				t.Errorf("revoked %v, want %v", records.revoked, tc.wantRevoked)
			}
			if len(rec.events) != tc.wantAudited || (tc.wantAudited > 0 && rec.events[0].Kind != audit.TokenRevoked) {
				t.Errorf("audited %+v, want %d token_revoked", rec.events, tc.wantAudited)
			}
		})
	}
	t.Run("a request without token is invalid_request", func(t *testing.T) {
		records := &fakeRecords{m: map[string]*session.TokenRecord{}}
		w := httptest.NewRecorder()
		NewRevocation(unitConfig(&now), fakeAuth{unitClient(t, unitWeb)}, records).RevokeHandler().ServeHTTP(w, postForm(PathRevoke, url.Values{}))
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "invalid_request") {
			t.Errorf("status %d body %s", w.Code, w.Body)
		}
	})
}

func TestIntrospection_OnAuthenticatorRecordsAndUsersOnly(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	live := func(kind, clientID, scope string) *session.TokenRecord {
		return &session.TokenRecord{Kind: kind, ClientID: clientID, UserID: "2", Scope: scope,
			IssuedAt: now, ExpiresAt: now.Add(time.Hour), Active: true}
	}
	records := &fakeRecords{m: map[string]*session.TokenRecord{
		"own":     live("access_token", unitWeb, "openid profile"),
		"other":   live("access_token", unitApp, "openid"),
		"expired": {Kind: "access_token", ClientID: unitWeb, UserID: "2", IssuedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour), Active: true},
	}}
	in := NewIntrospection(unitConfig(&now), fakeAuth{unitClient(t, unitWeb)}, records, &fakeUsers{m: unitUsersMap()})
	tests := []struct {
		token      string
		wantActive bool
	}{
		{"own", true},
		{"other", false}, // web is no resource server
		{"expired", false},
		{"unknown", false},
	}
	for _, tc := range tests {
		w := httptest.NewRecorder()
		in.IntrospectHandler().ServeHTTP(w, postForm(PathIntrospect, url.Values{"token": {tc.token}}))
		var ans introspection
		if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil || w.Code != http.StatusOK {
			t.Fatalf("%s: status %d body %s", tc.token, w.Code, w.Body)
		}
		if ans.Active != tc.wantActive {
			t.Errorf("%s: active %v, want %v", tc.token, ans.Active, tc.wantActive)
		}
		if tc.wantActive && (ans.Subject != Subject(2, unitWeb) || ans.Username != "luna_artist" || ans.Role != "artist" || ans.Issuer != unitIssuer) {
			t.Errorf("%s: %+v", tc.token, ans)
		}
	}
	// A public client may not introspect, whatever it asks.
	pub := NewIntrospection(unitConfig(&now), fakeAuth{unitClient(t, unitApp)}, records, &fakeUsers{m: unitUsersMap()})
	w := httptest.NewRecorder()
	pub.IntrospectHandler().ServeHTTP(w, postForm(PathIntrospect, url.Values{"token": {"own"}}))
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "invalid_client") {
		t.Errorf("a public client: status %d body %s", w.Code, w.Body)
	}
}
