package web_test

import (
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	op "github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
)

// Regressions from the interop review (issue 13): six relying parties and the
// OpenID Foundation test plans replayed against inkpass.

// TestInterop_UnknownScopesAreIgnored: OIDC Core §3.1.2.1 says to ignore
// scope values the server does not understand (oauth2-proxy and Grafana ask
// for "groups" by habit). The token response's scope says what was granted,
// and the consent page lists only scopes inkpass knows. A scope inkpass knows
// but the client may not ask for stays invalid_scope (TestE2E_AuthorizeErrors
// GoBackToTheClient).
func TestInterop_UnknownScopesAreIgnored(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})

	t.Run("a first-party client gets the known scopes, and scope says which", func(t *testing.T) {
		app := e.AppRP(t, "openid", "profile", "groups", "offline_access")
		b := e.NewBrowser(t)
		f := app.Start(false)
		s := f.Redeem(t, b.SignIn(f, "luna_artist", "artist_password").Get("code"))
		if got, _ := s.Token.Extra("scope").(string); !sameFields(got, "openid profile offline_access") {
			t.Errorf("token response scope = %q, want openid profile offline_access", got)
		}
		if s.Claims["preferred_username"] != "luna_artist" {
			t.Errorf("ID token preferred_username = %v: the known scopes were not honoured", s.Claims["preferred_username"])
		}

		t.Run("a refresh naming the unknown scope again keeps working", func(t *testing.T) {
			r := e.PostToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {s.Token.RefreshToken},
				"scope": {"openid profile groups"}}, harness.AppID, harness.AppSecret)
			if r.Status != http.StatusOK {
				t.Fatalf("refresh with scope openid profile groups: %d %v, want 200", r.Status, r.Body)
			}
			if !sameFields(r.Str("scope"), "openid profile") {
				t.Errorf("refreshed scope = %q, want openid profile", r.Str("scope"))
			}
		})
	})

	t.Run("a third-party client's consent page shows only known scopes", func(t *testing.T) {
		tool := e.ToolRP(t, "openid", "email", "groups")
		b := e.NewBrowser(t)
		f := tool.Start(false)
		_, form := b.ToLoginPage(f.URL)
		path := harness.ConsentRedirect(t, b.SubmitLogin(form, "luna_artist", "artist_password"))
		p := b.Get(path)
		body := html.UnescapeString(p.Body)
		if !strings.Contains(body, op.ScopeDescriptions["email"]) {
			t.Errorf("the consent page lacks the email scope's description")
		}
		if strings.Contains(body, "groups") {
			t.Errorf("the consent page shows the unknown scope groups:\n%s", p.Body)
		}
		s := f.Redeem(t, b.Callback(f, b.ApproveConsent(path)).Get("code"))
		if got, _ := s.Token.Extra("scope").(string); !sameFields(got, "openid email") {
			t.Errorf("token response scope = %q, want openid email", got)
		}
	})

	t.Run("client_credentials ignores unknown scopes too", func(t *testing.T) {
		cc := clientcredentials.Config{ClientID: harness.ReporterID, ClientSecret: harness.ReporterSecret,
			TokenURL: e.Issuer + "/token", Scopes: []string{"profile", "groups"}, AuthStyle: oauth2.AuthStyleInHeader}
		tok, err := cc.Token(t.Context())
		if err != nil {
			t.Fatalf("client_credentials with scope profile groups: %v", err)
		}
		if got, _ := tok.Extra("scope").(string); got != "profile" {
			t.Errorf("scope = %q, want profile", got)
		}
	})
}

// sameFields compares two space-separated lists as sets.
func sameFields(a, b string) bool {
	fa, fb := strings.Fields(a), strings.Fields(b)
	if len(fa) != len(fb) {
		return false
	}
	for _, x := range fa {
		if !strings.Contains(" "+b+" ", " "+x+" ") {
			return false
		}
	}
	return true
}

// TestInterop_PromptConsentFirstParty: prompt=consent asks for consent even
// from the studio's own apps (OIDC Core §3.1.2.1), which otherwise never ask.
func TestInterop_PromptConsentFirstParty(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	app := e.AppRP(t, "openid", "profile")
	b := e.NewBrowser(t)
	first := app.Start(false)
	first.Redeem(t, b.SignIn(first, "luna_artist", "artist_password").Get("code"))

	f := app.Start(false, slParam("prompt", "consent"))
	path := harness.ConsentRedirect(t, b.Get(f.URL))
	f.Redeem(t, b.Callback(f, b.ApproveConsent(path)).Get("code"))

	// Without prompt=consent the first-party app still goes straight through.
	b.SSO(app.Start(false))
}

// TestInterop_OpenIDRequestNeedsRedirectURI: OIDC Core §3.1.2.1 makes
// redirect_uri required in an OpenID request, even for a client with one
// registered URI; the error stays on inkpass's page. A plain OAuth request
// (no openid) keeps RFC 6749 §3.1.2.3's default, so its own error goes there.
func TestInterop_OpenIDRequestNeedsRedirectURI(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	b := e.NewBrowser(t)
	q := url.Values{"client_id": {harness.ToolID}, "response_type": {"code"}, "scope": {"openid email"}, "state": {"st"}, "nonce": {"n"}}
	harness.WantErrorPage(t, b.Get("/authorize?"+q.Encode()))
	harness.WantErrorPage(t, b.Post("/authorize", q))
	if p := b.Get("/authorize?" + q.Encode()); !strings.Contains(p.Body, "redirect_uri") {
		t.Errorf("the error page does not say redirect_uri is missing:\n%s", p.Body)
	}

	q.Set("scope", "email")
	got := harness.RedirectParams(t, b.Get("/authorize?"+q.Encode()), harness.ToolRedirect)
	if got.Get("error") != "invalid_scope" || got.Get("state") != "st" {
		t.Errorf("plain OAuth request without redirect_uri: error %q state %q, want invalid_scope at the registered URI", got.Get("error"), got.Get("state"))
	}
}

// unsignedRequestObject is an alg=none JWT carrying claims.
func unsignedRequestObject(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(claims)) + "."
}

// TestInterop_ErrorsHonourResponseMode: once client and redirect URI are good,
// every error goes back in the response mode the request asked for, including
// request_not_supported for a request object whose response_mode is inside it
// (OIDF oidcc-unsigned-request-object-supported-correctly-or-rejected-as-
// unsupported, Form Post plan: only client_id, response_type, scope and
// redirect_uri travel outside the object).
func TestInterop_ErrorsHonourResponseMode(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	b := e.NewBrowser(t)
	base := func() url.Values {
		return url.Values{"client_id": {harness.AppID}, "redirect_uri": {harness.AppRedirect}, "response_type": {"code"}, "scope": {"openid"}}
	}
	cases := []struct {
		name      string
		query     func(url.Values)
		wantError string
		wantState string
	}{
		{"request object with response_mode and state inside", func(q url.Values) {
			q.Set("request", unsignedRequestObject(`{"client_id":"studio-app","response_type":"code","scope":"openid","redirect_uri":"`+harness.AppRedirect+`","response_mode":"form_post","state":"inner-state","nonce":"n"}`))
		}, "request_not_supported", "inner-state"},
		{"request object with response_mode outside", func(q url.Values) {
			q.Set("response_mode", "form_post")
			q.Set("state", "outer-state")
			q.Set("request", unsignedRequestObject(`{"nonce":"n"}`))
		}, "request_not_supported", "outer-state"},
		{"a parameter given twice", func(q url.Values) {
			q.Set("response_mode", "form_post")
			q.Set("state", "st")
			q.Add("nonce", "a")
			q.Add("nonce", "b")
		}, "invalid_request", "st"},
		{"a state that is too long", func(q url.Values) {
			q.Set("response_mode", "form_post")
			q.Set("state", strings.Repeat("s", 2049))
		}, "invalid_request", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := base()
			tc.query(q)
			fields := slWantFormPost(t, b.Get("/authorize?"+q.Encode()), harness.AppRedirect)
			if fields.Get("error") != tc.wantError || fields.Get("state") != tc.wantState || fields.Get("iss") != e.Issuer {
				t.Errorf("form_post fields %v, want error=%s state=%q iss=%s", fields, tc.wantError, tc.wantState, e.Issuer)
			}
			if fields.Has("code") {
				t.Error("an error carries a code")
			}
		})
	}

	t.Run("a request object cannot move the error to another redirect URI", func(t *testing.T) {
		q := base()
		q.Set("request", unsignedRequestObject(`{"redirect_uri":"https://evil.example/cb","response_mode":"form_post"}`))
		fields := slWantFormPost(t, b.Get("/authorize?"+q.Encode()), harness.AppRedirect)
		if fields.Get("error") != "request_not_supported" {
			t.Errorf("error = %q, want request_not_supported", fields.Get("error"))
		}
	})

	t.Run("a request object that is not a JWT answers in the outer mode", func(t *testing.T) {
		q := base()
		q.Set("state", "st")
		q.Set("request", "not-a-jwt")
		got := harness.RedirectParams(t, b.Get("/authorize?"+q.Encode()), harness.AppRedirect)
		if got.Get("error") != "request_not_supported" || got.Get("state") != "st" {
			t.Errorf("error %q state %q, want request_not_supported with st", got.Get("error"), got.Get("state"))
		}
	})
}
