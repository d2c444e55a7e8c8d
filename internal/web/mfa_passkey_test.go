package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/mfa"
	"github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
)

// TestMFAPasskeyFailures: over HTTP, with passkeys on, a bad answer to a
// passkey ceremony adds nothing on /account and signs nobody in at the
// second factor (401, no code, audited), while the code form on the same
// page still works; the passkey is listed on /account as a passkey.
func TestMFAPasskeyFailures(t *testing.T) {
	e := harness.NewServer(t, harness.Options{PasskeyOrigin: "https://id.studio.example"})
	b := e.NewBrowser(t)
	accountLogin(b, "luna_artist", "artist_password")
	key, _ := enrolOnAccount(b)

	acct := b.Get("/account")
	if !strings.Contains(acct.Body, `value="passkey-begin"`) {
		t.Fatalf("the account page does not offer a passkey:\n%s", acct.Body)
	}
	begin := b.Post("/account/mfa", url.Values{"csrf_token": {csrfOf(t, acct)}, "op": {"passkey-begin"}})
	if begin.Status != http.StatusOK || !strings.Contains(begin.Body, "data-webauthn-create=") ||
		!strings.Contains(begin.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("passkey-begin: status %d CSP %q:\n%s", begin.Status, begin.Header.Get("Content-Security-Policy"), begin.Body)
	}
	for _, answer := range []string{`{"id":"AAAA","type":"public-key"}`, "not json"} {
		fin := b.Post("/account/mfa", url.Values{"csrf_token": {csrfOf(t, begin)}, "op": {"passkey-finish"}, "name": {"Bad"}, "credential": {answer}})
		if fin.Status != http.StatusBadRequest || !strings.Contains(fin.Body, "could not be added") {
			t.Errorf("passkey-finish %q: status %d, want 400 and the message", answer, fin.Status)
		}
	}

	u, err := e.DB.UserByUsername(t.Context(), "luna_artist")
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := json.Marshal(webauthn.Credential{ID: []byte("credential-1"), PublicKey: []byte{0xa0}})
	if _, err := e.DB.CreatePasskey(t.Context(), mfa.Factor{UserID: u.ID, Kind: mfa.KindWebAuthn, Name: "Blue key", CreatedAt: e.Clock.Now()}, rec); err != nil {
		t.Fatal(err)
	}
	if fs, _ := e.DB.Factors(t.Context(), u.ID); len(fs) != 2 {
		t.Fatalf("factors = %+v, want the app and the one passkey (no failed enrolment stored)", fs)
	}
	if acct := b.Get("/account"); !strings.Contains(acct.Body, "Blue key") || !strings.Contains(acct.Body, "Passkey · added") {
		t.Errorf("the account page does not list the passkey")
	}

	rp := e.AppRP(t, "openid")
	nb := e.NewBrowser(t)
	f := rp.Start(true)
	_, form := nb.ToLoginPage(f.URL)
	fp := wantFactorPage(nb, nb.SubmitLogin(form, "luna_artist", "artist_password"), rp.Conf.RedirectURL)
	if !strings.Contains(fp.Body, "data-webauthn-get=") || !strings.Contains(fp.Body, `name="code"`) {
		t.Fatalf("the factor page does not offer both the passkey and the code:\n%s", fp.Body)
	}
	action := factorAction(t, fp)
	bad := submitCode(nb, fp, action, url.Values{"passkey": {`{"id":"Y3JlZGVudGlhbC0x","rawId":"Y3JlZGVudGlhbC0x","type":"public-key","response":{}}`}})
	if bad.Status != http.StatusUnauthorized || !strings.Contains(bad.Body, "passkey could not be verified") || bad.Location() != "" {
		t.Fatalf("bad passkey: status %d Location %q, want 401 and the message:\n%s", bad.Status, bad.Location(), bad.Body)
	}
	events, err := e.DB.AuditEvents(t.Context(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, ev := range events {
		if ev.Kind == audit.MFAFailed && ev.UserID == u.ID {
			failed++
		}
	}
	// The first bad enrolment and the sign-in (the second enrolment answer
	// finds its ceremony used up, before any check).
	if failed != 2 {
		t.Errorf("%d mfa_failed audit events, want 2: the enrolment and the sign-in", failed)
	}
	e.Clock.Advance(mfa.Period)
	s := f.Redeem(t, nb.Callback(f, submitCode(nb, bad, action, url.Values{"code": {mfa.Code(key, e.Clock.Now())}})).Get("code"))
	wantMFAClaims(t, s, []string{"pwd", "otp", "mfa"}, oidc.ACRMFA)
}
