package web_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
)

// discoveryAlgs reads id_token_signing_alg_values_supported.
func discoveryAlgs(e *harness.Server, t *testing.T) []string {
	t.Helper()
	resp, err := e.HTTP.Client().Get(e.Issuer + "/.well-known/openid-configuration")
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
	e := harness.NewServer(t, harness.Options{Alg: keys.ES256})

	t.Run("discovery lists RS256 even when the only key on disk is ES256", func(t *testing.T) {
		if got := discoveryAlgs(e, t); !slices.Contains(got, "RS256") {
			t.Errorf("id_token_signing_alg_values_supported = %q, want RS256 in it (OIDC Discovery §3)", got)
		}
	})

	b := e.NewBrowser(t)
	app := e.AppRP(t, "openid")
	app.Verifier = app.Provider.Verifier(&oidc.Config{ClientID: harness.AppID, SupportedSigningAlgs: []string{oidc.RS256}})
	f := app.Start(false)
	first := f.Redeem(t, b.SignIn(f, "front_desk", "desk-Pässwort-1").Get("code"))

	if _, err := e.Keys.Rotate(keys.EdDSA); err != nil {
		t.Fatalf("Rotate(EdDSA): %v", err)
	}
	t.Run("after a rotation to EdDSA the RS256 relying party still verifies new tokens", func(t *testing.T) {
		g := app.Start(false)
		tok, err := g.Exchange(t, b.SSO(g).Get("code"))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		raw, _ := tok.Extra("id_token").(string)
		if _, err := app.Verifier.Verify(t.Context(), raw); err != nil {
			t.Errorf("the running RS256 relying party rejects the new ID token: %v (header %v)", err, harness.JWTHeader(t, raw))
		}
		if _, err := app.Verifier.Verify(t.Context(), first.Raw); err != nil {
			t.Errorf("the token issued before the rotation no longer verifies: %v", err)
		}
	})
}

// Two more first-party confidential clients, registered by
// TestE2E_IDTokenAlgPerClient with their own ID-token algorithm.
const (
	esID       = "es-app"
	esSecret   = "es-app-secret-0123456789abcdefghijklmnopqrs"
	esRedirect = "http://127.0.0.1:8124/callback"
	edID       = "ed-app"
	edSecret   = "ed-app-secret-0123456789abcdefghijklmnopqrs"
	edRedirect = "http://127.0.0.1:8125/callback"
)

// TestE2E_IDTokenAlgPerClient: an RS256, an ES256 and an EdDSA relying party
// on one server, each with go-oidc accepting its own algorithm only
// (SupportedSigningAlgs, as oauth2-proxy and Authlib pin it), all verify
// their ID tokens and at_hash; rotating keys changes kids, never algorithms.
func TestE2E_IDTokenAlgPerClient(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	for _, c := range []struct {
		id, secret, redirect string
		alg                  keys.Algorithm
	}{{esID, esSecret, esRedirect, keys.ES256}, {edID, edSecret, edRedirect, keys.EdDSA}} {
		cl := &client.Client{ID: c.id, FirstParty: true, RedirectURIs: []string{c.redirect}, IDTokenAlg: c.alg, Enabled: true}
		cl.Normalize()
		if err := cl.Validate(); err != nil {
			t.Fatal(err)
		}
		cl.SetSecret(e.Clients.HashKey(), c.secret)
		if err := e.Clients.Create(t.Context(), cl); err != nil {
			t.Fatal(err)
		}
	}
	// What serve does at start for the algorithms its clients use.
	if _, err := e.Keys.Ensure(keys.RS256, keys.ES256, keys.EdDSA); err != nil {
		t.Fatal(err)
	}

	type party struct {
		alg keys.Algorithm
		rp  *harness.RP
	}
	pin := func(p *harness.RP, id string, alg keys.Algorithm) *harness.RP {
		p.Verifier = p.Provider.Verifier(&oidc.Config{ClientID: id, SupportedSigningAlgs: []string{string(alg)}})
		return p
	}
	parties := []party{
		{keys.RS256, pin(e.AppRP(t, "openid"), harness.AppID, keys.RS256)},
		{keys.ES256, pin(e.NewRP(t, esID, esSecret, esRedirect, "openid"), esID, keys.ES256)},
		{keys.EdDSA, pin(e.NewRP(t, edID, edSecret, edRedirect, "openid"), edID, keys.EdDSA)},
	}
	b := e.NewBrowser(t)
	f := parties[0].rp.Start(false)
	q := b.SignIn(f, "front_desk", "desk-Pässwort-1")
	first := map[keys.Algorithm]*harness.SignedIn{keys.RS256: f.Redeem(t, q.Get("code"))}

	// signInAll gets a token for each party (SSO after the first) and
	// checks its header names the active key of the party's algorithm.
	// redeem has go-oidc check the signature with the pinned algorithm and
	// at_hash with that algorithm's hash (SHA-256, or SHA-512 for EdDSA).
	signInAll := func(t *testing.T, got map[keys.Algorithm]*harness.SignedIn) {
		for _, p := range parties {
			if got[p.alg] == nil {
				g := p.rp.Start(false)
				got[p.alg] = g.Redeem(t, b.SSO(g).Get("code"))
			}
			active, ok := e.Keys.ActiveFor(p.alg)
			if h := harness.JWTHeader(t, got[p.alg].Raw); !ok || h["alg"] != string(p.alg) || h["kid"] != active.KID {
				t.Errorf("%s client: JOSE header %v, want alg %s and kid %s", p.alg, h, p.alg, active.KID)
			}
		}
	}
	t.Run("each relying party receives and verifies its own algorithm", func(t *testing.T) {
		signInAll(t, first)
		if _, err := parties[1].rp.Verifier.Verify(t.Context(), first[keys.RS256].Raw); err == nil {
			t.Error("the ES256-only verifier accepted an RS256 token: the pinned verifiers prove nothing")
		}
	})

	t.Run("discovery lists RS256 first and every algorithm; the JWKS has a key of each", func(t *testing.T) {
		if got, want := discoveryAlgs(e, t), []string{"RS256", "ES256", "EdDSA"}; !slices.Equal(got, want) {
			t.Errorf("id_token_signing_alg_values_supported = %q, want %q", got, want)
		}
		var want []string
		for _, k := range e.Keys.ActiveKeys() {
			want = append(want, k.KID)
		}
		if got := e.JWKSKIDs(t); !slices.Equal(got, sortedStrings(want...)) {
			t.Errorf("JWKS kids = %q, want the three active keys %q", got, want)
		}
	})

	before := e.Keys.ActiveKeys()
	if _, err := e.Keys.RotateAll(); err != nil { // `inkpass keys rotate`
		t.Fatalf("RotateAll: %v", err)
	}
	t.Run("after rotating every key each client keeps its algorithm with a new kid", func(t *testing.T) {
		after := map[keys.Algorithm]*harness.SignedIn{}
		signInAll(t, after)
		for _, old := range before {
			if kid := harness.JWTHeader(t, after[old.Algorithm].Raw)["kid"]; kid == old.KID {
				t.Errorf("%s client still signed by the retired key %s", old.Algorithm, old.KID)
			}
		}
		if got := len(e.JWKSKIDs(t)); got != 6 {
			t.Errorf("JWKS has %d keys, want 6 (three active, three retired but published)", got)
		}
	})
	t.Run("tokens signed before the rotation verify with freshly discovered providers", func(t *testing.T) {
		for _, p := range parties {
			fresh := e.NewRP(t, p.rp.Conf.ClientID, p.rp.Conf.ClientSecret, p.rp.Conf.RedirectURL)
			pin(fresh, p.rp.Conf.ClientID, p.alg)
			if _, err := fresh.Verifier.Verify(t.Context(), first[p.alg].Raw); err != nil {
				t.Errorf("%s token from before the rotation: %v", p.alg, err)
			}
		}
	})

	rs, _ := e.Keys.ActiveFor(keys.RS256)
	es, _ := e.Keys.ActiveFor(keys.ES256)
	if _, err := e.Keys.Rotate(keys.EdDSA); err != nil { // `inkpass keys rotate --alg EdDSA`
		t.Fatalf("Rotate(EdDSA): %v", err)
	}
	t.Run("rotating EdDSA alone leaves the RS256 and ES256 clients' keys as they were", func(t *testing.T) {
		got := map[keys.Algorithm]*harness.SignedIn{}
		signInAll(t, got)
		if kid := harness.JWTHeader(t, got[keys.RS256].Raw)["kid"]; kid != rs.KID {
			t.Errorf("RS256 kid = %v, want unchanged %s", kid, rs.KID)
		}
		if kid := harness.JWTHeader(t, got[keys.ES256].Raw)["kid"]; kid != es.KID {
			t.Errorf("ES256 kid = %v, want unchanged %s", kid, es.KID)
		}
	})
}
