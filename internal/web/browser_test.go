package web_test

// End-to-end tests of inkpass's pages in headless Chromium, driven with
// chromedp: sign in, wrong password, consent approve and deny, sign out,
// password change and app revocation on the account page, the error page, and
// one whole sign-in with JavaScript switched off. Each test photographs its
// pages at phone and desktop size (t.ArtifactDir(); keep them with
// `go test -run Browser -artifacts -outputdir DIR ./internal/web/`).
//
// Without Chromium these tests skip loudly; with CI=true they fail instead.

import (
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	op "github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
)

func TestBrowser_FindChromium(t *testing.T) {
	installed := map[string]string{
		"chromium-browser":       "/usr/bin/chromium-browser",
		"/opt/chrome/chrome":     "/opt/chrome/chrome",
		"chromium":               "/usr/bin/chromium",
		"/usr/bin/google-chrome": "/usr/bin/google-chrome",
	}
	lookIn := func(names ...string) func(string) (string, error) {
		return func(name string) (string, error) {
			for _, n := range names {
				if n == name {
					return installed[n], nil
				}
			}
			return "", exec.ErrNotFound
		}
	}
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	tests := []struct {
		name      string
		getenv    func(string) string
		lookPath  func(string) (string, error)
		wantPath  string
		wantFatal bool
		wantWhy   string
	}{
		{"chromium on PATH is used", env(), lookIn("chromium", "chromium-browser"), "/usr/bin/chromium", false, ""},
		{"chromium-browser is the fallback", env(), lookIn("chromium-browser"), "/usr/bin/chromium-browser", false, ""},
		{"CHROME_PATH wins over PATH", env("CHROME_PATH", "/opt/chrome/chrome"), lookIn("chromium", "/opt/chrome/chrome"), "/opt/chrome/chrome", false, ""},
		{"a bad CHROME_PATH is reported, not ignored", env("CHROME_PATH", "/nope/chrome"), lookIn("chromium"), "", false, "CHROME_PATH"},
		{"no browser outside CI skips", env(), lookIn(), "", false, "none of chromium, chromium-browser, google-chrome"},
		{"no browser under CI=true fails", env("CI", "true"), lookIn(), "", true, ".ci/run must apt-get install chromium"},
		{"CI=false is not CI", env("CI", "false"), lookIn(), "", false, "not set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path, fatal, why := harness.FindChromium(tc.getenv, tc.lookPath)
			if path != tc.wantPath || fatal != tc.wantFatal || !strings.Contains(why, tc.wantWhy) {
				t.Errorf("btFindChromium = (%q, %v, %q), want (%q, %v, …%q…)", path, fatal, why, tc.wantPath, tc.wantFatal, tc.wantWhy)
			}
		})
	}
}

// TestBrowser_SignIn: a first-party app sends the browser to /authorize; the
// user signs in on the login page and lands back at the app with a code and
// the app's state. Also: a fixture user whose werkzeug password has a
// non-ASCII letter, and a visible focus ring while tabbing through the form.
func TestBrowser_SignIn(t *testing.T) {
	t.Parallel()
	e := harness.NewChromeEnv(t)
	b := harness.NewChrome(t)

	resp := b.Open(e.AuthorizeURL(harness.ChromeAppID, "state-signin"))
	p := b.Page()
	if q := b.At(p, e.Issuer, "/login"); q.Get("req") == "" {
		t.Errorf("login page URL %s carries no req", p.URL)
	}
	if resp.Status != http.StatusOK {
		t.Errorf("login page status = %d, want 200", resp.Status)
	}
	if p.H1 != "Sign in" || !strings.Contains(p.Body, "Sign in to continue to Studio App") {
		t.Errorf("login page says %q / %q, want Sign in … to continue to Studio App", p.H1, p.Body)
	}
	if !strings.Contains(p.Title, harness.StudioName) || !strings.Contains(p.Body, strings.ToUpper(harness.StudioName)) {
		t.Errorf("login page does not show the studio's name: title %q, body %q", p.Title, p.Body)
	}
	if p.Alert != "" {
		t.Errorf("fresh login page shows an error: %q", p.Alert)
	}
	b.Shoot("login")

	// Keyboard users see where they are: Tab from the username field (which
	// has the focus on load) to the password field and to the button, and
	// each one draws a focus ring.
	for _, want := range []string{"INPUT#username", "INPUT#password", "BUTTON"} {
		f := harness.ChromeRun(b, "read focus", chromedp.Evaluate[btFocus](btFocusJS))
		if f.Element != want {
			t.Fatalf("focus is on %s, want %s", f.Element, want)
		}
		if !f.Ring {
			t.Errorf("%s has the focus but no visible outline or ring (outline %q, box-shadow %q)", want, f.Outline, f.Shadow)
		}
		if want != "BUTTON" {
			b.Do("press Tab", chromedp.KeyEvent("\t"))
		}
	}

	b.SignIn(e.User.Username, e.User.Password)
	p = b.Page()
	q := b.At(p, e.RP.HTTP.URL, harness.AppCallback)
	if q.Get("code") == "" || q.Get("state") != "state-signin" || q.Get("iss") != e.Issuer {
		t.Fatalf("app received %v, want a code, state=state-signin and iss=%s", q, e.Issuer)
	}
	if got, ok := e.RP.Last(harness.AppCallback); !ok || got.Method != http.MethodGet || got.Params.Get("code") != q.Get("code") {
		t.Errorf("the app's server received %+v, want a GET with the code the browser shows", got)
	}
	tok := e.Exchange(harness.ChromeAppID, harness.ChromeAppSecret, e.RP.URL(harness.AppCallback), q.Get("code"))
	if st := e.UserinfoStatus(tok.AccessToken); st != http.StatusOK {
		t.Errorf("userinfo with the new access token: status %d, want 200", st)
	}

	t.Run("a fixture user with a non-ASCII werkzeug password", func(t *testing.T) {
		b.ClearCookies()
		b.Open(e.AuthorizeURL(harness.ChromeAppID, "state-desk"))
		b.At(b.Page(), e.Issuer, "/login")
		b.SignIn("front_desk", "desk-Pässwort-1")
		p := b.Page()
		q := b.At(p, e.RP.HTTP.URL, harness.AppCallback)
		if q.Get("code") == "" || q.Get("state") != "state-desk" {
			t.Fatalf("app received %v, want a code and state=state-desk", q)
		}
	})

	t.Run("response_mode=form_post submits itself to the app", func(t *testing.T) {
		// The session from the subtest before answers at once, with the
		// auto-submitting form_post page, whose one inline handler the
		// page's CSP allows by hash.
		b.Open(e.AuthorizeURL(harness.ChromeAppID, "state-post", "response_mode", "form_post"))
		b.WaitAt(e.RP.HTTP.URL, harness.AppCallback)
		hit, ok := e.RP.Last(harness.AppCallback)
		if !ok || hit.Method != http.MethodPost || hit.Params.Get("code") == "" || hit.Params.Get("state") != "state-post" {
			t.Fatalf("app received %+v, want a POST with a code and state=state-post", hit)
		}
	})
}

// btFocus describes the focused element.
type btFocus struct {
	Element string `json:"element"`
	Outline string `json:"outline"`
	Shadow  string `json:"shadow"`
	Ring    bool   `json:"ring"`
}

const btFocusJS = `(() => {
	const el = document.activeElement;
	const cs = getComputedStyle(el);
	const outline = cs.outlineStyle + " " + cs.outlineWidth + " " + cs.outlineColor;
	return {element: el.tagName + (el.id ? "#" + el.id : ""), outline, shadow: cs.boxShadow,
		ring: (cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) >= 2) || cs.boxShadow !== "none"};
})()`

// TestBrowser_WrongPassword: a wrong password keeps the user on the login
// page with a visible error in a role=alert box, keeps the username, and the
// right password then goes through.
func TestBrowser_WrongPassword(t *testing.T) {
	t.Parallel()
	e := harness.NewChromeEnv(t)
	b := harness.NewChrome(t)

	b.Open(e.AuthorizeURL(harness.ChromeAppID, "state-retry"))
	b.At(b.Page(), e.Issuer, "/login")
	resp := b.SignIn(e.User.Username, "not-the-password-1")
	if resp.Status != http.StatusUnauthorized {
		t.Errorf("wrong password: status %d, want 401", resp.Status)
	}
	p := b.Page()
	b.At(p, e.Issuer, "/login")
	if p.Alert != "The username or password is incorrect." {
		t.Errorf("error box (role=alert) says %q, want the incorrect-credentials message", p.Alert)
	}
	alert := harness.ChromeRun(b, "measure the alert", chromedp.Evaluate[btBox](btBoxJS(`[role=alert]`)))
	if alert.Width < 100 || alert.Height < 10 || alert.Hidden {
		t.Errorf("error box is not visible: %+v", alert)
	}
	described := harness.ChromeRun(b, "read aria-describedby", chromedp.Evaluate[string](`document.querySelector("form.form").getAttribute("aria-describedby") || ""`))
	if described != "form-error" {
		t.Errorf("login form aria-describedby = %q, want form-error", described)
	}
	if v := harness.ChromeRun(b, "read username", chromedp.Value(chromedp.CSS("#username"))); v != e.User.Username {
		t.Errorf("username field = %q after a failed login, want %q kept", v, e.User.Username)
	}
	if v := harness.ChromeRun(b, "read password", chromedp.Value(chromedp.CSS("#password"))); v != "" {
		t.Errorf("password field is refilled after a failed login")
	}
	b.Shoot("login-error")

	b.SignIn("", e.User.Password)
	q := b.At(b.Page(), e.RP.HTTP.URL, harness.AppCallback)
	if q.Get("code") == "" || q.Get("state") != "state-retry" {
		t.Fatalf("app received %v after the right password, want a code and state=state-retry", q)
	}
}

// btBox is an element's rendered size.
type btBox struct {
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
	Hidden bool    `json:"hidden"`
}

func btBoxJS(sel string) string {
	return `(() => { const e = document.querySelector(` + "`" + sel + "`" + `);
		if (!e) return {width: 0, height: 0, hidden: true};
		const r = e.getBoundingClientRect(), cs = getComputedStyle(e);
		return {width: r.width, height: r.height, hidden: cs.visibility === "hidden" || cs.display === "none" || cs.opacity === "0"}; })()`
}

// TestBrowser_Consent: a third-party client asks for consent; Deny sends
// error=access_denied to the client, Allow a code, and the answer is
// remembered.
func TestBrowser_Consent(t *testing.T) {
	t.Parallel()
	e := harness.NewChromeEnv(t)
	b := harness.NewChrome(t)

	b.Open(e.AuthorizeURL(harness.ChromeToolID, "state-deny"))
	b.At(b.Page(), e.Issuer, "/login")
	b.SignIn(e.User.Username, e.User.Password)
	p := b.Page()
	if q := b.At(p, e.Issuer, "/consent"); q.Get("req") == "" {
		t.Errorf("consent page URL %s carries no req", p.URL)
	}
	if !strings.Contains(p.H1, harness.ChromeToolName) || !strings.Contains(p.H1, "would like to access your account") {
		t.Errorf("consent heading = %q, want %s would like to access your account", p.H1, harness.ChromeToolName)
	}
	for _, want := range []string{"Signed in as " + e.User.Username, op.ScopeDescriptions["profile"], op.ScopeDescriptions["email"], "Allow", "Deny"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("consent page does not say %q:\n%s", want, p.Body)
		}
	}
	b.Shoot("consent")

	b.Submit(`button[name="decision"][value="deny"]`)
	q := b.At(b.Page(), e.RP.HTTP.URL, harness.ToolCallback)
	if q.Get("error") != "access_denied" || q.Get("state") != "state-deny" || q.Has("code") {
		t.Fatalf("after Deny the client received %v, want error=access_denied, state=state-deny and no code", q)
	}

	// The session stays: the next request goes straight to the consent page.
	b.Open(e.AuthorizeURL(harness.ChromeToolID, "state-allow"))
	b.At(b.Page(), e.Issuer, "/consent")
	b.Submit(`button[name="decision"][value="approve"]`)
	q = b.At(b.Page(), e.RP.HTTP.URL, harness.ToolCallback)
	if q.Get("code") == "" || q.Get("state") != "state-allow" || q.Has("error") {
		t.Fatalf("after Allow the client received %v, want a code and state=state-allow", q)
	}
	e.Exchange(harness.ChromeToolID, harness.ChromeToolSecret, e.RP.URL(harness.ToolCallback), q.Get("code"))

	b.Open(e.AuthorizeURL(harness.ChromeToolID, "state-again"))
	q = b.At(b.Page(), e.RP.HTTP.URL, harness.ToolCallback)
	if q.Get("code") == "" || q.Get("state") != "state-again" {
		t.Fatalf("a remembered consent should go straight to the client; it received %v", q)
	}
}

// TestBrowser_SignOut: RP-initiated logout with an id_token_hint goes straight
// to the post_logout_redirect_uri with the state and ends the session and its
// tokens; without a hint inkpass asks first, then shows the signed-out page
// (or returns to the client it names).
func TestBrowser_SignOut(t *testing.T) {
	t.Parallel()
	e := harness.NewChromeEnv(t)
	b := harness.NewChrome(t)

	b.Open(e.AuthorizeURL(harness.ChromeAppID, "state-in"))
	b.SignIn(e.User.Username, e.User.Password)
	q := b.At(b.Page(), e.RP.HTTP.URL, harness.AppCallback)
	tok := e.Exchange(harness.ChromeAppID, harness.ChromeAppSecret, e.RP.URL(harness.AppCallback), q.Get("code"))

	t.Run("with id_token_hint it goes straight back to the app", func(t *testing.T) {
		b.Open(e.Issuer + op.PathEndSession + "?" + url.Values{
			"id_token_hint":            {tok.IDToken},
			"post_logout_redirect_uri": {e.RP.URL(harness.SignedOut)},
			"state":                    {"state-bye"},
		}.Encode())
		q := b.At(b.Page(), e.RP.HTTP.URL, harness.SignedOut)
		if q.Get("state") != "state-bye" {
			t.Errorf("post-logout redirect carries %v, want state=state-bye", q)
		}
		if st := e.UserinfoStatus(tok.AccessToken); st != http.StatusUnauthorized {
			t.Errorf("userinfo with the session's access token after logout: status %d, want 401", st)
		}
		b.Open(e.Issuer + "/account")
		b.At(b.Page(), e.Issuer, "/login")
	})

	t.Run("without a hint it asks, then shows the signed-out page", func(t *testing.T) {
		b.SignIn(e.User.Username, e.User.Password) // on /login from the subtest before
		b.At(b.Page(), e.Issuer, "/account")
		b.Open(e.Issuer + op.PathEndSession)
		p := b.Page()
		b.At(p, e.Issuer, op.PathEndSession)
		if p.H1 != "You are signed in" || !strings.Contains(p.Body, "Sign out") {
			t.Fatalf("logout without a hint shows %q, want the confirmation page:\n%s", p.H1, p.Body)
		}
		b.Shoot("signout-confirm")
		b.Submit(`form[action^="/logout"] button[type="submit"]`)
		p = b.Page()
		b.At(p, e.Issuer, op.PathEndSession)
		if p.H1 != "Signed out" {
			t.Fatalf("after confirming: %q, want the signed-out page:\n%s", p.H1, p.Body)
		}
		b.Shoot("signed-out")
		b.Open(e.Issuer + "/account")
		b.At(b.Page(), e.Issuer, "/login")
	})

	t.Run("without a hint, the confirmation returns to the app it names", func(t *testing.T) {
		b.SignIn(e.User.Username, e.User.Password)
		b.At(b.Page(), e.Issuer, "/account")
		b.Open(e.Issuer + op.PathEndSession + "?" + url.Values{
			"client_id":                {harness.ChromeAppID},
			"post_logout_redirect_uri": {e.RP.URL(harness.SignedOut)},
			"state":                    {"state-asked"},
		}.Encode())
		b.At(b.Page(), e.Issuer, op.PathEndSession)
		b.Submit(`form[action^="/logout"] button[type="submit"]`)
		q := b.At(b.Page(), e.RP.HTTP.URL, harness.SignedOut)
		if q.Get("state") != "state-asked" {
			t.Errorf("post-logout redirect carries %v, want state=state-asked", q)
		}
		b.Open(e.Issuer + "/account")
		b.At(b.Page(), e.Issuer, "/login")
	})
}

// TestBrowser_AccountPassword: the account page changes the password after
// checking the current one and signs the user out of every other browser;
// afterwards the old password fails and the new one signs in.
func TestBrowser_AccountPassword(t *testing.T) {
	t.Parallel()
	e := harness.NewChromeEnv(t)
	b := harness.NewChrome(t)
	const newPassword = "Dotwork-Shading-2027"

	b.Open(e.Issuer + "/login")
	b.SignIn(e.User.Username, e.User.Password)
	p := b.Page()
	b.At(p, e.Issuer, "/account")
	for _, want := range []string{"Your account", e.User.Username, "Mara Quill", "assistant", "mara@studio.example", "Change password", "No apps have access"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("account page does not show %q:\n%s", want, p.Body)
		}
	}
	b.Shoot("account")

	// The same user is also signed in on another device.
	other := b.OtherBrowser()
	other.Open(e.Issuer + "/login")
	other.SignIn(e.User.Username, e.User.Password)
	other.At(other.Page(), e.Issuer, "/account")

	changePassword := func(current, next string) harness.ChromePage {
		b.TypeInto("#current_password", current)
		b.TypeInto("#new_password", next)
		b.TypeInto("#confirm_password", next)
		resp := b.Submit(`form[action="/account/password"] button[type="submit"]`)
		p := b.Page()
		if resp.Status >= 500 {
			t.Fatalf("password change: status %d", resp.Status)
		}
		return p
	}

	p = changePassword("not-my-password", newPassword)
	b.At(p, e.Issuer, "/account/password")
	if p.Alert != "Your current password is not correct." {
		t.Errorf("wrong current password: error box says %q", p.Alert)
	}
	p = changePassword(e.User.Password, newPassword)
	if q := b.At(p, e.Issuer, "/account"); q.Get("done") != "password" {
		t.Errorf("after the change the browser is at %s, want /account?done=password", p.URL)
	}
	if p.Notice != "Your password has been changed." || p.Alert != "" {
		t.Errorf("after the change: notice %q, alert %q", p.Notice, p.Alert)
	}
	// Whoever knew the old password is signed out everywhere else; the
	// person who changed it stays signed in here.
	other.Open(e.Issuer + "/account")
	other.At(other.Page(), e.Issuer, "/login")
	b.Open(e.Issuer + "/account")
	b.At(b.Page(), e.Issuer, "/account")

	// Sign out through the confirmation page, then try both passwords.
	b.Open(e.Issuer + op.PathEndSession)
	b.Submit(`form[action^="/logout"] button[type="submit"]`)
	b.Open(e.Issuer + "/login")
	if resp := b.SignIn(e.User.Username, e.User.Password); resp.Status != http.StatusUnauthorized {
		t.Errorf("old password after the change: status %d, want 401", resp.Status)
	}
	p = b.Page()
	b.At(p, e.Issuer, "/login")
	if p.Alert == "" {
		t.Errorf("old password after the change: no error shown")
	}
	b.SignIn("", newPassword)
	b.At(b.Page(), e.Issuer, "/account")
}

// TestBrowser_AccountRevoke: an app the user let in is listed on the account
// page; Revoke removes it, kills its tokens, and the app must ask again.
func TestBrowser_AccountRevoke(t *testing.T) {
	t.Parallel()
	e := harness.NewChromeEnv(t)
	b := harness.NewChrome(t)

	b.Open(e.AuthorizeURL(harness.ChromeToolID, "state-connect"))
	b.SignIn(e.User.Username, e.User.Password)
	b.At(b.Page(), e.Issuer, "/consent")
	b.Submit(`button[name="decision"][value="approve"]`)
	q := b.At(b.Page(), e.RP.HTTP.URL, harness.ToolCallback)
	tok := e.Exchange(harness.ChromeToolID, harness.ChromeToolSecret, e.RP.URL(harness.ToolCallback), q.Get("code"))

	b.Open(e.Issuer + "/account")
	p := b.Page()
	b.At(p, e.Issuer, "/account")
	apps := harness.ChromeRun(b, "list apps", chromedp.Evaluate[[]string](`[...document.querySelectorAll("ul.apps li.app")].map(li => li.innerText.replace(/\s+/g, " ").trim())`))
	if len(apps) != 1 || !strings.Contains(apps[0], harness.ChromeToolName) || !strings.Contains(apps[0], "openid profile email") {
		t.Fatalf("connected apps = %q, want only %s with openid profile email", apps, harness.ChromeToolName)
	}
	b.Shoot("account-apps")

	b.Submit(`form[action="/account/revoke"] button[type="submit"]`)
	p = b.Page()
	if q := b.At(p, e.Issuer, "/account"); q.Get("done") != "revoked" {
		t.Errorf("after Revoke the browser is at %s, want /account?done=revoked", p.URL)
	}
	if p.Notice != "The app's access has been revoked." {
		t.Errorf("after Revoke the notice says %q", p.Notice)
	}
	if !strings.Contains(p.Body, "No apps have access to your account.") {
		t.Errorf("after Revoke the account page still lists apps:\n%s", p.Body)
	}
	if st := e.UserinfoStatus(tok.AccessToken); st != http.StatusUnauthorized {
		t.Errorf("userinfo with the revoked app's token: status %d, want 401", st)
	}

	b.Open(e.AuthorizeURL(harness.ChromeToolID, "state-reconnect"))
	b.At(b.Page(), e.Issuer, "/consent")
}

// TestBrowser_ErrorPage: an unknown client_id gets inkpass's own error page,
// never a redirect.
func TestBrowser_ErrorPage(t *testing.T) {
	t.Parallel()
	e := harness.NewChromeEnv(t)
	b := harness.NewChrome(t)

	resp := b.Open(e.Issuer + op.PathAuthorize + "?" + url.Values{
		"client_id": {"no-such-app"}, "redirect_uri": {e.RP.URL(harness.AppCallback)},
		"response_type": {"code"}, "scope": {"openid"}, "state": {"state-x"},
	}.Encode())
	p := b.Page()
	b.At(p, e.Issuer, op.PathAuthorize)
	if resp.Status != http.StatusBadRequest {
		t.Errorf("unknown client: status %d, want 400", resp.Status)
	}
	if p.H1 != "This sign-in link is not valid" || !strings.Contains(p.Body, "not registered") {
		t.Errorf("unknown client: page says %q:\n%s", p.H1, p.Body)
	}
	if _, ok := e.RP.Last(harness.AppCallback); ok {
		t.Error("the error reached the redirect URI of an unknown client")
	}
	b.Shoot("error")
}

// TestBrowser_NoJavaScript: with scripts switched off in the browser, a
// third-party sign-in still works end to end: the login form, the consent
// form and the redirects need no JavaScript, and the pages ship none.
func TestBrowser_NoJavaScript(t *testing.T) {
	t.Parallel()
	e := harness.NewChromeEnv(t)
	b := harness.NewChrome(t)
	b.DisableScripts()

	scriptsOff := func() {
		t.Helper()
		b.Open(e.RP.URL(harness.JSProbe))
		if title := harness.ChromeRun(b, "read title", chromedp.Title()); title != "scripts-off" {
			t.Fatalf("probe page title = %q: JavaScript is not switched off", title)
		}
	}
	scriptsOff()

	noScripts := func(page string) {
		t.Helper()
		n := harness.ChromeRun(b, "count scripts", chromedp.Evaluate[int](`document.scripts.length + document.querySelectorAll("[onload],[onclick],[onsubmit]").length`))
		if n != 0 {
			t.Errorf("%s page has %d scripts or script handlers", page, n)
		}
	}
	b.Open(e.AuthorizeURL(harness.ChromeToolID, "state-nojs"))
	b.At(b.Page(), e.Issuer, "/login")
	noScripts("login")
	b.SignIn(e.User.Username, e.User.Password)
	b.At(b.Page(), e.Issuer, "/consent")
	noScripts("consent")
	b.Submit(`button[name="decision"][value="approve"]`)
	q := b.At(b.Page(), e.RP.HTTP.URL, harness.ToolCallback)
	if q.Get("code") == "" || q.Get("state") != "state-nojs" {
		t.Fatalf("without JavaScript the client received %v, want a code and state=state-nojs", q)
	}

	// response_mode=form_post: the page cannot submit itself, so it shows a
	// Continue button.
	b.Open(e.AuthorizeURL(harness.ChromeAppID, "state-nojs-post", "response_mode", "form_post"))
	p := b.Page()
	b.At(p, e.Issuer, op.PathAuthorize)
	if !strings.Contains(p.Body, "Continue") {
		t.Fatalf("form_post page without JavaScript shows no Continue button:\n%s", p.Body)
	}
	b.Shoot("form-post-nojs")
	b.Submit(`form.form button[type="submit"]`)
	b.At(b.Page(), e.RP.HTTP.URL, harness.AppCallback)
	hit, ok := e.RP.Last(harness.AppCallback)
	if !ok || hit.Method != http.MethodPost || hit.Params.Get("code") == "" || hit.Params.Get("state") != "state-nojs-post" {
		t.Fatalf("app received %+v, want a POST with a code and state=state-nojs-post", hit)
	}
	scriptsOff()
}
