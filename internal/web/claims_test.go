package web_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/inkpass/inkpass/internal/testsupport/harness"
	"github.com/inkpass/inkpass/internal/user"
)

// claimsParam is the claims request parameter (OIDC Core §5.5) on an
// authorization URL.
func claimsParam(json string) oauth2.AuthCodeOption { return oauth2.SetAuthURLParam("claims", json) }

// TestInterop_ClaimsParameter: relying parties and the OpenID Foundation's
// test plans ask for single claims with the claims parameter instead of a
// whole scope (issue 13, item 6). A claim is released where it was asked for
// (ID token or userinfo), after the user's consent for a third-party client,
// and the request travels with the grant, so userinfo answers the same after
// a refresh.
func TestInterop_ClaimsParameter(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})

	t.Run("discovery says the claims parameter is supported", func(t *testing.T) {
		var m struct {
			ClaimsParameterSupported bool     `json:"claims_parameter_supported"`
			ClaimsSupported          []string `json:"claims_supported"`
		}
		if err := e.AppRP(t, "openid").Provider.Claims(&m); err != nil {
			t.Fatal(err)
		}
		if !m.ClaimsParameterSupported {
			t.Error("claims_parameter_supported = false, want true")
		}
		for _, c := range []string{"email_verified", "phone_number_verified"} {
			if !slices.Contains(m.ClaimsSupported, c) {
				t.Errorf("claims_supported = %q, missing %s", m.ClaimsSupported, c)
			}
		}
	})

	t.Run("an essential email in the ID token member with scope openid alone puts email in the ID token only", func(t *testing.T) {
		app := e.AppRP(t, "openid")
		b := e.NewBrowser(t)
		f := app.Start(false, claimsParam(`{"id_token":{"email":{"essential":true}}}`))
		s := f.Redeem(t, b.SignIn(f, "luna_artist", "artist_password").Get("code"))
		harness.CheckClaims(t, "ID token", s.Claims, map[string]any{"sub": "2", "email": "luna@studio.example"},
			[]string{"phone_number", "name", "preferred_username"})
		harness.CheckClaims(t, "userinfo", e.WantUserinfoOK(t, s.Token.AccessToken), map[string]any{"sub": "2"},
			[]string{"email", "phone_number"})
	})

	t.Run("phone_number in the userinfo member is answered at userinfo, after a refresh too", func(t *testing.T) {
		app := e.AppRP(t, "openid", "offline_access")
		b := e.NewBrowser(t)
		f := app.Start(false, claimsParam(`{"userinfo":{"phone_number":null}}`))
		s := f.Redeem(t, b.SignIn(f, "luna_artist", "artist_password").Get("code"))
		harness.CheckClaims(t, "ID token", s.Claims, map[string]any{"sub": "2"}, []string{"phone_number", "email"})
		harness.CheckClaims(t, "userinfo", e.WantUserinfoOK(t, s.Token.AccessToken), map[string]any{"sub": "2", "phone_number": "555-0199"},
			[]string{"email", "name"})
		if s.Token.RefreshToken == "" {
			t.Fatal("no refresh token for offline_access")
		}
		tok, err := app.Refresh(t, s.Token.RefreshToken)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		harness.CheckClaims(t, "userinfo after refresh", e.WantUserinfoOK(t, tok.AccessToken), map[string]any{"sub": "2", "phone_number": "555-0199"},
			[]string{"email", "name"})
		rs := harness.VerifyTokenResponse(t, app, tok)
		harness.CheckClaims(t, "refreshed ID token", rs.Claims, map[string]any{"sub": "2"}, []string{"phone_number"})
	})

	t.Run("a third-party client's claim outside its scopes is shown on the consent page, then released", func(t *testing.T) {
		tool := e.ToolRP(t, "openid")
		b := e.NewBrowser(t)
		// booking-tool may request email but not phone: phone_number is
		// dropped like an unknown claim.
		f := tool.Start(false, claimsParam(`{"userinfo":{"email":null,"phone_number":null}}`))
		_, form := b.ToLoginPage(f.URL)
		path := harness.ConsentRedirect(t, b.SubmitLogin(form, "luna_artist", "artist_password"))
		p := b.Get(path)
		if !strings.Contains(p.Body, `<span class="claim">email</span>`) {
			t.Errorf("the consent page does not list the requested claim email:\n%s", p.Body)
		}
		if strings.Contains(p.Body, "phone_number") {
			t.Errorf("the consent page lists phone_number, which this client may not request:\n%s", p.Body)
		}
		s := f.Redeem(t, b.Callback(f, b.ApproveConsent(path)).Get("code"))
		harness.CheckClaims(t, "userinfo", e.WantUserinfoOK(t, s.Token.AccessToken), map[string]any{"email": "luna@studio.example"},
			[]string{"phone_number"})
		harness.CheckClaims(t, "ID token", s.Claims, nil, []string{"email"})

		t.Run("the approval is remembered for the same claim", func(t *testing.T) {
			f := tool.Start(false, claimsParam(`{"userinfo":{"email":null}}`))
			b.SSO(f)
		})
		t.Run("another claim needs a new approval", func(t *testing.T) {
			f := tool.Start(false, claimsParam(`{"id_token":{"name":null}}`))
			p := b.Get(f.URL)
			if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location(), "/consent?") {
				t.Fatalf("GET /authorize asking for name: status %d Location %q, want 303 to /consent", p.Status, p.Location())
			}
		})
	})

	t.Run("unknown claims are ignored", func(t *testing.T) {
		app := e.AppRP(t, "openid")
		b := e.NewBrowser(t)
		f := app.Start(false, claimsParam(`{"id_token":{"favourite_colour":{"essential":true},"preferred_username":null},"custom":{"x":1}}`))
		s := f.Redeem(t, b.SignIn(f, "luna_artist", "artist_password").Get("code"))
		harness.CheckClaims(t, "ID token", s.Claims, map[string]any{"preferred_username": "luna_artist"}, []string{"favourite_colour", "name"})
	})

	t.Run("an ID token sub value naming another user is not answered with this one", func(t *testing.T) {
		app := e.AppRP(t, "openid")
		b := e.NewBrowser(t)
		f := app.Start(false)
		b.SignIn(f, "luna_artist", "artist_password")
		f = app.Start(false, claimsParam(`{"id_token":{"sub":{"value":"4"}}}`), oauth2.SetAuthURLParam("prompt", "none"))
		q := harness.RedirectParams(t, b.Get(f.URL), harness.AppRedirect)
		if q.Get("error") != "login_required" || q.Get("code") != "" {
			t.Errorf("redirect = %v, want error=login_required and no code", q)
		}
		f = app.Start(false, claimsParam(`{"id_token":{"sub":{"value":"2"}}}`))
		f.Redeem(t, b.SSO(f).Get("code"))
	})

	for _, tc := range []struct{ name, claims string }{
		{"claims that are not JSON", `{"id_token":`},
		{"claims that are a JSON array", `[]`},
		{"claims that are JSON null", `null`},
		{"an id_token member that is not an object", `{"id_token":["email"]}`},
		{"a claim request that is neither null nor an object", `{"userinfo":{"email":true}}`},
		{"essential that is not a boolean", `{"id_token":{"email":{"essential":"yes"}}}`},
		{"a sub value that is not a string", `{"id_token":{"sub":{"value":2}}}`},
	} {
		t.Run(tc.name+" are answered invalid_request at the redirect URI", func(t *testing.T) {
			app := e.AppRP(t, "openid")
			f := app.Start(false, claimsParam(tc.claims))
			q := harness.RedirectParams(t, e.NewBrowser(t).Get(f.URL), harness.AppRedirect)
			if q.Get("error") != "invalid_request" {
				t.Errorf("error = %q (%s), want invalid_request", q.Get("error"), q.Get("error_description"))
			}
			if q.Get("state") != f.State {
				t.Errorf("state = %q, want %q", q.Get("state"), f.State)
			}
		})
	}
}

// TestInterop_EmailVerified: Dex and other connectors refuse an email that
// comes without email_verified (issue 13, item 9). Whenever email is sent,
// email_verified says whether an admin verified that exact address, and the
// same for phone_number; a changed address is unverified again.
func TestInterop_EmailVerified(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	app := e.AppRP(t, "openid", "email", "phone")
	b := e.NewBrowser(t)
	f := app.Start(false)
	s := f.Redeem(t, b.SignIn(f, "luna_artist", "artist_password").Get("code"))
	unverified := map[string]any{"email": "luna@studio.example", "email_verified": false, "phone_number": "555-0199", "phone_number_verified": false}
	harness.CheckClaims(t, "ID token", s.Claims, unverified, nil)
	harness.CheckClaims(t, "userinfo", e.WantUserinfoOK(t, s.Token.AccessToken), unverified, nil)

	if _, err := e.Users.SetVerified(t.Context(), 2, user.ContactEmail, true); err != nil {
		t.Fatalf("verify email: %v", err)
	}
	emailOnly := map[string]any{"email": "luna@studio.example", "email_verified": true, "phone_number_verified": false}
	harness.CheckClaims(t, "userinfo after the email was verified", e.WantUserinfoOK(t, s.Token.AccessToken), emailOnly, nil)
	f = app.Start(false)
	harness.CheckClaims(t, "new ID token", f.Redeem(t, b.SSO(f).Get("code")).Claims, emailOnly, nil)

	newEmail := "luna.new@studio.example"
	if _, err := e.Users.Update(t.Context(), 2, user.Patch{Email: &newEmail}); err != nil {
		t.Fatalf("change email: %v", err)
	}
	harness.CheckClaims(t, "userinfo after the email changed", e.WantUserinfoOK(t, s.Token.AccessToken),
		map[string]any{"email": newEmail, "email_verified": false}, nil)

	t.Run("a user without an email gets no email_verified", func(t *testing.T) {
		b := e.NewBrowser(t)
		f := app.Start(false)
		s := f.Redeem(t, b.SignIn(f, "front_desk", "desk-Pässwort-1").Get("code"))
		harness.CheckClaims(t, "ID token", s.Claims, map[string]any{"phone_number_verified": false}, []string{"email", "email_verified"})
	})
}
