package user_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/user"
)

// TestService_Authenticate_GivesUpWithItsContext: a login whose context ends
// while it waits for a hashing slot returns the context's error, not
// ErrInvalidCredentials, and counts as no failed attempt, so a busy server
// never locks anyone out.
func TestService_Authenticate_GivesUpWithItsContext(t *testing.T) {
	e := freshEnv(t, envOptions{})
	if _, err := e.svc.Create(context.Background(), user.User{Username: "busy", Role: user.RoleAdmin}, "busy-password-1"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"busy", "nobody"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
			defer cancel()
			_, err := e.svc.Authenticate(ctx, name, "busy-password-1", "192.0.2.7")
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Authenticate with an expired context = %v, want context.DeadlineExceeded", err)
			}
			if until, err := e.db.LockedUntil(context.Background(), user.ScopeUsername, name); err != nil || !until.IsZero() {
				t.Errorf("LockedUntil = %v, %v", until, err)
			}
			if n := e.raw(t, `SELECT count(*) FROM inkpass_login_throttle`); n != "0" {
				t.Errorf("throttle rows = %s, want 0: an abandoned login is not a failed one", n)
			}
		})
	}
}
