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
)

// TestMFAPasskeyFailures: over HTTP, with passkeys on, a bad answer to a
// passkey ceremony adds nothing on /account and signs nobody in at the
// second factor (401, no code, audited), while the code form on the same
// page still works; the passkey is listed on /account as a passkey.
func TestMFAPasskeyFailures(t *testing.T) {
	e := newEnv(t, envOptions{passkeyOrigin: "https://id.studio.example"})
	b := e.newBrowser(t)
	accountLogin(b, "luna_artist", "artist_password")
	key, _ := enrolOnAccount(b)

	acct := b.get("/account")
	if !strings.Contains(acct.body, `value="passkey-begin"`) {
		t.Fatalf("the account page does not offer a passkey:\n%s", acct.body)
	}
	begin := b.post("/account/mfa", url.Values{"csrf_token": {csrfOf(t, acct)}, "op": {"passkey-begin"}})
	if begin.status != http.StatusOK || !strings.Contains(begin.body, "data-webauthn-create=") ||
		!strings.Contains(begin.header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("passkey-begin: status %d CSP %q:\n%s", begin.status, begin.header.Get("Content-Security-Policy"), begin.body)
	}
	for _, answer := range []string{`{"id":"AAAA","type":"public-key"}`, "not json"} {
		fin := b.post("/account/mfa", url.Values{"csrf_token": {csrfOf(t, begin)}, "op": {"passkey-finish"}, "name": {"Bad"}, "credential": {answer}})
		if fin.status != http.StatusBadRequest || !strings.Contains(fin.body, "could not be added") {
			t.Errorf("passkey-finish %q: status %d, want 400 and the message", answer, fin.status)
		}
	}

	u, err := e.db.UserByUsername(t.Context(), "luna_artist")
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := json.Marshal(webauthn.Credential{ID: []byte("credential-1"), PublicKey: []byte{0xa0}})
	if _, err := e.db.CreatePasskey(t.Context(), mfa.Factor{UserID: u.ID, Kind: mfa.KindWebAuthn, Name: "Blue key", CreatedAt: e.clock.Now()}, rec); err != nil {
		t.Fatal(err)
	}
	if fs, _ := e.db.Factors(t.Context(), u.ID); len(fs) != 2 {
		t.Fatalf("factors = %+v, want the app and the one passkey (no failed enrolment stored)", fs)
	}
	if acct := b.get("/account"); !strings.Contains(acct.body, "Blue key") || !strings.Contains(acct.body, "Passkey · added") {
		t.Errorf("the account page does not list the passkey")
	}

	rp := e.appRP(t, "openid")
	nb := e.newBrowser(t)
	f := rp.start(true)
	_, form := nb.toLoginPage(f.url)
	fp := wantFactorPage(nb, nb.submitLogin(form, "luna_artist", "artist_password"), rp.conf.RedirectURL)
	if !strings.Contains(fp.body, "data-webauthn-get=") || !strings.Contains(fp.body, `name="code"`) {
		t.Fatalf("the factor page does not offer both the passkey and the code:\n%s", fp.body)
	}
	action := factorAction(t, fp)
	bad := submitCode(nb, fp, action, url.Values{"passkey": {`{"id":"Y3JlZGVudGlhbC0x","rawId":"Y3JlZGVudGlhbC0x","type":"public-key","response":{}}`}})
	if bad.status != http.StatusUnauthorized || !strings.Contains(bad.body, "passkey could not be verified") || bad.location() != "" {
		t.Fatalf("bad passkey: status %d Location %q, want 401 and the message:\n%s", bad.status, bad.location(), bad.body)
	}
	events, err := e.db.AuditEvents(t.Context(), audit.Filter{})
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
	e.clock.Advance(mfa.Period)
	s := f.redeem(t, nb.callback(f, submitCode(nb, bad, action, url.Values{"code": {mfa.Code(key, e.clock.Now())}})).Get("code"))
	wantMFAClaims(t, s, []string{"pwd", "otp", "mfa"}, oidc.ACRMFA)
}
