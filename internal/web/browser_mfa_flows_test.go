package web_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/inkpass/inkpass/internal/mfa"
	"github.com/inkpass/inkpass/internal/oidc"
)

// wantIDToken redeems code for the studio app and has a go-oidc relying
// party verify the ID token and find amr and acr in it.
func wantIDToken(e *btEnv, code string, amr []string, acr string) {
	e.t.Helper()
	provider, err := gooidc.NewProvider(e.t.Context(), e.issuer)
	if err != nil {
		e.t.Fatalf("discovery: %v", err)
	}
	tokens := e.exchange(btAppID, btAppSecret, e.rp.url(btAppCallback), code)
	idt, err := provider.Verifier(&gooidc.Config{ClientID: btAppID}).Verify(e.t.Context(), tokens.IDToken)
	if err != nil {
		e.t.Fatalf("verify ID token: %v", err)
	}
	var claims struct {
		AMR []string `json:"amr"`
		ACR string   `json:"acr"`
	}
	if err := idt.Claims(&claims); err != nil {
		e.t.Fatal(err)
	}
	if !slices.Equal(claims.AMR, amr) || claims.ACR != acr {
		e.t.Errorf("ID token amr %v acr %q, want %v and %q", claims.AMR, claims.ACR, amr, acr)
	}
}

// gotCode reports whether the app's callback ever received a code with state.
func gotCode(e *btEnv, state string) bool {
	e.rp.mu.Lock()
	defer e.rp.mu.Unlock()
	for _, h := range e.rp.hits {
		if h.path == btAppCallback && h.params.Get("state") == state && h.params.Get("code") != "" {
			return true
		}
	}
	return false
}

// readKey reads the authenticator key shown on the page.
func readKey(b *btBrowser) []byte {
	b.t.Helper()
	secret := btRun(b, "read the key", chromedp.Evaluate[string](`document.querySelector("#totp-secret").innerText`))
	key, err := mfa.ParseSecretText(secret)
	if err != nil {
		b.t.Fatalf("key on the page %q: %v", secret, err)
	}
	return key
}

// addAuthenticatorApp adds an authenticator app on /account (the browser
// is signed in) and returns its key.
func addAuthenticatorApp(b *btBrowser, e *btEnv) []byte {
	b.t.Helper()
	b.open(e.issuer + "/account")
	b.submit(`form:has(input[name="op"][value="begin"]) button`)
	key := readKey(b)
	e.mfaOffset.Add(int64(mfa.Period)) // a fresh step: a code is accepted once
	b.typeInto("#factor-code", mfa.Code(key, e.mfaNow()))
	b.submit(`form:has(input[name="op"][value="confirm"]) button`)
	if p := b.page(); !strings.Contains(p.Notice, "Your authenticator app has been added") {
		b.t.Fatalf("adding an authenticator app: alert %q notice %q", p.Alert, p.Notice)
	}
	return key
}

// tryBypass edits the URL past the second factor of sign-in req: the
// consent page, then the app's redirect URI by hand, then /authorize again
// (single sign-on) and /account. None of them may get the app a code for
// state or the browser a session.
func tryBypass(b *btBrowser, e *btEnv, req, state string) {
	b.t.Helper()
	b.open(e.issuer + "/consent?req=" + req)
	if p := b.page(); strings.HasPrefix(p.URL, e.rp.srv.URL) {
		b.t.Fatalf("/consent?req= after the password alone reached the app at %s", p.URL)
	}
	b.open(e.rp.url(btAppCallback) + "?state=" + state)
	b.open(e.btAuthorizeURL(btAppID, state+"-sso"))
	if p := b.page(); strings.HasPrefix(p.URL, e.rp.srv.URL) {
		b.t.Fatalf("/authorize after the password alone reached the app at %s", p.URL)
	}
	b.open(e.issuer + "/account")
	b.at(b.page(), e.issuer, "/login")
	if gotCode(e, state) || gotCode(e, state+"-sso") {
		b.t.Fatal("the app got a code after the password alone")
	}
}

// TestBrowser_MFAPolicyForcesEnrolment: with mfa.required_roles [admin], an
// admin without a factor is on the enrolment page right after the password;
// editing the URL gets the app no code; the app gets one only after the
// enrolment and the recovery codes, and a go-oidc relying party finds amr
// [pwd otp mfa] and acr urn:inkpass:acr:mfa. On /account the admin's last
// factor cannot be removed.
func TestBrowser_MFAPolicyForcesEnrolment(t *testing.T) {
	t.Parallel()
	e := btNewEnvWith(t, btEnvOptions{mfaRoles: []string{"admin"}})
	b := btNewBrowser(t)

	b.open(e.btAuthorizeURL(btAppID, "state-admin"))
	b.signIn(e.admin.Username, e.admin.Password)
	p := b.page()
	req := b.at(p, e.issuer, "/login/factor").Get("req")
	if p.H1 != "Set up an authenticator app" || req == "" {
		t.Fatalf("after the admin's password: %q at %s, want the enrolment page", p.H1, p.URL)
	}
	tryBypass(b, e, req, "state-admin")

	// Back to the sign-in: the password again leads to the enrolment.
	b.open(e.btAuthorizeURL(btAppID, "state-admin"))
	b.signIn(e.admin.Username, e.admin.Password)
	if p := b.page(); b.at(p, e.issuer, "/login/factor").Get("req") == "" || p.H1 != "Set up an authenticator app" {
		t.Fatalf("after the password again: %q at %s, want the enrolment page", p.H1, p.URL)
	}
	key := readKey(b)
	b.checkLabels("factor-enrol")
	e.mfaOffset.Add(int64(mfa.Period))
	b.typeInto("#code", mfa.Code(key, e.mfaNow()))
	b.submit(`form.form button[type="submit"]`)
	p = b.page()
	if b.at(p, e.issuer, "/login/factor"); p.H1 != "Your recovery codes" || strings.Count(p.Body, "-") < 3*mfa.RecoveryCodeCount {
		t.Fatalf("after confirming the code: %q, alert %q, want the recovery codes:\n%s", p.H1, p.Alert, p.Body)
	}
	if gotCode(e, "state-admin") {
		t.Fatal("the app got a code before the recovery codes were shown")
	}
	b.submit(`a.button-primary`) // Continue
	q := b.at(b.page(), e.rp.srv.URL, btAppCallback)
	if q.Get("code") == "" || q.Get("state") != "state-admin" {
		t.Fatalf("app received %v, want a code and state=state-admin", q)
	}
	wantIDToken(e, q.Get("code"), []string{"pwd", "otp", "mfa"}, oidc.ACRMFA)

	// The admin's only factor stays, with or without the password.
	b.open(e.issuer + "/account")
	b.typeInto(`form:has(input[name="op"][value="remove"]) input[name="password"]`, e.admin.Password)
	b.submit(`form:has(input[name="op"][value="remove"]) button`)
	p = b.page()
	if !strings.Contains(p.Alert, "Your role must have a second factor") || !strings.Contains(p.Body, "Authenticator app") {
		t.Fatalf("removing the admin's last factor: alert %q, want a refusal and the factor still listed:\n%s", p.Alert, p.Body)
	}
}

// TestBrowser_MFAStepUp: a session signed in with the password alone gets
// asked for the code (not the password) when an app sends
// acr_values=urn:inkpass:acr:mfa, and the ID token then says acr mfa.
func TestBrowser_MFAStepUp(t *testing.T) {
	t.Parallel()
	e := btNewEnv(t)
	b := btNewBrowser(t)

	b.open(e.btAuthorizeURL(btAppID, "state-pwd"))
	b.signIn(e.user.Username, e.user.Password)
	q := b.at(b.page(), e.rp.srv.URL, btAppCallback)
	wantIDToken(e, q.Get("code"), []string{"pwd"}, oidc.ACRPassword)
	key := addAuthenticatorApp(b, e)

	b.open(e.btAuthorizeURL(btAppID, "state-step-up", "acr_values", oidc.ACRMFA))
	p := b.page()
	if b.at(p, e.issuer, "/login/factor"); p.H1 != "Enter your code" {
		t.Fatalf("step-up: %q at %s, want the code page", p.H1, p.URL)
	}
	if n := btRun(b, "count password fields", chromedp.Evaluate[int](`document.querySelectorAll("input[type=password]").length`)); n != 0 {
		t.Errorf("step-up page asks for the password again (%d fields)", n)
	}
	e.mfaOffset.Add(int64(mfa.Period))
	b.typeInto("#code", mfa.Code(key, e.mfaNow()))
	b.submit(`form.form button[type="submit"]`)
	q = b.at(b.page(), e.rp.srv.URL, btAppCallback)
	if q.Get("code") == "" || q.Get("state") != "state-step-up" {
		t.Fatalf("app received %v, want a code and state=state-step-up", q)
	}
	wantIDToken(e, q.Get("code"), []string{"pwd", "otp", "mfa"}, oidc.ACRMFA)
}

// TestBrowser_MFARemoveFactors: on /account a factor is renamed, one of two
// is removed without the password, the last one only with the right
// password; then the password alone signs the app in again (amr [pwd]).
func TestBrowser_MFARemoveFactors(t *testing.T) {
	t.Parallel()
	e := btNewEnv(t)
	b := btNewBrowser(t)

	b.open(e.issuer + "/account")
	b.signIn(e.user.Username, e.user.Password)
	b.at(b.page(), e.issuer, "/account")
	addAuthenticatorApp(b, e)
	b.open(e.issuer + "/account")
	b.typeInto(`form:has(input[name="op"][value="rename"]) input[name="name"]`, "Old phone")
	b.submit(`form:has(input[name="op"][value="rename"]) button`)
	if p := b.page(); !strings.Contains(p.Body, "Old phone") {
		t.Fatalf("after renaming: alert %q, the factor is not called Old phone:\n%s", p.Alert, p.Body)
	}
	addAuthenticatorApp(b, e)

	// Two factors: either goes without the password.
	b.open(e.issuer + "/account")
	if n := btRun(b, "count password fields of the remove forms", chromedp.Evaluate[int](`document.querySelectorAll('form:has(input[name="op"][value="remove"]) input[name="password"]').length`)); n != 0 {
		t.Errorf("with two factors, %d remove forms ask for the password, want none", n)
	}
	// Old phone's own Remove button, found by the factor's name.
	btRun(b, "remove Old phone", chromedp.Evaluate[bool](`(() => {
		const li = [...document.querySelectorAll("ul.factors li")].find(li => li.querySelector(".app-name").innerText === "Old phone");
		li.querySelector('form:has(input[name="op"][value="remove"]) button').click();
		return true;
	})()`))
	p := waitFor(b, "the removal's answer", func(p btPage) bool { return p.Notice != "" || p.Alert != "" })
	if p.Alert != "" || strings.Contains(p.Body, "Old phone") || !strings.Contains(p.Body, "Authenticator app") {
		t.Fatalf("after removing Old phone: alert %q notice %q:\n%s", p.Alert, p.Notice, p.Body)
	}

	// The last one: a wrong password is refused, the right one removes it.
	remove := `form:has(input[name="op"][value="remove"]) `
	b.typeInto(remove+`input[name="password"]`, "not-my-password")
	b.submit(remove + `button`)
	if p := b.page(); p.Alert == "" || !strings.Contains(p.Body, "Authenticator app") {
		t.Fatalf("removing the last factor with a wrong password: alert %q, want a refusal and the factor kept:\n%s", p.Alert, p.Body)
	}
	b.open(e.issuer + "/account")
	b.typeInto(remove+`input[name="password"]`, e.user.Password)
	b.submit(remove + `button`)
	if n := btRun(b, "count factors", chromedp.Evaluate[int](`document.querySelectorAll("ul.factors li").length`)); n != 0 {
		t.Fatalf("after removing the last factor with the password, %d factors are listed", n)
	}

	b.clearCookies()
	b.open(e.btAuthorizeURL(btAppID, "state-no-factor"))
	b.signIn(e.user.Username, e.user.Password)
	q := b.at(b.page(), e.rp.srv.URL, btAppCallback)
	wantIDToken(e, q.Get("code"), []string{"pwd"}, oidc.ACRPassword)
}

// TestBrowser_MFABypassByURL: a user with an authenticator app gives the
// password only, then edits the URL to /consent?req=, to the app's redirect
// URI and to /authorize again: the app gets no code, /account no session.
func TestBrowser_MFABypassByURL(t *testing.T) {
	t.Parallel()
	e := btNewEnv(t)
	b := btNewBrowser(t)

	b.open(e.issuer + "/account")
	b.signIn(e.user.Username, e.user.Password)
	addAuthenticatorApp(b, e)

	b.clearCookies()
	b.open(e.btAuthorizeURL(btAppID, "state-bypass"))
	b.signIn(e.user.Username, e.user.Password)
	p := b.page()
	req := b.at(p, e.issuer, "/login/factor").Get("req")
	if p.H1 != "Enter your code" || req == "" {
		t.Fatalf("after the password: %q at %s, want the code page", p.H1, p.URL)
	}
	tryBypass(b, e, req, "state-bypass")
}
