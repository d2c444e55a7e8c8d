package harness

import (
	"crypto/rand"
	"encoding/base64"
	"reflect"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// RP is one relying party: go-oidc's provider and verifier plus an
// x/oauth2 config, as a studio app would set them up.
type RP struct {
	Provider *oidc.Provider
	Verifier *oidc.IDTokenVerifier
	Conf     oauth2.Config
}

// NewRP discovers the issuer afresh (a new remote key set every time) and
// configures one client.
func (e *Server) NewRP(t *testing.T, clientID, secret, redirect string, scopes ...string) *RP {
	t.Helper()
	provider, err := oidc.NewProvider(t.Context(), e.Issuer)
	if err != nil {
		t.Fatalf("oidc.NewProvider(%s): %v", e.Issuer, err)
	}
	ep := provider.Endpoint()
	switch clientID {
	case ToolID, SPAID:
		ep.AuthStyle = oauth2.AuthStyleInParams
	default:
		ep.AuthStyle = oauth2.AuthStyleInHeader
	}
	return &RP{
		Provider: provider,
		Verifier: provider.Verifier(&oidc.Config{ClientID: clientID}),
		Conf: oauth2.Config{
			ClientID: clientID, ClientSecret: secret, Endpoint: ep,
			RedirectURL: redirect, Scopes: scopes,
		},
	}
}

func (e *Server) AppRP(t *testing.T, scopes ...string) *RP {
	return e.NewRP(t, AppID, AppSecret, AppRedirect, scopes...)
}

func (e *Server) ToolRP(t *testing.T, scopes ...string) *RP {
	return e.NewRP(t, ToolID, ToolSecret, ToolRedirect, scopes...)
}

func (e *Server) SPARP(t *testing.T, scopes ...string) *RP {
	return e.NewRP(t, SPAID, "", SPARedirect, scopes...)
}

// Flow is one authorization request as the relying party remembers it.
type Flow struct {
	rp       *RP
	State    string
	nonce    string
	Verifier string // PKCE; empty when the flow sends no challenge
	URL      string
}

// Start builds the authorization URL with state, nonce and, when pkce is set,
// an S256 challenge. extra are added to the URL.
func (p *RP) Start(pkce bool, extra ...oauth2.AuthCodeOption) *Flow {
	f := &Flow{rp: p, State: randomString(), nonce: randomString()}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(f.nonce)}
	if pkce {
		f.Verifier = oauth2.GenerateVerifier()
		opts = append(opts, oauth2.S256ChallengeOption(f.Verifier))
	}
	f.URL = p.Conf.AuthCodeURL(f.State, append(opts, extra...)...)
	return f
}

func randomString() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Exchange redeems code; with the flow's PKCE verifier when it has one.
func (f *Flow) Exchange(t *testing.T, code string, opts ...oauth2.AuthCodeOption) (*oauth2.Token, error) {
	t.Helper()
	if f.Verifier != "" {
		opts = append([]oauth2.AuthCodeOption{oauth2.VerifierOption(f.Verifier)}, opts...)
	}
	return f.rp.Conf.Exchange(t.Context(), code, opts...)
}

// SignedIn is what a successful exchange gives a relying party, verified the
// way the STYLE guide asks: signature and claims by go-oidc, nonce and at_hash
// by us.
type SignedIn struct {
	Token   *oauth2.Token
	Raw     string
	IDToken *oidc.IDToken
	Claims  map[string]any
}

// Redeem exchanges code and verifies everything the relying party must.
func (f *Flow) Redeem(t *testing.T, code string) *SignedIn {
	t.Helper()
	tok, err := f.Exchange(t, code)
	if err != nil {
		t.Fatalf("exchange code: %v", err)
	}
	s := VerifyTokenResponse(t, f.rp, tok)
	if s.IDToken.Nonce != f.nonce {
		t.Fatalf("ID token nonce = %q, want %q", s.IDToken.Nonce, f.nonce)
	}
	return s
}

// VerifyTokenResponse checks the ID token of a token response: signature,
// issuer, audience, expiry (go-oidc), at_hash, and that no claim is an empty
// string.
func VerifyTokenResponse(t *testing.T, p *RP, tok *oauth2.Token) *SignedIn {
	t.Helper()
	if tok.AccessToken == "" {
		t.Fatal("token response has no access_token")
	}
	if !strings.EqualFold(tok.TokenType, "Bearer") {
		t.Errorf("token_type = %q, want Bearer", tok.TokenType)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatal("token response has no id_token")
	}
	idt, err := p.Verifier.Verify(t.Context(), raw)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if idt.AccessTokenHash == "" {
		t.Fatal("ID token has no at_hash")
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Fatalf("at_hash does not match the access token: %v", err)
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		t.Fatalf("ID token claims: %v", err)
	}
	noEmptyStrings(t, "ID token", claims)
	return &SignedIn{Token: tok, Raw: raw, IDToken: idt, Claims: claims}
}

// noEmptyStrings fails for a claim sent as "" (absent values must be left out).
func noEmptyStrings(t *testing.T, where string, claims map[string]any) {
	t.Helper()
	for k, v := range claims {
		if s, ok := v.(string); ok && s == "" {
			t.Errorf("%s claim %q is an empty string; absent values must be left out", where, k)
		}
	}
}

// CheckClaims compares the claims named in want and asserts that every name in
// absent is missing. JSON numbers are float64.
func CheckClaims(t *testing.T, where string, got map[string]any, want map[string]any, absent []string) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s: claim %q missing, want %#v", where, k, w)
			continue
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: claim %q = %#v, want %#v", where, k, g, w)
		}
	}
	for _, k := range absent {
		if v, ok := got[k]; ok {
			t.Errorf("%s: claim %q = %#v, want it absent", where, k, v)
		}
	}
}
