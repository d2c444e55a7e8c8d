package web_test

// Tests for the studio's users table as its Python app may leave it (odd
// values, direct deactivation) and for what a password change ends. Helpers
// here are prefixed "ud" so that they cannot collide with the other files of
// this package.

import (
	"database/sql"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
)

// udExec runs one statement on the env's database file through a separate
// connection, the way the studio's Python app writes the shared users table.
func udExec(e *harness.Server, t *testing.T, q string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+e.DB.Path()+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// udSignedOut reports whether b's session is gone: /account sends it to sign in.
func udSignedOut(t *testing.T, b *harness.Browser) bool {
	t.Helper()
	p := b.Get("/account")
	switch {
	case p.Status == http.StatusOK:
		return false
	case p.Status == http.StatusSeeOther && p.Location() == "/login":
		return true
	}
	t.Fatalf("GET /account: status %d to %q, want 200 or 303 to /login", p.Status, p.Location())
	return false
}

// TestOddUserValues_SignInStillWorks: one value the studio's app wrote that
// does not fit its column used to make every login of that user a 500. Now
// the user signs in through /authorize and the claims simply lack it.
func TestOddUserValues_SignInStillWorks(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	app := e.AppRP(t, "openid", "profile")
	for i, tc := range []struct{ name, set string }{
		{"an empty birthdate", `birthdate = ''`},
		{"a birthdate written 01/02/1990", `birthdate = '01/02/1990'`},
		{"a birthdate that is no calendar day", `birthdate = '1990-02-30'`},
		{"a birthdate stored as the number 1990", `birthdate = 1990`},
		{"a birthdate stored as the number 19900102", `birthdate = 19900102`},
		{"created_at 'never'", `created_at = 'never'`},
		{"last_login 'never'", `last_login = 'never'`},
	} {
		t.Run(tc.name+": sign-in succeeds and birthdate is real or absent", func(t *testing.T) {
			acct := e.NewUser(t, "ud.odd"+string(rune('a'+i)), "ud-odd-pass-1", nil)
			udExec(e, t, `UPDATE users SET `+tc.set+` WHERE id = ?`, acct.ID)
			f := app.Start(true)
			s := f.Redeem(t, e.NewBrowser(t).SignIn(f, acct.Username, acct.Password).Get("code"))
			if s.Claims["sub"] != acct.Sub || s.Claims["preferred_username"] != acct.Username {
				t.Errorf("claims %v, want sub %s and preferred_username %s", s.Claims, acct.Sub, acct.Username)
			}
			want := "1990-04-12" // harness.Server.NewUser's birthdate, unless the case spoils it
			if strings.HasPrefix(tc.set, "birthdate") {
				want = ""
			}
			if got, _ := s.Claims["birthdate"].(string); got != want {
				t.Errorf("birthdate claim = %q, want %q", got, want)
			}
			info := e.WantUserinfoOK(t, s.Token.AccessToken)
			if got, _ := info["birthdate"].(string); got != want {
				t.Errorf("userinfo birthdate = %q, want %q", got, want)
			}
		})
	}

	for i, tc := range []struct{ name, set, reason string }{
		{"is_active 'yes'", `is_active = 'yes'`, "account deactivated"},
		{"is_active 2", `is_active = 2`, "account deactivated"},
		{"an empty role", `role = ''`, "role not recognised"},
		{"role 'manager'", `role = 'manager'`, "role not recognised"},
	} {
		t.Run(tc.name+": sign-in is refused like a wrong password, with the reason in the audit trail", func(t *testing.T) {
			acct := e.NewUser(t, "ud.refused"+string(rune('a'+i)), "ud-refused-pass-1", nil)
			udExec(e, t, `UPDATE users SET `+tc.set+` WHERE id = ?`, acct.ID)
			b := e.NewBrowser(t)
			f := app.Start(true)
			_, form := b.ToLoginPage(f.URL)
			p := b.SubmitLogin(form, acct.Username, acct.Password)
			if p.Status != http.StatusUnauthorized || harness.LoginError(p) != msgBadCredentials {
				t.Errorf("status %d, error box %q; want 401 %q", p.Status, harness.LoginError(p), msgBadCredentials)
			}
			events, err := e.DB.AuditEvents(t.Context(), audit.Filter{UserID: acct.ID, Kind: audit.LoginFailed})
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 || events[0].Detail != tc.reason {
				t.Errorf("login_failed events %+v, want one with detail %q", events, tc.reason)
			}
		})
	}

	t.Run("a username stored with surrounding spaces signs in as typed without them", func(t *testing.T) {
		acct := e.NewUser(t, "ud.spaced", "ud-spaced-pass-1", nil)
		udExec(e, t, `UPDATE users SET username = ' ud.spaced ' WHERE id = ?`, acct.ID)
		for _, typed := range []string{"ud.spaced", "  ud.spaced", "UD.Spaced"} {
			f := app.Start(true)
			s := f.Redeem(t, e.NewBrowser(t).SignIn(f, typed, acct.Password).Get("code"))
			if s.Claims["sub"] != acct.Sub {
				t.Errorf("signed in as %q: sub %v, want %s", typed, s.Claims["sub"], acct.Sub)
			}
		}
	})
}

// TestDeactivatedInTheUsersTable_ReactivationStartsClean: the studio's app
// deactivates with is_active = 0 and revokes nothing. Whichever path of
// inkpass sees the inactive user next ends the user's sessions and tokens,
// so that setting is_active = 1 again does not bring them back; the same
// outcome as `inkpass user deactivate`.
func TestDeactivatedInTheUsersTable_ReactivationStartsClean(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	app := e.AppRP(t, "openid", "profile", "offline_access")
	paths := []struct {
		name string
		hit  func(t *testing.T, b *harness.Browser, s *harness.SignedIn, acct harness.Account)
	}{
		{"the session lookup (GET /account)", func(t *testing.T, b *harness.Browser, _ *harness.SignedIn, _ harness.Account) {
			if !udSignedOut(t, b) {
				t.Error("an inactive user's session still opens /account")
			}
		}},
		{"a token refresh", func(t *testing.T, _ *harness.Browser, s *harness.SignedIn, _ harness.Account) {
			_, err := app.Refresh(t, s.Token.RefreshToken)
			harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		}},
		{"userinfo", func(t *testing.T, _ *harness.Browser, s *harness.SignedIn, _ harness.Account) {
			e.WantInvalidToken(t, s.Token.AccessToken)
		}},
		{"a login with the right password", func(t *testing.T, _ *harness.Browser, _ *harness.SignedIn, acct harness.Account) {
			other := e.NewBrowser(t)
			p := other.SubmitLogin(harness.ParseLoginForm(t, other.Get("/login")), acct.Username, acct.Password)
			if p.Status != http.StatusUnauthorized {
				t.Errorf("login of an inactive user: status %d, want 401", p.Status)
			}
		}},
	}
	for i, path := range paths {
		t.Run("seen by "+path.name+", the old session and refresh token stay dead after re-activation", func(t *testing.T) {
			acct := e.NewUser(t, "ud.gone"+string(rune('a'+i)), "ud-gone-pass-1", nil)
			b := e.NewBrowser(t)
			f := app.Start(true)
			s := f.Redeem(t, b.SignIn(f, acct.Username, acct.Password).Get("code"))
			if s.Token.RefreshToken == "" {
				t.Fatal("no refresh token")
			}
			udExec(e, t, `UPDATE users SET is_active = 0 WHERE id = ?`, acct.ID)
			path.hit(t, b, s, acct)
			udExec(e, t, `UPDATE users SET is_active = 1 WHERE id = ?`, acct.ID)

			_, err := app.Refresh(t, s.Token.RefreshToken)
			harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
			e.WantInvalidToken(t, s.Token.AccessToken)
			if !udSignedOut(t, b) {
				t.Error("the old browser session is back after re-activation")
			}
			// Re-activation itself works: a fresh sign-in does.
			f = app.Start(true)
			f.Redeem(t, e.NewBrowser(t).SignIn(f, acct.Username, acct.Password).Get("code"))
		})
	}
}

// TestPasswordChange_RevokesEveryAppsTokens: a password change on the
// account page ends every app's refresh tokens and the user's other browser
// sessions; the browser that made the change stays signed in.
func TestPasswordChange_RevokesEveryAppsTokens(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	app := e.AppRP(t, "openid", "profile", "offline_access")
	const oldPW, newPW = "ud-change-pass-1", "ud-change-pass-2-new"
	acct := e.NewUser(t, "ud.change", oldPW, nil)

	here, elsewhere := e.NewBrowser(t), e.NewBrowser(t)
	f := app.Start(true)
	s := f.Redeem(t, here.SignIn(f, acct.Username, oldPW).Get("code"))
	f = app.Start(true)
	elsewhere.SignIn(f, acct.Username, oldPW)

	page := here.Get("/account")
	if page.Status != http.StatusOK {
		t.Fatalf("GET /account: %d", page.Status)
	}
	if !strings.Contains(html.UnescapeString(page.Body), "Changing your password signs you out of every app and every other browser") {
		t.Error("the account page does not say what a password change ends")
	}
	form := harness.FormTo(t, page, "/account/password", "")
	p := here.Post(form.Action, url.Values{"csrf_token": form.Fields["csrf_token"],
		"current_password": {oldPW}, "new_password": {newPW}, "confirm_password": {newPW}})
	if p.Status != http.StatusSeeOther || p.Location() != "/account?done=password" {
		t.Fatalf("change password: status %d to %q (error box %q)", p.Status, p.Location(), harness.LoginError(p))
	}

	_, err := app.Refresh(t, s.Token.RefreshToken)
	harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
	e.WantInvalidToken(t, s.Token.AccessToken)
	if udSignedOut(t, here) {
		t.Error("the browser that changed the password was signed out")
	}
	if !udSignedOut(t, elsewhere) {
		t.Error("another browser is still signed in after the password change")
	}
}
