package web_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/inkpass/inkpass/internal/keys"
)

// discoveryAlgs reads id_token_signing_alg_values_supported.
func (e *env) discoveryAlgs(t *testing.T) []string {
	t.Helper()
	resp, err := e.srv.Client().Get(e.issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatalf("GET discovery: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET discovery: status %d", resp.StatusCode)
	}
	var doc struct {
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("decode discovery: %v", err)
	}
	return doc.Algs
}

// TestE2E_IDTokenAlgSurvivesRotation is issue 13's first finding: rotating the
// keys to another algorithm must not change what a running relying party
// receives. The app is an RS256 relying party as oauth2-proxy is by default:
// its verifier accepts RS256 only.
func TestE2E_IDTokenAlgSurvivesRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{alg: keys.ES256})

	t.Run("discovery lists RS256 even when the only key on disk is ES256", func(t *testing.T) {
		if got := e.discoveryAlgs(t); !slices.Contains(got, "RS256") {
			t.Errorf("id_token_signing_alg_values_supported = %q, want RS256 in it (OIDC Discovery §3)", got)
		}
	})

	b := e.newBrowser(t)
	app := e.appRP(t, "openid")
	app.verifier = app.provider.Verifier(&oidc.Config{ClientID: appID, SupportedSigningAlgs: []string{oidc.RS256}})
	f := app.start(false)
	first := f.redeem(t, b.signIn(f, "front_desk", "desk-Pässwort-1").Get("code"))

	if _, err := e.keys.Rotate(keys.EdDSA); err != nil {
		t.Fatalf("Rotate(EdDSA): %v", err)
	}
	t.Run("after a rotation to EdDSA the RS256 relying party still verifies new tokens", func(t *testing.T) {
		g := app.start(false)
		tok, err := g.exchange(t, b.sso(g).Get("code"))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		raw, _ := tok.Extra("id_token").(string)
		if _, err := app.verifier.Verify(t.Context(), raw); err != nil {
			t.Errorf("the running RS256 relying party rejects the new ID token: %v (header %v)", err, jwtHeader(t, raw))
		}
		if _, err := app.verifier.Verify(t.Context(), first.raw); err != nil {
			t.Errorf("the token issued before the rotation no longer verifies: %v", err)
		}
	})
}
