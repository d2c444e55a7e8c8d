package web_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdpwebauthn "github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
)

// addSecurityKey gives the tab a virtual authenticator (DevTools WebAuthn
// domain): a CTAP2 USB key with resident keys and user verification, whose
// credentials are not backup eligible (a hardware-bound key: amr "hwk").
func addSecurityKey(b *harness.Chrome) {
	b.T.Helper()
	b.Do("add a virtual authenticator", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, cdpwebauthn.Enable, cdpwebauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, cdpwebauthn.AddVirtualAuthenticator, cdpwebauthn.AddVirtualAuthenticatorParams{
			Options: &cdpwebauthn.VirtualAuthenticatorOptions{
				Protocol: cdpwebauthn.AuthenticatorProtocolCtap2, Transport: cdpwebauthn.AuthenticatorTransportUsb,
				HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
			}})
		return err
	}))
}

// waitFor reads the page until ok says it is the one awaited (a form that
// a script submits navigates when the script is done).
func waitFor(b *harness.Chrome, what string, ok func(harness.ChromePage) bool) harness.ChromePage {
	b.T.Helper()
	deadline := time.Now().Add(harness.ChromeStepTimeout)
	for {
		ctx, cancel := context.WithTimeout(b.Ctx, 2*time.Second)
		p, err := chromedp.Run(ctx, chromedp.Evaluate[harness.ChromePage](`document.readyState === "complete" ? `+harness.ChromePageJS+` : {url: ""}`))
		cancel()
		if err == nil && p.URL != "" && ok(p) {
			return p
		}
		if time.Now().After(deadline) {
			b.T.Fatalf("waiting for %s: the browser is at %s", what, b.Location())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBrowser_Passkey: in headless Chromium with a virtual security key, a
// person adds a passkey on /account (static/webauthn.js runs under the
// page's strict CSP), and the next sign-in offers it at the second factor's
// page next to the code form; the key signs the app in, and a go-oidc
// relying party finds amr [pwd hwk mfa] and acr urn:inkpass:acr:mfa in the
// ID token. Editing the URL to /consent?req= after the password alone
// still gets the app no code. Then "Sign in with a passkey" on the login
// page, with no username or password, signs the app in with amr [hwk mfa]
// (the virtual key verifies its user).
func TestBrowser_Passkey(t *testing.T) {
	t.Parallel()
	e := harness.NewChromeEnvHost(t, "localhost")
	b := harness.NewChrome(t)
	addSecurityKey(b)

	b.Open(e.AuthorizeURL(harness.ChromeAppID, "state-first"))
	b.SignIn(e.User.Username, e.User.Password)
	b.At(b.Page(), e.RP.HTTP.URL, harness.AppCallback)

	b.Open(e.Issuer + "/account")
	b.Submit(`form:has(input[name="op"][value="passkey-begin"]) button`)
	b.CheckLabels("account-passkey")
	b.TypeInto("#passkey-name", "Passkey on my keyring")
	b.Do("create the passkey", chromedp.Click(chromedp.CSS("#passkey-create-button")))
	p := waitFor(b, "the passkey's answer", func(p harness.ChromePage) bool { return p.Notice != "" || p.Alert != "" })
	if !strings.Contains(p.Notice, "Your passkey has been added") {
		t.Fatalf("after creating the passkey: alert %q notice %q, body:\n%s", p.Alert, p.Notice, p.Body)
	}
	if !strings.Contains(p.Body, "Passkey on my keyring") || !strings.Contains(p.Body, "Passkey · added") {
		t.Errorf("the account page does not list the passkey by name and kind:\n%s", p.Body)
	}

	b.ClearCookies()
	b.Open(e.AuthorizeURL(harness.ChromeAppID, "state-passkey"))
	b.SignIn(e.User.Username, e.User.Password)
	p = b.Page()
	b.At(p, e.Issuer, "/login/factor")
	// The code form stays for recovery codes (and browsers without script).
	if n := harness.ChromeRun(b, "count code fields", chromedp.Evaluate[int](`document.querySelectorAll("input#code").length`)); n != 1 {
		t.Errorf("the factor page has %d code fields, want 1", n)
	}
	b.CheckLabels("factor-passkey")
	b.Do("use the passkey", chromedp.Click(chromedp.CSS("#passkey-button")))
	q := b.At(b.WaitAt(e.RP.HTTP.URL, harness.AppCallback), e.RP.HTTP.URL, harness.AppCallback)
	if q.Get("code") == "" || q.Get("state") != "state-passkey" {
		t.Fatalf("app received %v, want a code and state=state-passkey", q)
	}
	provider, err := gooidc.NewProvider(t.Context(), e.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	wantClaims := func(code string, amr []string) {
		t.Helper()
		tokens := e.Exchange(harness.ChromeAppID, harness.ChromeAppSecret, e.RP.URL(harness.AppCallback), code)
		idt, err := provider.Verifier(&gooidc.Config{ClientID: harness.ChromeAppID}).Verify(t.Context(), tokens.IDToken)
		if err != nil {
			t.Fatalf("verify ID token: %v", err)
		}
		var claims struct {
			AMR []string `json:"amr"`
			ACR string   `json:"acr"`
		}
		if err := idt.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(claims.AMR, amr) || claims.ACR != oidc.ACRMFA {
			t.Errorf("ID token amr %v acr %q, want %v and %s", claims.AMR, claims.ACR, amr, oidc.ACRMFA)
		}
	}
	wantClaims(q.Get("code"), []string{"pwd", "hwk", "mfa"})

	// The password alone, then a hand-edited URL past the second factor.
	b.ClearCookies()
	b.Open(e.AuthorizeURL(harness.ChromeAppID, "state-bypass"))
	b.SignIn(e.User.Username, e.User.Password)
	req := b.At(b.Page(), e.Issuer, "/login/factor").Get("req")
	if req == "" {
		t.Fatal("the factor page has no req")
	}
	b.Open(e.Issuer + "/consent?req=" + req)
	if hit, _ := e.RP.Last(harness.AppCallback); hit.Params.Get("state") == "state-bypass" {
		t.Fatalf("the app got %v after the password alone", hit.Params)
	}
	if p := b.Page(); strings.HasPrefix(p.URL, e.RP.HTTP.URL) {
		t.Fatalf("the browser reached the app at %s after the password alone", p.URL)
	}

	// Passwordless: the login page's "Sign in with a passkey", no username;
	// the virtual key verifies its user (UV), so it stands for both factors.
	b.ClearCookies()
	b.Open(e.AuthorizeURL(harness.ChromeAppID, "state-passwordless"))
	b.At(b.Page(), e.Issuer, "/login")
	b.Do("sign in with the passkey", chromedp.Click(chromedp.CSS("#passkey-login-button")))
	q = b.At(b.WaitAt(e.RP.HTTP.URL, harness.AppCallback), e.RP.HTTP.URL, harness.AppCallback)
	if q.Get("code") == "" || q.Get("state") != "state-passwordless" {
		t.Fatalf("app received %v, want a code and state=state-passwordless", q)
	}
	wantClaims(q.Get("code"), []string{"hwk", "mfa"})
}
