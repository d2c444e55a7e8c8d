package web_test

// End-to-end tests of the session life (issue 4): prompt, max_age and the
// hints; form_post; consent; RP-initiated logout; revocation and
// introspection; the account page; and the audit trail they leave. Same
// harness as e2e_test.go: the real handler on httptest over a real SQLite copy
// of the studio fixture, coreos/go-oidc and x/oauth2 as the relying party, a
// cookie jar that stops at every redirect. Users are fresh argon2id accounts
// made through user.Service; the injected clock moves instead of sleeping.

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/inkpass/inkpass/internal/audit"
	op "github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
	"github.com/inkpass/inkpass/internal/user"
)

const slSessionCookie = "inkpass_session" // SecureCookies is off on http

func slParam(k, v string) oauth2.AuthCodeOption { return oauth2.SetAuthURLParam(k, v) }

var (
	slPromptNone = slParam("prompt", "none")
	slFormPost   = slParam("response_mode", "form_post")
)

// TestPrompt covers prompt, max_age, id_token_hint and response_mode
// (OpenID Connect Core §3.1.2.1).
func TestPrompt(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	ana := e.NewUser(t, "ana.prompt", "ana-prompt-pass-1", nil)
	ben := e.NewUser(t, "ben.prompt", "ben-prompt-pass-1", nil)
	app := e.ClockedRP(t, harness.AppID, harness.AppSecret, harness.AppRedirect, "openid", "profile")
	tool := e.ClockedRP(t, harness.ToolID, harness.ToolSecret, harness.ToolRedirect, "openid", "profile")
	bw := e.NewBrowser(t)

	t.Run("prompt=none without a session is login_required at the client, never a page", func(t *testing.T) {
		b := e.NewBrowser(t)
		f := app.Start(false, slPromptNone)
		p := b.Get(f.URL)
		if p.Status != http.StatusFound {
			t.Errorf("status %d, want 302 straight to the client", p.Status)
		}
		b.WantAuthError(f, p, "login_required")
		if strings.Contains(p.Body, "<form") {
			t.Errorf("the answer to prompt=none holds a form:\n%s", p.Body)
		}
	})

	f := app.Start(false)
	first := f.Redeem(t, bw.SignIn(f, ana.Username, ana.Password).Get("code"))
	firstAuth := harness.AuthTime(t, first)

	t.Run("prompt=none with a session returns a code straight away", func(t *testing.T) {
		b := bw.As(t)
		s := b.Grant(app, slPromptNone)
		harness.CheckClaims(t, "ID token", s.Claims, map[string]any{"sub": ana.Sub, "sid": first.Claims["sid"], "auth_time": first.Claims["auth_time"]}, nil)
	})

	t.Run("prompt=none for a third-party client without consent is consent_required", func(t *testing.T) {
		b := bw.As(t)
		f := tool.Start(false, slPromptNone)
		p := b.Get(f.URL)
		if p.Status != http.StatusFound {
			t.Errorf("status %d, want 302 straight to the client", p.Status)
		}
		b.WantAuthError(f, p, "consent_required")
	})

	t.Run("unknown or contradictory prompt values are invalid_request", func(t *testing.T) {
		b := bw.As(t)
		for _, v := range []string{"bogus", "none login", "none consent"} {
			f := app.Start(false, slParam("prompt", v))
			b.WantAuthError(f, b.Get(f.URL), "invalid_request")
		}
	})

	t.Run("id_token_hint of the signed-in user with prompt=none returns a code", func(t *testing.T) {
		b := bw.As(t)
		s := b.Grant(app, slPromptNone, slParam("id_token_hint", first.Raw))
		if s.IDToken.Subject != ana.Sub {
			t.Errorf("sub = %q, want %q", s.IDToken.Subject, ana.Sub)
		}
	})

	t.Run("an id_token_hint that is not an ID token of this issuer is invalid_request", func(t *testing.T) {
		b := bw.As(t)
		parts := strings.Split(first.Raw, ".")
		if len(parts) != 3 {
			t.Fatalf("ID token %q is not a compact JWS", first.Raw)
		}
		sig := []byte(parts[2])
		sig[len(sig)/2] ^= 0x01
		payload := []byte(parts[1])
		payload[len(payload)/2] ^= 0x01
		for name, hint := range map[string]string{
			"not a JWT":          "not-a-jwt-at-all",
			"signature altered":  parts[0] + "." + parts[1] + "." + string(sig),
			"payload altered":    parts[0] + "." + string(payload) + "." + parts[2],
			"signature stripped": parts[0] + "." + parts[1] + ".",
			"alg none":           "eyJhbGciOiJub25lIn0." + parts[1] + ".",
		} {
			for _, prompt := range []string{"", "none"} {
				t.Run(name+" prompt="+prompt, func(t *testing.T) {
					opts := []oauth2.AuthCodeOption{slParam("id_token_hint", hint)}
					if prompt != "" {
						opts = append(opts, slParam("prompt", prompt))
					}
					f := app.Start(false, opts...)
					b.As(t).WantAuthError(f, b.Get(f.URL), "invalid_request")
				})
			}
		}
	})

	// Ben signs in elsewhere; his ID token names another user than Ana.
	bf := app.Start(false)
	bens := bf.Redeem(t, e.NewBrowser(t).SignIn(bf, ben.Username, ben.Password).Get("code"))

	t.Run("id_token_hint naming another user with prompt=none is login_required", func(t *testing.T) {
		b := bw.As(t)
		f := app.Start(false, slPromptNone, slParam("id_token_hint", bens.Raw))
		b.WantAuthError(f, b.Get(f.URL), "login_required")
	})

	t.Run("id_token_hint naming another user without prompt=none asks for a password", func(t *testing.T) {
		b := bw.As(t)
		f := app.Start(false, slParam("id_token_hint", bens.Raw))
		b.WantLoginRedirect(b.Get(f.URL))
	})

	t.Run("response_mode=form_post answers with a form that posts code, state and iss", func(t *testing.T) {
		b := bw.As(t)
		f := app.Start(false, slFormPost)
		p := b.Get(f.URL)
		fields := slWantFormPost(t, p, harness.AppRedirect)
		for _, k := range []string{"code", "state", "iss"} {
			if fields.Get(k) == "" {
				t.Errorf("form_post form has no %s field: %v", k, fields)
			}
		}
		if fields.Get("state") != f.State || fields.Get("iss") != e.Issuer {
			t.Errorf("state %q iss %q, want %q and %q", fields.Get("state"), fields.Get("iss"), f.State, e.Issuer)
		}
		s := f.Redeem(t, fields.Get("code"))
		if s.IDToken.Subject != ana.Sub {
			t.Errorf("sub = %q, want %q", s.IDToken.Subject, ana.Sub)
		}
	})

	t.Run("form_post carries prompt=none's login_required in the form too", func(t *testing.T) {
		b := e.NewBrowser(t)
		f := app.Start(false, slFormPost, slPromptNone)
		fields := slWantFormPost(t, b.Get(f.URL), harness.AppRedirect)
		if fields.Get("error") != "login_required" || fields.Get("state") != f.State || fields.Has("code") {
			t.Errorf("form fields = %v, want error=login_required with the state and no code", fields)
		}
	})

	// The clock moves by seconds, not minutes: a move beyond the 60 s code
	// lifetime would expire every code issued before it (TestSessionClock).
	t.Run("max_age with a fresh enough session needs no form, and auth_time is in the ID token", func(t *testing.T) {
		b := bw.As(t)
		s := b.Grant(app, slParam("max_age", "20"))
		if got := harness.AuthTime(t, s); !got.Equal(firstAuth) {
			t.Errorf("auth_time = %v, want the session's %v", got, firstAuth)
		}
	})

	e.Clock.Advance(30 * time.Second)
	var maxAgeLogin *harness.SignedIn

	t.Run("max_age shorter than the session's age forces a new login that moves auth_time", func(t *testing.T) {
		b := bw.As(t)
		// A limit the session still meets goes straight through.
		b.Grant(app, slParam("max_age", "3600"))
		// With prompt=none, too old is login_required, not a page.
		f := app.Start(false, slParam("max_age", "20"), slPromptNone)
		b.WantAuthError(f, b.Get(f.URL), "login_required")

		f = app.Start(false, slParam("max_age", "20"))
		_, form := b.WantLoginRedirect(b.Get(f.URL))
		p := b.SubmitLogin(form, ana.Username, ana.Password)
		maxAgeLogin = f.Redeem(t, b.Callback(f, p).Get("code"))
		if got := harness.AuthTime(t, maxAgeLogin); got.Sub(firstAuth) < 30*time.Second-time.Second {
			t.Errorf("auth_time %v after the new login, want at least 30 s after the first %v", got, firstAuth)
		}
		// The new session now satisfies the same max_age.
		again := b.Grant(app, slParam("max_age", "20"))
		if !harness.AuthTime(t, again).Equal(harness.AuthTime(t, maxAgeLogin)) {
			t.Errorf("auth_time %v, want the new session's %v", again.Claims["auth_time"], maxAgeLogin.Claims["auth_time"])
		}
	})

	e.Clock.Advance(20 * time.Second)

	t.Run("prompt=login with a session shows the login form again and moves auth_time", func(t *testing.T) {
		if maxAgeLogin == nil {
			t.Skip("needs the max_age login")
		}
		b := bw.As(t)
		f := app.Start(false, slParam("prompt", "login"))
		_, form := b.WantLoginRedirect(b.Get(f.URL))
		// Reloading the login page does not skip it either.
		b.WantLoginRedirect(&harness.Page{Status: http.StatusSeeOther, Header: http.Header{"Location": {form.Action}}})
		p := b.SubmitLogin(form, ana.Username, ana.Password)
		promptLogin := f.Redeem(t, b.Callback(f, p).Get("code"))
		before, after := harness.AuthTime(t, maxAgeLogin), harness.AuthTime(t, promptLogin)
		if after.Sub(before) < 20*time.Second-time.Second {
			t.Errorf("auth_time = %v after prompt=login, want at least 20 s after %v", after, before)
		}
		if promptLogin.Claims["sid"] == maxAgeLogin.Claims["sid"] {
			t.Errorf("sid %v unchanged by a new login", promptLogin.Claims["sid"])
		}
	})

	t.Run("prompt=login a moment after a login still asks for the password", func(t *testing.T) {
		// Fails today: NeedsLogin (internal/oidc/authorize.go) counts a
		// session as a fresh login for a prompt=login request when
		// AuthTime.After(req.CreatedAt - 1s). auth_time is stored in whole
		// seconds, so a request made within about a second after the last
		// login gets a code without the reauthentication OIDC Core
		// §3.1.2.1 asks for. Here the clock is set 200 ms after the
		// session's auth_time, which makes the window deterministic.
		b := bw.As(t)
		s := b.Grant(app)
		e.Clock.Advance(harness.AuthTime(t, s).Add(200 * time.Millisecond).Sub(e.Clock.Now()))
		f := app.Start(false, slParam("prompt", "login"))
		p := b.Get(f.URL)
		if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location(), "/login?") {
			t.Errorf("prompt=login 0.2 s after the session's login: status %d to %q, want 303 to the login form", p.Status, p.Location())
		}
	})

	e.Clock.Advance(2 * time.Second)

	t.Run("prompt=select_account is treated as login", func(t *testing.T) {
		b := bw.As(t)
		f := app.Start(false, slParam("prompt", "select_account"))
		b.WantLoginRedirect(b.Get(f.URL))
	})

	t.Run("an expired but validly signed ID token is accepted as id_token_hint", func(t *testing.T) {
		b := bw.As(t)
		// An ID token inkpass signed two hours ago, long expired: signed
		// with the provider's own key, as it was then.
		iat := time.Now().Add(-harness.IDTokenTTL - time.Hour)
		payload, _ := json.Marshal(map[string]any{
			"iss": e.Issuer, "sub": ana.Sub, "aud": harness.AppID, "azp": harness.AppID,
			"iat": iat.Unix(), "exp": iat.Add(harness.IDTokenTTL).Unix(),
		})
		raw, err := e.Keys.Sign(payload)
		if err != nil {
			t.Fatal(err)
		}
		old := struct{ raw string }{raw}
		if _, err := app.Verifier.Verify(t.Context(), old.raw); err == nil || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("the hint should have expired by now; go-oidc says %v", err)
		}
		s := b.Grant(app, slPromptNone, slParam("id_token_hint", old.raw))
		if s.IDToken.Subject != ana.Sub {
			t.Errorf("sub = %q, want %q", s.IDToken.Subject, ana.Sub)
		}
	})

	t.Run("signing in as another user than id_token_hint names is login_required", func(t *testing.T) {
		b := bw.As(t)
		f := app.Start(false, slParam("id_token_hint", bens.Raw))
		_, form := b.WantLoginRedirect(b.Get(f.URL))
		b.WantAuthError(f, b.SubmitLogin(form, ana.Username, ana.Password), "login_required")
	})
}

var (
	slFormPostRE = regexp.MustCompile(`<form class="form" method="post" action="([^"]*)">`)
	slButtonRE   = regexp.MustCompile(`<button[^>]*type="submit"[^>]*>\s*([^<]*\S)\s*</button>`)
)

// slWantFormPost asserts the form_post answer (OAuth 2.0 Form Post Response
// Mode §2): a 200 HTML page whose one form posts to redirectURI, submits
// itself, and has a visible button for browsers without JavaScript. It
// returns the form's fields.
func slWantFormPost(t *testing.T, p *harness.Page, redirectURI string) url.Values {
	t.Helper()
	if p.Status != http.StatusOK {
		t.Fatalf("status %d (Location %q), want 200 with the form_post page", p.Status, p.Location())
	}
	if p.Location() != "" {
		t.Errorf("form_post answer redirects to %q", p.Location())
	}
	if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
	if cc := p.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control = %q, want no-store on a page carrying a code", cc)
	}
	u, _ := url.Parse(redirectURI)
	if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, u.Scheme+"://"+u.Host) {
		t.Errorf("CSP %q does not let the form post to %s", csp, u.Host)
	}
	m := slFormPostRE.FindAllStringSubmatch(p.Body, -1)
	if len(m) != 1 || html.UnescapeString(m[0][1]) != redirectURI {
		t.Fatalf("want one form posting to %s, found %v:\n%s", redirectURI, m, p.Body)
	}
	if !strings.Contains(p.Body, `onload="document.forms[0].submit()"`) {
		t.Errorf("the page does not submit itself:\n%s", p.Body)
	}
	b := slButtonRE.FindStringSubmatch(p.Body)
	if b == nil || strings.Contains(b[0], "hidden") {
		t.Errorf("the page has no visible submit button:\n%s", p.Body)
	}
	forms := harness.Forms(p.Body)
	if len(forms) != 1 {
		t.Fatalf("%d forms on the form_post page", len(forms))
	}
	for k, v := range forms[0].Fields {
		if len(v) != 1 {
			t.Errorf("field %s appears %d times", k, len(v))
		}
	}
	return forms[0].Fields
}

// TestConsent covers the consent page of a third-party client.
func TestConsent(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	cara := e.NewUser(t, "cara.consent", "cara-consent-pass-1", nil)
	bw := e.NewBrowser(t)
	app := e.ClockedRP(t, harness.AppID, harness.AppSecret, harness.AppRedirect, "openid")
	tool := e.ClockedRP(t, harness.ToolID, harness.ToolSecret, harness.ToolRedirect, "openid", "profile")
	toolAll := e.ClockedRP(t, harness.ToolID, harness.ToolSecret, harness.ToolRedirect, "openid", "profile", "email")
	toolOpenID := e.ClockedRP(t, harness.ToolID, harness.ToolSecret, harness.ToolRedirect, "openid")

	// The studio's own app never asks: signIn fails on anything but a
	// redirect with a code.
	f := app.Start(false)
	f.Redeem(t, bw.SignIn(f, cara.Username, cara.Password).Get("code"))

	var csrfSeen []string
	consented := func(t *testing.T) []string {
		t.Helper()
		have, err := e.DB.ConsentScopes(t.Context(), cara.ID, harness.ToolID)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(have)
		return have
	}

	t.Run("the consent page names the client and says what each scope releases", func(t *testing.T) {
		b := bw.As(t)
		f := tool.Start(false)
		path := harness.ConsentRedirect(t, b.Get(f.URL))
		p := b.Get(path)
		if p.Status != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, p.Status)
		}
		body := html.UnescapeString(p.Body)
		for _, want := range []string{"Booking Tool", "Signed in as", cara.Username} {
			if !strings.Contains(body, want) {
				t.Errorf("consent page lacks %q", want)
			}
		}
		for _, scope := range []string{"openid", "profile"} {
			d := op.ScopeDescriptions[scope]
			if d == "" || d == scope {
				t.Errorf("scope %s has no description in plain words", scope)
			}
			if !strings.Contains(body, d) {
				t.Errorf("consent page lacks the %s description %q", scope, d)
			}
		}
		for _, claim := range []string{"name", "preferred_username", "birthdate", "instagram"} {
			if !strings.Contains(p.Body, `<span class="claim">`+claim+`</span>`) {
				t.Errorf("consent page does not say that profile releases %s", claim)
			}
		}
		if strings.Contains(body, op.ScopeDescriptions["email"]) {
			t.Error("consent page describes email, which was not requested")
		}
		if strings.Contains(p.Body, `name="password"`) {
			t.Error("consent page asks for a password")
		}
		form := harness.FormTo(t, p, path, "")
		csrfSeen = append(csrfSeen, form.Fields.Get("csrf_token"))

		t.Run("a consent POST without a valid CSRF token is 403 and records nothing", func(t *testing.T) {
			b := bw.As(t)
			for name, csrf := range map[string]string{"missing": "", "forged": "forged-csrf-token-value"} {
				p := b.Post(path, url.Values{"csrf_token": {csrf}, "decision": {"approve"}})
				if p.Status != http.StatusForbidden {
					t.Errorf("%s CSRF token: status %d, want 403", name, p.Status)
				}
				if p.Location() != "" {
					t.Errorf("%s CSRF token: redirected to %q", name, p.Location())
				}
			}
			if have := consented(t); len(have) != 0 {
				t.Errorf("consent recorded without a CSRF token: %q", have)
			}
		})

		t.Run("another browser cannot open the pending consent", func(t *testing.T) {
			if p := e.NewBrowser(t).Get(path); p.Status != http.StatusBadRequest {
				t.Errorf("status %d, want 400", p.Status)
			}
		})

		t.Run("approve returns a code and remembers the scopes", func(t *testing.T) {
			b := bw.As(t)
			s := f.Redeem(t, b.Callback(f, b.ApproveConsent(path)).Get("code"))
			harness.CheckClaims(t, "ID token", s.Claims, map[string]any{"sub": cara.Sub, "aud": harness.ToolID, "name": "Test " + cara.Username}, []string{"email"})
			if have := consented(t); !slices.Equal(have, []string{"openid", "profile"}) {
				t.Errorf("remembered scopes = %q, want openid profile", have)
			}
		})
	})

	t.Run("the same scopes again, or fewer, need no consent page", func(t *testing.T) {
		b := bw.As(t)
		b.Grant(tool)
		b.Grant(toolOpenID)
		b.Grant(tool, slPromptNone)
	})

	t.Run("an extra scope asks again, naming the new scope", func(t *testing.T) {
		b := bw.As(t)
		f := toolAll.Start(false)
		path := harness.ConsentRedirect(t, b.Get(f.URL))
		p := b.Get(path)
		if !strings.Contains(html.UnescapeString(p.Body), op.ScopeDescriptions["email"]) {
			t.Errorf("consent page for the extra scope lacks the email description")
		}
		s := f.Redeem(t, b.Callback(f, b.ApproveConsent(path)).Get("code"))
		harness.CheckClaims(t, "ID token", s.Claims, map[string]any{"email": cara.Username + "@studio.example"}, nil)
		b.Grant(toolAll)
	})

	t.Run("prompt=consent shows the consent page even when remembered", func(t *testing.T) {
		b := bw.As(t)
		f := tool.Start(false, slParam("prompt", "consent"))
		path := harness.ConsentRedirect(t, b.Get(f.URL))
		f.Redeem(t, b.Callback(f, b.ApproveConsent(path)).Get("code"))
	})

	t.Run("an approval answers in form_post when the client asked for it", func(t *testing.T) {
		b := bw.As(t)
		f := tool.Start(false, slParam("prompt", "consent"), slFormPost)
		path := harness.ConsentRedirect(t, b.Get(f.URL))
		fields := slWantFormPost(t, b.ApproveConsent(path), harness.ToolRedirect)
		if fields.Get("state") != f.State {
			t.Errorf("state = %q, want %q", fields.Get("state"), f.State)
		}
		f.Redeem(t, fields.Get("code"))
	})

	t.Run("deny sends access_denied with the state to the client", func(t *testing.T) {
		b := bw.As(t)
		f := tool.Start(false, slParam("prompt", "consent"))
		path := harness.ConsentRedirect(t, b.Get(f.URL))
		form := harness.FormTo(t, b.Get(path), path, "")
		p := b.Post(path, url.Values{"csrf_token": form.Fields["csrf_token"], "decision": {"deny"}})
		if p.Status != http.StatusSeeOther {
			t.Errorf("status %d, want 303 after a POST", p.Status)
		}
		b.WantAuthError(f, p, "access_denied")
		// The answered request is gone: posting again does not issue a code.
		again := b.Post(path, url.Values{"csrf_token": form.Fields["csrf_token"], "decision": {"approve"}})
		if again.Status != http.StatusBadRequest || strings.Contains(again.Location(), "code=") {
			t.Errorf("re-posting an answered consent: status %d Location %q, want 400", again.Status, again.Location())
		}
	})

	t.Run("the audit trail records the consents without secrets", func(t *testing.T) {
		events, raw := e.AuditJSON(t)
		ev := harness.WantEvent(t, events, audit.ConsentGranted, cara.ID, harness.ToolID)
		if !strings.Contains(ev.Detail, "profile") {
			t.Errorf("consent_granted detail %q does not name the scopes", ev.Detail)
		}
		harness.NoSecrets(t, "audit trail", raw, append(csrfSeen, cara.Password, harness.ToolSecret, harness.AppSecret)...)
	})
}

// TestLogout covers RP-initiated logout (end_session_endpoint).
func TestLogout(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	e.RegisterPortalAndPartner(t)
	dana := e.NewUser(t, "dana.logout", "dana-logout-pass-1", nil)
	otto := e.NewUser(t, "otto.logout", "otto-logout-pass-1", nil)
	portal := e.ClockedRP(t, harness.PortalID, harness.PortalSecret, harness.PortalRedirect, "openid", "profile", "offline_access")
	signIn := func(b *harness.Browser, u harness.Account) *harness.SignedIn {
		t.Helper()
		f := portal.Start(false)
		s := f.Redeem(t, b.SignIn(f, u.Username, u.Password).Get("code"))
		if s.Token.RefreshToken == "" {
			t.Fatal("no refresh token for offline_access")
		}
		return s
	}
	bw, elsewhere := e.NewBrowser(t), e.NewBrowser(t)
	s := signIn(bw, dana)
	other := signIn(elsewhere, dana)       // Dana's session in another browser
	ottos := signIn(e.NewBrowser(t), otto) // someone else's ID token
	secrets := []string{dana.Password, otto.Password, harness.PortalSecret}
	var extra *harness.SignedIn

	t.Run("a post_logout_redirect_uri that is not registered is a 400 page, never a redirect", func(t *testing.T) {
		b := bw.As(t)
		cases := []struct {
			name  string
			query url.Values
		}{
			{"unregistered URI", url.Values{"id_token_hint": {s.Raw}, "post_logout_redirect_uri": {"https://evil.example/bye"}}},
			{"trailing slash", url.Values{"id_token_hint": {s.Raw}, "post_logout_redirect_uri": {harness.PortalLoggedOut + "/"}}},
			{"extra query", url.Values{"id_token_hint": {s.Raw}, "post_logout_redirect_uri": {harness.PortalLoggedOut + "?next=/x"}}},
			{"the client's login redirect URI", url.Values{"id_token_hint": {s.Raw}, "post_logout_redirect_uri": {harness.PortalRedirect}}},
			{"another client's URI by client_id", url.Values{"client_id": {harness.AppID}, "post_logout_redirect_uri": {harness.PortalLoggedOut}}},
			{"no client_id and no hint", url.Values{"post_logout_redirect_uri": {harness.PortalLoggedOut}}},
			{"client_id not the hint's audience", url.Values{"id_token_hint": {s.Raw}, "client_id": {harness.AppID}, "post_logout_redirect_uri": {harness.PortalLoggedOut}}},
			{"a forged hint", url.Values{"id_token_hint": {s.Raw + "x"}, "post_logout_redirect_uri": {harness.PortalLoggedOut}}},
		}
		for _, tc := range cases {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				var p *harness.Page
				if method == http.MethodGet {
					p = b.Get("/logout?" + tc.query.Encode())
				} else {
					p = b.Post("/logout", tc.query)
				}
				if p.Status != http.StatusBadRequest {
					t.Errorf("%s (%s): status %d, want 400", tc.name, method, p.Status)
				}
				if p.Location() != "" {
					t.Errorf("%s (%s): Location %q, want none", tc.name, method, p.Location())
				}
				if !strings.Contains(p.Body, "This sign-out link is not valid") {
					t.Errorf("%s (%s): not the invalid sign-out page:\n%s", tc.name, method, p.Body)
				}
			}
		}
		// Nothing was signed out.
		extra = b.Grant(portal)
		e.WantUserinfoOK(t, s.Token.AccessToken)
	})

	t.Run("an id_token_hint naming another user does not sign out without asking", func(t *testing.T) {
		b := bw.As(t)
		q := url.Values{"id_token_hint": {ottos.Raw}, "post_logout_redirect_uri": {harness.PortalLoggedOut}, "state": {"x"}}
		p := b.Get("/logout?" + q.Encode())
		if p.Status != http.StatusOK || p.Location() != "" || !strings.Contains(p.Body, "You are signed in") {
			t.Errorf("status %d Location %q, want the 200 confirmation page", p.Status, p.Location())
		}
		e.WantUserinfoOK(t, s.Token.AccessToken)
		b.Grant(portal)
	})

	var pending *harness.Flow
	var pendingCode string

	t.Run("a valid id_token_hint and registered post_logout_redirect_uri sign out and return with state", func(t *testing.T) {
		b := bw.As(t)
		// A rotated refresh token is still the session's.
		rot, err := portal.Refresh(t, s.Token.RefreshToken)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		// A code issued but not yet redeemed when the user signs out.
		pending = portal.Start(false)
		pendingCode = b.SSO(pending).Get("code")

		cookie := b.Cookie(slSessionCookie)
		if cookie == "" {
			t.Fatal("no session cookie before logout")
		}
		secrets = append(secrets, cookie, s.Raw, s.Token.AccessToken, s.Token.RefreshToken, rot.AccessToken, rot.RefreshToken)
		q := url.Values{"id_token_hint": {s.Raw}, "post_logout_redirect_uri": {harness.PortalLoggedOut}, "state": {"bye-state-42"}}
		p := b.Get("/logout?" + q.Encode())
		if p.Status != http.StatusSeeOther {
			t.Fatalf("status %d, want 303; body:\n%s", p.Status, p.Body)
		}
		got := harness.RedirectParams(t, p, harness.PortalLoggedOut)
		if got.Get("state") != "bye-state-42" || len(got) != 1 {
			t.Errorf("redirect query = %v, want only state=bye-state-42", got)
		}
		if cc := p.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("Cache-Control = %q, want no-store", cc)
		}
		if b.Cookie(slSessionCookie) != "" {
			t.Error("the session cookie is still set after logout")
		}
		// The session is over on the server, not only in this jar.
		b.SetCookie(slSessionCookie, cookie)
		b.ToLoginPage(portal.Start(false).URL)
		// Every token issued under the session is over too.
		for name, tok := range map[string]*oauth2.Token{"rotated": rot, "second grant": extra.Token} {
			_, err := portal.Refresh(t, tok.RefreshToken)
			if err == nil {
				t.Errorf("the %s refresh token still works after logout", name)
			}
			if r := e.Userinfo(t, http.MethodGet, tok.AccessToken); r.Status != http.StatusUnauthorized {
				t.Errorf("the %s access token still works after logout: status %d", name, r.Status)
			}
		}
		_, err = portal.Refresh(t, rot.RefreshToken)
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
	})

	t.Run("a code issued before the logout yields no live tokens after it", func(t *testing.T) {
		// Fails today: Provider.Logout (internal/oidc/logout.go) calls
		// store.RevokeSessionTokens, which revokes the session's rows in
		// inkpass_tokens but leaves its unredeemed codes in inkpass_codes
		// usable (user deactivation and client removal mark them used).
		if pending == nil {
			t.Skip("needs the pending code")
		}
		tok, err := pending.Exchange(t, pendingCode)
		if err != nil {
			harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
			return
		}
		secrets = append(secrets, tok.AccessToken, tok.RefreshToken)
		if r := e.Userinfo(t, http.MethodGet, tok.AccessToken); r.Status == http.StatusOK {
			t.Error("the code was redeemed after logout for an access token that works")
		}
		if _, err := portal.Refresh(t, tok.RefreshToken); err == nil {
			t.Error("the code was redeemed after logout for a refresh token that works")
		}
	})

	t.Run("the user's session in another browser is untouched", func(t *testing.T) {
		e.WantUserinfoOK(t, other.Token.AccessToken)
		if _, err := portal.Refresh(t, other.Token.RefreshToken); err != nil {
			t.Errorf("the other browser's refresh token: %v", err)
		}
		elsewhere.As(t).Grant(portal)
	})

	t.Run("without a session a logout with a valid redirect still goes back", func(t *testing.T) {
		b := e.NewBrowser(t)
		q := url.Values{"id_token_hint": {s.Raw}, "post_logout_redirect_uri": {harness.PortalLoggedOut}, "state": {"again"}}
		if got := harness.RedirectParams(t, b.Get("/logout?"+q.Encode()), harness.PortalLoggedOut); got.Get("state") != "again" {
			t.Errorf("state = %q", got.Get("state"))
		}
	})

	s2 := signIn(bw, dana)
	secrets = append(secrets, s2.Token.AccessToken, s2.Token.RefreshToken)

	t.Run("logout without a hint asks first, then the confirmation form signs out", func(t *testing.T) {
		b := bw.As(t)
		p := b.Get("/logout")
		if p.Status != http.StatusOK || p.Location() != "" {
			t.Fatalf("GET /logout: status %d Location %q, want the 200 confirmation page", p.Status, p.Location())
		}
		if !strings.Contains(p.Body, "You are signed in") || !strings.Contains(p.Body, dana.Username) {
			t.Errorf("the confirmation page does not say who is signed in:\n%s", p.Body)
		}
		form := harness.FormTo(t, p, "/logout", "")
		csrf := form.Fields.Get("csrf_token")
		if csrf == "" {
			t.Fatalf("the sign-out form has no csrf_token:\n%s", p.Body)
		}
		secrets = append(secrets, csrf)
		// Not signed out yet.
		b.Grant(portal)
		e.WantUserinfoOK(t, s2.Token.AccessToken)

		// A POST without the token (a cross-site form, say) only asks again.
		p = b.Post("/logout", url.Values{})
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "You are signed in") {
			t.Errorf("POST /logout without csrf_token: status %d, want the confirmation page again", p.Status)
		}
		e.WantUserinfoOK(t, s2.Token.AccessToken)

		cookie := b.Cookie(slSessionCookie)
		p = b.Post(form.Action, form.Fields)
		if p.Status != http.StatusOK || p.Location() != "" {
			t.Fatalf("POST the confirmation: status %d Location %q, want the signed-out page", p.Status, p.Location())
		}
		if !strings.Contains(p.Body, "<h1>Signed out</h1>") {
			t.Errorf("not the signed-out page:\n%s", p.Body)
		}
		b.SetCookie(slSessionCookie, cookie)
		b.ToLoginPage(portal.Start(false).URL)
		_, err := portal.Refresh(t, s2.Token.RefreshToken)
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		e.WantInvalidToken(t, s2.Token.AccessToken)
	})

	t.Run("an RP may POST the logout request", func(t *testing.T) {
		b := elsewhere.As(t)
		p := b.Post("/logout", url.Values{"id_token_hint": {other.Raw}, "post_logout_redirect_uri": {harness.PortalLoggedOut}, "state": {"posted"}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("status %d, want 303", p.Status)
		}
		if got := harness.RedirectParams(t, p, harness.PortalLoggedOut); got.Get("state") != "posted" {
			t.Errorf("state = %q", got.Get("state"))
		}
		b.ToLoginPage(portal.Start(false).URL)
	})

	t.Run("logout without any session shows the signed-out page", func(t *testing.T) {
		p := e.NewBrowser(t).Get("/logout")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "<h1>Signed out</h1>") {
			t.Errorf("status %d, want the signed-out page:\n%s", p.Status, p.Body)
		}
	})

	t.Run("the audit trail records the logouts without secrets", func(t *testing.T) {
		events, raw := e.AuditJSON(t)
		n := 0
		for _, ev := range events {
			if ev.Kind == audit.Logout && ev.UserID == dana.ID {
				n++
			}
		}
		if n != 3 {
			t.Errorf("%d logout events for dana, want 3", n)
		}
		harness.WantEvent(t, events, audit.Logout, dana.ID, harness.PortalID)
		harness.NoSecrets(t, "audit trail", raw, secrets...)
	})
}

// TestRevocation covers RFC 7009 /revoke.
func TestRevocation(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	eve := e.NewUser(t, "eve.revoke", "eve-revoke-pass-1", nil)
	app := e.ClockedRP(t, harness.AppID, harness.AppSecret, harness.AppRedirect, "openid", "offline_access")
	bw := e.NewBrowser(t)
	f := app.Start(false)
	f.Redeem(t, bw.SignIn(f, eve.Username, eve.Password).Get("code"))
	var tokens []string
	grant := func(t *testing.T) *harness.SignedIn {
		s := bw.As(t).Grant(app)
		if s.Token.RefreshToken == "" {
			t.Fatal("no refresh token")
		}
		tokens = append(tokens, s.Token.AccessToken, s.Token.RefreshToken)
		return s
	}

	t.Run("revoking a refresh token ends it and its family's access token", func(t *testing.T) {
		s := grant(t)
		harness.WantRevoke200(t, e.Revoke(t, s.Token.RefreshToken, "refresh_token"))
		_, err := app.Refresh(t, s.Token.RefreshToken)
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		e.WantInvalidToken(t, s.Token.AccessToken)
	})

	t.Run("revoking an access token ends it but not the refresh token", func(t *testing.T) {
		s := grant(t)
		harness.WantRevoke200(t, e.Revoke(t, s.Token.AccessToken, "access_token"))
		e.WantInvalidToken(t, s.Token.AccessToken)
		tok, err := app.Refresh(t, s.Token.RefreshToken)
		if err != nil {
			t.Fatalf("refresh after revoking the access token: %v", err)
		}
		e.WantUserinfoOK(t, tok.AccessToken)
	})

	t.Run("token_type_hint is only a hint: a wrong or missing one still finds the token", func(t *testing.T) {
		for _, c := range []struct{ kind, hint string }{
			{"refresh", "access_token"}, {"refresh", ""}, {"refresh", "something_else"},
			{"access", "refresh_token"}, {"access", ""},
		} {
			s := grant(t)
			if c.kind == "refresh" {
				harness.WantRevoke200(t, e.Revoke(t, s.Token.RefreshToken, c.hint))
				_, err := app.Refresh(t, s.Token.RefreshToken)
				if err == nil {
					t.Errorf("refresh token revoked with hint %q still refreshes", c.hint)
				}
				if r := e.Userinfo(t, http.MethodGet, s.Token.AccessToken); r.Status != http.StatusUnauthorized {
					t.Errorf("refresh token revoked with hint %q: its access token still works", c.hint)
				}
			} else {
				harness.WantRevoke200(t, e.Revoke(t, s.Token.AccessToken, c.hint))
				if r := e.Userinfo(t, http.MethodGet, s.Token.AccessToken); r.Status != http.StatusUnauthorized {
					t.Errorf("access token revoked with hint %q still works: status %d", c.hint, r.Status)
				}
				if _, err := app.Refresh(t, s.Token.RefreshToken); err != nil {
					t.Errorf("access token revoked with hint %q took its refresh token along: %v", c.hint, err)
				}
			}
		}
	})

	t.Run("an unknown token is 200 all the same", func(t *testing.T) {
		for _, hint := range []string{"", "access_token", "refresh_token"} {
			harness.WantRevoke200(t, e.Revoke(t, "no-such-token-0123456789abcdefghijklmnopqrstu", hint))
		}
	})

	t.Run("another client's token is 200 and not revoked", func(t *testing.T) {
		s := grant(t)
		for _, tok := range []string{s.Token.AccessToken, s.Token.RefreshToken} {
			// The booking tool authenticates with client_secret_post.
			r := e.Post(t, "/revoke", url.Values{"token": {tok}, "client_id": {harness.ToolID}, "client_secret": {harness.ToolSecret}})
			harness.WantRevoke200(t, r)
		}
		e.WantUserinfoOK(t, s.Token.AccessToken)
		if _, err := app.Refresh(t, s.Token.RefreshToken); err != nil {
			t.Errorf("the studio app's refresh token no longer works after the tool tried to revoke it: %v", err)
		}
	})

	t.Run("a public client revokes its own refresh token with its client_id", func(t *testing.T) {
		b := bw.As(t)
		spa := e.ClockedRP(t, harness.SPAID, "", harness.SPARedirect, "openid", "offline_access")
		f := spa.Start(true)
		s := f.Redeem(t, b.SSO(f).Get("code"))
		tokens = append(tokens, s.Token.AccessToken, s.Token.RefreshToken)
		harness.WantRevoke200(t, e.Post(t, "/revoke", url.Values{"token": {s.Token.RefreshToken}, "client_id": {harness.SPAID}}))
		_, err := spa.Refresh(t, s.Token.RefreshToken)
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		e.WantInvalidToken(t, s.Token.AccessToken)
	})

	t.Run("revocation needs client authentication and a token", func(t *testing.T) {
		s := grant(t)
		cases := []struct {
			name       string
			form       url.Values
			basic      []string
			wantStatus int
			wantError  string
		}{
			{"no client", url.Values{"token": {s.Token.AccessToken}}, nil, 401, "invalid_client"},
			{"wrong secret", url.Values{"token": {s.Token.AccessToken}}, []string{harness.AppID, "wrong-secret"}, 401, "invalid_client"},
			{"a confidential client by client_id alone", url.Values{"token": {s.Token.AccessToken}, "client_id": {harness.AppID}}, nil, 401, "invalid_client"},
			{"no token", url.Values{}, []string{harness.AppID, harness.AppSecret}, 400, "invalid_request"},
		}
		for _, tc := range cases {
			r := e.Post(t, "/revoke", tc.form, tc.basic...)
			if r.Status != tc.wantStatus || r.Str("error") != tc.wantError {
				t.Errorf("%s: %d %s, want %d %s", tc.name, r.Status, r.Raw, tc.wantStatus, tc.wantError)
			}
		}
		e.WantUserinfoOK(t, s.Token.AccessToken)
	})

	t.Run("the audit trail records revocations without token values", func(t *testing.T) {
		events, raw := e.AuditJSON(t)
		harness.WantEvent(t, events, audit.TokenRevoked, eve.ID, harness.AppID)
		harness.WantEvent(t, events, audit.TokenRevoked, eve.ID, harness.SPAID)
		for _, ev := range events {
			if ev.Kind == audit.TokenRevoked && ev.ClientID == harness.ToolID {
				t.Errorf("a token_revoked event for the tool, which revoked nothing: %+v", ev)
			}
		}
		harness.NoSecrets(t, "audit trail", raw, append(tokens, eve.Password, harness.AppSecret, harness.ToolSecret)...)
	})
}

// TestIntrospect covers RFC 7662 /introspect.
func TestIntrospect(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	finn := e.NewUser(t, "finn.intro", "finn-intro-pass-1", nil)
	app := e.ClockedRP(t, harness.AppID, harness.AppSecret, harness.AppRedirect, "openid", "profile", "offline_access")
	bw := e.NewBrowser(t)
	f := app.Start(false)
	s := f.Redeem(t, bw.SignIn(f, finn.Username, finn.Password).Get("code"))
	grant := func(t *testing.T) *harness.SignedIn { return bw.As(t).Grant(app) }
	scopes := func(s string) []string { f := strings.Fields(s); slices.Sort(f); return f }

	t.Run("an active access token", func(t *testing.T) {
		for _, hint := range []string{"", "access_token", "refresh_token"} {
			r := e.Introspect(t, s.Token.AccessToken, hint)
			harness.CheckClaims(t, "introspection (hint "+hint+")", r.Body, map[string]any{
				"active": true, "client_id": harness.AppID, "sub": finn.Sub, "username": finn.Username, "role": "assistant",
			}, nil)
			if got := scopes(r.Str("scope")); !slices.Equal(got, []string{"offline_access", "openid", "profile"}) {
				t.Errorf("scope = %q, want openid profile offline_access", r.Str("scope"))
			}
			if !strings.EqualFold(r.Str("token_type"), "Bearer") {
				t.Errorf("token_type = %q, want Bearer", r.Str("token_type"))
			}
			iat, _ := r.Body["iat"].(float64)
			exp, _ := r.Body["exp"].(float64)
			if d := time.Duration(exp-iat) * time.Second; d != harness.AccessTTL {
				t.Errorf("exp - iat = %v, want %v", d, harness.AccessTTL)
			}
			if d := e.Clock.Now().Sub(time.Unix(int64(iat), 0)); d < -time.Second || d > time.Minute {
				t.Errorf("iat is %v from now", d)
			}
		}
	})

	t.Run("an active refresh token", func(t *testing.T) {
		r := e.Introspect(t, s.Token.RefreshToken, "refresh_token")
		harness.CheckClaims(t, "introspection", r.Body, map[string]any{
			"active": true, "token_type": "refresh_token", "client_id": harness.AppID, "sub": finn.Sub, "username": finn.Username, "role": "assistant",
		}, nil)
		iat, _ := r.Body["iat"].(float64)
		exp, _ := r.Body["exp"].(float64)
		if d := time.Duration(exp-iat) * time.Second; d != harness.RefreshTTL {
			t.Errorf("exp - iat = %v, want %v", d, harness.RefreshTTL)
		}
		// Without the hint, too.
		if r := e.Introspect(t, s.Token.RefreshToken, ""); r.Str("token_type") != "refresh_token" {
			t.Errorf("without a hint: token_type = %q", r.Str("token_type"))
		}
	})

	t.Run("a client_secret_post client may introspect its own tokens", func(t *testing.T) {
		tool := e.ClockedRP(t, harness.ToolID, harness.ToolSecret, harness.ToolRedirect, "openid")
		tf := tool.Start(false)
		ts := tf.Redeem(t, bw.As(t).SSOWithConsent(tf).Get("code"))
		r := e.Post(t, "/introspect", url.Values{"token": {ts.Token.AccessToken}, "client_id": {harness.ToolID}, "client_secret": {harness.ToolSecret}})
		if r.Status != http.StatusOK || r.Body["active"] != true {
			t.Errorf("status %d %s, want 200 active", r.Status, r.Raw)
		}
		// Not a resource server: another client's token is none of its
		// business (TestIntrospectionIsForResourceServers).
		r = e.Post(t, "/introspect", url.Values{"token": {s.Token.AccessToken}, "client_id": {harness.ToolID}, "client_secret": {harness.ToolSecret}})
		harness.WantInactive(t, r)
	})

	t.Run("unknown tokens are inactive", func(t *testing.T) {
		for _, hint := range []string{"", "access_token", "refresh_token"} {
			harness.WantInactive(t, e.Introspect(t, "no-such-token-0123456789abcdefghijklmnopqrstu", hint))
		}
	})

	t.Run("revoked tokens are inactive", func(t *testing.T) {
		g := grant(t)
		harness.WantRevoke200(t, e.Revoke(t, g.Token.AccessToken, ""))
		harness.WantInactive(t, e.Introspect(t, g.Token.AccessToken, ""))
		if r := e.Introspect(t, g.Token.RefreshToken, ""); r.Body["active"] != true {
			t.Errorf("the refresh token went inactive with its access token: %s", r.Raw)
		}
		harness.WantRevoke200(t, e.Revoke(t, g.Token.RefreshToken, ""))
		harness.WantInactive(t, e.Introspect(t, g.Token.RefreshToken, ""))
	})

	t.Run("a rotated refresh token and the access token it replaced are inactive", func(t *testing.T) {
		g := grant(t)
		tok, err := app.Refresh(t, g.Token.RefreshToken)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		harness.WantInactive(t, e.Introspect(t, g.Token.RefreshToken, ""))
		harness.WantInactive(t, e.Introspect(t, g.Token.AccessToken, ""))
		for _, live := range []string{tok.AccessToken, tok.RefreshToken} {
			if r := e.Introspect(t, live, ""); r.Body["active"] != true {
				t.Errorf("the new token is not active: %s", r.Raw)
			}
		}
	})

	t.Run("an expired access token is inactive", func(t *testing.T) {
		g := grant(t)
		e.Clock.Advance(harness.AccessTTL + time.Minute)
		defer e.Clock.Advance(-(harness.AccessTTL + time.Minute))
		harness.WantInactive(t, e.Introspect(t, g.Token.AccessToken, ""))
		if r := e.Introspect(t, g.Token.RefreshToken, ""); r.Body["active"] != true {
			t.Errorf("the refresh token, good for %v, is not active after %v: %s", harness.RefreshTTL, harness.AccessTTL, r.Raw)
		}
	})

	t.Run("a deactivated user's tokens are inactive", func(t *testing.T) {
		gus := e.NewUser(t, "gus.intro", "gus-intro-pass-1", nil)
		f := app.Start(false)
		g := f.Redeem(t, e.NewBrowser(t).SignIn(f, gus.Username, gus.Password).Get("code"))
		if err := e.Users.Deactivate(t.Context(), gus.ID); err != nil {
			t.Fatal(err)
		}
		harness.WantInactive(t, e.Introspect(t, g.Token.AccessToken, ""))
		harness.WantInactive(t, e.Introspect(t, g.Token.RefreshToken, ""))
	})

	t.Run("tokens of a user deactivated directly in the users table are inactive", func(t *testing.T) {
		// The studio's Python app sets is_active = 0 itself; no token is
		// revoked, so only the user check can make these inactive.
		hana := e.NewUser(t, "hana.intro", "hana-intro-pass-1", nil)
		f := app.Start(false)
		g := f.Redeem(t, e.NewBrowser(t).SignIn(f, hana.Username, hana.Password).Get("code"))
		e.DeactivateBehindOurBack(t, hana.ID)
		harness.WantInactive(t, e.Introspect(t, g.Token.AccessToken, ""))
		harness.WantInactive(t, e.Introspect(t, g.Token.RefreshToken, ""))
		e.WantInvalidToken(t, g.Token.AccessToken)
		_, err := app.Refresh(t, g.Token.RefreshToken)
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
	})

	t.Run("a client_credentials token is active without a user", func(t *testing.T) {
		cc := clientcredentials.Config{ClientID: harness.ReporterID, ClientSecret: harness.ReporterSecret, TokenURL: e.Issuer + "/token",
			Scopes: []string{"profile"}, AuthStyle: oauth2.AuthStyleInHeader}
		tok, err := cc.Token(t.Context())
		if err != nil {
			t.Fatalf("client_credentials: %v", err)
		}
		// The reporter introspects and revokes its own token.
		introspect := func() *harness.Resp {
			r := e.Post(t, "/introspect", harness.TokenForm(tok.AccessToken, ""), harness.ReporterID, harness.ReporterSecret)
			if r.Status != http.StatusOK {
				t.Fatalf("POST /introspect: status %d %s, want 200", r.Status, r.Raw)
			}
			return r
		}
		harness.CheckClaims(t, "introspection", introspect().Body, map[string]any{"active": true, "client_id": harness.ReporterID, "scope": "profile"},
			[]string{"sub", "username", "role"})
		harness.WantRevoke200(t, e.Post(t, "/revoke", url.Values{"token": {tok.AccessToken}}, harness.ReporterID, harness.ReporterSecret))
		harness.WantInactive(t, introspect())
	})

	t.Run("a public client or no client at all is 401 invalid_client", func(t *testing.T) {
		cases := []struct {
			name  string
			form  url.Values
			basic []string
		}{
			{"public client", url.Values{"token": {s.Token.AccessToken}, "client_id": {harness.SPAID}}, nil},
			{"public client with a made-up secret", url.Values{"token": {s.Token.AccessToken}}, []string{harness.SPAID, "made-up"}},
			{"no client", url.Values{"token": {s.Token.AccessToken}}, nil},
			{"wrong secret", url.Values{"token": {s.Token.AccessToken}}, []string{harness.AppID, "wrong-secret"}},
		}
		for _, tc := range cases {
			r := e.Post(t, "/introspect", tc.form, tc.basic...)
			if r.Status != http.StatusUnauthorized || r.Str("error") != "invalid_client" {
				t.Errorf("%s: %d %s, want 401 invalid_client", tc.name, r.Status, r.Raw)
			}
			if _, ok := r.Body["active"]; ok {
				t.Errorf("%s: the answer says whether the token is active", tc.name)
			}
		}
	})
}

// TestSessionLifeDiscovery: the discovery document advertises the session
// endpoints and the client authentication each one really accepts.
func TestSessionLifeDiscovery(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	p, err := oidc.NewProvider(t.Context(), e.Issuer)
	if err != nil {
		t.Fatalf("oidc.NewProvider: %v", err)
	}
	var doc map[string]any
	if err := p.Claims(&doc); err != nil {
		t.Fatal(err)
	}
	list := func(k string) []string {
		raw, _ := doc[k].([]any)
		var out []string
		for _, v := range raw {
			s, _ := v.(string)
			out = append(out, s)
		}
		slices.Sort(out)
		return out
	}
	for k, want := range map[string]string{
		"end_session_endpoint":   e.Issuer + "/logout",
		"revocation_endpoint":    e.Issuer + "/revoke",
		"introspection_endpoint": e.Issuer + "/introspect",
	} {
		if doc[k] != want {
			t.Errorf("%s = %v, want %q", k, doc[k], want)
		}
	}
	for k, want := range map[string][]string{
		// /revoke takes public clients by client_id (TestRevocation);
		// /introspect refuses them (TestIntrospect), so "none" is not listed.
		"revocation_endpoint_auth_methods_supported":    {"client_secret_basic", "client_secret_post", "none"},
		"introspection_endpoint_auth_methods_supported": {"client_secret_basic", "client_secret_post"},
		"response_modes_supported":                      {"form_post", "query"},
		"prompt_values_supported":                       {"consent", "login", "none", "select_account"},
	} {
		if got := list(k); !slices.Equal(got, want) {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if doc["authorization_response_iss_parameter_supported"] != true {
		t.Errorf("authorization_response_iss_parameter_supported = %v", doc["authorization_response_iss_parameter_supported"])
	}
	// Back-channel logout is implemented (backchannel_test.go), with sid in
	// every logout token.
	for _, k := range []string{"backchannel_logout_supported", "backchannel_logout_session_supported"} {
		if doc[k] != true {
			t.Errorf("%s = %v, want true", k, doc[k])
		}
	}
	// Logout mechanisms inkpass does not implement are not advertised.
	for _, k := range []string{"frontchannel_logout_supported", "check_session_iframe"} {
		if v, ok := doc[k]; ok && v != false {
			t.Errorf("%s = %v is advertised but not implemented", k, v)
		}
	}
	// The advertised endpoints answer.
	if p := e.NewBrowser(t).Get("/logout"); p.Status != http.StatusOK {
		t.Errorf("GET /logout: status %d", p.Status)
	}
	for _, path := range []string{"/revoke", "/introspect"} {
		if r := e.Post(t, path, url.Values{"token": {"x"}}); r.Status != http.StatusUnauthorized || r.Str("error") != "invalid_client" {
			t.Errorf("POST %s without a client: %d %s, want 401 invalid_client", path, r.Status, r.Raw)
		}
	}
}

// TestAccount covers the user's own page: profile, password change,
// connected apps, and that a deactivated user cannot reach it.
func TestAccount(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	e.RegisterPortalAndPartner(t)
	const (
		oldPassword   = "ivy-old-password-1"
		newPassword   = "ivy-new-password-2"
		wrongPassword = "ivy-not-my-password"
	)
	mira := int64(3) // the fixture's artist Mira Sol
	ivy := e.NewUser(t, "ivy.account", oldPassword, func(u *user.User) {
		u.Role, u.ArtistID, u.Name = user.RoleArtist, &mira, "Ivy Quinn"
		u.Instagram, u.Phone, u.Birthdate = "ivy.inks", "+1 555 0123", "1994-09-08"
	})
	secrets := []string{oldPassword, newPassword, wrongPassword, harness.PartnerSecret, harness.AppSecret}
	bw := e.NewBrowser(t)

	t.Run("without a session /account redirects to /login", func(t *testing.T) {
		b := bw.As(t)
		p := b.Get("/account")
		if p.Status != http.StatusSeeOther || p.Location() != "/login" {
			t.Errorf("status %d to %q, want 303 to /login", p.Status, p.Location())
		}
	})

	// Sign in at /login directly: no client, so inkpass sends the user to
	// their account page.
	login := bw.Get("/login")
	p := bw.SubmitLogin(harness.ParseLoginForm(t, login), ivy.Username, oldPassword)
	if p.Status != http.StatusSeeOther || p.Location() != "/account" {
		t.Fatalf("sign in at /login: status %d to %q (error box %q), want 303 to /account", p.Status, p.Location(), harness.LoginError(p))
	}
	secrets = append(secrets, bw.Cookie(slSessionCookie))

	account := func(t *testing.T, b *harness.Browser) *harness.Page {
		t.Helper()
		p := b.Get("/account")
		if p.Status != http.StatusOK {
			t.Fatalf("GET /account: status %d to %q", p.Status, p.Location())
		}
		return p
	}

	t.Run("the page shows the user's own profile", func(t *testing.T) {
		p := account(t, bw.As(t))
		body := html.UnescapeString(p.Body)
		for _, want := range []string{ivy.Username, "Ivy Quinn", "artist", "Mira Sol", ivy.Username + "@studio.example",
			"+1 555 0123", "ivy.inks", "1994-09-08"} {
			if !strings.Contains(body, want) {
				t.Errorf("account page lacks %q", want)
			}
		}
		if strings.Contains(body, "$argon2id$") {
			t.Error("account page shows the password hash")
		}
		if !strings.Contains(body, "No apps have access to your account.") {
			t.Error("a new account lists connected apps")
		}
	})

	passwordForm := func(t *testing.T, b *harness.Browser) harness.Form {
		t.Helper()
		f := harness.FormTo(t, account(t, b), "/account/password", "")
		secrets = append(secrets, f.Fields.Get("csrf_token"))
		return f
	}
	change := func(t *testing.T, b *harness.Browser, current, next, confirm string) *harness.Page {
		t.Helper()
		f := passwordForm(t, b)
		return b.Post(f.Action, url.Values{"csrf_token": f.Fields["csrf_token"],
			"current_password": {current}, "new_password": {next}, "confirm_password": {confirm}})
	}

	t.Run("a password change is refused with a wrong current password or a weak new one", func(t *testing.T) {
		b := bw.As(t)
		for _, c := range []struct {
			name, current, next, confirm, want string
		}{
			{"wrong current password", wrongPassword, newPassword, newPassword, "Your current password is not correct."},
			{"new password too short", oldPassword, "short7!", "short7!", "The new password must be at least 8 characters."},
			{"new password is the username", oldPassword, ivy.Username, ivy.Username, "The new password must not be the username."},
			{"new password is the username in capitals", oldPassword, strings.ToUpper(ivy.Username), strings.ToUpper(ivy.Username), "The new password must not be the username."},
			{"confirmation differs", oldPassword, newPassword, newPassword + "x", "The new password and its confirmation differ."},
		} {
			p := change(t, b, c.current, c.next, c.confirm)
			if p.Status != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400", c.name, p.Status)
			}
			if got := harness.LoginError(p); got != c.want {
				t.Errorf("%s: error box %q, want %q", c.name, got, c.want)
			}
		}
		p := b.Post("/account/password", url.Values{"current_password": {oldPassword}, "new_password": {newPassword}, "confirm_password": {newPassword}})
		if p.Status != http.StatusForbidden {
			t.Errorf("without csrf_token: status %d, want 403", p.Status)
		}
	})

	t.Run("a password change takes effect: the old password fails at /login, the new one works", func(t *testing.T) {
		b := bw.As(t)
		p := change(t, b, oldPassword, newPassword, newPassword)
		if p.Status != http.StatusSeeOther || p.Location() != "/account?done=password" {
			t.Fatalf("status %d to %q (error box %q), want 303 to /account?done=password", p.Status, p.Location(), harness.LoginError(p))
		}
		if !strings.Contains(b.Get(p.Location()).Body, "Your password has been changed.") {
			t.Error("no notice after the change")
		}
		other := e.NewBrowser(t)
		form := harness.ParseLoginForm(t, other.Get("/login"))
		p = other.SubmitLogin(form, ivy.Username, oldPassword)
		if p.Status != http.StatusUnauthorized || harness.LoginError(p) != msgBadCredentials {
			t.Errorf("old password: status %d error %q, want 401 %q", p.Status, harness.LoginError(p), msgBadCredentials)
		}
		p = other.SubmitLogin(harness.ParseLoginForm(t, p), ivy.Username, newPassword)
		if p.Status != http.StatusSeeOther || p.Location() != "/account" {
			t.Errorf("new password: status %d to %q (error box %q), want 303 to /account", p.Status, p.Location(), harness.LoginError(p))
		}
	})

	partner := e.ClockedRP(t, harness.PartnerID, harness.PartnerSecret, harness.PartnerRedirect, "openid", "profile", "offline_access")
	app := e.ClockedRP(t, harness.AppID, harness.AppSecret, harness.AppRedirect, "openid", "offline_access")
	var ps *harness.SignedIn

	t.Run("connected apps list a third-party app after consent and a first-party app holding a refresh token", func(t *testing.T) {
		b := bw.As(t)
		f := partner.Start(false)
		path := harness.ConsentRedirect(t, b.Get(f.URL))
		ps = f.Redeem(t, b.Callback(f, b.ApproveConsent(path)).Get("code"))
		as := b.Grant(app)
		secrets = append(secrets, ps.Token.AccessToken, ps.Token.RefreshToken, as.Token.RefreshToken)
		p := account(t, b)
		body := html.UnescapeString(p.Body)
		for _, want := range []string{harness.PartnerName, "Studio App", "openid profile offline_access"} {
			if !strings.Contains(body, want) {
				t.Errorf("connected apps lack %q:\n%s", want, p.Body)
			}
		}
		harness.FormTo(t, p, "/account/revoke", harness.PartnerID)
		harness.FormTo(t, p, "/account/revoke", harness.AppID)
	})

	var pending *harness.Flow
	var pendingCode string

	t.Run("the revoke button ends the app's tokens and its consent", func(t *testing.T) {
		if ps == nil {
			t.Skip("needs the partner's tokens")
		}
		b := bw.As(t)
		// A code the partner has been given but not yet redeemed.
		pending = partner.Start(false)
		pendingCode = b.SSO(pending).Get("code")
		form := harness.FormTo(t, account(t, b), "/account/revoke", harness.PartnerID)
		// Without the CSRF token nothing happens.
		if p := b.Post(form.Action, url.Values{"client_id": {harness.PartnerID}}); p.Status != http.StatusForbidden {
			t.Errorf("revoke without csrf_token: status %d, want 403", p.Status)
		}
		e.WantUserinfoOK(t, ps.Token.AccessToken)

		p := b.Post(form.Action, form.Fields)
		if p.Status != http.StatusSeeOther || p.Location() != "/account?done=revoked" {
			t.Fatalf("revoke: status %d to %q, want 303 to /account?done=revoked", p.Status, p.Location())
		}
		after := b.Get(p.Location())
		if !strings.Contains(html.UnescapeString(after.Body), "The app's access has been revoked.") {
			t.Error("no notice after revoking")
		}
		for _, f := range harness.Forms(after.Body) {
			if f.Fields.Get("client_id") == harness.PartnerID {
				t.Error("the revoked app is still listed")
			}
		}
		harness.FormTo(t, after, "/account/revoke", harness.AppID) // the other app stays
		e.WantInvalidToken(t, ps.Token.AccessToken)
		_, err := partner.Refresh(t, ps.Token.RefreshToken)
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		// The consent is gone: the next authorization asks again.
		harness.ConsentRedirect(t, b.Get(partner.Start(false).URL))
		f := partner.Start(false, slPromptNone)
		b.WantAuthError(f, b.Get(f.URL), "consent_required")
	})

	t.Run("a code issued before the revoke yields no live tokens after it", func(t *testing.T) {
		// Fails today: store.DB.RevokeClientAccess (internal/store/consents.go)
		// deletes the consent and revokes the client's rows in
		// inkpass_tokens, but leaves its unredeemed codes in inkpass_codes
		// usable, so the app the user just cut off can still mint a
		// 30-day refresh token (Clients.Remove and user deactivation do
		// mark codes used).
		if pending == nil {
			t.Skip("needs the pending code")
		}
		tok, err := pending.Exchange(t, pendingCode)
		if err != nil {
			harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
			return
		}
		secrets = append(secrets, tok.AccessToken, tok.RefreshToken)
		if r := e.Userinfo(t, http.MethodGet, tok.AccessToken); r.Status == http.StatusOK {
			t.Error("the code was redeemed after the revoke for an access token that works")
		}
		if _, err := partner.Refresh(t, tok.RefreshToken); err == nil {
			t.Error("the code was redeemed after the revoke for a refresh token that works")
		}
	})

	t.Run("a deactivated user's session cannot reach /account", func(t *testing.T) {
		b := bw.As(t)
		account(t, b)
		if err := e.Users.Deactivate(t.Context(), ivy.ID); err != nil {
			t.Fatal(err)
		}
		if p := b.Get("/account"); p.Status != http.StatusSeeOther || p.Location() != "/login" {
			t.Errorf("status %d to %q, want 303 to /login", p.Status, p.Location())
		}
	})

	t.Run("nor can one deactivated directly in the users table", func(t *testing.T) {
		jon := e.NewUser(t, "jon.account", "jon-account-pass-1", nil)
		secrets = append(secrets, jon.Password)
		b := e.NewBrowser(t)
		if p := b.SubmitLogin(harness.ParseLoginForm(t, b.Get("/login")), jon.Username, jon.Password); p.Location() != "/account" {
			t.Fatalf("jon's login: status %d to %q", p.Status, p.Location())
		}
		account(t, b)
		e.DeactivateBehindOurBack(t, jon.ID)
		if p := b.Get("/account"); p.Status != http.StatusSeeOther || p.Location() != "/login" {
			t.Errorf("status %d to %q, want 303 to /login", p.Status, p.Location())
		}
	})

	t.Run("the audit trail records the account's events without secrets", func(t *testing.T) {
		events, raw := e.AuditJSON(t)
		harness.WantEvent(t, events, audit.LoginSucceeded, ivy.ID, "")
		if ev := harness.WantEvent(t, events, audit.LoginFailed, ivy.ID, ""); ev.Detail != "wrong password" {
			t.Errorf("login_failed detail = %q, want the reason", ev.Detail)
		}
		harness.WantEvent(t, events, audit.PasswordChanged, ivy.ID, "")
		harness.WantEvent(t, events, audit.ConsentGranted, ivy.ID, harness.PartnerID)
		harness.WantEvent(t, events, audit.ConsentRevoked, ivy.ID, harness.PartnerID)
		harness.WantEvent(t, events, audit.UserDeactivated, ivy.ID, "")
		harness.NoSecrets(t, "audit trail", raw, secrets...)
		// The JSON is what `inkpass audit --json` prints: a list of objects
		// with the documented keys only.
		var list []map[string]any
		if err := json.Unmarshal([]byte(raw), &list); err != nil {
			t.Fatal(err)
		}
		allowed := []string{"id", "at", "kind", "user_id", "username", "client_id", "addr", "detail"}
		for _, ev := range list {
			for k := range ev {
				if !slices.Contains(allowed, k) {
					t.Errorf("audit event has key %q", k)
				}
			}
		}
	})
}

// TestSessionClock: the clock injected as oidc.Config.Now and
// store.Options.Now (STYLE §9) must be the one every issued code and token is
// stamped with, or tests that move it break in ways production never shows.
//
// The store stamps what it stores with its own clock, the one it checks
// expiry against, so that moving the clock ahead never makes a new code born
// expired, and introspection's iat agrees with the ID token's.
func TestSessionClock(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	kim := e.NewUser(t, "kim.clock", "kim-clock-pass-1", nil)
	app := e.ClockedRP(t, harness.AppID, harness.AppSecret, harness.AppRedirect, "openid")
	bw := e.NewBrowser(t)
	f := app.Start(false)
	f.Redeem(t, bw.SignIn(f, kim.Username, kim.Password).Get("code"))

	t.Run("access token iat follows the injected clock", func(t *testing.T) {
		e.Clock.Advance(30 * time.Second) // less than the code lifetime
		s := bw.As(t).Grant(app)
		r := e.Introspect(t, s.Token.AccessToken, "")
		iat, _ := r.Body["iat"].(float64)
		if got, want := time.Unix(int64(iat), 0), s.IDToken.IssuedAt; got.Sub(want).Abs() > 2*time.Second {
			t.Errorf("introspection iat = %v, ID token iat = %v: the access token was not stamped with the injected clock", got, want)
		}
	})

	t.Run("a code issued after the clock moved past the code lifetime redeems", func(t *testing.T) {
		e.Clock.Advance(15 * time.Minute)
		f := app.Start(false)
		code := bw.As(t).SSO(f).Get("code")
		if _, err := f.Exchange(t, code); err != nil {
			t.Errorf("exchange of a code issued a moment ago, 15 min after the clock moved: %v", err)
		}
	})
}
