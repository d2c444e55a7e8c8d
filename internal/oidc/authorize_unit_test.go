package oidc

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/session"
)

// Unit tests of ParseAuthorize on fakes: every rule of the authorization
// request, without a server or a database.

var unitChallenge = strings.Repeat("A", 43)

// authzRequest is a valid request of the public app; mod changes it.
func authzRequest(mod func(url.Values)) url.Values {
	v := url.Values{"client_id": {unitApp}, "response_type": {"code"}, "redirect_uri": {unitAppCB},
		"scope": {"openid profile"}, "state": {"st"}, "nonce": {"n"},
		"code_challenge": {unitChallenge}, "code_challenge_method": {"S256"}}
	if mod != nil {
		mod(v)
	}
	return v
}

func parseAuthz(t *testing.T, a *Authorizer, v url.Values) (*AuthRequest, *Error) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/authorize?"+v.Encode(), nil)
	return a.ParseAuthorize(r)
}

// parsingAuthorizer is an Authorizer with only what parsing needs: the
// clients and the hint verifier. No users and no code store: a parsing rule
// that reached either would panic.
func parsingAuthorizer(t *testing.T, u *unit) *Authorizer {
	t.Helper()
	return NewAuthorizer(unitConfig(&u.now), u.clients, fakeSigner{}, nil, nil)
}

// requestObject is an unsigned JWT whose payload is claims.
func requestObject(claims string) string {
	return "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + "."
}

func TestParseAuthorize_Unit(t *testing.T) {
	u := newUnit(t)
	a := parsingAuthorizer(t, u)
	hint := u.idToken(t, 2, unitApp)
	longHint := strings.Repeat("h", 300)
	type want struct {
		code       string // "" for an accepted request
		noRedirect bool
		redirect   string // the request's redirect URI when it may be redirected to
		mode       string
		state      string
		check      func(*testing.T, *AuthRequest)
	}
	tests := []struct {
		name string
		mod  func(url.Values)
		want want
	}{
		{"a valid request of a public client with PKCE", nil, want{redirect: unitAppCB, mode: ModeQuery, state: "st",
			check: func(t *testing.T, r *AuthRequest) {
				if !slices.Equal(r.Scopes, []string{"openid", "profile"}) || r.CodeChallenge != unitChallenge || r.Nonce != "n" || !r.FirstParty {
					t.Errorf("request = %+v", r)
				}
			}}},
		// client_id and redirect_uri: shown on inkpass's page, never redirected.
		{"client_id missing", func(v url.Values) { v.Del("client_id") }, want{code: "invalid_request", noRedirect: true}},
		{"client_id unknown", func(v url.Values) { v.Set("client_id", "nobody") }, want{code: "invalid_request", noRedirect: true}},
		{"client disabled", func(v url.Values) { v.Set("client_id", unitOff); v.Set("redirect_uri", "https://off.example/cb") },
			want{code: "invalid_request", noRedirect: true}},
		{"client_id twice", func(v url.Values) { v.Add("client_id", unitApp) }, want{code: "invalid_request", noRedirect: true}},
		{"redirect_uri not registered", func(v url.Values) { v.Set("redirect_uri", "https://evil.example/cb") },
			want{code: "invalid_request", noRedirect: true}},
		{"redirect_uri with a trailing slash", func(v url.Values) { v.Set("redirect_uri", unitAppCB+"/") },
			want{code: "invalid_request", noRedirect: true}},
		{"redirect_uri with another case", func(v url.Values) { v.Set("redirect_uri", strings.ToUpper(unitAppCB)) },
			want{code: "invalid_request", noRedirect: true}},
		{"redirect_uri with an extra query", func(v url.Values) { v.Set("redirect_uri", unitAppCB+"?x=1") },
			want{code: "invalid_request", noRedirect: true}},
		{"redirect_uri twice", func(v url.Values) { v.Add("redirect_uri", unitAppCB) }, want{code: "invalid_request", noRedirect: true}},
		{"openid without redirect_uri, even with one registered", func(v url.Values) { v.Del("redirect_uri") },
			want{code: "invalid_request", noRedirect: true}},
		{"plain OAuth without redirect_uri takes the one registered, then needs openid", func(v url.Values) {
			v.Del("redirect_uri")
			v.Set("scope", "profile")
		}, want{code: "invalid_scope", redirect: unitAppCB, mode: ModeQuery, state: "st"}},
		{"plain OAuth without redirect_uri and two registered", func(v url.Values) {
			v.Set("client_id", unitWeb)
			v.Del("redirect_uri")
			v.Set("scope", "profile")
		}, want{code: "invalid_request", noRedirect: true}},
		// From here errors go back to the client, in its mode, with its state.
		{"response_type missing", func(v url.Values) { v.Del("response_type") }, want{code: "invalid_request", redirect: unitAppCB, mode: ModeQuery, state: "st"}},
		{"response_type token", func(v url.Values) { v.Set("response_type", "token") }, want{code: "unsupported_response_type", redirect: unitAppCB, mode: ModeQuery, state: "st"}},
		{"response_type code id_token", func(v url.Values) { v.Set("response_type", "code id_token") }, want{code: "unsupported_response_type", redirect: unitAppCB, mode: ModeQuery, state: "st"}},
		{"a client_credentials client has no redirect URI to answer", func(v url.Values) {
			v.Set("client_id", unitMachine)
		}, want{code: "invalid_request", noRedirect: true}},
		{"response_mode form_post", func(v url.Values) { v.Set("response_mode", "form_post") }, want{redirect: unitAppCB, mode: ModeFormPost, state: "st"}},
		{"response_mode fragment is refused in query mode", func(v url.Values) { v.Set("response_mode", "fragment") },
			want{code: "invalid_request", redirect: unitAppCB, mode: ModeQuery, state: "st"}},
		{"form_post errors are posted", func(v url.Values) { v.Set("response_mode", "form_post"); v.Del("response_type") },
			want{code: "invalid_request", redirect: unitAppCB, mode: ModeFormPost, state: "st"}},
		{"a parameter twice", func(v url.Values) { v.Add("nonce", "m") }, want{code: "invalid_request", redirect: unitAppCB, mode: ModeQuery, state: "st"}},
		{"a state too long is not echoed", func(v url.Values) { v.Set("state", strings.Repeat("s", maxStateLen+1)) },
			want{code: "invalid_request", redirect: unitAppCB, mode: ModeQuery, state: ""}},
		{"request objects are refused, answered as the object asks", func(v url.Values) {
			v.Set("request", requestObject(`{"response_mode":"form_post","state":"from-object"}`))
		}, want{code: "request_not_supported", redirect: unitAppCB, mode: ModeFormPost, state: "from-object"}},
		{"an undecodable request object is refused too", func(v url.Values) { v.Set("request", "not-a-jwt") },
			want{code: "request_not_supported", redirect: unitAppCB, mode: ModeQuery, state: "st"}},
		{"request_uri is refused", func(v url.Values) { v.Set("request_uri", "https://app.example/ro") },
			want{code: "request_uri_not_supported", redirect: unitAppCB, mode: ModeQuery, state: "st"}},
		// Scopes.
		{"unknown scopes are dropped", func(v url.Values) { v.Set("scope", "groups openid  openid profile offline") },
			want{redirect: unitAppCB, mode: ModeQuery, state: "st", check: func(t *testing.T, r *AuthRequest) {
				if !slices.Equal(r.Scopes, []string{"openid", "profile"}) {
					t.Errorf("scopes = %v, want [openid profile]", r.Scopes)
				}
			}}},
		{"openid is required", func(v url.Values) { v.Set("scope", "profile") }, want{code: "invalid_scope", redirect: unitAppCB, mode: ModeQuery, state: "st"}},
		{"a known scope the client is not registered for", func(v url.Values) { v.Set("scope", "openid email") },
			want{code: "invalid_scope", redirect: unitAppCB, mode: ModeQuery, state: "st"}},
		// PKCE.
		{"a public client without PKCE", func(v url.Values) { v.Del("code_challenge"); v.Del("code_challenge_method") },
			want{code: "invalid_request", redirect: unitAppCB, mode: ModeQuery, state: "st"}},
		{"the plain method", func(v url.Values) { v.Set("code_challenge_method", "plain") }, want{code: "invalid_request", redirect: unitAppCB, mode: ModeQuery, state: "st"}},
		{"no method means plain, refused", func(v url.Values) { v.Del("code_challenge_method") }, want{code: "invalid_request", redirect: unitAppCB, mode: ModeQuery, state: "st"}},
		{"a method without a challenge", func(v url.Values) { v.Del("code_challenge") }, want{code: "invalid_request", redirect: unitAppCB, mode: ModeQuery, state: "st"}},
		{"a challenge that is no SHA-256", func(v url.Values) { v.Set("code_challenge", "short") }, want{code: "invalid_request", redirect: unitAppCB, mode: ModeQuery, state: "st"}},
		{"a confidential client may skip PKCE", func(v url.Values) {
			v.Set("client_id", unitWeb)
			v.Set("redirect_uri", unitWebCB)
			v.Del("code_challenge")
			v.Del("code_challenge_method")
		}, want{redirect: unitWebCB, mode: ModeQuery, state: "st"}},
		// prompt, max_age, hints.
		{"prompt login consent", func(v url.Values) { v.Set("prompt", "login consent login") },
			want{redirect: unitAppCB, mode: ModeQuery, state: "st", check: func(t *testing.T, r *AuthRequest) {
				if !slices.Equal(r.Prompt, []string{"login", "consent"}) || !r.HasPrompt("consent") {
					t.Errorf("prompt = %v", r.Prompt)
				}
			}}},
		{"prompt none with another", func(v url.Values) { v.Set("prompt", "none login") }, want{code: "invalid_request", redirect: unitAppCB, mode: ModeQuery, state: "st"}},
		{"an unknown prompt", func(v url.Values) { v.Set("prompt", "create") }, want{code: "invalid_request", redirect: unitAppCB, mode: ModeQuery, state: "st"}},
		{"max_age 0", func(v url.Values) { v.Set("max_age", "0") }, want{redirect: unitAppCB, mode: ModeQuery, state: "st",
			check: func(t *testing.T, r *AuthRequest) {
				if r.MaxAge == nil || *r.MaxAge != 0 {
					t.Errorf("max_age = %v, want 0", r.MaxAge)
				}
			}}},
		{"max_age negative", func(v url.Values) { v.Set("max_age", "-1") }, want{code: "invalid_request", redirect: unitAppCB, mode: ModeQuery, state: "st"}},
		{"max_age not a number", func(v url.Values) { v.Set("max_age", "1h") }, want{code: "invalid_request", redirect: unitAppCB, mode: ModeQuery, state: "st"}},
		{"a login_hint is kept", func(v url.Values) { v.Set("login_hint", "luna_artist") }, want{redirect: unitAppCB, mode: ModeQuery, state: "st",
			check: func(t *testing.T, r *AuthRequest) {
				if r.LoginHint != "luna_artist" {
					t.Errorf("login_hint = %q", r.LoginHint)
				}
			}}},
		{"a login_hint longer than a username is dropped", func(v url.Values) { v.Set("login_hint", longHint) },
			want{redirect: unitAppCB, mode: ModeQuery, state: "st", check: func(t *testing.T, r *AuthRequest) {
				if r.LoginHint != "" {
					t.Errorf("login_hint kept: %d bytes", len(r.LoginHint))
				}
			}}},
		{"a login_hint too long", func(v url.Values) { v.Set("login_hint", strings.Repeat("h", maxHintLen+1)) },
			want{code: "invalid_request", redirect: unitAppCB, mode: ModeQuery, state: "st"}},
		{"an id_token_hint issued here names its subject", func(v url.Values) { v.Set("id_token_hint", hint) },
			want{redirect: unitAppCB, mode: ModeQuery, state: "st", check: func(t *testing.T, r *AuthRequest) {
				if r.HintSubject != Subject(2, unitApp) || r.IDTokenHint != "" || !r.AllowsUser(2) || r.AllowsUser(4) {
					t.Errorf("hint subject = %q, token kept: %v", r.HintSubject, r.IDTokenHint != "")
				}
			}}},
		{"an id_token_hint signed elsewhere", func(v url.Values) { v.Set("id_token_hint", requestObject(`{"iss":"`+unitIssuer+`","sub":"2"}`)) },
			want{code: "invalid_request", redirect: unitAppCB, mode: ModeQuery, state: "st"}},
		// The claims parameter.
		{"claims by name the client may request", func(v url.Values) { v.Set("claims", `{"userinfo":{"name":null,"email":null}}`) },
			want{redirect: unitAppCB, mode: ModeQuery, state: "st", check: func(t *testing.T, r *AuthRequest) {
				// app may not request email: dropped.
				if r.Claims == nil || !slices.Equal(r.Claims.UserInfo, []string{"name"}) || r.ExtraClaims() != nil {
					t.Errorf("claims = %+v, extra %v", r.Claims, r.ExtraClaims())
				}
			}}},
		{"claims beyond the scopes are extra", func(v url.Values) {
			v.Set("scope", "openid")
			v.Set("claims", `{"id_token":{"birthdate":{"essential":true}}}`)
		},
			want{redirect: unitAppCB, mode: ModeQuery, state: "st", check: func(t *testing.T, r *AuthRequest) {
				if !slices.Equal(r.ExtraClaims(), []string{"birthdate"}) {
					t.Errorf("extra claims = %v", r.ExtraClaims())
				}
			}}},
		{"claims that are not JSON", func(v url.Values) { v.Set("claims", `{"userinfo":`) }, want{code: "invalid_request", redirect: unitAppCB, mode: ModeQuery, state: "st"}},
		{"a sub value binds the request to that user", func(v url.Values) { v.Set("claims", `{"id_token":{"sub":{"value":"4"}}}`) },
			want{redirect: unitAppCB, mode: ModeQuery, state: "st", check: func(t *testing.T, r *AuthRequest) {
				if !r.AllowsUser(4) || r.AllowsUser(2) {
					t.Errorf("hint subject = %q", r.HintSubject)
				}
			}}},
		{"a sub value against the id_token_hint", func(v url.Values) {
			v.Set("id_token_hint", hint)
			v.Set("claims", `{"id_token":{"sub":{"value":"4"}}}`)
		}, want{code: "invalid_request", redirect: unitAppCB, mode: ModeQuery, state: "st"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, e := parseAuthz(t, a, authzRequest(tc.mod))
			switch {
			case tc.want.code == "" && e != nil:
				t.Fatalf("refused: %v", e)
			case tc.want.code != "" && e == nil:
				t.Fatalf("accepted %+v, want %s", req, tc.want.code)
			case e != nil && (e.Code != tc.want.code || e.NoRedirect != tc.want.noRedirect):
				t.Fatalf("error %v (no redirect %v), want %s (no redirect %v)", e, e.NoRedirect, tc.want.code, tc.want.noRedirect)
			}
			if tc.want.noRedirect {
				return
			}
			if req == nil || req.RedirectURI != tc.want.redirect || req.ResponseMode != tc.want.mode || req.State != tc.want.state {
				t.Fatalf("request = %+v, want redirect %s mode %s state %q", req, tc.want.redirect, tc.want.mode, tc.want.state)
			}
			if e != nil {
				resp := a.ErrorResponse(req, e)
				if resp.Params.Get("error") != e.Code || resp.Params.Get("iss") != unitIssuer || resp.RedirectURI != tc.want.redirect {
					t.Errorf("error response = %+v", resp)
				}
			}
			if tc.want.check != nil {
				tc.want.check(t, req)
			}
		})
	}
}

// A POST sends its parameters in the body; the query string cannot add or
// override one (OIDC Core §3.1.2.1).
func TestParseAuthorize_UnitPostReadsOnlyTheBody(t *testing.T) {
	u := newUnit(t)
	body := authzRequest(nil)
	r := httptest.NewRequest(http.MethodPost, "/authorize?redirect_uri="+url.QueryEscape("https://evil.example/cb")+"&prompt=none",
		strings.NewReader(body.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req, e := parsingAuthorizer(t, u).ParseAuthorize(r)
	if e != nil {
		t.Fatalf("refused: %v", e)
	}
	if req.RedirectURI != unitAppCB || req.HasPrompt("none") {
		t.Errorf("request = %+v: the query string was read", req)
	}
}

// TestAuthorizer_Grant answers requests through the Authorizer built on its
// own ports alone: clients, the hint verifier, the users and a code issuer.
func TestAuthorizer_Grant(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	users := &fakeUsers{m: unitUsersMap()}
	users.m[4].Active = false
	s2 := &session.Session{SID: "sid-2", UserID: 2, AuthTime: now.Add(-time.Minute), AMR: []string{"pwd", "otp", "mfa"}}
	tests := []struct {
		name      string
		req       AuthRequest
		s         *session.Session
		wantError string
	}{
		{"a code for the session's user", AuthRequest{Nonce: "n-1"}, s2, ""},
		{"a deactivated user gets none", AuthRequest{}, &session.Session{SID: "sid-4", UserID: 4, AuthTime: now}, "login_required"},
		{"an unknown user gets none", AuthRequest{}, &session.Session{SID: "sid-9", UserID: 9, AuthTime: now}, "server_error"},
		{"a hint naming another user gets none", AuthRequest{HintSubject: Subject(4, unitApp)}, s2, "login_required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			codes := &fakeCodes{}
			a := NewAuthorizer(unitConfig(&now), newFakeClients(t), fakeSigner{}, users, codes)
			req := tc.req
			req.ClientID, req.RedirectURI, req.Scopes, req.State, req.ResponseMode = unitApp, unitAppCB, []string{"openid"}, "st", ModeQuery
			resp, e := a.Grant(context.Background(), &req, tc.s)
			if tc.wantError != "" {
				if e == nil || e.Code != tc.wantError || len(codes.codes) != 0 {
					t.Fatalf("Grant = %+v, %v (codes %d), want %s and no code", resp, e, len(codes.codes), tc.wantError)
				}
				return
			}
			if e != nil {
				t.Fatalf("Grant: %v", e)
			}
			code := resp.Params.Get("code")
			cg := codes.codes[code]
			if cg == nil || resp.Params.Get("state") != "st" || resp.Params.Get("iss") != unitIssuer || resp.RedirectURI != unitAppCB {
				t.Fatalf("response %+v, stored %+v", resp, codes.codes)
			}
			if cg.UserID != 2 || cg.SID != "sid-2" || cg.Extension.Get(extNonce) != "n-1" || cg.Extension.Get(extAMR) != "pwd otp mfa" || cg.AccessTTL != time.Hour {
				t.Errorf("code grant %+v", cg)
			}
		})
	}
}
