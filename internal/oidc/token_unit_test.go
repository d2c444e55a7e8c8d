package oidc

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/session"
)

// Unit tests of the token endpoint and of its grants, each built on its own
// ports: a grant holds only its part of GrantStore, the users and a minter;
// the endpoint a client authenticator and the grants.

// TestTokenEndpoint_DispatchesOnGrantType builds the endpoint on a fake
// authenticator and fake stores: no ClientStore, no throttle.
func TestTokenEndpoint_DispatchesOnGrantType(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		client     string
		grantType  string
		wantStatus int
		wantError  string
		wantIssued int
	}{
		{"client_credentials goes to its grant", unitMachine, client.GrantClientCredentials, http.StatusOK, "", 1},
		{"a grant the client may not use", unitMachine, client.GrantAuthorizationCode, http.StatusBadRequest, "unauthorized_client", 0},
		{"a grant inkpass does not implement", unitWeb, "password", http.StatusBadRequest, "unsupported_grant_type", 0},
		{"no grant_type", unitWeb, "", http.StatusBadRequest, "invalid_request", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store, metrics := &fakeCodes{}, &fakeMetrics{}
			cfg := unitConfig(&now)
			cfg.Metrics = metrics
			grants := struct {
				*fakeCodes
				refreshRotator
			}{store, &fakeTokens{}}
			te := NewTokenEndpoint(cfg, fakeAuth{unitClient(t, tc.client)}, grants, &fakeUsers{m: unitUsersMap()}, fakeSigner{})
			w := httptest.NewRecorder()
			te.TokenHandler().ServeHTTP(w, postForm(PathToken, url.Values{"grant_type": {tc.grantType}, "scope": {"profile"}}))
			var body map[string]any
			_ = json.Unmarshal(w.Body.Bytes(), &body)
			if w.Code != tc.wantStatus || (tc.wantError != "" && body["error"] != tc.wantError) {
				t.Fatalf("status %d body %s, want %d %s", w.Code, w.Body, tc.wantStatus, tc.wantError)
			}
			if len(store.issued) != tc.wantIssued || metrics.n[tc.grantType] != tc.wantIssued {
				t.Errorf("issued %d, counted %v; want %d", len(store.issued), metrics.n, tc.wantIssued)
			}
			if tc.wantIssued > 0 && (body["access_token"] != store.issued[0].Access || body["scope"] != "profile" || body["id_token"] != nil) {
				t.Errorf("response %v for issuance %+v", body, store.issued[0])
			}
		})
	}
}

// TestCodeGrant_OnItsOwnPorts redeems codes through the code grant alone:
// a code redeemer, the users and a minter, on fakes.
func TestCodeGrant_OnItsOwnPorts(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cfg := unitConfig(&now)
	store, users := &fakeCodes{}, &fakeUsers{m: unitUsersMap()}
	g := newCodeGrant(cfg, store, users, newTokenMinter(cfg, users, fakeSigner{}, store))
	app := unitClient(t, unitApp)

	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	code, err := issueCode(context.Background(), cfg, store, session.CodeGrant{
		Grant: session.Grant{ID: "g-1", ClientID: unitApp, UserID: 2, SID: "sid-1", Scope: "openid profile offline_access", RedirectURI: unitAppCB,
			Extension: url.Values{extSID: {"sid-1"}, extNonce: {"n-1"}, extAuthTime: {"1772366400"}}},
		Challenge: base64.RawURLEncoding.EncodeToString(sum[:]), ChallengeMethod: pkceMethodS256,
	})
	if err != nil {
		t.Fatal(err)
	}
	exchange := func(v string) (*tokenResponse, *Error) {
		return g.exchange(context.Background(), app, url.Values{"code": {code}, "redirect_uri": {unitAppCB}, "code_verifier": {v}})
	}

	// A wrong verifier is refused and leaves the code for its holder.
	if _, e := exchange(strings.Repeat("w", 43)); e == nil || e.Code != "invalid_grant" {
		t.Fatalf("wrong verifier: %v, want invalid_grant", e)
	}
	resp, e := exchange(verifier)
	if e != nil {
		t.Fatalf("exchange: %v", e)
	}
	if resp.RefreshToken == "" || resp.IDToken == "" || len(store.issued) != 1 || store.issued[0].Access != resp.AccessToken {
		t.Fatalf("response %+v, issued %+v", resp, store.issued)
	}
	var idt map[string]any
	if err := json.Unmarshal(payloadOf(t, resp.IDToken), &idt); err != nil {
		t.Fatal(err)
	}
	if idt["nonce"] != "n-1" || idt["sub"] != Subject(2, unitApp) || idt["sid"] != "sid-1" || idt["at_hash"] == nil {
		t.Errorf("ID token %v", idt)
	}
	// The code again is a replay: refused, and the grant revoked.
	if _, e := exchange(verifier); e == nil || e.Code != "invalid_grant" {
		t.Fatalf("replay: %v, want invalid_grant", e)
	}
	if !slices.Equal(store.revoked, []string{"g-1"}) {
		t.Errorf("revoked grants %v, want [g-1]", store.revoked)
	}
}

// TestRefreshGrant_OnItsOwnPorts rotates a refresh token through the refresh
// grant alone: a refresh rotator, the users and a minter.
func TestRefreshGrant_OnItsOwnPorts(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cfg := unitConfig(&now)
	store, users, revoker := &fakeTokens{}, &fakeUsers{m: unitUsersMap()}, &fakeCodes{}
	g := newRefreshGrant(cfg, store, users, newTokenMinter(cfg, users, fakeSigner{}, revoker))
	store.addRefresh("rt-1", session.Grant{ID: "g-1", ClientID: unitApp, UserID: 2, Scope: "openid offline_access"}, time.Hour)

	resp, e := g.exchange(context.Background(), unitClient(t, unitApp), url.Values{"refresh_token": {"rt-1"}})
	if e != nil {
		t.Fatalf("refresh: %v", e)
	}
	if len(store.rotated) != 1 || store.rotated[0].Refresh != resp.RefreshToken || resp.RefreshToken == "" || resp.IDToken == "" {
		t.Fatalf("response %+v, rotated %+v", resp, store.rotated)
	}
	// The rotated token is gone; the fake store calls it unknown.
	if _, e := g.exchange(context.Background(), unitClient(t, unitApp), url.Values{"refresh_token": {"rt-1"}}); e == nil || e.Code != "invalid_grant" {
		t.Errorf("the rotated token again: %v, want invalid_grant", e)
	}
}
