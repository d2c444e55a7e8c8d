package web_test

// Regression tests for the security review's authorization-flow items (issue
// 10): the consent page as a way around a required login, logout hints from
// an ended session, disabled clients at /logout, attacker text on the
// authorization error page, and the bounds on pending sign-ins (issue 11).
// Helpers here are prefixed "az"; the shared ones come from
// internal/testsupport/harness.

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/testsupport/harness"
)

// azLoginPath asserts p is /authorize's 303 to /login?req=… and returns that
// path and the request id.
func azLoginPath(t *testing.T, p *harness.Page) (string, string) {
	t.Helper()
	loc, err := url.Parse(p.Location())
	if p.Status != http.StatusSeeOther || err != nil || loc.Path != "/login" || loc.Query().Get("req") == "" {
		t.Fatalf("status %d to %q, want 303 to /login?req=…; body:\n%s", p.Status, p.Location(), p.Body)
	}
	return p.Location(), loc.Query().Get("req")
}

// azNoCode fails when p sends the browser to redirectURI at all.
func azNoCode(t *testing.T, what string, p *harness.Page, redirectURI string) {
	t.Helper()
	if strings.HasPrefix(p.Location(), redirectURI) {
		t.Errorf("%s: redirected to the client %q, want no authorization response", what, p.Location())
	}
	if strings.Contains(p.Body, "name=\"code\"") {
		t.Errorf("%s: the page carries a code in a form:\n%s", what, p.Body)
	}
}

// TestConsentNeedsTheLoginOfItsRequest: a pending request parked at the login
// page cannot be answered by editing /login?req=X into /consent?req=X. Only
// the session that satisfied the request's login step (prompt, max_age,
// id_token_hint) may consent to it.
func TestConsentNeedsTheLoginOfItsRequest(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	ana := e.NewUser(t, "ana.azconsent", "ana-azconsent-pass-1", nil)
	ben := e.NewUser(t, "ben.azconsent", "ben-azconsent-pass-1", nil)
	app := e.ClockedRP(t, harness.AppID, harness.AppSecret, harness.AppRedirect, "openid", "profile")
	tool := e.ClockedRP(t, harness.ToolID, harness.ToolSecret, harness.ToolRedirect, "openid", "profile")

	bf := app.Start(false)
	bens := bf.Redeem(t, e.NewBrowser(t).SignIn(bf, ben.Username, ben.Password).Get("code"))

	bw := e.NewBrowser(t)
	f := tool.Start(false)
	_, form := bw.ToLoginPage(f.URL)
	p := bw.SubmitLogin(form, ana.Username, ana.Password)
	first := f.Redeem(t, bw.Callback(f, bw.ApproveConsent(harness.ConsentRedirect(t, p))).Get("code"))
	firstAuth := harness.AuthTime(t, first)
	e.Clock.Advance(5 * time.Second)

	cases := []struct {
		name  string
		param [2]string
		// hintOfBen: signing in as Ana then answers login_required,
		// not a code.
		hintOfBen bool
	}{
		{name: "prompt=login", param: [2]string{"prompt", "login"}},
		{name: "max_age=0", param: [2]string{"max_age", "0"}},
		{name: "id_token_hint naming another user", param: [2]string{"id_token_hint", bens.Raw}, hintOfBen: true},
	}
	for _, tc := range cases {
		t.Run(tc.name+": /consent?req= sends the browser back to the login page and issues nothing", func(t *testing.T) {
			b := bw.As(t)
			f := tool.Start(false, slParam(tc.param[0], tc.param[1]))
			loginPath, reqID := azLoginPath(t, b.Get(f.URL))
			consentPath := "/consent?" + url.Values{"req": {reqID}}.Encode()

			g := b.Get(consentPath)
			azNoCode(t, "GET "+consentPath, g, harness.ToolRedirect)
			if g.Status != http.StatusSeeOther || g.Location() != loginPath {
				t.Errorf("GET /consent for a request still at its login step: status %d to %q, want 303 to %s", g.Status, g.Location(), loginPath)
			}
			if strings.Contains(g.Body, `value="approve"`) {
				t.Errorf("GET /consent shows the consent form for a request whose login was never done")
			}

			_, form := b.WantLoginRedirect(&harness.Page{Status: http.StatusSeeOther, Header: http.Header{"Location": {loginPath}}})
			post := b.Post(consentPath, url.Values{"csrf_token": {form.CSRF}, "decision": {"approve"}})
			azNoCode(t, "POST "+consentPath, post, harness.ToolRedirect)
			if post.Status != http.StatusSeeOther || post.Location() != loginPath {
				t.Errorf("POST /consent approve for a request still at its login step: status %d to %q, want 303 to %s", post.Status, post.Location(), loginPath)
			}

			// The refused attempts did not use the request up: the real
			// login answers it.
			p := b.SubmitLogin(form, ana.Username, ana.Password)
			if tc.hintOfBen {
				b.WantAuthError(f, p, "login_required")
				return
			}
			// Ana approved these scopes at her first login: no consent page.
			s := f.Redeem(t, b.Callback(f, p).Get("code"))
			if got := harness.AuthTime(t, s); !got.After(firstAuth) {
				t.Errorf("auth_time %v after the required login, want later than the first login's %v", got, firstAuth)
			}
		})
	}

	t.Run("a request whose consent was parked under an earlier session goes through the login page once", func(t *testing.T) {
		b := bw.As(t)
		toolEmail := e.ClockedRP(t, harness.ToolID, harness.ToolSecret, harness.ToolRedirect, "openid", "profile", "email")
		f := toolEmail.Start(false)
		consentPath := harness.ConsentRedirect(t, b.Get(f.URL))
		// Ana signs in again in the same browser, outside this request: a
		// new session replaces the one the consent was parked under.
		login := b.Get("/login")
		b.SubmitLogin(harness.ParseLoginForm(t, login), ana.Username, ana.Password)

		g := b.Get(consentPath)
		loc, _ := url.Parse(g.Location())
		if g.Status != http.StatusSeeOther || loc == nil || loc.Path != "/login" {
			t.Fatalf("GET /consent under a newer session: status %d to %q, want 303 to /login", g.Status, g.Location())
		}
		// The login page sees a session that satisfies the request and
		// sends the browser straight back to consent, which now opens.
		back := b.Get(g.Location())
		if back.Status != http.StatusSeeOther || back.Location() != consentPath {
			t.Fatalf("GET %s: status %d to %q, want 303 back to %s", g.Location(), back.Status, back.Location(), consentPath)
		}
		f.Redeem(t, b.Callback(f, b.ApproveConsent(consentPath)).Get("code"))
	})
}

// TestLogoutHintOfAnEndedSession: an id_token_hint is proof only for the
// session it was issued under (its sid), not for whoever its user is.
func TestLogoutHintOfAnEndedSession(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	e.RegisterPortalAndPartner(t)
	eve := e.NewUser(t, "eve.azlogout", "eve-azlogout-pass-1", nil)
	portal := e.ClockedRP(t, harness.PortalID, harness.PortalSecret, harness.PortalRedirect, "openid")
	b := e.NewBrowser(t)
	signIn := func() *harness.SignedIn {
		f := portal.Start(false)
		return f.Redeem(t, b.SignIn(f, eve.Username, eve.Password).Get("code"))
	}
	old := signIn()
	q := url.Values{"id_token_hint": {old.Raw}, "post_logout_redirect_uri": {harness.PortalLoggedOut}}
	if p := b.Get("/logout?" + q.Encode()); p.Status != http.StatusSeeOther {
		t.Fatalf("logout with the session's own hint: status %d, want 303", p.Status)
	}
	current := signIn()
	if old.Claims["sid"] == current.Claims["sid"] {
		t.Fatalf("two logins share sid %v", old.Claims["sid"])
	}

	p := b.Get("/logout?" + q.Encode())
	if p.Location() != "" || p.Status != http.StatusOK || !strings.Contains(p.Body, "You are signed in") {
		t.Errorf("GET /logout with the hint of an ended session: status %d Location %q, want the 200 confirmation page", p.Status, p.Location())
	}
	e.WantUserinfoOK(t, current.Token.AccessToken)
	b.Grant(portal)

	q.Set("id_token_hint", current.Raw)
	if p := b.Get("/logout?" + q.Encode()); p.Status != http.StatusSeeOther {
		t.Errorf("GET /logout with the current session's hint: status %d, want 303 without asking", p.Status)
	}
	e.WantInvalidToken(t, current.Token.AccessToken)
}

// TestLogoutDisabledClient: a disabled client's post-logout URIs are unknown;
// the browser sees inkpass's own signed-out page.
func TestLogoutDisabledClient(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	e.RegisterPortalAndPartner(t)
	fay := e.NewUser(t, "fay.azlogout", "fay-azlogout-pass-1", nil)
	portal := e.ClockedRP(t, harness.PortalID, harness.PortalSecret, harness.PortalRedirect, "openid")
	b := e.NewBrowser(t)
	f := portal.Start(false)
	s := f.Redeem(t, b.SignIn(f, fay.Username, fay.Password).Get("code"))

	c, err := e.Clients.Get(t.Context(), harness.PortalID)
	if err != nil {
		t.Fatal(err)
	}
	c.Enabled = false
	if err := e.Clients.Update(t.Context(), c); err != nil {
		t.Fatalf("disable %s: %v", harness.PortalID, err)
	}

	t.Run("with the client's own hint, the browser is asked and then shown the signed-out page", func(t *testing.T) {
		b := b.As(t)
		q := url.Values{"id_token_hint": {s.Raw}, "post_logout_redirect_uri": {harness.PortalLoggedOut}, "state": {"st"}}
		p := b.Get("/logout?" + q.Encode())
		if p.Location() != "" {
			t.Fatalf("GET /logout for a disabled client redirected to %q", p.Location())
		}
		if strings.Contains(html.UnescapeString(p.Body), harness.PortalLoggedOut) {
			t.Errorf("the page names the disabled client's post-logout URI:\n%s", p.Body)
		}
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "You are signed in") {
			t.Fatalf("status %d, want the 200 confirmation page:\n%s", p.Status, p.Body)
		}
		form := harness.FormTo(t, p, "/logout", "")
		for _, k := range []string{"client_id", "post_logout_redirect_uri"} {
			if form.Fields.Has(k) {
				t.Errorf("the confirmation form carries %s=%q", k, form.Fields.Get(k))
			}
		}
		done := b.Post(form.Action, form.Fields)
		if done.Location() != "" || done.Status != http.StatusOK || !strings.Contains(done.Body, "signed out") {
			t.Errorf("POST confirmation: status %d Location %q, want the 200 signed-out page", done.Status, done.Location())
		}
	})

	t.Run("without a session, client_id and post_logout_redirect_uri give the signed-out page", func(t *testing.T) {
		b := e.NewBrowser(t)
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			q := url.Values{"client_id": {harness.PortalID}, "post_logout_redirect_uri": {harness.PortalLoggedOut}, "state": {"st"}}
			var p *harness.Page
			if method == http.MethodGet {
				p = b.Get("/logout?" + q.Encode())
			} else {
				p = b.Post("/logout", q)
			}
			if p.Location() != "" || p.Status != http.StatusOK || !strings.Contains(p.Body, "signed out") {
				t.Errorf("%s /logout: status %d Location %q, want the 200 signed-out page", method, p.Status, p.Location())
			}
			if strings.Contains(p.Body, "Studio Portal") {
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
	e := harness.NewServer(t, harness.Options{LogTo: logs})
	b := e.NewBrowser(t)
	for _, id := range []string{
		"Your account is locked. Call 0800 555 0199 to unlock it",
		`<b>bold</b>`,
		strings.Repeat("x", 300),
	} {
		q := url.Values{"client_id": {id}, "redirect_uri": {harness.AppRedirect}, "response_type": {"code"}, "scope": {"openid"}}
		for _, p := range []*harness.Page{b.Get("/authorize?" + q.Encode()), b.Post("/authorize", q)} {
			harness.WantErrorPage(t, p)
			body := html.UnescapeString(p.Body)
			if strings.Contains(body, id) || strings.Contains(p.Body, id) {
				t.Errorf("the error page echoes client_id %.40q", id)
			}
			if !strings.Contains(body, "unknown application") {
				t.Errorf("the error page does not say the application is unknown:\n%s", p.Body)
			}
		}
	}
	// The log names the id for support, quoted and cut short.
	if log := logs.String(); strings.Contains(log, strings.Repeat("x", 65)) || !strings.Contains(log, strings.Repeat("x", 64)) {
		t.Errorf("the log should hold the 300-character client_id cut to 64 characters")
	}
}
