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
	e := newEnv(t, envOptions{})
	ana := e.slNewUser(t, "ana.prompt", "ana-prompt-pass-1", nil)
	ben := e.slNewUser(t, "ben.prompt", "ben-prompt-pass-1", nil)
	app := e.slRP(t, appID, appSecret, appRedirect, "openid", "profile")
	tool := e.slRP(t, toolID, toolSecret, toolRedirect, "openid", "profile")
	bw := e.newBrowser(t)

	t.Run("prompt=none without a session is login_required at the client, never a page", func(t *testing.T) {
		b := e.newBrowser(t)
		f := app.start(false, slPromptNone)
		p := b.get(f.url)
		if p.status != http.StatusFound {
			t.Errorf("status %d, want 302 straight to the client", p.status)
		}
		b.slWantAuthError(f, p, "login_required")
		if strings.Contains(p.body, "<form") {
			t.Errorf("the answer to prompt=none holds a form:\n%s", p.body)
		}
	})

	f := app.start(false)
	first := f.redeem(t, bw.signIn(f, ana.username, ana.password).Get("code"))
	firstAuth := slAuthTime(t, first)

	t.Run("prompt=none with a session returns a code straight away", func(t *testing.T) {
		b := bw.slAs(t)
		s := b.slGrant(app, slPromptNone)
		checkClaims(t, "ID token", s.claims, map[string]any{"sub": ana.sub, "sid": first.claims["sid"], "auth_time": first.claims["auth_time"]}, nil)
	})

	t.Run("prompt=none for a third-party client without consent is consent_required", func(t *testing.T) {
		b := bw.slAs(t)
		f := tool.start(false, slPromptNone)
		p := b.get(f.url)
		if p.status != http.StatusFound {
			t.Errorf("status %d, want 302 straight to the client", p.status)
		}
		b.slWantAuthError(f, p, "consent_required")
	})

	t.Run("unknown or contradictory prompt values are invalid_request", func(t *testing.T) {
		b := bw.slAs(t)
		for _, v := range []string{"bogus", "none login", "none consent"} {
			f := app.start(false, slParam("prompt", v))
			b.slWantAuthError(f, b.get(f.url), "invalid_request")
		}
	})

	t.Run("id_token_hint of the signed-in user with prompt=none returns a code", func(t *testing.T) {
		b := bw.slAs(t)
		s := b.slGrant(app, slPromptNone, slParam("id_token_hint", first.raw))
		if s.idToken.Subject != ana.sub {
			t.Errorf("sub = %q, want %q", s.idToken.Subject, ana.sub)
		}
	})

	t.Run("an id_token_hint that is not an ID token of this issuer is invalid_request", func(t *testing.T) {
		b := bw.slAs(t)
		parts := strings.Split(first.raw, ".")
		if len(parts) != 3 {
			t.Fatalf("ID token %q is not a compact JWS", first.raw)
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
					f := app.start(false, opts...)
					b.slAs(t).slWantAuthError(f, b.get(f.url), "invalid_request")
				})
			}
		}
	})

	// Ben signs in elsewhere; his ID token names another user than Ana.
	bf := app.start(false)
	bens := bf.redeem(t, e.newBrowser(t).signIn(bf, ben.username, ben.password).Get("code"))

	t.Run("id_token_hint naming another user with prompt=none is login_required", func(t *testing.T) {
		b := bw.slAs(t)
		f := app.start(false, slPromptNone, slParam("id_token_hint", bens.raw))
		b.slWantAuthError(f, b.get(f.url), "login_required")
	})

	t.Run("id_token_hint naming another user without prompt=none asks for a password", func(t *testing.T) {
		b := bw.slAs(t)
		f := app.start(false, slParam("id_token_hint", bens.raw))
		b.slWantLoginRedirect(b.get(f.url))
	})

	t.Run("response_mode=form_post answers with a form that posts code, state and iss", func(t *testing.T) {
		b := bw.slAs(t)
		f := app.start(false, slFormPost)
		p := b.get(f.url)
		fields := slWantFormPost(t, p, appRedirect)
		for _, k := range []string{"code", "state", "iss"} {
			if fields.Get(k) == "" {
				t.Errorf("form_post form has no %s field: %v", k, fields)
			}
		}
		if fields.Get("state") != f.state || fields.Get("iss") != e.issuer {
			t.Errorf("state %q iss %q, want %q and %q", fields.Get("state"), fields.Get("iss"), f.state, e.issuer)
		}
		s := f.redeem(t, fields.Get("code"))
		if s.idToken.Subject != ana.sub {
			t.Errorf("sub = %q, want %q", s.idToken.Subject, ana.sub)
		}
	})

	t.Run("form_post carries prompt=none's login_required in the form too", func(t *testing.T) {
		b := e.newBrowser(t)
		f := app.start(false, slFormPost, slPromptNone)
		fields := slWantFormPost(t, b.get(f.url), appRedirect)
		if fields.Get("error") != "login_required" || fields.Get("state") != f.state || fields.Has("code") {
			t.Errorf("form fields = %v, want error=login_required with the state and no code", fields)
		}
	})

	// The clock moves by seconds, not minutes: a move beyond the 60 s code
	// lifetime would expire every code issued before it (TestSessionClock).
	t.Run("max_age with a fresh enough session needs no form, and auth_time is in the ID token", func(t *testing.T) {
		b := bw.slAs(t)
		s := b.slGrant(app, slParam("max_age", "20"))
		if got := slAuthTime(t, s); !got.Equal(firstAuth) {
			t.Errorf("auth_time = %v, want the session's %v", got, firstAuth)
		}
	})

	e.clock.Advance(30 * time.Second)
	var maxAgeLogin *signedIn

	t.Run("max_age shorter than the session's age forces a new login that moves auth_time", func(t *testing.T) {
		b := bw.slAs(t)
		// A limit the session still meets goes straight through.
		b.slGrant(app, slParam("max_age", "3600"))
		// With prompt=none, too old is login_required, not a page.
		f := app.start(false, slParam("max_age", "20"), slPromptNone)
		b.slWantAuthError(f, b.get(f.url), "login_required")

		f = app.start(false, slParam("max_age", "20"))
		_, form := b.slWantLoginRedirect(b.get(f.url))
		p := b.submitLogin(form, ana.username, ana.password)
		maxAgeLogin = f.redeem(t, b.callback(f, p).Get("code"))
		if got := slAuthTime(t, maxAgeLogin); got.Sub(firstAuth) < 30*time.Second-time.Second {
			t.Errorf("auth_time %v after the new login, want at least 30 s after the first %v", got, firstAuth)
		}
		// The new session now satisfies the same max_age.
		again := b.slGrant(app, slParam("max_age", "20"))
		if !slAuthTime(t, again).Equal(slAuthTime(t, maxAgeLogin)) {
			t.Errorf("auth_time %v, want the new session's %v", again.claims["auth_time"], maxAgeLogin.claims["auth_time"])
		}
	})

	e.clock.Advance(20 * time.Second)

	t.Run("prompt=login with a session shows the login form again and moves auth_time", func(t *testing.T) {
		if maxAgeLogin == nil {
			t.Skip("needs the max_age login")
		}
		b := bw.slAs(t)
		f := app.start(false, slParam("prompt", "login"))
		_, form := b.slWantLoginRedirect(b.get(f.url))
		// Reloading the login page does not skip it either.
		b.slWantLoginRedirect(&page{status: http.StatusSeeOther, header: http.Header{"Location": {form.action}}})
		p := b.submitLogin(form, ana.username, ana.password)
		promptLogin := f.redeem(t, b.callback(f, p).Get("code"))
		before, after := slAuthTime(t, maxAgeLogin), slAuthTime(t, promptLogin)
		if after.Sub(before) < 20*time.Second-time.Second {
			t.Errorf("auth_time = %v after prompt=login, want at least 20 s after %v", after, before)
		}
		if promptLogin.claims["sid"] == maxAgeLogin.claims["sid"] {
			t.Errorf("sid %v unchanged by a new login", promptLogin.claims["sid"])
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
		b := bw.slAs(t)
		s := b.slGrant(app)
		e.clock.Advance(slAuthTime(t, s).Add(200 * time.Millisecond).Sub(e.clock.Now()))
		f := app.start(false, slParam("prompt", "login"))
		p := b.get(f.url)
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/login?") {
			t.Errorf("prompt=login 0.2 s after the session's login: status %d to %q, want 303 to the login form", p.status, p.location())
		}
	})

	e.clock.Advance(2 * time.Second)

	t.Run("prompt=select_account is treated as login", func(t *testing.T) {
		b := bw.slAs(t)
		f := app.start(false, slParam("prompt", "select_account"))
		b.slWantLoginRedirect(b.get(f.url))
	})

	t.Run("an expired but validly signed ID token is accepted as id_token_hint", func(t *testing.T) {
		b := bw.slAs(t)
		// An ID token inkpass signed two hours ago, long expired: signed
		// with the provider's own key, as it was then.
		iat := time.Now().Add(-idTokenTTL - time.Hour)
		payload, _ := json.Marshal(map[string]any{
			"iss": e.issuer, "sub": ana.sub, "aud": appID, "azp": appID,
			"iat": iat.Unix(), "exp": iat.Add(idTokenTTL).Unix(),
		})
		raw, err := e.keys.Sign(payload)
		if err != nil {
			t.Fatal(err)
		}
		old := struct{ raw string }{raw}
		if _, err := app.verifier.Verify(t.Context(), old.raw); err == nil || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("the hint should have expired by now; go-oidc says %v", err)
		}
		s := b.slGrant(app, slPromptNone, slParam("id_token_hint", old.raw))
		if s.idToken.Subject != ana.sub {
			t.Errorf("sub = %q, want %q", s.idToken.Subject, ana.sub)
		}
	})

	t.Run("signing in as another user than id_token_hint names is login_required", func(t *testing.T) {
		b := bw.slAs(t)
		f := app.start(false, slParam("id_token_hint", bens.raw))
		_, form := b.slWantLoginRedirect(b.get(f.url))
		b.slWantAuthError(f, b.submitLogin(form, ana.username, ana.password), "login_required")
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
func slWantFormPost(t *testing.T, p *page, redirectURI string) url.Values {
	t.Helper()
	if p.status != http.StatusOK {
		t.Fatalf("status %d (Location %q), want 200 with the form_post page", p.status, p.location())
	}
	if p.location() != "" {
		t.Errorf("form_post answer redirects to %q", p.location())
	}
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
	if cc := p.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control = %q, want no-store on a page carrying a code", cc)
	}
	u, _ := url.Parse(redirectURI)
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, u.Scheme+"://"+u.Host) {
		t.Errorf("CSP %q does not let the form post to %s", csp, u.Host)
	}
	m := slFormPostRE.FindAllStringSubmatch(p.body, -1)
	if len(m) != 1 || html.UnescapeString(m[0][1]) != redirectURI {
		t.Fatalf("want one form posting to %s, found %v:\n%s", redirectURI, m, p.body)
	}
	if !strings.Contains(p.body, `onload="document.forms[0].submit()"`) {
		t.Errorf("the page does not submit itself:\n%s", p.body)
	}
	b := slButtonRE.FindStringSubmatch(p.body)
	if b == nil || strings.Contains(b[0], "hidden") {
		t.Errorf("the page has no visible submit button:\n%s", p.body)
	}
	forms := slForms(p.body)
	if len(forms) != 1 {
		t.Fatalf("%d forms on the form_post page", len(forms))
	}
	for k, v := range forms[0].fields {
		if len(v) != 1 {
			t.Errorf("field %s appears %d times", k, len(v))
		}
	}
	return forms[0].fields
}

// TestConsent covers the consent page of a third-party client.
func TestConsent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	cara := e.slNewUser(t, "cara.consent", "cara-consent-pass-1", nil)
	bw := e.newBrowser(t)
	app := e.slRP(t, appID, appSecret, appRedirect, "openid")
	tool := e.slRP(t, toolID, toolSecret, toolRedirect, "openid", "profile")
	toolAll := e.slRP(t, toolID, toolSecret, toolRedirect, "openid", "profile", "email")
	toolOpenID := e.slRP(t, toolID, toolSecret, toolRedirect, "openid")

	// The studio's own app never asks: signIn fails on anything but a
	// redirect with a code.
	f := app.start(false)
	f.redeem(t, bw.signIn(f, cara.username, cara.password).Get("code"))

	var csrfSeen []string
	consented := func(t *testing.T) []string {
		t.Helper()
		have, err := e.db.ConsentScopes(t.Context(), cara.id, toolID)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(have)
		return have
	}

	t.Run("the consent page names the client and says what each scope releases", func(t *testing.T) {
		b := bw.slAs(t)
		f := tool.start(false)
		path := slConsentRedirect(t, b.get(f.url))
		p := b.get(path)
		if p.status != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, p.status)
		}
		body := html.UnescapeString(p.body)
		for _, want := range []string{"Booking Tool", "Signed in as", cara.username} {
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
			if !strings.Contains(p.body, `<span class="claim">`+claim+`</span>`) {
				t.Errorf("consent page does not say that profile releases %s", claim)
			}
		}
		if strings.Contains(body, op.ScopeDescriptions["email"]) {
			t.Error("consent page describes email, which was not requested")
		}
		if strings.Contains(p.body, `name="password"`) {
			t.Error("consent page asks for a password")
		}
		form := slFormTo(t, p, path, "")
		csrfSeen = append(csrfSeen, form.fields.Get("csrf_token"))

		t.Run("a consent POST without a valid CSRF token is 403 and records nothing", func(t *testing.T) {
			b := bw.slAs(t)
			for name, csrf := range map[string]string{"missing": "", "forged": "forged-csrf-token-value"} {
				p := b.post(path, url.Values{"csrf_token": {csrf}, "decision": {"approve"}})
				if p.status != http.StatusForbidden {
					t.Errorf("%s CSRF token: status %d, want 403", name, p.status)
				}
				if p.location() != "" {
					t.Errorf("%s CSRF token: redirected to %q", name, p.location())
				}
			}
			if have := consented(t); len(have) != 0 {
				t.Errorf("consent recorded without a CSRF token: %q", have)
			}
		})

		t.Run("another browser cannot open the pending consent", func(t *testing.T) {
			if p := e.newBrowser(t).get(path); p.status != http.StatusBadRequest {
				t.Errorf("status %d, want 400", p.status)
			}
		})

		t.Run("approve returns a code and remembers the scopes", func(t *testing.T) {
			b := bw.slAs(t)
			s := f.redeem(t, b.callback(f, b.approveConsent(path)).Get("code"))
			checkClaims(t, "ID token", s.claims, map[string]any{"sub": cara.sub, "aud": toolID, "name": "Test " + cara.username}, []string{"email"})
			if have := consented(t); !slices.Equal(have, []string{"openid", "profile"}) {
				t.Errorf("remembered scopes = %q, want openid profile", have)
			}
		})
	})

	t.Run("the same scopes again, or fewer, need no consent page", func(t *testing.T) {
		b := bw.slAs(t)
		b.slGrant(tool)
		b.slGrant(toolOpenID)
		b.slGrant(tool, slPromptNone)
	})

	t.Run("an extra scope asks again, naming the new scope", func(t *testing.T) {
		b := bw.slAs(t)
		f := toolAll.start(false)
		path := slConsentRedirect(t, b.get(f.url))
		p := b.get(path)
		if !strings.Contains(html.UnescapeString(p.body), op.ScopeDescriptions["email"]) {
			t.Errorf("consent page for the extra scope lacks the email description")
		}
		s := f.redeem(t, b.callback(f, b.approveConsent(path)).Get("code"))
		checkClaims(t, "ID token", s.claims, map[string]any{"email": cara.username + "@studio.example"}, nil)
		b.slGrant(toolAll)
	})

	t.Run("prompt=consent shows the consent page even when remembered", func(t *testing.T) {
		b := bw.slAs(t)
		f := tool.start(false, slParam("prompt", "consent"))
		path := slConsentRedirect(t, b.get(f.url))
		f.redeem(t, b.callback(f, b.approveConsent(path)).Get("code"))
	})

	t.Run("an approval answers in form_post when the client asked for it", func(t *testing.T) {
		b := bw.slAs(t)
		f := tool.start(false, slParam("prompt", "consent"), slFormPost)
		path := slConsentRedirect(t, b.get(f.url))
		fields := slWantFormPost(t, b.approveConsent(path), toolRedirect)
		if fields.Get("state") != f.state {
			t.Errorf("state = %q, want %q", fields.Get("state"), f.state)
		}
		f.redeem(t, fields.Get("code"))
	})

	t.Run("deny sends access_denied with the state to the client", func(t *testing.T) {
		b := bw.slAs(t)
		f := tool.start(false, slParam("prompt", "consent"))
		path := slConsentRedirect(t, b.get(f.url))
		form := slFormTo(t, b.get(path), path, "")
		p := b.post(path, url.Values{"csrf_token": form.fields["csrf_token"], "decision": {"deny"}})
		if p.status != http.StatusSeeOther {
			t.Errorf("status %d, want 303 after a POST", p.status)
		}
		b.slWantAuthError(f, p, "access_denied")
		// The answered request is gone: posting again does not issue a code.
		again := b.post(path, url.Values{"csrf_token": form.fields["csrf_token"], "decision": {"approve"}})
		if again.status != http.StatusBadRequest || strings.Contains(again.location(), "code=") {
			t.Errorf("re-posting an answered consent: status %d Location %q, want 400", again.status, again.location())
		}
	})

	t.Run("the audit trail records the consents without secrets", func(t *testing.T) {
		events, raw := e.slAuditJSON(t)
		ev := slWantEvent(t, events, audit.ConsentGranted, cara.id, toolID)
		if !strings.Contains(ev.Detail, "profile") {
			t.Errorf("consent_granted detail %q does not name the scopes", ev.Detail)
		}
		slNoSecrets(t, "audit trail", raw, append(csrfSeen, cara.password, toolSecret, appSecret)...)
	})
}

// TestLogout covers RP-initiated logout (end_session_endpoint).
func TestLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.slRegisterExtraClients(t)
	dana := e.slNewUser(t, "dana.logout", "dana-logout-pass-1", nil)
	otto := e.slNewUser(t, "otto.logout", "otto-logout-pass-1", nil)
	portal := e.slRP(t, slPortalID, slPortalSecret, slPortalRedirect, "openid", "profile", "offline_access")
	signIn := func(b *browser, u slAccount) *signedIn {
		t.Helper()
		f := portal.start(false)
		s := f.redeem(t, b.signIn(f, u.username, u.password).Get("code"))
		if s.token.RefreshToken == "" {
			t.Fatal("no refresh token for offline_access")
		}
		return s
	}
	bw, elsewhere := e.newBrowser(t), e.newBrowser(t)
	s := signIn(bw, dana)
	other := signIn(elsewhere, dana)       // Dana's session in another browser
	ottos := signIn(e.newBrowser(t), otto) // someone else's ID token
	secrets := []string{dana.password, otto.password, slPortalSecret}
	var extra *signedIn

	t.Run("a post_logout_redirect_uri that is not registered is a 400 page, never a redirect", func(t *testing.T) {
		b := bw.slAs(t)
		cases := []struct {
			name  string
			query url.Values
		}{
			{"unregistered URI", url.Values{"id_token_hint": {s.raw}, "post_logout_redirect_uri": {"https://evil.example/bye"}}},
			{"trailing slash", url.Values{"id_token_hint": {s.raw}, "post_logout_redirect_uri": {slPortalLoggedOut + "/"}}},
			{"extra query", url.Values{"id_token_hint": {s.raw}, "post_logout_redirect_uri": {slPortalLoggedOut + "?next=/x"}}},
			{"the client's login redirect URI", url.Values{"id_token_hint": {s.raw}, "post_logout_redirect_uri": {slPortalRedirect}}},
			{"another client's URI by client_id", url.Values{"client_id": {appID}, "post_logout_redirect_uri": {slPortalLoggedOut}}},
			{"no client_id and no hint", url.Values{"post_logout_redirect_uri": {slPortalLoggedOut}}},
			{"client_id not the hint's audience", url.Values{"id_token_hint": {s.raw}, "client_id": {appID}, "post_logout_redirect_uri": {slPortalLoggedOut}}},
			{"a forged hint", url.Values{"id_token_hint": {s.raw + "x"}, "post_logout_redirect_uri": {slPortalLoggedOut}}},
		}
		for _, tc := range cases {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				var p *page
				if method == http.MethodGet {
					p = b.get("/logout?" + tc.query.Encode())
				} else {
					p = b.post("/logout", tc.query)
				}
				if p.status != http.StatusBadRequest {
					t.Errorf("%s (%s): status %d, want 400", tc.name, method, p.status)
				}
				if p.location() != "" {
					t.Errorf("%s (%s): Location %q, want none", tc.name, method, p.location())
				}
				if !strings.Contains(p.body, "This sign-out link is not valid") {
					t.Errorf("%s (%s): not the invalid sign-out page:\n%s", tc.name, method, p.body)
				}
			}
		}
		// Nothing was signed out.
		extra = b.slGrant(portal)
		e.wantUserinfoOK(t, s.token.AccessToken)
	})

	t.Run("an id_token_hint naming another user does not sign out without asking", func(t *testing.T) {
		b := bw.slAs(t)
		q := url.Values{"id_token_hint": {ottos.raw}, "post_logout_redirect_uri": {slPortalLoggedOut}, "state": {"x"}}
		p := b.get("/logout?" + q.Encode())
		if p.status != http.StatusOK || p.location() != "" || !strings.Contains(p.body, "You are signed in") {
			t.Errorf("status %d Location %q, want the 200 confirmation page", p.status, p.location())
		}
		e.wantUserinfoOK(t, s.token.AccessToken)
		b.slGrant(portal)
	})

	var pending *flow
	var pendingCode string

	t.Run("a valid id_token_hint and registered post_logout_redirect_uri sign out and return with state", func(t *testing.T) {
		b := bw.slAs(t)
		// A rotated refresh token is still the session's.
		rot, err := portal.refresh(t, s.token.RefreshToken)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		// A code issued but not yet redeemed when the user signs out.
		pending = portal.start(false)
		pendingCode = b.sso(pending).Get("code")

		cookie := b.slCookie(slSessionCookie)
		if cookie == "" {
			t.Fatal("no session cookie before logout")
		}
		secrets = append(secrets, cookie, s.raw, s.token.AccessToken, s.token.RefreshToken, rot.AccessToken, rot.RefreshToken)
		q := url.Values{"id_token_hint": {s.raw}, "post_logout_redirect_uri": {slPortalLoggedOut}, "state": {"bye-state-42"}}
		p := b.get("/logout?" + q.Encode())
		if p.status != http.StatusSeeOther {
			t.Fatalf("status %d, want 303; body:\n%s", p.status, p.body)
		}
		got := redirectParams(t, p, slPortalLoggedOut)
		if got.Get("state") != "bye-state-42" || len(got) != 1 {
			t.Errorf("redirect query = %v, want only state=bye-state-42", got)
		}
		if cc := p.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("Cache-Control = %q, want no-store", cc)
		}
		if b.slCookie(slSessionCookie) != "" {
			t.Error("the session cookie is still set after logout")
		}
		// The session is over on the server, not only in this jar.
		b.slSetCookie(slSessionCookie, cookie)
		b.toLoginPage(portal.start(false).url)
		// Every token issued under the session is over too.
		for name, tok := range map[string]*oauth2.Token{"rotated": rot, "second grant": extra.token} {
			_, err := portal.refresh(t, tok.RefreshToken)
			if err == nil {
				t.Errorf("the %s refresh token still works after logout", name)
			}
			if r := e.userinfo(t, http.MethodGet, tok.AccessToken); r.status != http.StatusUnauthorized {
				t.Errorf("the %s access token still works after logout: status %d", name, r.status)
			}
		}
		_, err = portal.refresh(t, rot.RefreshToken)
		wantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
	})

	t.Run("a code issued before the logout yields no live tokens after it", func(t *testing.T) {
		// Fails today: Provider.Logout (internal/oidc/logout.go) calls
		// store.RevokeSessionTokens, which revokes the session's rows in
		// inkpass_tokens but leaves its unredeemed codes in inkpass_codes
		// usable (user deactivation and client removal mark them used).
		if pending == nil {
			t.Skip("needs the pending code")
		}
		tok, err := pending.exchange(t, pendingCode)
		if err != nil {
			wantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
			return
		}
		secrets = append(secrets, tok.AccessToken, tok.RefreshToken)
		if r := e.userinfo(t, http.MethodGet, tok.AccessToken); r.status == http.StatusOK {
			t.Error("the code was redeemed after logout for an access token that works")
		}
		if _, err := portal.refresh(t, tok.RefreshToken); err == nil {
			t.Error("the code was redeemed after logout for a refresh token that works")
		}
	})

	t.Run("the user's session in another browser is untouched", func(t *testing.T) {
		e.wantUserinfoOK(t, other.token.AccessToken)
		if _, err := portal.refresh(t, other.token.RefreshToken); err != nil {
			t.Errorf("the other browser's refresh token: %v", err)
		}
		elsewhere.slAs(t).slGrant(portal)
	})

	t.Run("without a session a logout with a valid redirect still goes back", func(t *testing.T) {
		b := e.newBrowser(t)
		q := url.Values{"id_token_hint": {s.raw}, "post_logout_redirect_uri": {slPortalLoggedOut}, "state": {"again"}}
		if got := redirectParams(t, b.get("/logout?"+q.Encode()), slPortalLoggedOut); got.Get("state") != "again" {
			t.Errorf("state = %q", got.Get("state"))
		}
	})

	s2 := signIn(bw, dana)
	secrets = append(secrets, s2.token.AccessToken, s2.token.RefreshToken)

	t.Run("logout without a hint asks first, then the confirmation form signs out", func(t *testing.T) {
		b := bw.slAs(t)
		p := b.get("/logout")
		if p.status != http.StatusOK || p.location() != "" {
			t.Fatalf("GET /logout: status %d Location %q, want the 200 confirmation page", p.status, p.location())
		}
		if !strings.Contains(p.body, "You are signed in") || !strings.Contains(p.body, dana.username) {
			t.Errorf("the confirmation page does not say who is signed in:\n%s", p.body)
		}
		form := slFormTo(t, p, "/logout", "")
		csrf := form.fields.Get("csrf_token")
		if csrf == "" {
			t.Fatalf("the sign-out form has no csrf_token:\n%s", p.body)
		}
		secrets = append(secrets, csrf)
		// Not signed out yet.
		b.slGrant(portal)
		e.wantUserinfoOK(t, s2.token.AccessToken)

		// A POST without the token (a cross-site form, say) only asks again.
		p = b.post("/logout", url.Values{})
		if p.status != http.StatusOK || !strings.Contains(p.body, "You are signed in") {
			t.Errorf("POST /logout without csrf_token: status %d, want the confirmation page again", p.status)
		}
		e.wantUserinfoOK(t, s2.token.AccessToken)

		cookie := b.slCookie(slSessionCookie)
		p = b.post(form.action, form.fields)
		if p.status != http.StatusOK || p.location() != "" {
			t.Fatalf("POST the confirmation: status %d Location %q, want the signed-out page", p.status, p.location())
		}
		if !strings.Contains(p.body, "<h1>Signed out</h1>") {
			t.Errorf("not the signed-out page:\n%s", p.body)
		}
		b.slSetCookie(slSessionCookie, cookie)
		b.toLoginPage(portal.start(false).url)
		_, err := portal.refresh(t, s2.token.RefreshToken)
		wantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		e.wantInvalidToken(t, s2.token.AccessToken)
	})

	t.Run("an RP may POST the logout request", func(t *testing.T) {
		b := elsewhere.slAs(t)
		p := b.post("/logout", url.Values{"id_token_hint": {other.raw}, "post_logout_redirect_uri": {slPortalLoggedOut}, "state": {"posted"}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("status %d, want 303", p.status)
		}
		if got := redirectParams(t, p, slPortalLoggedOut); got.Get("state") != "posted" {
			t.Errorf("state = %q", got.Get("state"))
		}
		b.toLoginPage(portal.start(false).url)
	})

	t.Run("logout without any session shows the signed-out page", func(t *testing.T) {
		p := e.newBrowser(t).get("/logout")
		if p.status != http.StatusOK || !strings.Contains(p.body, "<h1>Signed out</h1>") {
			t.Errorf("status %d, want the signed-out page:\n%s", p.status, p.body)
		}
	})

	t.Run("the audit trail records the logouts without secrets", func(t *testing.T) {
		events, raw := e.slAuditJSON(t)
		n := 0
		for _, ev := range events {
			if ev.Kind == audit.Logout && ev.UserID == dana.id {
				n++
			}
		}
		if n != 3 {
			t.Errorf("%d logout events for dana, want 3", n)
		}
		slWantEvent(t, events, audit.Logout, dana.id, slPortalID)
		slNoSecrets(t, "audit trail", raw, secrets...)
	})
}

// TestRevocation covers RFC 7009 /revoke.
func TestRevocation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	eve := e.slNewUser(t, "eve.revoke", "eve-revoke-pass-1", nil)
	app := e.slRP(t, appID, appSecret, appRedirect, "openid", "offline_access")
	bw := e.newBrowser(t)
	f := app.start(false)
	f.redeem(t, bw.signIn(f, eve.username, eve.password).Get("code"))
	var tokens []string
	grant := func(t *testing.T) *signedIn {
		s := bw.slAs(t).slGrant(app)
		if s.token.RefreshToken == "" {
			t.Fatal("no refresh token")
		}
		tokens = append(tokens, s.token.AccessToken, s.token.RefreshToken)
		return s
	}

	t.Run("revoking a refresh token ends it and its family's access token", func(t *testing.T) {
		s := grant(t)
		slWantRevoke200(t, e.slRevoke(t, s.token.RefreshToken, "refresh_token"))
		_, err := app.refresh(t, s.token.RefreshToken)
		wantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		e.wantInvalidToken(t, s.token.AccessToken)
	})

	t.Run("revoking an access token ends it but not the refresh token", func(t *testing.T) {
		s := grant(t)
		slWantRevoke200(t, e.slRevoke(t, s.token.AccessToken, "access_token"))
		e.wantInvalidToken(t, s.token.AccessToken)
		tok, err := app.refresh(t, s.token.RefreshToken)
		if err != nil {
			t.Fatalf("refresh after revoking the access token: %v", err)
		}
		e.wantUserinfoOK(t, tok.AccessToken)
	})

	t.Run("token_type_hint is only a hint: a wrong or missing one still finds the token", func(t *testing.T) {
		for _, c := range []struct{ kind, hint string }{
			{"refresh", "access_token"}, {"refresh", ""}, {"refresh", "something_else"},
			{"access", "refresh_token"}, {"access", ""},
		} {
			s := grant(t)
			if c.kind == "refresh" {
				slWantRevoke200(t, e.slRevoke(t, s.token.RefreshToken, c.hint))
				_, err := app.refresh(t, s.token.RefreshToken)
				if err == nil {
					t.Errorf("refresh token revoked with hint %q still refreshes", c.hint)
				}
				if r := e.userinfo(t, http.MethodGet, s.token.AccessToken); r.status != http.StatusUnauthorized {
					t.Errorf("refresh token revoked with hint %q: its access token still works", c.hint)
				}
			} else {
				slWantRevoke200(t, e.slRevoke(t, s.token.AccessToken, c.hint))
				if r := e.userinfo(t, http.MethodGet, s.token.AccessToken); r.status != http.StatusUnauthorized {
					t.Errorf("access token revoked with hint %q still works: status %d", c.hint, r.status)
				}
				if _, err := app.refresh(t, s.token.RefreshToken); err != nil {
					t.Errorf("access token revoked with hint %q took its refresh token along: %v", c.hint, err)
				}
			}
		}
	})

	t.Run("an unknown token is 200 all the same", func(t *testing.T) {
		for _, hint := range []string{"", "access_token", "refresh_token"} {
			slWantRevoke200(t, e.slRevoke(t, "no-such-token-0123456789abcdefghijklmnopqrstu", hint))
		}
	})

	t.Run("another client's token is 200 and not revoked", func(t *testing.T) {
		s := grant(t)
		for _, tok := range []string{s.token.AccessToken, s.token.RefreshToken} {
			// The booking tool authenticates with client_secret_post.
			r := e.slPost(t, "/revoke", url.Values{"token": {tok}, "client_id": {toolID}, "client_secret": {toolSecret}})
			slWantRevoke200(t, r)
		}
		e.wantUserinfoOK(t, s.token.AccessToken)
		if _, err := app.refresh(t, s.token.RefreshToken); err != nil {
			t.Errorf("the studio app's refresh token no longer works after the tool tried to revoke it: %v", err)
		}
	})

	t.Run("a public client revokes its own refresh token with its client_id", func(t *testing.T) {
		b := bw.slAs(t)
		spa := e.slRP(t, spaID, "", spaRedirect, "openid", "offline_access")
		f := spa.start(true)
		s := f.redeem(t, b.sso(f).Get("code"))
		tokens = append(tokens, s.token.AccessToken, s.token.RefreshToken)
		slWantRevoke200(t, e.slPost(t, "/revoke", url.Values{"token": {s.token.RefreshToken}, "client_id": {spaID}}))
		_, err := spa.refresh(t, s.token.RefreshToken)
		wantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		e.wantInvalidToken(t, s.token.AccessToken)
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
			{"no client", url.Values{"token": {s.token.AccessToken}}, nil, 401, "invalid_client"},
			{"wrong secret", url.Values{"token": {s.token.AccessToken}}, []string{appID, "wrong-secret"}, 401, "invalid_client"},
			{"a confidential client by client_id alone", url.Values{"token": {s.token.AccessToken}, "client_id": {appID}}, nil, 401, "invalid_client"},
			{"no token", url.Values{}, []string{appID, appSecret}, 400, "invalid_request"},
		}
		for _, tc := range cases {
			r := e.slPost(t, "/revoke", tc.form, tc.basic...)
			if r.status != tc.wantStatus || r.str("error") != tc.wantError {
				t.Errorf("%s: %d %s, want %d %s", tc.name, r.status, r.raw, tc.wantStatus, tc.wantError)
			}
		}
		e.wantUserinfoOK(t, s.token.AccessToken)
	})

	t.Run("the audit trail records revocations without token values", func(t *testing.T) {
		events, raw := e.slAuditJSON(t)
		slWantEvent(t, events, audit.TokenRevoked, eve.id, appID)
		slWantEvent(t, events, audit.TokenRevoked, eve.id, spaID)
		for _, ev := range events {
			if ev.Kind == audit.TokenRevoked && ev.ClientID == toolID {
				t.Errorf("a token_revoked event for the tool, which revoked nothing: %+v", ev)
			}
		}
		slNoSecrets(t, "audit trail", raw, append(tokens, eve.password, appSecret, toolSecret)...)
	})
}

// TestIntrospect covers RFC 7662 /introspect.
func TestIntrospect(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	finn := e.slNewUser(t, "finn.intro", "finn-intro-pass-1", nil)
	app := e.slRP(t, appID, appSecret, appRedirect, "openid", "profile", "offline_access")
	bw := e.newBrowser(t)
	f := app.start(false)
	s := f.redeem(t, bw.signIn(f, finn.username, finn.password).Get("code"))
	grant := func(t *testing.T) *signedIn { return bw.slAs(t).slGrant(app) }
	scopes := func(s string) []string { f := strings.Fields(s); slices.Sort(f); return f }

	t.Run("an active access token", func(t *testing.T) {
		for _, hint := range []string{"", "access_token", "refresh_token"} {
			r := e.slIntrospect(t, s.token.AccessToken, hint)
			checkClaims(t, "introspection (hint "+hint+")", r.body, map[string]any{
				"active": true, "client_id": appID, "sub": finn.sub, "username": finn.username, "role": "assistant",
			}, nil)
			if got := scopes(r.str("scope")); !slices.Equal(got, []string{"offline_access", "openid", "profile"}) {
				t.Errorf("scope = %q, want openid profile offline_access", r.str("scope"))
			}
			if !strings.EqualFold(r.str("token_type"), "Bearer") {
				t.Errorf("token_type = %q, want Bearer", r.str("token_type"))
			}
			iat, _ := r.body["iat"].(float64)
			exp, _ := r.body["exp"].(float64)
			if d := time.Duration(exp-iat) * time.Second; d != accessTTL {
				t.Errorf("exp - iat = %v, want %v", d, accessTTL)
			}
			if d := e.clock.Now().Sub(time.Unix(int64(iat), 0)); d < -time.Second || d > time.Minute {
				t.Errorf("iat is %v from now", d)
			}
		}
	})

	t.Run("an active refresh token", func(t *testing.T) {
		r := e.slIntrospect(t, s.token.RefreshToken, "refresh_token")
		checkClaims(t, "introspection", r.body, map[string]any{
			"active": true, "token_type": "refresh_token", "client_id": appID, "sub": finn.sub, "username": finn.username, "role": "assistant",
		}, nil)
		iat, _ := r.body["iat"].(float64)
		exp, _ := r.body["exp"].(float64)
		if d := time.Duration(exp-iat) * time.Second; d != refreshTTL {
			t.Errorf("exp - iat = %v, want %v", d, refreshTTL)
		}
		// Without the hint, too.
		if r := e.slIntrospect(t, s.token.RefreshToken, ""); r.str("token_type") != "refresh_token" {
			t.Errorf("without a hint: token_type = %q", r.str("token_type"))
		}
	})

	t.Run("a client_secret_post client may introspect its own tokens", func(t *testing.T) {
		tool := e.slRP(t, toolID, toolSecret, toolRedirect, "openid")
		tf := tool.start(false)
		ts := tf.redeem(t, bw.slAs(t).ssoWithConsent(tf).Get("code"))
		r := e.slPost(t, "/introspect", url.Values{"token": {ts.token.AccessToken}, "client_id": {toolID}, "client_secret": {toolSecret}})
		if r.status != http.StatusOK || r.body["active"] != true {
			t.Errorf("status %d %s, want 200 active", r.status, r.raw)
		}
		// Not a resource server: another client's token is none of its
		// business (TestIntrospectionIsForResourceServers).
		r = e.slPost(t, "/introspect", url.Values{"token": {s.token.AccessToken}, "client_id": {toolID}, "client_secret": {toolSecret}})
		slWantInactive(t, r)
	})

	t.Run("unknown tokens are inactive", func(t *testing.T) {
		for _, hint := range []string{"", "access_token", "refresh_token"} {
			slWantInactive(t, e.slIntrospect(t, "no-such-token-0123456789abcdefghijklmnopqrstu", hint))
		}
	})

	t.Run("revoked tokens are inactive", func(t *testing.T) {
		g := grant(t)
		slWantRevoke200(t, e.slRevoke(t, g.token.AccessToken, ""))
		slWantInactive(t, e.slIntrospect(t, g.token.AccessToken, ""))
		if r := e.slIntrospect(t, g.token.RefreshToken, ""); r.body["active"] != true {
			t.Errorf("the refresh token went inactive with its access token: %s", r.raw)
		}
		slWantRevoke200(t, e.slRevoke(t, g.token.RefreshToken, ""))
		slWantInactive(t, e.slIntrospect(t, g.token.RefreshToken, ""))
	})

	t.Run("a rotated refresh token and the access token it replaced are inactive", func(t *testing.T) {
		g := grant(t)
		tok, err := app.refresh(t, g.token.RefreshToken)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		slWantInactive(t, e.slIntrospect(t, g.token.RefreshToken, ""))
		slWantInactive(t, e.slIntrospect(t, g.token.AccessToken, ""))
		for _, live := range []string{tok.AccessToken, tok.RefreshToken} {
			if r := e.slIntrospect(t, live, ""); r.body["active"] != true {
				t.Errorf("the new token is not active: %s", r.raw)
			}
		}
	})

	t.Run("an expired access token is inactive", func(t *testing.T) {
		g := grant(t)
		e.clock.Advance(accessTTL + time.Minute)
		defer e.clock.Advance(-(accessTTL + time.Minute))
		slWantInactive(t, e.slIntrospect(t, g.token.AccessToken, ""))
		if r := e.slIntrospect(t, g.token.RefreshToken, ""); r.body["active"] != true {
			t.Errorf("the refresh token, good for %v, is not active after %v: %s", refreshTTL, accessTTL, r.raw)
		}
	})

	t.Run("a deactivated user's tokens are inactive", func(t *testing.T) {
		gus := e.slNewUser(t, "gus.intro", "gus-intro-pass-1", nil)
		f := app.start(false)
		g := f.redeem(t, e.newBrowser(t).signIn(f, gus.username, gus.password).Get("code"))
		if err := e.users.Deactivate(t.Context(), gus.id); err != nil {
			t.Fatal(err)
		}
		slWantInactive(t, e.slIntrospect(t, g.token.AccessToken, ""))
		slWantInactive(t, e.slIntrospect(t, g.token.RefreshToken, ""))
	})

	t.Run("tokens of a user deactivated directly in the users table are inactive", func(t *testing.T) {
		// The studio's Python app sets is_active = 0 itself; no token is
		// revoked, so only the user check can make these inactive.
		hana := e.slNewUser(t, "hana.intro", "hana-intro-pass-1", nil)
		f := app.start(false)
		g := f.redeem(t, e.newBrowser(t).signIn(f, hana.username, hana.password).Get("code"))
		e.slDeactivateBehindOurBack(t, hana.id)
		slWantInactive(t, e.slIntrospect(t, g.token.AccessToken, ""))
		slWantInactive(t, e.slIntrospect(t, g.token.RefreshToken, ""))
		e.wantInvalidToken(t, g.token.AccessToken)
		_, err := app.refresh(t, g.token.RefreshToken)
		wantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
	})

	t.Run("a client_credentials token is active without a user", func(t *testing.T) {
		cc := clientcredentials.Config{ClientID: reporterID, ClientSecret: reporterSecret, TokenURL: e.issuer + "/token",
			Scopes: []string{"profile"}, AuthStyle: oauth2.AuthStyleInHeader}
		tok, err := cc.Token(t.Context())
		if err != nil {
			t.Fatalf("client_credentials: %v", err)
		}
		// The reporter introspects and revokes its own token.
		introspect := func() *slResp {
			r := e.slPost(t, "/introspect", slTokenForm(tok.AccessToken, ""), reporterID, reporterSecret)
			if r.status != http.StatusOK {
				t.Fatalf("POST /introspect: status %d %s, want 200", r.status, r.raw)
			}
			return r
		}
		checkClaims(t, "introspection", introspect().body, map[string]any{"active": true, "client_id": reporterID, "scope": "profile"},
			[]string{"sub", "username", "role"})
		slWantRevoke200(t, e.slPost(t, "/revoke", url.Values{"token": {tok.AccessToken}}, reporterID, reporterSecret))
		slWantInactive(t, introspect())
	})

	t.Run("a public client or no client at all is 401 invalid_client", func(t *testing.T) {
		cases := []struct {
			name  string
			form  url.Values
			basic []string
		}{
			{"public client", url.Values{"token": {s.token.AccessToken}, "client_id": {spaID}}, nil},
			{"public client with a made-up secret", url.Values{"token": {s.token.AccessToken}}, []string{spaID, "made-up"}},
			{"no client", url.Values{"token": {s.token.AccessToken}}, nil},
			{"wrong secret", url.Values{"token": {s.token.AccessToken}}, []string{appID, "wrong-secret"}},
		}
		for _, tc := range cases {
			r := e.slPost(t, "/introspect", tc.form, tc.basic...)
			if r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
				t.Errorf("%s: %d %s, want 401 invalid_client", tc.name, r.status, r.raw)
			}
			if _, ok := r.body["active"]; ok {
				t.Errorf("%s: the answer says whether the token is active", tc.name)
			}
		}
	})
}

// TestSessionLifeDiscovery: the discovery document advertises the session
// endpoints and the client authentication each one really accepts.
func TestSessionLifeDiscovery(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	p, err := oidc.NewProvider(t.Context(), e.issuer)
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
		"end_session_endpoint":   e.issuer + "/logout",
		"revocation_endpoint":    e.issuer + "/revoke",
		"introspection_endpoint": e.issuer + "/introspect",
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
	if p := e.newBrowser(t).get("/logout"); p.status != http.StatusOK {
		t.Errorf("GET /logout: status %d", p.status)
	}
	for _, path := range []string{"/revoke", "/introspect"} {
		if r := e.slPost(t, path, url.Values{"token": {"x"}}); r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
			t.Errorf("POST %s without a client: %d %s, want 401 invalid_client", path, r.status, r.raw)
		}
	}
}

// TestAccount covers the user's own page: profile, password change,
// connected apps, and that a deactivated user cannot reach it.
func TestAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.slRegisterExtraClients(t)
	const (
		oldPassword   = "ivy-old-password-1"
		newPassword   = "ivy-new-password-2"
		wrongPassword = "ivy-not-my-password"
	)
	mira := int64(3) // the fixture's artist Mira Sol
	ivy := e.slNewUser(t, "ivy.account", oldPassword, func(u *user.User) {
		u.Role, u.ArtistID, u.Name = user.RoleArtist, &mira, "Ivy Quinn"
		u.Instagram, u.Phone, u.Birthdate = "ivy.inks", "+1 555 0123", "1994-09-08"
	})
	secrets := []string{oldPassword, newPassword, wrongPassword, slPartnerSecret, appSecret}
	bw := e.newBrowser(t)

	t.Run("without a session /account redirects to /login", func(t *testing.T) {
		b := bw.slAs(t)
		p := b.get("/account")
		if p.status != http.StatusSeeOther || p.location() != "/login" {
			t.Errorf("status %d to %q, want 303 to /login", p.status, p.location())
		}
	})

	// Sign in at /login directly: no client, so inkpass sends the user to
	// their account page.
	login := bw.get("/login")
	p := bw.submitLogin(parseLoginForm(t, login), ivy.username, oldPassword)
	if p.status != http.StatusSeeOther || p.location() != "/account" {
		t.Fatalf("sign in at /login: status %d to %q (error box %q), want 303 to /account", p.status, p.location(), loginError(p))
	}
	secrets = append(secrets, bw.slCookie(slSessionCookie))

	account := func(t *testing.T, b *browser) *page {
		t.Helper()
		p := b.get("/account")
		if p.status != http.StatusOK {
			t.Fatalf("GET /account: status %d to %q", p.status, p.location())
		}
		return p
	}

	t.Run("the page shows the user's own profile", func(t *testing.T) {
		p := account(t, bw.slAs(t))
		body := html.UnescapeString(p.body)
		for _, want := range []string{ivy.username, "Ivy Quinn", "artist", "Mira Sol", ivy.username + "@studio.example",
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

	passwordForm := func(t *testing.T, b *browser) slForm {
		t.Helper()
		f := slFormTo(t, account(t, b), "/account/password", "")
		secrets = append(secrets, f.fields.Get("csrf_token"))
		return f
	}
	change := func(t *testing.T, b *browser, current, next, confirm string) *page {
		t.Helper()
		f := passwordForm(t, b)
		return b.post(f.action, url.Values{"csrf_token": f.fields["csrf_token"],
			"current_password": {current}, "new_password": {next}, "confirm_password": {confirm}})
	}

	t.Run("a password change is refused with a wrong current password or a weak new one", func(t *testing.T) {
		b := bw.slAs(t)
		for _, c := range []struct {
			name, current, next, confirm, want string
		}{
			{"wrong current password", wrongPassword, newPassword, newPassword, "Your current password is not correct."},
			{"new password too short", oldPassword, "short7!", "short7!", "The new password must be at least 8 characters."},
			{"new password is the username", oldPassword, ivy.username, ivy.username, "The new password must not be the username."},
			{"new password is the username in capitals", oldPassword, strings.ToUpper(ivy.username), strings.ToUpper(ivy.username), "The new password must not be the username."},
			{"confirmation differs", oldPassword, newPassword, newPassword + "x", "The new password and its confirmation differ."},
		} {
			p := change(t, b, c.current, c.next, c.confirm)
			if p.status != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400", c.name, p.status)
			}
			if got := loginError(p); got != c.want {
				t.Errorf("%s: error box %q, want %q", c.name, got, c.want)
			}
		}
		p := b.post("/account/password", url.Values{"current_password": {oldPassword}, "new_password": {newPassword}, "confirm_password": {newPassword}})
		if p.status != http.StatusForbidden {
			t.Errorf("without csrf_token: status %d, want 403", p.status)
		}
	})

	t.Run("a password change takes effect: the old password fails at /login, the new one works", func(t *testing.T) {
		b := bw.slAs(t)
		p := change(t, b, oldPassword, newPassword, newPassword)
		if p.status != http.StatusSeeOther || p.location() != "/account?done=password" {
			t.Fatalf("status %d to %q (error box %q), want 303 to /account?done=password", p.status, p.location(), loginError(p))
		}
		if !strings.Contains(b.get(p.location()).body, "Your password has been changed.") {
			t.Error("no notice after the change")
		}
		other := e.newBrowser(t)
		form := parseLoginForm(t, other.get("/login"))
		p = other.submitLogin(form, ivy.username, oldPassword)
		if p.status != http.StatusUnauthorized || loginError(p) != msgBadCredentials {
			t.Errorf("old password: status %d error %q, want 401 %q", p.status, loginError(p), msgBadCredentials)
		}
		p = other.submitLogin(parseLoginForm(t, p), ivy.username, newPassword)
		if p.status != http.StatusSeeOther || p.location() != "/account" {
			t.Errorf("new password: status %d to %q (error box %q), want 303 to /account", p.status, p.location(), loginError(p))
		}
	})

	partner := e.slRP(t, slPartnerID, slPartnerSecret, slPartnerRedirect, "openid", "profile", "offline_access")
	app := e.slRP(t, appID, appSecret, appRedirect, "openid", "offline_access")
	var ps *signedIn

	t.Run("connected apps list a third-party app after consent and a first-party app holding a refresh token", func(t *testing.T) {
		b := bw.slAs(t)
		f := partner.start(false)
		path := slConsentRedirect(t, b.get(f.url))
		ps = f.redeem(t, b.callback(f, b.approveConsent(path)).Get("code"))
		as := b.slGrant(app)
		secrets = append(secrets, ps.token.AccessToken, ps.token.RefreshToken, as.token.RefreshToken)
		p := account(t, b)
		body := html.UnescapeString(p.body)
		for _, want := range []string{slPartnerName, "Studio App", "openid profile offline_access"} {
			if !strings.Contains(body, want) {
				t.Errorf("connected apps lack %q:\n%s", want, p.body)
			}
		}
		slFormTo(t, p, "/account/revoke", slPartnerID)
		slFormTo(t, p, "/account/revoke", appID)
	})

	var pending *flow
	var pendingCode string

	t.Run("the revoke button ends the app's tokens and its consent", func(t *testing.T) {
		if ps == nil {
			t.Skip("needs the partner's tokens")
		}
		b := bw.slAs(t)
		// A code the partner has been given but not yet redeemed.
		pending = partner.start(false)
		pendingCode = b.sso(pending).Get("code")
		form := slFormTo(t, account(t, b), "/account/revoke", slPartnerID)
		// Without the CSRF token nothing happens.
		if p := b.post(form.action, url.Values{"client_id": {slPartnerID}}); p.status != http.StatusForbidden {
			t.Errorf("revoke without csrf_token: status %d, want 403", p.status)
		}
		e.wantUserinfoOK(t, ps.token.AccessToken)

		p := b.post(form.action, form.fields)
		if p.status != http.StatusSeeOther || p.location() != "/account?done=revoked" {
			t.Fatalf("revoke: status %d to %q, want 303 to /account?done=revoked", p.status, p.location())
		}
		after := b.get(p.location())
		if !strings.Contains(html.UnescapeString(after.body), "The app's access has been revoked.") {
			t.Error("no notice after revoking")
		}
		for _, f := range slForms(after.body) {
			if f.fields.Get("client_id") == slPartnerID {
				t.Error("the revoked app is still listed")
			}
		}
		slFormTo(t, after, "/account/revoke", appID) // the other app stays
		e.wantInvalidToken(t, ps.token.AccessToken)
		_, err := partner.refresh(t, ps.token.RefreshToken)
		wantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		// The consent is gone: the next authorization asks again.
		slConsentRedirect(t, b.get(partner.start(false).url))
		f := partner.start(false, slPromptNone)
		b.slWantAuthError(f, b.get(f.url), "consent_required")
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
		tok, err := pending.exchange(t, pendingCode)
		if err != nil {
			wantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
			return
		}
		secrets = append(secrets, tok.AccessToken, tok.RefreshToken)
		if r := e.userinfo(t, http.MethodGet, tok.AccessToken); r.status == http.StatusOK {
			t.Error("the code was redeemed after the revoke for an access token that works")
		}
		if _, err := partner.refresh(t, tok.RefreshToken); err == nil {
			t.Error("the code was redeemed after the revoke for a refresh token that works")
		}
	})

	t.Run("a deactivated user's session cannot reach /account", func(t *testing.T) {
		b := bw.slAs(t)
		account(t, b)
		if err := e.users.Deactivate(t.Context(), ivy.id); err != nil {
			t.Fatal(err)
		}
		if p := b.get("/account"); p.status != http.StatusSeeOther || p.location() != "/login" {
			t.Errorf("status %d to %q, want 303 to /login", p.status, p.location())
		}
	})

	t.Run("nor can one deactivated directly in the users table", func(t *testing.T) {
		jon := e.slNewUser(t, "jon.account", "jon-account-pass-1", nil)
		secrets = append(secrets, jon.password)
		b := e.newBrowser(t)
		if p := b.submitLogin(parseLoginForm(t, b.get("/login")), jon.username, jon.password); p.location() != "/account" {
			t.Fatalf("jon's login: status %d to %q", p.status, p.location())
		}
		account(t, b)
		e.slDeactivateBehindOurBack(t, jon.id)
		if p := b.get("/account"); p.status != http.StatusSeeOther || p.location() != "/login" {
			t.Errorf("status %d to %q, want 303 to /login", p.status, p.location())
		}
	})

	t.Run("the audit trail records the account's events without secrets", func(t *testing.T) {
		events, raw := e.slAuditJSON(t)
		slWantEvent(t, events, audit.LoginSucceeded, ivy.id, "")
		if ev := slWantEvent(t, events, audit.LoginFailed, ivy.id, ""); ev.Detail != "wrong password" {
			t.Errorf("login_failed detail = %q, want the reason", ev.Detail)
		}
		slWantEvent(t, events, audit.PasswordChanged, ivy.id, "")
		slWantEvent(t, events, audit.ConsentGranted, ivy.id, slPartnerID)
		slWantEvent(t, events, audit.ConsentRevoked, ivy.id, slPartnerID)
		slWantEvent(t, events, audit.UserDeactivated, ivy.id, "")
		slNoSecrets(t, "audit trail", raw, secrets...)
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
	e := newEnv(t, envOptions{})
	kim := e.slNewUser(t, "kim.clock", "kim-clock-pass-1", nil)
	app := e.slRP(t, appID, appSecret, appRedirect, "openid")
	bw := e.newBrowser(t)
	f := app.start(false)
	f.redeem(t, bw.signIn(f, kim.username, kim.password).Get("code"))

	t.Run("access token iat follows the injected clock", func(t *testing.T) {
		e.clock.Advance(30 * time.Second) // less than the code lifetime
		s := bw.slAs(t).slGrant(app)
		r := e.slIntrospect(t, s.token.AccessToken, "")
		iat, _ := r.body["iat"].(float64)
		if got, want := time.Unix(int64(iat), 0), s.idToken.IssuedAt; got.Sub(want).Abs() > 2*time.Second {
			t.Errorf("introspection iat = %v, ID token iat = %v: the access token was not stamped with the injected clock", got, want)
		}
	})

	t.Run("a code issued after the clock moved past the code lifetime redeems", func(t *testing.T) {
		e.clock.Advance(15 * time.Minute)
		f := app.start(false)
		code := bw.slAs(t).sso(f).Get("code")
		if _, err := f.exchange(t, code); err != nil {
			t.Errorf("exchange of a code issued a moment ago, 15 min after the clock moved: %v", err)
		}
	})
}
