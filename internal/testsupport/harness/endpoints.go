package harness

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TokenResponse is a raw answer of the token endpoint.
type TokenResponse struct {
	Status int
	Header http.Header
	Body   map[string]any
}

func (r *TokenResponse) Str(k string) string { s, _ := r.Body[k].(string); return s }

// PostToken sends a token request by hand, for what x/oauth2 cannot express
// (a refresh with a narrower scope, say). basic is client_id and secret for
// HTTP Basic, or nil.
func (e *Server) PostToken(t *testing.T, form url.Values, basic ...string) *TokenResponse {
	t.Helper()
	r := e.Post(t, "/token", form, basic...)
	if r.Body == nil {
		t.Fatalf("POST /token: status %d, empty body", r.Status)
	}
	WantNoStore(t, r.Header)
	return &TokenResponse{Status: r.Status, Header: r.Header, Body: r.Body}
}

// Refresh uses x/oauth2's own refresh path, as a relying party would.
func (p *RP) Refresh(t *testing.T, refreshToken string) (*oauth2.Token, error) {
	t.Helper()
	return p.Conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
}

// UserinfoResult is an answer of /userinfo.
type UserinfoResult struct {
	Status int
	Header http.Header
	Claims map[string]any
}

// Userinfo calls /userinfo with the token in the Authorization header (GET) or
// in a form body (POST).
func (e *Server) Userinfo(t *testing.T, method, accessToken string) *UserinfoResult {
	t.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(url.Values{"access_token": {accessToken}}.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, e.Issuer+"/userinfo", body)
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	resp, err := e.HTTP.Client().Do(req)
	if err != nil {
		t.Fatalf("%s /userinfo: %v", method, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := &UserinfoResult{Status: resp.StatusCode, Header: resp.Header}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &out.Claims); err != nil {
			t.Fatalf("%s /userinfo: body is not JSON: %v\n%s", method, err, raw)
		}
		noEmptyStrings(t, "userinfo", out.Claims)
	}
	return out
}

// WantUserinfoOK returns the claims of a successful GET /userinfo.
func (e *Server) WantUserinfoOK(t *testing.T, accessToken string) map[string]any {
	t.Helper()
	r := e.Userinfo(t, http.MethodGet, accessToken)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /userinfo: status %d, want 200; WWW-Authenticate %q", r.Status, r.Header.Get("WWW-Authenticate"))
	}
	return r.Claims
}

// WantInvalidToken asserts RFC 6750 §3's answer to a dead access token.
func (e *Server) WantInvalidToken(t *testing.T, accessToken string) {
	t.Helper()
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		r := e.Userinfo(t, m, accessToken)
		if r.Status != http.StatusUnauthorized {
			t.Errorf("%s /userinfo: status %d, want 401", m, r.Status)
		}
		if wa := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(wa, "Bearer ") || !strings.Contains(wa, `error="invalid_token"`) {
			t.Errorf("%s /userinfo: WWW-Authenticate = %q, want Bearer with error=\"invalid_token\"", m, wa)
		}
	}
}

// JWTHeader decodes the JOSE header of a compact JWS.
func JWTHeader(t *testing.T, raw string) map[string]any {
	t.Helper()
	seg, _, ok := strings.Cut(raw, ".")
	if !ok {
		t.Fatalf("%q is not a compact JWS", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("JWS header: %v", err)
	}
	h := map[string]any{}
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("JWS header: %v", err)
	}
	return h
}

// JWKSKIDs fetches the published key ids, sorted, and fails for any key that
// publishes private material.
func (e *Server) JWKSKIDs(t *testing.T) []string {
	t.Helper()
	resp, err := e.HTTP.Client().Get(e.Issuer + "/jwks")
	if err != nil {
		t.Fatalf("GET /jwks: %v", err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatalf("GET /jwks: %v", err)
	}
	var kids []string
	for _, k := range set.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := k[private]; ok {
				t.Errorf("JWKS key %v publishes private member %q", k["kid"], private)
			}
		}
		kid, _ := k["kid"].(string)
		kids = append(kids, kid)
	}
	slices.Sort(kids)
	return kids
}
