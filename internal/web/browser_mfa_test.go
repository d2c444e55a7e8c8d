package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/inkpass/inkpass/internal/mfa"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
)

// TestBrowser_MFA: in headless Chromium, without touching any script, a
// person adds an authenticator app on /account (the QR code is drawn and the
// key shown as text), confirms it with a code, sees the recovery codes, and
// the next sign-in asks for a code before the app gets its code.
func TestBrowser_MFA(t *testing.T) {
	t.Parallel()
	e := harness.NewChromeEnv(t)
	b := harness.NewChrome(t)

	b.Open(e.AuthorizeURL(harness.ChromeAppID, "state-first"))
	b.SignIn(e.User.Username, e.User.Password)
	b.At(b.Page(), e.RP.HTTP.URL, harness.AppCallback)

	b.Open(e.Issuer + "/account")
	b.Submit(`form:has(input[name="op"][value="begin"]) button`)
	secret := harness.ChromeRun(b, "read the key", chromedp.Evaluate[string](`document.querySelector("#totp-secret").innerText`))
	key, err := mfa.ParseSecretText(secret)
	if err != nil {
		t.Fatalf("key on the page %q: %v", secret, err)
	}
	// The QR code is an image the page's CSP lets the browser draw.
	if w := harness.ChromeRun(b, "read the QR code", chromedp.Evaluate[int](`document.querySelector("img.qr").naturalWidth`)); w == 0 {
		t.Error("the QR code image did not load")
	}
	b.CheckLabels("account-enrol")
	b.Shoot("account-enrol")
	b.TypeInto("#factor-code", mfa.Code(key, e.MFAClock.Now()))
	b.Submit(`form:has(input[name="op"][value="confirm"]) button`)
	p := b.Page()
	b.At(p, e.Issuer, "/account/mfa")
	if !strings.Contains(p.Notice, "Your authenticator app has been added") || strings.Count(p.Body, "-") < 3*mfa.RecoveryCodeCount {
		t.Fatalf("after confirming: notice %q, body:\n%s", p.Notice, p.Body)
	}

	b.ClearCookies()
	b.Open(e.AuthorizeURL(harness.ChromeAppID, "state-mfa"))
	b.SignIn(e.User.Username, e.User.Password)
	p = b.Page()
	if b.At(p, e.Issuer, "/login/factor"); p.H1 != "Enter your code" {
		t.Fatalf("after the password: %q at %s, want the code page", p.H1, p.URL)
	}
	b.CheckLabels("factor")
	b.Shoot("factor")
	b.Do("type a wrong code", chromedp.SendKeys(chromedp.CSS("#code"), "000000"))
	b.Submit(`form.form button[type="submit"]`)
	if p := b.Page(); !strings.Contains(p.Alert, "not valid") {
		t.Fatalf("wrong code: alert %q, want the invalid code message", p.Alert)
	}
	e.MFAClock.Advance(mfa.Period)
	b.TypeInto("#code", mfa.Code(key, e.MFAClock.Now()))
	b.Submit(`form.form button[type="submit"]`)
	q := b.At(b.Page(), e.RP.HTTP.URL, harness.AppCallback)
	if q.Get("code") == "" || q.Get("state") != "state-mfa" {
		t.Fatalf("app received %v, want a code and state=state-mfa", q)
	}
}
