package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/user"
)

const kaiPassword = "needle&ink-77"

// signInDirect signs b in at /login (no client) and requires the redirect to
// /account.
func signInDirect(t *testing.T, b *browser, username, password string) {
	t.Helper()
	p := b.submitLogin(parseLoginForm(t, b.get("/login")), username, password)
	if p.status != http.StatusSeeOther || p.location() != "/account" {
		t.Fatalf("sign in as %s: status %d to %q, error box %q", username, p.status, p.location(), loginError(p))
	}
}

// changePassword posts the account page's password form.
func changePassword(t *testing.T, b *browser, current, next string) *page {
	t.Helper()
	acc := b.get("/account")
	if acc.status != http.StatusOK {
		t.Fatalf("GET /account: status %d to %q, want the page", acc.status, acc.location())
	}
	f := slFormTo(t, acc, "/account/password", "")
	return b.post(f.action, url.Values{"csrf_token": f.fields["csrf_token"],
		"current_password": {current}, "new_password": {next}, "confirm_password": {next}})
}

// TestAccountPassword_GuessingTheCurrentPassword: the current-password check
// on /account/password is a password oracle for whoever holds a session
// cookie. Every failure is audited, the session ends after the free
// failures (and the page says so), and a locked username is answered 429.
func TestAccountPassword_GuessingTheCurrentPassword(t *testing.T) {
	e := newEnv(t, envOptions{throttle: lockForAnHour})
	// A created user, hashed at the test cost: the rule does not depend on
	// the format, and each guess at the fixture's kai (pbkdf2, a million
	// iterations) cost seconds under -race.
	kai := e.slNewUser(t, "kai.guessed", kaiPassword, nil)
	free := user.DefaultThrottlePolicy().FreeFailuresPerUsername

	t.Run("the session ends after the free failures, and each failure is audited", func(t *testing.T) {
		b := e.newBrowser(t)
		signInDirect(t, b, kai.username, kaiPassword)
		for i := 1; i <= 25; i++ {
			p := changePassword(t, b, "guess-"+strconv.Itoa(i), "a-brand-new-pass-1")
			if i < free {
				if p.status != http.StatusBadRequest || loginError(p) != "Your current password is not correct." {
					t.Fatalf("guess %d: status %d, error box %q, want 400 and the wrong-password message", i, p.status, loginError(p))
				}
				continue
			}
			if p.status != http.StatusUnauthorized || !strings.Contains(loginError(p), "signed out") {
				t.Fatalf("guess %d: status %d, error box %q, want 401 saying the session was signed out", i, p.status, loginError(p))
			}
			parseLoginForm(t, p) // the page is the sign-in form
			break
		}
		if p := b.get("/account"); p.status != http.StatusSeeOther || p.location() != "/login" {
			t.Errorf("GET /account after the sign-out: status %d to %q, want 303 to /login", p.status, p.location())
		}
		if n := passwordChecks(e, t, kai.id, audit.PasswordCheckFailed); n != free {
			t.Errorf("%d password_check_failed events, want %d", n, free)
		}
		// The password was never changed.
		signInDirect(t, e.newBrowser(t), kai.username, kaiPassword)
	})

	t.Run("a locked username is answered 429 with Retry-After", func(t *testing.T) {
		b := e.newBrowser(t)
		signInDirect(t, b, kai.username, kaiPassword)
		attacker := e.newBrowser(t)
		form := parseLoginForm(t, attacker.get("/login"))
		for range free + 1 {
			attacker.submitLogin(form, kai.username, "not-it")
		}
		before := passwordChecks(e, t, kai.id, audit.PasswordCheckFailed)
		p := changePassword(t, b, kaiPassword, "a-brand-new-pass-1")
		if p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") == "" {
			t.Errorf("status %d, Retry-After %q, want 429 with Retry-After", p.status, p.header.Get("Retry-After"))
		}
		if n := passwordChecks(e, t, kai.id, audit.PasswordCheckFailed); n != before {
			t.Errorf("a refused check was audited as evaluated (%d events, want %d)", n, before)
		}
	})
}

// TestAccountMFA_GuessingThePasswordToRemoveTheLastFactor: removing the last
// second factor checks the password as a password change does, so it is no
// gentler an oracle: after the free failures the session ends and the
// sign-in page says why.
func TestAccountMFA_GuessingThePasswordToRemoveTheLastFactor(t *testing.T) {
	e := newEnv(t, envOptions{throttle: lockForAnHour})
	kai := e.slNewUser(t, "kai.factor", kaiPassword, nil)
	free := user.DefaultThrottlePolicy().FreeFailuresPerUsername
	b := e.newBrowser(t)
	signInDirect(t, b, kai.username, kaiPassword)
	enrolOnAccount(b)
	acct := b.get("/account")
	fid := factorIDField.FindStringSubmatch(acct.body)[1]
	signedOut := false
	for i := 1; i <= 25 && !signedOut; i++ {
		p := b.post("/account/mfa", url.Values{"csrf_token": {csrfOf(t, acct)}, "op": {"remove"},
			"factor_id": {fid}, "password": {"guess-" + strconv.Itoa(i)}})
		if i < free {
			if p.status != http.StatusBadRequest || loginError(p) != "Your current password is not correct." {
				t.Fatalf("guess %d: status %d, error box %q, want 400 and the wrong-password message", i, p.status, loginError(p))
			}
			continue
		}
		if p.status != http.StatusUnauthorized || !strings.Contains(loginError(p), "signed out") {
			t.Fatalf("guess %d: status %d to %q, error box %q, want 401 saying the session was signed out", i, p.status, p.location(), loginError(p))
		}
		parseLoginForm(t, p) // the page is the sign-in form
		signedOut = true
	}
	if !signedOut {
		t.Fatal("25 wrong passwords never ended the session")
	}
	if p := b.get("/account"); p.status != http.StatusSeeOther || p.location() != "/login" {
		t.Errorf("GET /account after the sign-out: status %d to %q, want 303 to /login", p.status, p.location())
	}
	if n := passwordChecks(e, t, kai.id, audit.PasswordCheckFailed); n != free {
		t.Errorf("%d password_check_failed events, want %d", n, free)
	}
}
