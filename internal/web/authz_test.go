package web_test

// Regression tests for the security review's authorization-flow items (issue
// 10): the consent page as a way around a required login, logout hints from
// an ended session, disabled clients at /logout, attacker text on the
// authorization error page, and the bounds on pending sign-ins (issue 11).
// Helpers here are prefixed "az"; the sl* helpers come from
// session_life_helpers_test.go.

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// azLoginPath asserts p is /authorize's 303 to /login?req=… and returns that
// path and the request id.
func azLoginPath(t *testing.T, p *page) (string, string) {
	t.Helper()
	loc, err := url.Parse(p.location())
	if p.status != http.StatusSeeOther || err != nil || loc.Path != "/login" || loc.Query().Get("req") == "" {
		t.Fatalf("status %d to %q, want 303 to /login?req=…; body:\n%s", p.status, p.location(), p.body)
	}
	return p.location(), loc.Query().Get("req")
}

// azNoCode fails when p sends the browser to redirectURI at all.
func azNoCode(t *testing.T, what string, p *page, redirectURI string) {
	t.Helper()
	if strings.HasPrefix(p.location(), redirectURI) {
		t.Errorf("%s: redirected to the client %q, want no authorization response", what, p.location())
	}
	if strings.Contains(p.body, "name=\"code\"") {
		t.Errorf("%s: the page carries a code in a form:\n%s", what, p.body)
	}
}

// TestConsentNeedsTheLoginOfItsRequest: a pending request parked at the login
// page cannot be answered by editing /login?req=X into /consent?req=X. Only
// the session that satisfied the request's login step (prompt, max_age,
// id_token_hint) may consent to it.
func TestConsentNeedsTheLoginOfItsRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ana := e.slNewUser(t, "ana.azconsent", "ana-azconsent-pass-1", nil)
	ben := e.slNewUser(t, "ben.azconsent", "ben-azconsent-pass-1", nil)
	app := e.slRP(t, appID, appSecret, appRedirect, "openid", "profile")
	tool := e.slRP(t, toolID, toolSecret, toolRedirect, "openid", "profile")

	bf := app.start(false)
	bens := bf.redeem(t, e.newBrowser(t).signIn(bf, ben.username, ben.password).Get("code"))

	bw := e.newBrowser(t)
	f := tool.start(false)
	_, form := bw.toLoginPage(f.url)
	p := bw.submitLogin(form, ana.username, ana.password)
	first := f.redeem(t, bw.callback(f, bw.approveConsent(slConsentRedirect(t, p))).Get("code"))
	firstAuth := slAuthTime(t, first)
	e.clock.Advance(5 * time.Second)

	cases := []struct {
		name  string
		param [2]string
		// hintOfBen: signing in as Ana then answers login_required,
		// not a code.
		hintOfBen bool
	}{
		{name: "prompt=login", param: [2]string{"prompt", "login"}},
		{name: "max_age=0", param: [2]string{"max_age", "0"}},
		{name: "id_token_hint naming another user", param: [2]string{"id_token_hint", bens.raw}, hintOfBen: true},
	}
	for _, tc := range cases {
		t.Run(tc.name+": /consent?req= sends the browser back to the login page and issues nothing", func(t *testing.T) {
			b := bw.slAs(t)
			f := tool.start(false, slParam(tc.param[0], tc.param[1]))
			loginPath, reqID := azLoginPath(t, b.get(f.url))
			consentPath := "/consent?" + url.Values{"req": {reqID}}.Encode()

			g := b.get(consentPath)
			azNoCode(t, "GET "+consentPath, g, toolRedirect)
			if g.status != http.StatusSeeOther || g.location() != loginPath {
				t.Errorf("GET /consent for a request still at its login step: status %d to %q, want 303 to %s", g.status, g.location(), loginPath)
			}
			if strings.Contains(g.body, `value="approve"`) {
				t.Errorf("GET /consent shows the consent form for a request whose login was never done")
			}

			_, form := b.slWantLoginRedirect(&page{status: http.StatusSeeOther, header: http.Header{"Location": {loginPath}}})
			post := b.post(consentPath, url.Values{"csrf_token": {form.csrf}, "decision": {"approve"}})
			azNoCode(t, "POST "+consentPath, post, toolRedirect)
			if post.status != http.StatusSeeOther || post.location() != loginPath {
				t.Errorf("POST /consent approve for a request still at its login step: status %d to %q, want 303 to %s", post.status, post.location(), loginPath)
			}

			// The refused attempts did not use the request up: the real
			// login answers it.
			p := b.submitLogin(form, ana.username, ana.password)
			if tc.hintOfBen {
				b.slWantAuthError(f, p, "login_required")
				return
			}
			// Ana approved these scopes at her first login: no consent page.
			s := f.redeem(t, b.callback(f, p).Get("code"))
			if got := slAuthTime(t, s); !got.After(firstAuth) {
				t.Errorf("auth_time %v after the required login, want later than the first login's %v", got, firstAuth)
			}
		})
	}

	t.Run("a request whose consent was parked under an earlier session goes through the login page once", func(t *testing.T) {
		b := bw.slAs(t)
		toolEmail := e.slRP(t, toolID, toolSecret, toolRedirect, "openid", "profile", "email")
		f := toolEmail.start(false)
		consentPath := slConsentRedirect(t, b.get(f.url))
		// Ana signs in again in the same browser, outside this request: a
		// new session replaces the one the consent was parked under.
		login := b.get("/login")
		b.submitLogin(parseLoginForm(t, login), ana.username, ana.password)

		g := b.get(consentPath)
		loc, _ := url.Parse(g.location())
		if g.status != http.StatusSeeOther || loc == nil || loc.Path != "/login" {
			t.Fatalf("GET /consent under a newer session: status %d to %q, want 303 to /login", g.status, g.location())
		}
		// The login page sees a session that satisfies the request and
		// sends the browser straight back to consent, which now opens.
		back := b.get(g.location())
		if back.status != http.StatusSeeOther || back.location() != consentPath {
			t.Fatalf("GET %s: status %d to %q, want 303 back to %s", g.location(), back.status, back.location(), consentPath)
		}
		f.redeem(t, b.callback(f, b.approveConsent(consentPath)).Get("code"))
	})
}

// TestLogoutHintOfAnEndedSession: an id_token_hint is proof only for the
// session it was issued under (its sid), not for whoever its user is.
func TestLogoutHintOfAnEndedSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.slRegisterExtraClients(t)
	eve := e.slNewUser(t, "eve.azlogout", "eve-azlogout-pass-1", nil)
	portal := e.slRP(t, slPortalID, slPortalSecret, slPortalRedirect, "openid")
	b := e.newBrowser(t)
	signIn := func() *signedIn {
		f := portal.start(false)
		return f.redeem(t, b.signIn(f, eve.username, eve.password).Get("code"))
	}
	old := signIn()
	q := url.Values{"id_token_hint": {old.raw}, "post_logout_redirect_uri": {slPortalLoggedOut}}
	if p := b.get("/logout?" + q.Encode()); p.status != http.StatusSeeOther {
		t.Fatalf("logout with the session's own hint: status %d, want 303", p.status)
	}
	current := signIn()
	if old.claims["sid"] == current.claims["sid"] {
		t.Fatalf("two logins share sid %v", old.claims["sid"])
	}

	p := b.get("/logout?" + q.Encode())
	if p.location() != "" || p.status != http.StatusOK || !strings.Contains(p.body, "You are signed in") {
		t.Errorf("GET /logout with the hint of an ended session: status %d Location %q, want the 200 confirmation page", p.status, p.location())
	}
	e.wantUserinfoOK(t, current.token.AccessToken)
	b.slGrant(portal)

	q.Set("id_token_hint", current.raw)
	if p := b.get("/logout?" + q.Encode()); p.status != http.StatusSeeOther {
		t.Errorf("GET /logout with the current session's hint: status %d, want 303 without asking", p.status)
	}
	e.wantInvalidToken(t, current.token.AccessToken)
}

// TestLogoutDisabledClient: a disabled client's post-logout URIs are unknown;
// the browser sees inkpass's own signed-out page.
func TestLogoutDisabledClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.slRegisterExtraClients(t)
	fay := e.slNewUser(t, "fay.azlogout", "fay-azlogout-pass-1", nil)
	portal := e.slRP(t, slPortalID, slPortalSecret, slPortalRedirect, "openid")
	b := e.newBrowser(t)
	f := portal.start(false)
	s := f.redeem(t, b.signIn(f, fay.username, fay.password).Get("code"))

	c, err := e.clients.Get(t.Context(), slPortalID)
	if err != nil {
		t.Fatal(err)
	}
	c.Enabled = false
	if err := e.clients.Update(t.Context(), c); err != nil {
		t.Fatalf("disable %s: %v", slPortalID, err)
	}

	t.Run("with the client's own hint, the browser is asked and then shown the signed-out page", func(t *testing.T) {
		b := b.slAs(t)
		q := url.Values{"id_token_hint": {s.raw}, "post_logout_redirect_uri": {slPortalLoggedOut}, "state": {"st"}}
		p := b.get("/logout?" + q.Encode())
		if p.location() != "" {
			t.Fatalf("GET /logout for a disabled client redirected to %q", p.location())
		}
		if strings.Contains(html.UnescapeString(p.body), slPortalLoggedOut) {
			t.Errorf("the page names the disabled client's post-logout URI:\n%s", p.body)
		}
		if p.status != http.StatusOK || !strings.Contains(p.body, "You are signed in") {
			t.Fatalf("status %d, want the 200 confirmation page:\n%s", p.status, p.body)
		}
		form := slFormTo(t, p, "/logout", "")
		for _, k := range []string{"client_id", "post_logout_redirect_uri"} {
			if form.fields.Has(k) {
				t.Errorf("the confirmation form carries %s=%q", k, form.fields.Get(k))
			}
		}
		done := b.post(form.action, form.fields)
		if done.location() != "" || done.status != http.StatusOK || !strings.Contains(done.body, "signed out") {
			t.Errorf("POST confirmation: status %d Location %q, want the 200 signed-out page", done.status, done.location())
		}
	})

	t.Run("without a session, client_id and post_logout_redirect_uri give the signed-out page", func(t *testing.T) {
		b := e.newBrowser(t)
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			q := url.Values{"client_id": {slPortalID}, "post_logout_redirect_uri": {slPortalLoggedOut}, "state": {"st"}}
			var p *page
			if method == http.MethodGet {
				p = b.get("/logout?" + q.Encode())
			} else {
				p = b.post("/logout", q)
			}
			if p.location() != "" || p.status != http.StatusOK || !strings.Contains(p.body, "signed out") {
				t.Errorf("%s /logout: status %d Location %q, want the 200 signed-out page", method, p.status, p.location())
			}
			if strings.Contains(p.body, "Studio Portal") {
				t.Errorf("%s /logout: the page names the disabled client", method)
			}
		}
	})
}

// TestAuthorizeErrorPageEchoesNoClientID: the page shown for an unknown
// client_id says so in inkpass's own words, so that a link cannot make the
// studio's sign-in page display a phishing message.
func TestAuthorizeErrorPageEchoesNoClientID(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	e := newEnv(t, envOptions{logTo: logs})
	b := e.newBrowser(t)
	for _, id := range []string{
		"Your account is locked. Call 0800 555 0199 to unlock it",
		`<b>bold</b>`,
		strings.Repeat("x", 300),
	} {
		q := url.Values{"client_id": {id}, "redirect_uri": {appRedirect}, "response_type": {"code"}, "scope": {"openid"}}
		for _, p := range []*page{b.get("/authorize?" + q.Encode()), b.post("/authorize", q)} {
			wantErrorPage(t, p)
			body := html.UnescapeString(p.body)
			if strings.Contains(body, id) || strings.Contains(p.body, id) {
				t.Errorf("the error page echoes client_id %.40q", id)
			}
			if !strings.Contains(body, "unknown application") {
				t.Errorf("the error page does not say the application is unknown:\n%s", p.body)
			}
		}
	}
	// The log names the id for support, quoted and cut short.
	if log := logs.String(); strings.Contains(log, strings.Repeat("x", 65)) || !strings.Contains(log, strings.Repeat("x", 64)) {
		t.Errorf("the log should hold the 300-character client_id cut to 64 characters")
	}
}
