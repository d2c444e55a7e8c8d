package user_test

import (
	"context"
	"errors"
	"testing"

	"github.com/inkpass/inkpass/internal/user"
)

// TestService_VerifyPasswordThenCompleteLogin: the password step and the end
// of a login are two calls, so that a second factor can sit between them.
// Until CompleteLogin the login has left no trace of success (no last_login,
// no login_succeeded, the charge still on the username's counter) and the
// username's one in-flight slot stays taken; CompleteLogin does what
// Authenticate did at its end.
func TestService_VerifyPasswordThenCompleteLogin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("a verified password is not yet a login", func(t *testing.T) {
		t.Parallel()
		e := throttleEnv(t, testThrottle)
		// The same database as the audit log, to see which events each
		// call writes.
		e.svc = user.NewService(e.db, e.hasher, e.db, user.Options{Throttle: testThrottle, Now: e.clock.Now, Audit: e.db})
		pl, err := e.svc.VerifyPassword(ctx, "Mira", miraPassword, "192.0.2.40")
		if err != nil {
			t.Fatalf("VerifyPassword: %v", err)
		}
		if pl.User == nil || pl.User.Username != "mira" {
			t.Fatalf("VerifyPassword user = %+v, want mira", pl.User)
		}
		if got := e.raw(t, `SELECT quote(last_login) FROM users WHERE username = 'mira'`); got != "NULL" {
			t.Errorf("last_login = %s after VerifyPassword alone, want NULL", got)
		}
		if n := e.raw(t, `SELECT count(*) FROM inkpass_audit WHERE kind = 'login_succeeded'`); n != "0" {
			t.Errorf("%s login_succeeded events after VerifyPassword alone, want 0", n)
		}
		if n := e.raw(t, `SELECT failures FROM inkpass_login_throttle WHERE scope = 'username' AND key = 'mira'`); n != "1" {
			t.Errorf("username counter = %s while the login is pending, want 1 (charged before hashing)", n)
		}
		// One in-flight attempt per username: the pending login holds it.
		_, err = e.svc.VerifyPassword(ctx, "mira", miraPassword, "192.0.2.41")
		var te *user.ThrottledError
		if !errors.As(err, &te) || !te.Concurrent {
			t.Errorf("second VerifyPassword while one is pending = %v, want a concurrent *ThrottledError", err)
		}

		u, err := e.svc.CompleteLogin(ctx, pl)
		if err != nil {
			t.Fatalf("CompleteLogin: %v", err)
		}
		if u.LastLogin == nil || !u.LastLogin.Equal(e.clock.Now()) {
			t.Errorf("LastLogin = %v, want %v", u.LastLogin, e.clock.Now())
		}
		if n := e.raw(t, `SELECT count(*) FROM inkpass_audit WHERE kind = 'login_succeeded' AND username = 'mira'`); n != "1" {
			t.Errorf("%s login_succeeded events after CompleteLogin, want 1", n)
		}
		if n := e.raw(t, `SELECT count(*) FROM inkpass_login_throttle WHERE scope = 'username' AND key = 'mira'`); n != "0" {
			t.Errorf("%s username throttle rows after CompleteLogin, want 0", n)
		}
		if _, err := e.svc.CompleteLogin(ctx, pl); !errors.Is(err, user.ErrLoginEnded) {
			t.Errorf("CompleteLogin again = %v, want ErrLoginEnded", err)
		}
		// The slot is free again.
		if _, err := e.svc.Authenticate(ctx, "mira", miraPassword, "192.0.2.41"); err != nil {
			t.Errorf("Authenticate after CompleteLogin: %v", err)
		}
	})

	t.Run("an abandoned login takes its charges back and frees the slot", func(t *testing.T) {
		t.Parallel()
		e := throttleEnv(t, testThrottle)
		e.failN(t, "mira", "192.0.2.50", 2)
		pl, err := e.svc.VerifyPassword(ctx, "mira", miraPassword, "192.0.2.50")
		if err != nil {
			t.Fatalf("VerifyPassword: %v", err)
		}
		if err := e.svc.AbandonLogin(ctx, pl); err != nil {
			t.Fatalf("AbandonLogin: %v", err)
		}
		if n := e.raw(t, `SELECT failures FROM inkpass_login_throttle WHERE scope = 'username' AND key = 'mira'`); n != "2" {
			t.Errorf("username counter = %s after an abandoned login, want the 2 earlier failures", n)
		}
		if got := e.raw(t, `SELECT quote(last_login) FROM users WHERE username = 'mira'`); got != "NULL" {
			t.Errorf("last_login = %s after an abandoned login, want NULL", got)
		}
		if _, err := e.svc.CompleteLogin(ctx, pl); !errors.Is(err, user.ErrLoginEnded) {
			t.Errorf("CompleteLogin after AbandonLogin = %v, want ErrLoginEnded", err)
		}
		if _, err := e.svc.Authenticate(ctx, "mira", miraPassword, "192.0.2.50"); err != nil {
			t.Errorf("Authenticate after AbandonLogin: %v", err)
		}
	})

	t.Run("PasswordVerified settles the password step but audits no sign-in", func(t *testing.T) {
		t.Parallel()
		e := throttleEnv(t, testThrottle)
		e.svc = user.NewService(e.db, e.hasher, e.db, user.Options{Throttle: testThrottle, Now: e.clock.Now, Audit: e.db})
		e.failN(t, "mira", "192.0.2.60", 2)
		pl, err := e.svc.VerifyPassword(ctx, "mira", miraPassword, "192.0.2.60")
		if err != nil {
			t.Fatalf("VerifyPassword: %v", err)
		}
		u, err := e.svc.PasswordVerified(ctx, pl)
		if err != nil {
			t.Fatalf("PasswordVerified: %v", err)
		}
		if u.LastLogin == nil || !u.LastLogin.Equal(e.clock.Now()) {
			t.Errorf("LastLogin = %v, want %v", u.LastLogin, e.clock.Now())
		}
		if n := e.raw(t, `SELECT count(*) FROM inkpass_audit WHERE kind = 'login_succeeded'`); n != "0" {
			t.Errorf("%s login_succeeded events after PasswordVerified, want 0: the second factor is still to come", n)
		}
		if n := e.raw(t, `SELECT count(*) FROM inkpass_login_throttle WHERE scope = 'username' AND key = 'mira'`); n != "0" {
			t.Errorf("%s username throttle rows after PasswordVerified, want 0 (the password was right)", n)
		}
		if _, err := e.svc.CompleteLogin(ctx, pl); !errors.Is(err, user.ErrLoginEnded) {
			t.Errorf("CompleteLogin after PasswordVerified = %v, want ErrLoginEnded", err)
		}
		// The slot is free: the pending login does not outlive its request.
		if _, err := e.svc.VerifyPassword(ctx, "mira", "not-the-password", "192.0.2.61"); err != user.ErrInvalidCredentials {
			t.Errorf("VerifyPassword after PasswordVerified = %v, want ErrInvalidCredentials (not a concurrent refusal)", err)
		}
	})

	t.Run("a wrong password ends at VerifyPassword with ErrInvalidCredentials", func(t *testing.T) {
		t.Parallel()
		e := throttleEnv(t, testThrottle)
		if pl, err := e.svc.VerifyPassword(ctx, "mira", "not-the-password", ""); pl != nil || err != user.ErrInvalidCredentials {
			t.Fatalf("VerifyPassword(wrong) = %v, %v; want nil, ErrInvalidCredentials", pl, err)
		}
		if n := e.raw(t, `SELECT failures FROM inkpass_login_throttle WHERE scope = 'username' AND key = 'mira'`); n != "1" {
			t.Errorf("username counter = %s after a wrong password, want 1", n)
		}
	})
}
