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
)

// udExec runs one statement on the env's database file through a separate
// connection, the way the studio's Python app writes the shared users table.
func udExec(e *env, t *testing.T, q string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+e.db.Path()+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// udSignedOut reports whether b's session is gone: /account sends it to sign in.
func udSignedOut(t *testing.T, b *browser) bool {
	t.Helper()
	p := b.get("/account")
	switch {
	case p.status == http.StatusOK:
		return false
	case p.status == http.StatusSeeOther && p.location() == "/login":
		return true
	}
	t.Fatalf("GET /account: status %d to %q, want 200 or 303 to /login", p.status, p.location())
	return false
}

// TestOddUserValues_SignInStillWorks: one value the studio's app wrote that
// does not fit its column used to make every login of that user a 500. Now
// the user signs in through /authorize and the claims simply lack it.
func TestOddUserValues_SignInStillWorks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	app := e.appRP(t, "openid", "profile")
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
			acct := e.slNewUser(t, "ud.odd"+string(rune('a'+i)), "ud-odd-pass-1", nil)
			udExec(e, t, `UPDATE users SET `+tc.set+` WHERE id = ?`, acct.id)
			f := app.start(true)
			s := f.redeem(t, e.newBrowser(t).signIn(f, acct.username, acct.password).Get("code"))
			if s.claims["sub"] != acct.sub || s.claims["preferred_username"] != acct.username {
				t.Errorf("claims %v, want sub %s and preferred_username %s", s.claims, acct.sub, acct.username)
			}
			want := "1990-04-12" // slNewUser's birthdate, unless the case spoils it
			if strings.HasPrefix(tc.set, "birthdate") {
				want = ""
			}
			if got, _ := s.claims["birthdate"].(string); got != want {
				t.Errorf("birthdate claim = %q, want %q", got, want)
			}
			info := e.wantUserinfoOK(t, s.token.AccessToken)
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
			acct := e.slNewUser(t, "ud.refused"+string(rune('a'+i)), "ud-refused-pass-1", nil)
			udExec(e, t, `UPDATE users SET `+tc.set+` WHERE id = ?`, acct.id)
			b := e.newBrowser(t)
			f := app.start(true)
			_, form := b.toLoginPage(f.url)
			p := b.submitLogin(form, acct.username, acct.password)
			if p.status != http.StatusUnauthorized || loginError(p) != msgBadCredentials {
				t.Errorf("status %d, error box %q; want 401 %q", p.status, loginError(p), msgBadCredentials)
			}
			events, err := e.db.AuditEvents(t.Context(), audit.Filter{UserID: acct.id, Kind: audit.LoginFailed})
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 || events[0].Detail != tc.reason {
				t.Errorf("login_failed events %+v, want one with detail %q", events, tc.reason)
			}
		})
	}

	t.Run("a username stored with surrounding spaces signs in as typed without them", func(t *testing.T) {
		acct := e.slNewUser(t, "ud.spaced", "ud-spaced-pass-1", nil)
		udExec(e, t, `UPDATE users SET username = ' ud.spaced ' WHERE id = ?`, acct.id)
		for _, typed := range []string{"ud.spaced", "  ud.spaced", "UD.Spaced"} {
			f := app.start(true)
			s := f.redeem(t, e.newBrowser(t).signIn(f, typed, acct.password).Get("code"))
			if s.claims["sub"] != acct.sub {
				t.Errorf("signed in as %q: sub %v, want %s", typed, s.claims["sub"], acct.sub)
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
	e := newEnv(t, envOptions{})
	app := e.appRP(t, "openid", "profile", "offline_access")
	paths := []struct {
		name string
		hit  func(t *testing.T, b *browser, s *signedIn, acct slAccount)
	}{
		{"the session lookup (GET /account)", func(t *testing.T, b *browser, _ *signedIn, _ slAccount) {
			if !udSignedOut(t, b) {
				t.Error("an inactive user's session still opens /account")
			}
		}},
		{"a token refresh", func(t *testing.T, _ *browser, s *signedIn, _ slAccount) {
			_, err := app.refresh(t, s.token.RefreshToken)
			wantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		}},
		{"userinfo", func(t *testing.T, _ *browser, s *signedIn, _ slAccount) {
			e.wantInvalidToken(t, s.token.AccessToken)
		}},
		{"a login with the right password", func(t *testing.T, _ *browser, _ *signedIn, acct slAccount) {
			other := e.newBrowser(t)
			p := other.submitLogin(parseLoginForm(t, other.get("/login")), acct.username, acct.password)
			if p.status != http.StatusUnauthorized {
				t.Errorf("login of an inactive user: status %d, want 401", p.status)
			}
		}},
	}
	for i, path := range paths {
		t.Run("seen by "+path.name+", the old session and refresh token stay dead after re-activation", func(t *testing.T) {
			acct := e.slNewUser(t, "ud.gone"+string(rune('a'+i)), "ud-gone-pass-1", nil)
			b := e.newBrowser(t)
			f := app.start(true)
			s := f.redeem(t, b.signIn(f, acct.username, acct.password).Get("code"))
			if s.token.RefreshToken == "" {
				t.Fatal("no refresh token")
			}
			udExec(e, t, `UPDATE users SET is_active = 0 WHERE id = ?`, acct.id)
			path.hit(t, b, s, acct)
			udExec(e, t, `UPDATE users SET is_active = 1 WHERE id = ?`, acct.id)

			_, err := app.refresh(t, s.token.RefreshToken)
			wantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
			e.wantInvalidToken(t, s.token.AccessToken)
			if !udSignedOut(t, b) {
				t.Error("the old browser session is back after re-activation")
			}
			// Re-activation itself works: a fresh sign-in does.
			f = app.start(true)
			f.redeem(t, e.newBrowser(t).signIn(f, acct.username, acct.password).Get("code"))
		})
	}
}

// TestPasswordChange_RevokesEveryAppsTokens: a password change on the
// account page ends every app's refresh tokens and the user's other browser
// sessions; the browser that made the change stays signed in.
func TestPasswordChange_RevokesEveryAppsTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	app := e.appRP(t, "openid", "profile", "offline_access")
	const oldPW, newPW = "ud-change-pass-1", "ud-change-pass-2-new"
	acct := e.slNewUser(t, "ud.change", oldPW, nil)

	here, elsewhere := e.newBrowser(t), e.newBrowser(t)
	f := app.start(true)
	s := f.redeem(t, here.signIn(f, acct.username, oldPW).Get("code"))
	f = app.start(true)
	elsewhere.signIn(f, acct.username, oldPW)

	page := here.get("/account")
	if page.status != http.StatusOK {
		t.Fatalf("GET /account: %d", page.status)
	}
	if !strings.Contains(html.UnescapeString(page.body), "Changing your password signs you out of every app and every other browser") {
		t.Error("the account page does not say what a password change ends")
	}
	form := slFormTo(t, page, "/account/password", "")
	p := here.post(form.action, url.Values{"csrf_token": form.fields["csrf_token"],
		"current_password": {oldPW}, "new_password": {newPW}, "confirm_password": {newPW}})
	if p.status != http.StatusSeeOther || p.location() != "/account?done=password" {
		t.Fatalf("change password: status %d to %q (error box %q)", p.status, p.location(), loginError(p))
	}

	_, err := app.refresh(t, s.token.RefreshToken)
	wantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
	e.wantInvalidToken(t, s.token.AccessToken)
	if udSignedOut(t, here) {
		t.Error("the browser that changed the password was signed out")
	}
	if !udSignedOut(t, elsewhere) {
		t.Error("another browser is still signed in after the password change")
	}
}
