package web_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/inkpass/inkpass/internal/mfa"
	"github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
)

// wantIDToken redeems code for the studio app and has a go-oidc relying
// party verify the ID token and find amr and acr in it.
func wantIDToken(e *harness.ChromeEnv, code string, amr []string, acr string) {
	e.T.Helper()
	provider, err := gooidc.NewProvider(e.T.Context(), e.Issuer)
	if err != nil {
		e.T.Fatalf("discovery: %v", err)
	}
	tokens := e.Exchange(harness.ChromeAppID, harness.ChromeAppSecret, e.RP.URL(harness.AppCallback), code)
	idt, err := provider.Verifier(&gooidc.Config{ClientID: harness.ChromeAppID}).Verify(e.T.Context(), tokens.IDToken)
	if err != nil {
		e.T.Fatalf("verify ID token: %v", err)
	}
	var claims struct {
		AMR []string `json:"amr"`
		ACR string   `json:"acr"`
	}
	if err := idt.Claims(&claims); err != nil {
		e.T.Fatal(err)
	}
	if !slices.Equal(claims.AMR, amr) || claims.ACR != acr {
		e.T.Errorf("ID token amr %v acr %q, want %v and %q", claims.AMR, claims.ACR, amr, acr)
	}
}

// gotCode reports whether the app's callback ever received a code with state.
func gotCode(e *harness.ChromeEnv, state string) bool {
	e.RP.Mu.Lock()
	defer e.RP.Mu.Unlock()
	for _, h := range e.RP.Hits {
		if h.Path == harness.AppCallback && h.Params.Get("state") == state && h.Params.Get("code") != "" {
			return true
		}
	}
	return false
}

// readKey reads the authenticator key shown on the page.
func readKey(b *harness.Chrome) []byte {
	b.T.Helper()
	secret := harness.ChromeRun(b, "read the key", chromedp.Evaluate[string](`document.querySelector("#totp-secret").innerText`))
	key, err := mfa.ParseSecretText(secret)
	if err != nil {
		b.T.Fatalf("key on the page %q: %v", secret, err)
	}
	return key
}

// addAuthenticatorApp adds an authenticator app on /account (the browser
// is signed in) and returns its key.
func addAuthenticatorApp(b *harness.Chrome, e *harness.ChromeEnv) []byte {
	b.T.Helper()
	b.Open(e.Issuer + "/account")
	b.Submit(`form:has(input[name="op"][value="begin"]) button`)
	key := readKey(b)
	e.MFAClock.Advance(mfa.Period) // a fresh step: a code is accepted once
	b.TypeInto("#factor-code", mfa.Code(key, e.MFAClock.Now()))
	b.Submit(`form:has(input[name="op"][value="confirm"]) button`)
	if p := b.Page(); !strings.Contains(p.Notice, "Your authenticator app has been added") {
		b.T.Fatalf("adding an authenticator app: alert %q notice %q", p.Alert, p.Notice)
	}
	return key
}

// tryBypass edits the URL past the second factor of sign-in req: the
// consent page, then the app's redirect URI by hand, then /authorize again
// (single sign-on) and /account. None of them may get the app a code for
// state or the browser a session.
func tryBypass(b *harness.Chrome, e *harness.ChromeEnv, req, state string) {
	b.T.Helper()
	b.Open(e.Issuer + "/consent?req=" + req)
	if p := b.Page(); strings.HasPrefix(p.URL, e.RP.HTTP.URL) {
		b.T.Fatalf("/consent?req= after the password alone reached the app at %s", p.URL)
	}
	b.Open(e.RP.URL(harness.AppCallback) + "?state=" + state)
	b.Open(e.AuthorizeURL(harness.ChromeAppID, state+"-sso"))
	if p := b.Page(); strings.HasPrefix(p.URL, e.RP.HTTP.URL) {
		b.T.Fatalf("/authorize after the password alone reached the app at %s", p.URL)
	}
	b.Open(e.Issuer + "/account")
	b.At(b.Page(), e.Issuer, "/login")
	if gotCode(e, state) || gotCode(e, state+"-sso") {
		b.T.Fatal("the app got a code after the password alone")
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
	e := harness.NewChromeEnvWith(t, harness.ChromeEnvOptions{MFARoles: []string{"admin"}})
	b := harness.NewChrome(t)

	b.Open(e.AuthorizeURL(harness.ChromeAppID, "state-admin"))
	b.SignIn(e.Admin.Username, e.Admin.Password)
	p := b.Page()
	req := b.At(p, e.Issuer, "/login/factor").Get("req")
	if p.H1 != "Set up an authenticator app" || req == "" {
		t.Fatalf("after the admin's password: %q at %s, want the enrolment page", p.H1, p.URL)
	}
	tryBypass(b, e, req, "state-admin")

	// Back to the sign-in: the password again leads to the enrolment.
	b.Open(e.AuthorizeURL(harness.ChromeAppID, "state-admin"))
	b.SignIn(e.Admin.Username, e.Admin.Password)
	if p := b.Page(); b.At(p, e.Issuer, "/login/factor").Get("req") == "" || p.H1 != "Set up an authenticator app" {
		t.Fatalf("after the password again: %q at %s, want the enrolment page", p.H1, p.URL)
	}
	key := readKey(b)
	b.CheckLabels("factor-enrol")
	e.MFAClock.Advance(mfa.Period)
	b.TypeInto("#code", mfa.Code(key, e.MFAClock.Now()))
	b.Submit(`form.form button[type="submit"]`)
	p = b.Page()
	if b.At(p, e.Issuer, "/login/factor"); p.H1 != "Your recovery codes" || strings.Count(p.Body, "-") < 3*mfa.RecoveryCodeCount {
		t.Fatalf("after confirming the code: %q, alert %q, want the recovery codes:\n%s", p.H1, p.Alert, p.Body)
	}
	if gotCode(e, "state-admin") {
		t.Fatal("the app got a code before the recovery codes were shown")
	}
	b.Submit(`a.button-primary`) // Continue
	q := b.At(b.Page(), e.RP.HTTP.URL, harness.AppCallback)
	if q.Get("code") == "" || q.Get("state") != "state-admin" {
		t.Fatalf("app received %v, want a code and state=state-admin", q)
	}
	wantIDToken(e, q.Get("code"), []string{"pwd", "otp", "mfa"}, oidc.ACRMFA)

	// The admin's only factor stays, with or without the password.
	b.Open(e.Issuer + "/account")
	b.TypeInto(`form:has(input[name="op"][value="remove"]) input[name="password"]`, e.Admin.Password)
	b.Submit(`form:has(input[name="op"][value="remove"]) button`)
	p = b.Page()
	if !strings.Contains(p.Alert, "Your role must have a second factor") || !strings.Contains(p.Body, "Authenticator app") {
		t.Fatalf("removing the admin's last factor: alert %q, want a refusal and the factor still listed:\n%s", p.Alert, p.Body)
	}
}

// TestBrowser_MFAStepUp: a session signed in with the password alone gets
// asked for the code (not the password) when an app sends
// acr_values=urn:inkpass:acr:mfa, and the ID token then says acr mfa.
func TestBrowser_MFAStepUp(t *testing.T) {
	t.Parallel()
	e := harness.NewChromeEnv(t)
	b := harness.NewChrome(t)

	b.Open(e.AuthorizeURL(harness.ChromeAppID, "state-pwd"))
	b.SignIn(e.User.Username, e.User.Password)
	q := b.At(b.Page(), e.RP.HTTP.URL, harness.AppCallback)
	wantIDToken(e, q.Get("code"), []string{"pwd"}, oidc.ACRPassword)
	key := addAuthenticatorApp(b, e)

	b.Open(e.AuthorizeURL(harness.ChromeAppID, "state-step-up", "acr_values", oidc.ACRMFA))
	p := b.Page()
	if b.At(p, e.Issuer, "/login/factor"); p.H1 != "Enter your code" {
		t.Fatalf("step-up: %q at %s, want the code page", p.H1, p.URL)
	}
	if n := harness.ChromeRun(b, "count password fields", chromedp.Evaluate[int](`document.querySelectorAll("input[type=password]").length`)); n != 0 {
		t.Errorf("step-up page asks for the password again (%d fields)", n)
	}
	e.MFAClock.Advance(mfa.Period)
	b.TypeInto("#code", mfa.Code(key, e.MFAClock.Now()))
	b.Submit(`form.form button[type="submit"]`)
	q = b.At(b.Page(), e.RP.HTTP.URL, harness.AppCallback)
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
	e := harness.NewChromeEnv(t)
	b := harness.NewChrome(t)

	b.Open(e.Issuer + "/account")
	b.SignIn(e.User.Username, e.User.Password)
	b.At(b.Page(), e.Issuer, "/account")
	addAuthenticatorApp(b, e)
	b.Open(e.Issuer + "/account")
	b.TypeInto(`form:has(input[name="op"][value="rename"]) input[name="name"]`, "Old phone")
	b.Submit(`form:has(input[name="op"][value="rename"]) button`)
	if p := b.Page(); !strings.Contains(p.Body, "Old phone") {
		t.Fatalf("after renaming: alert %q, the factor is not called Old phone:\n%s", p.Alert, p.Body)
	}
	addAuthenticatorApp(b, e)

	// Two factors: either goes without the password.
	b.Open(e.Issuer + "/account")
	if n := harness.ChromeRun(b, "count password fields of the remove forms", chromedp.Evaluate[int](`document.querySelectorAll('form:has(input[name="op"][value="remove"]) input[name="password"]').length`)); n != 0 {
		t.Errorf("with two factors, %d remove forms ask for the password, want none", n)
	}
	// Old phone's own Remove button, found by the factor's name.
	harness.ChromeRun(b, "remove Old phone", chromedp.Evaluate[bool](`(() => {
		const li = [...document.querySelectorAll("ul.factors li")].find(li => li.querySelector(".app-name").innerText === "Old phone");
		li.querySelector('form:has(input[name="op"][value="remove"]) button').click();
		return true;
	})()`))
	p := waitFor(b, "the removal's answer", func(p harness.ChromePage) bool { return p.Notice != "" || p.Alert != "" })
	if p.Alert != "" || strings.Contains(p.Body, "Old phone") || !strings.Contains(p.Body, "Authenticator app") {
		t.Fatalf("after removing Old phone: alert %q notice %q:\n%s", p.Alert, p.Notice, p.Body)
	}

	// The last one: a wrong password is refused, the right one removes it.
	remove := `form:has(input[name="op"][value="remove"]) `
	b.TypeInto(remove+`input[name="password"]`, "not-my-password")
	b.Submit(remove + `button`)
	if p := b.Page(); p.Alert == "" || !strings.Contains(p.Body, "Authenticator app") {
		t.Fatalf("removing the last factor with a wrong password: alert %q, want a refusal and the factor kept:\n%s", p.Alert, p.Body)
	}
	b.Open(e.Issuer + "/account")
	b.TypeInto(remove+`input[name="password"]`, e.User.Password)
	b.Submit(remove + `button`)
	if n := harness.ChromeRun(b, "count factors", chromedp.Evaluate[int](`document.querySelectorAll("ul.factors li").length`)); n != 0 {
		t.Fatalf("after removing the last factor with the password, %d factors are listed", n)
	}

	b.ClearCookies()
	b.Open(e.AuthorizeURL(harness.ChromeAppID, "state-no-factor"))
	b.SignIn(e.User.Username, e.User.Password)
	q := b.At(b.Page(), e.RP.HTTP.URL, harness.AppCallback)
	wantIDToken(e, q.Get("code"), []string{"pwd"}, oidc.ACRPassword)
}

// TestBrowser_MFABypassByURL: a user with an authenticator app gives the
// password only, then edits the URL to /consent?req=, to the app's redirect
// URI and to /authorize again: the app gets no code, /account no session.
func TestBrowser_MFABypassByURL(t *testing.T) {
	t.Parallel()
	e := harness.NewChromeEnv(t)
	b := harness.NewChrome(t)

	b.Open(e.Issuer + "/account")
	b.SignIn(e.User.Username, e.User.Password)
	addAuthenticatorApp(b, e)

	b.ClearCookies()
	b.Open(e.AuthorizeURL(harness.ChromeAppID, "state-bypass"))
	b.SignIn(e.User.Username, e.User.Password)
	p := b.Page()
	req := b.At(p, e.Issuer, "/login/factor").Get("req")
	if p.H1 != "Enter your code" || req == "" {
		t.Fatalf("after the password: %q at %s, want the code page", p.H1, p.URL)
	}
	tryBypass(b, e, req, "state-bypass")
}
