package oidc

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/session"
)

// Scope narrowing on refresh (RFC 6749 §6), on fakes: a refresh may narrow
// the grant's scope, never widen it, and the ID token it mints states the
// narrowed scope's claims only.

func TestRefresh_UnitScopeNarrowing(t *testing.T) {
	const granted = "openid profile offline_access"
	tests := []struct {
		name      string
		scope     string // "" sends none
		wantScope string
		wantCode  string
		wantName  bool // the ID token carries the profile claim name
		wantIDT   bool
	}{
		{name: "no scope keeps the grant's", wantScope: granted, wantIDT: true, wantName: true},
		{name: "the same scope again", scope: "offline_access profile openid", wantScope: "offline_access profile openid", wantIDT: true, wantName: true},
		{name: "narrowed to openid: the ID token loses profile", scope: "openid", wantScope: "openid", wantIDT: true},
		{name: "unknown values are dropped, not refused", scope: "openid groups", wantScope: "openid", wantIDT: true},
		{name: "without openid there is no ID token", scope: "profile offline_access", wantScope: "profile offline_access"},
		{name: "a scope not granted is refused", scope: "openid email", wantCode: "invalid_scope"},
		{name: "a scope the client may not have is refused", scope: "openid phone", wantCode: "invalid_scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := newUnit(t)
			u.tokens.addRefresh("rt-old", session.Grant{ID: "g-1", ClientID: unitApp, UserID: 2, Scope: granted}, 24*time.Hour)
			form := url.Values{"grant_type": {"refresh_token"}, "client_id": {unitApp}, "refresh_token": {"rt-old"}}
			if tc.scope != "" {
				form.Set("scope", tc.scope)
			}
			r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, _, e := u.p.token(r)
			if tc.wantCode != "" {
				if e == nil || e.Code != tc.wantCode {
					t.Fatalf("refresh = %+v, %v; want %s", resp, e, tc.wantCode)
				}
				return
			}
			if e != nil {
				t.Fatalf("refresh refused: %v", e)
			}
			if resp.Scope != tc.wantScope {
				t.Errorf("scope = %q, want %q", resp.Scope, tc.wantScope)
			}
			if (resp.IDToken != "") != tc.wantIDT {
				t.Fatalf("ID token %q, want one: %v", resp.IDToken, tc.wantIDT)
			}
			if resp.IDToken == "" {
				return
			}
			var c map[string]any
			if err := json.Unmarshal(payloadOf(t, resp.IDToken), &c); err != nil {
				t.Fatal(err)
			}
			if _, ok := c["name"]; ok != tc.wantName || c["sub"] != Subject(2, unitApp) {
				t.Errorf("ID token claims %v: name present %v, want %v", c, ok, tc.wantName)
			}
		})
	}
}

// A refresh token answers only the client it was issued to.
func TestRefresh_UnitAnotherClientsToken(t *testing.T) {
	u := newUnit(t)
	u.tokens.addRefresh("rt-app", session.Grant{ID: "g-app", ClientID: unitApp, UserID: 2, Scope: "openid offline_access"}, time.Hour)
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt-app"}}
	r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(unitWeb, unitSecret)
	resp, _, e := u.p.token(r)
	if e == nil || e.Code != "invalid_grant" {
		t.Fatalf("refresh with another client's token = %+v, %v; want invalid_grant", resp, e)
	}
	// The answer is the one an unknown token gets: saying the token belongs
	// to another client would confirm a stolen token is live.
	if e.Description != badRefresh {
		t.Errorf("description %q, want the generic %q", e.Description, badRefresh)
	}
}
