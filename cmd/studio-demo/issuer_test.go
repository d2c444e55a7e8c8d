package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// testKey is generated once: RSA key generation is the slow part of setup.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// issuerOptions shape what the test issuer advertises.
type issuerOptions struct {
	endSession bool // advertise end_session_endpoint
	issParam   bool // advertise authorization_response_iss_parameter_supported
}

// testIssuer is not an OP: it has no /authorize and no login. It serves the
// documents and endpoints the demo calls on its own (discovery, JWKS, token,
// userinfo) with a real RS256 key, so that go-oidc verifies real
// signatures. Tests play the authorization step themselves: they read the
// demo's authorization request and grant a code with issueCode.
type testIssuer struct {
	srv   *httptest.Server
	opts  issuerOptions
	kid   string
	signr jose.Signer

	mu          sync.Mutex
	grants      map[string]testGrant      // by code
	userInfo    map[string]map[string]any // by access token
	tokenCalls  int
	lastIDToken string
}

// testGrant is what a code stands for.
type testGrant struct {
	clientID      string
	redirectURI   string
	challenge     string
	idTokenClaims map[string]any // without iss, aud, exp, iat, at_hash
	userInfo      map[string]any // nil: userinfo answers 401
}

func newTestIssuer(t *testing.T, opts issuerOptions) *testIssuer {
	t.Helper()
	iss := &testIssuer{
		opts:     opts,
		kid:      "test-key-1",
		grants:   map[string]testGrant{},
		userInfo: map[string]map[string]any{},
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: testKey(), KeyID: iss.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatalf("new signer: %v", err)
	}
	iss.signr = signer

	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", iss.discovery)
	mux.HandleFunc("GET /jwks", iss.jwks)
	mux.HandleFunc("POST /token", iss.token)
	mux.HandleFunc("GET /userinfo", iss.userinfo)
	iss.srv = httptest.NewServer(mux)
	t.Cleanup(iss.srv.Close)
	return iss
}

func (iss *testIssuer) url() string { return iss.srv.URL }

func (iss *testIssuer) discovery(w http.ResponseWriter, r *http.Request) {
	base := iss.srv.URL
	doc := map[string]any{
		"issuer":                                base,
		"authorization_endpoint":                base + "/authorize",
		"token_endpoint":                        base + "/token",
		"userinfo_endpoint":                     base + "/userinfo",
		"jwks_uri":                              base + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"none", "client_secret_basic"},
	}
	if iss.opts.endSession {
		doc["end_session_endpoint"] = base + "/logout?ui_locales=en"
	}
	if iss.opts.issParam {
		doc["authorization_response_iss_parameter_supported"] = true
	}
	writeJSON(w, http.StatusOK, doc)
}

func (iss *testIssuer) jwks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &testKey().PublicKey, KeyID: iss.kid, Algorithm: string(jose.RS256), Use: "sig",
	}}})
}

// token redeems a code the way inkpass does for a public client: client_id
// in the body, no secret, exact redirect_uri, PKCE S256 (RFC 7636 §4.6).
func (iss *testIssuer) token(w http.ResponseWriter, r *http.Request) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.tokenCalls++
	fail := func(code string) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": code})
	}
	if err := r.ParseForm(); err != nil {
		fail("invalid_request")
		return
	}
	if _, _, basic := r.BasicAuth(); basic {
		fail("invalid_client") // a public client has nothing to send
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		fail("unsupported_grant_type")
		return
	}
	g, ok := iss.grants[r.PostForm.Get("code")]
	delete(iss.grants, r.PostForm.Get("code"))
	if !ok {
		fail("invalid_grant")
		return
	}
	if r.PostForm.Get("client_id") != g.clientID {
		fail("invalid_client")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if r.PostForm.Get("redirect_uri") != g.redirectURI || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		fail("invalid_grant")
		return
	}

	accessToken := rand.Text()
	atSum := sha256.Sum256([]byte(accessToken))
	now := time.Now()
	claims := maps.Clone(g.idTokenClaims)
	maps.Copy(claims, map[string]any{
		"iss":     iss.srv.URL,
		"aud":     g.clientID,
		"iat":     now.Unix(),
		"exp":     now.Add(5 * time.Minute).Unix(),
		"at_hash": base64.RawURLEncoding.EncodeToString(atSum[:16]),
	})
	payload, _ := json.Marshal(claims)
	jws, err := iss.signr.Sign(payload)
	if err != nil {
		fail("server_error")
		return
	}
	idToken, _ := jws.CompactSerialize()
	iss.lastIDToken = idToken
	if g.userInfo != nil {
		iss.userInfo[accessToken] = g.userInfo
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": accessToken,
		"token_type":   "Bearer",
		"expires_in":   300,
		"id_token":     idToken,
	})
}

func (iss *testIssuer) userinfo(w http.ResponseWriter, r *http.Request) {
	iss.mu.Lock()
	claims, ok := iss.userInfo[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	iss.mu.Unlock()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	writeJSON(w, http.StatusOK, claims)
}

// issueCode plays the authorization step for the request the demo sent: it
// records a code for the request's client, redirect URI and PKCE challenge.
// The ID token carries the request's nonce unless idTokenClaims sets one.
func (iss *testIssuer) issueCode(t *testing.T, authReq url.Values, idTokenClaims, userInfo map[string]any) string {
	t.Helper()
	claims := maps.Clone(idTokenClaims)
	if _, set := claims["nonce"]; !set {
		claims["nonce"] = authReq.Get("nonce")
	}
	code := rand.Text()
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.grants[code] = testGrant{
		clientID:      authReq.Get("client_id"),
		redirectURI:   authReq.Get("redirect_uri"),
		challenge:     authReq.Get("code_challenge"),
		idTokenClaims: claims,
		userInfo:      userInfo,
	}
	return code
}

func (iss *testIssuer) stats() (tokenCalls int, lastIDToken string) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.tokenCalls, iss.lastIDToken
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
