package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/inkpass/inkpass/internal/mfa"
)

// TestBrowser_MFA: in headless Chromium, without touching any script, a
// person adds an authenticator app on /account (the QR code is drawn and the
// key shown as text), confirms it with a code, sees the recovery codes, and
// the next sign-in asks for a code before the app gets its code.
func TestBrowser_MFA(t *testing.T) {
	t.Parallel()
	e := btNewEnv(t)
	b := btNewBrowser(t)

	b.open(e.btAuthorizeURL(btAppID, "state-first"))
	b.signIn(e.user.Username, e.user.Password)
	b.at(b.page(), e.rp.srv.URL, btAppCallback)

	b.open(e.issuer + "/account")
	b.submit(`form:has(input[name="op"][value="begin"]) button`)
	secret := btRun(b, "read the key", chromedp.Evaluate[string](`document.querySelector("#totp-secret").innerText`))
	key, err := mfa.ParseSecretText(secret)
	if err != nil {
		t.Fatalf("key on the page %q: %v", secret, err)
	}
	// The QR code is an image the page's CSP lets the browser draw.
	if w := btRun(b, "read the QR code", chromedp.Evaluate[int](`document.querySelector("img.qr").naturalWidth`)); w == 0 {
		t.Error("the QR code image did not load")
	}
	b.checkLabels("account-enrol")
	b.shoot("account-enrol")
	b.typeInto("#factor-code", mfa.Code(key, e.mfaNow()))
	b.submit(`form:has(input[name="op"][value="confirm"]) button`)
	p := b.page()
	b.at(p, e.issuer, "/account/mfa")
	if !strings.Contains(p.Notice, "Your authenticator app has been added") || strings.Count(p.Body, "-") < 3*mfa.RecoveryCodeCount {
		t.Fatalf("after confirming: notice %q, body:\n%s", p.Notice, p.Body)
	}

	b.clearCookies()
	b.open(e.btAuthorizeURL(btAppID, "state-mfa"))
	b.signIn(e.user.Username, e.user.Password)
	p = b.page()
	if b.at(p, e.issuer, "/login/factor"); p.H1 != "Enter your code" {
		t.Fatalf("after the password: %q at %s, want the code page", p.H1, p.URL)
	}
	b.checkLabels("factor")
	b.shoot("factor")
	b.do("type a wrong code", chromedp.SendKeys(chromedp.CSS("#code"), "000000"))
	b.submit(`form.form button[type="submit"]`)
	if p := b.page(); !strings.Contains(p.Alert, "not valid") {
		t.Fatalf("wrong code: alert %q, want the invalid code message", p.Alert)
	}
	e.mfaOffset.Add(int64(mfa.Period))
	b.typeInto("#code", mfa.Code(key, e.mfaNow()))
	b.submit(`form.form button[type="submit"]`)
	q := b.at(b.page(), e.rp.srv.URL, btAppCallback)
	if q.Get("code") == "" || q.Get("state") != "state-mfa" {
		t.Fatalf("app received %v, want a code and state=state-mfa", q)
	}
}
