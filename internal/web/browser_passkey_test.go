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
)

// addSecurityKey gives the tab a virtual authenticator (DevTools WebAuthn
// domain): a CTAP2 USB key with resident keys and user verification, whose
// credentials are not backup eligible (a hardware-bound key: amr "hwk").
func addSecurityKey(b *btBrowser) {
	b.t.Helper()
	b.do("add a virtual authenticator", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
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
func waitFor(b *btBrowser, what string, ok func(btPage) bool) btPage {
	b.t.Helper()
	deadline := time.Now().Add(btStepTimeout)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		p, err := chromedp.Run(ctx, chromedp.Evaluate[btPage](`document.readyState === "complete" ? `+btPageJS+` : {url: ""}`))
		cancel()
		if err == nil && p.URL != "" && ok(p) {
			return p
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waiting for %s: the browser is at %s", what, b.location())
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
	e := btNewEnvHost(t, "localhost")
	b := btNewBrowser(t)
	addSecurityKey(b)

	b.open(e.btAuthorizeURL(btAppID, "state-first"))
	b.signIn(e.user.Username, e.user.Password)
	b.at(b.page(), e.rp.srv.URL, btAppCallback)

	b.open(e.issuer + "/account")
	b.submit(`form:has(input[name="op"][value="passkey-begin"]) button`)
	b.checkLabels("account-passkey")
	b.typeInto("#passkey-name", "Passkey on my keyring")
	b.do("create the passkey", chromedp.Click(chromedp.CSS("#passkey-create-button")))
	p := waitFor(b, "the passkey's answer", func(p btPage) bool { return p.Notice != "" || p.Alert != "" })
	if !strings.Contains(p.Notice, "Your passkey has been added") {
		t.Fatalf("after creating the passkey: alert %q notice %q, body:\n%s", p.Alert, p.Notice, p.Body)
	}
	if !strings.Contains(p.Body, "Passkey on my keyring") || !strings.Contains(p.Body, "Passkey · added") {
		t.Errorf("the account page does not list the passkey by name and kind:\n%s", p.Body)
	}

	b.clearCookies()
	b.open(e.btAuthorizeURL(btAppID, "state-passkey"))
	b.signIn(e.user.Username, e.user.Password)
	p = b.page()
	b.at(p, e.issuer, "/login/factor")
	// The code form stays for recovery codes (and browsers without script).
	if n := btRun(b, "count code fields", chromedp.Evaluate[int](`document.querySelectorAll("input#code").length`)); n != 1 {
		t.Errorf("the factor page has %d code fields, want 1", n)
	}
	b.checkLabels("factor-passkey")
	b.do("use the passkey", chromedp.Click(chromedp.CSS("#passkey-button")))
	q := b.at(b.waitAt(e.rp.srv.URL, btAppCallback), e.rp.srv.URL, btAppCallback)
	if q.Get("code") == "" || q.Get("state") != "state-passkey" {
		t.Fatalf("app received %v, want a code and state=state-passkey", q)
	}
	provider, err := gooidc.NewProvider(t.Context(), e.issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	wantClaims := func(code string, amr []string) {
		t.Helper()
		tokens := e.exchange(btAppID, btAppSecret, e.rp.url(btAppCallback), code)
		idt, err := provider.Verifier(&gooidc.Config{ClientID: btAppID}).Verify(t.Context(), tokens.IDToken)
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
	b.clearCookies()
	b.open(e.btAuthorizeURL(btAppID, "state-bypass"))
	b.signIn(e.user.Username, e.user.Password)
	req := b.at(b.page(), e.issuer, "/login/factor").Get("req")
	if req == "" {
		t.Fatal("the factor page has no req")
	}
	b.open(e.issuer + "/consent?req=" + req)
	if hit, _ := e.rp.last(btAppCallback); hit.params.Get("state") == "state-bypass" {
		t.Fatalf("the app got %v after the password alone", hit.params)
	}
	if p := b.page(); strings.HasPrefix(p.URL, e.rp.srv.URL) {
		t.Fatalf("the browser reached the app at %s after the password alone", p.URL)
	}

	// Passwordless: the login page's "Sign in with a passkey", no username;
	// the virtual key verifies its user (UV), so it stands for both factors.
	b.clearCookies()
	b.open(e.btAuthorizeURL(btAppID, "state-passwordless"))
	b.at(b.page(), e.issuer, "/login")
	b.do("sign in with the passkey", chromedp.Click(chromedp.CSS("#passkey-login-button")))
	q = b.at(b.waitAt(e.rp.srv.URL, btAppCallback), e.rp.srv.URL, btAppCallback)
	if q.Get("code") == "" || q.Get("state") != "state-passwordless" {
		t.Fatalf("app received %v, want a code and state=state-passwordless", q)
	}
	wantClaims(q.Get("code"), []string{"hwk", "mfa"})
}
