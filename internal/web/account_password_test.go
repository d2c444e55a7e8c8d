package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
	"github.com/inkpass/inkpass/internal/user"
)

const kaiPassword = "needle&ink-77"

// signInDirect signs b in at /login (no client) and requires the redirect to
// /account.
func signInDirect(t *testing.T, b *harness.Browser, username, password string) {
	t.Helper()
	p := b.SubmitLogin(harness.ParseLoginForm(t, b.Get("/login")), username, password)
	if p.Status != http.StatusSeeOther || p.Location() != "/account" {
		t.Fatalf("sign in as %s: status %d to %q, error box %q", username, p.Status, p.Location(), harness.LoginError(p))
	}
}

// changePassword posts the account page's password form.
func changePassword(t *testing.T, b *harness.Browser, current, next string) *harness.Page {
	t.Helper()
	acc := b.Get("/account")
	if acc.Status != http.StatusOK {
		t.Fatalf("GET /account: status %d to %q, want the page", acc.Status, acc.Location())
	}
	f := harness.FormTo(t, acc, "/account/password", "")
	return b.Post(f.Action, url.Values{"csrf_token": f.Fields["csrf_token"],
		"current_password": {current}, "new_password": {next}, "confirm_password": {next}})
}

// TestAccountPassword_GuessingTheCurrentPassword: the current-password check
// on /account/password is a password oracle for whoever holds a session
// cookie. Every failure is audited, the session ends after the free
// failures (and the page says so), and a locked username is answered 429.
func TestAccountPassword_GuessingTheCurrentPassword(t *testing.T) {
	e := harness.NewServer(t, harness.Options{Throttle: lockForAnHour})
	// A created user, hashed at the test cost: the rule does not depend on
	// the format, and each guess at the fixture's kai (pbkdf2, a million
	// iterations) cost seconds under -race.
	kai := e.NewUser(t, "kai.guessed", kaiPassword, nil)
	free := user.DefaultThrottlePolicy().FreeFailuresPerUsername

	t.Run("the session ends after the free failures, and each failure is audited", func(t *testing.T) {
		b := e.NewBrowser(t)
		signInDirect(t, b, kai.Username, kaiPassword)
		for i := 1; i <= 25; i++ {
			p := changePassword(t, b, "guess-"+strconv.Itoa(i), "a-brand-new-pass-1")
			if i < free {
				if p.Status != http.StatusBadRequest || harness.LoginError(p) != "Your current password is not correct." {
					t.Fatalf("guess %d: status %d, error box %q, want 400 and the wrong-password message", i, p.Status, harness.LoginError(p))
				}
				continue
			}
			if p.Status != http.StatusUnauthorized || !strings.Contains(harness.LoginError(p), "signed out") {
				t.Fatalf("guess %d: status %d, error box %q, want 401 saying the session was signed out", i, p.Status, harness.LoginError(p))
			}
			harness.ParseLoginForm(t, p) // the page is the sign-in form
			break
		}
		if p := b.Get("/account"); p.Status != http.StatusSeeOther || p.Location() != "/login" {
			t.Errorf("GET /account after the sign-out: status %d to %q, want 303 to /login", p.Status, p.Location())
		}
		if n := passwordChecks(e, t, kai.ID, audit.PasswordCheckFailed); n != free {
			t.Errorf("%d password_check_failed events, want %d", n, free)
		}
		// The password was never changed.
		signInDirect(t, e.NewBrowser(t), kai.Username, kaiPassword)
	})

	t.Run("a locked username is answered 429 with Retry-After", func(t *testing.T) {
		b := e.NewBrowser(t)
		signInDirect(t, b, kai.Username, kaiPassword)
		attacker := e.NewBrowser(t)
		form := harness.ParseLoginForm(t, attacker.Get("/login"))
		for range free + 1 {
			attacker.SubmitLogin(form, kai.Username, "not-it")
		}
		before := passwordChecks(e, t, kai.ID, audit.PasswordCheckFailed)
		p := changePassword(t, b, kaiPassword, "a-brand-new-pass-1")
		if p.Status != http.StatusTooManyRequests || p.Header.Get("Retry-After") == "" {
			t.Errorf("status %d, Retry-After %q, want 429 with Retry-After", p.Status, p.Header.Get("Retry-After"))
		}
		if n := passwordChecks(e, t, kai.ID, audit.PasswordCheckFailed); n != before {
			t.Errorf("a refused check was audited as evaluated (%d events, want %d)", n, before)
		}
	})
}

// TestAccountMFA_GuessingThePasswordToRemoveTheLastFactor: removing the last
// second factor checks the password as a password change does, so it is no
// gentler an oracle: after the free failures the session ends and the
// sign-in page says why.
func TestAccountMFA_GuessingThePasswordToRemoveTheLastFactor(t *testing.T) {
	e := harness.NewServer(t, harness.Options{Throttle: lockForAnHour})
	kai := e.NewUser(t, "kai.factor", kaiPassword, nil)
	free := user.DefaultThrottlePolicy().FreeFailuresPerUsername
	b := e.NewBrowser(t)
	signInDirect(t, b, kai.Username, kaiPassword)
	enrolOnAccount(b)
	acct := b.Get("/account")
	fid := factorIDField.FindStringSubmatch(acct.Body)[1]
	signedOut := false
	for i := 1; i <= 25 && !signedOut; i++ {
		p := b.Post("/account/mfa", url.Values{"csrf_token": {csrfOf(t, acct)}, "op": {"remove"},
			"factor_id": {fid}, "password": {"guess-" + strconv.Itoa(i)}})
		if i < free {
			if p.Status != http.StatusBadRequest || harness.LoginError(p) != "Your current password is not correct." {
				t.Fatalf("guess %d: status %d, error box %q, want 400 and the wrong-password message", i, p.Status, harness.LoginError(p))
			}
			continue
		}
		if p.Status != http.StatusUnauthorized || !strings.Contains(harness.LoginError(p), "signed out") {
			t.Fatalf("guess %d: status %d to %q, error box %q, want 401 saying the session was signed out", i, p.Status, p.Location(), harness.LoginError(p))
		}
		harness.ParseLoginForm(t, p) // the page is the sign-in form
		signedOut = true
	}
	if !signedOut {
		t.Fatal("25 wrong passwords never ended the session")
	}
	if p := b.Get("/account"); p.Status != http.StatusSeeOther || p.Location() != "/login" {
		t.Errorf("GET /account after the sign-out: status %d to %q, want 303 to /login", p.Status, p.Location())
	}
	if n := passwordChecks(e, t, kai.ID, audit.PasswordCheckFailed); n != free {
		t.Errorf("%d password_check_failed events, want %d", n, free)
	}
}
