package storetest

import (
	"testing"

	"github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/user"
)

// runSubject checks that the subject a backend writes into a queued
// back-channel logout, which SQL computes when a session ends (outside
// internal/oidc), is oidc.Subject's: the sub of the ID tokens the logout
// token must match (Back-Channel Logout 1.0 §2.6).
func runSubject(t *testing.T, open Opener) {
	t.Run("a queued logout's subject is oidc.Subject of its user and client", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		cookie, sid := e.signIn(u)
		e.mustRedeem(c, u, sid)
		if err := e.Store.RevokeSession(e.ctx, cookie); err != nil {
			t.Fatal(err)
		}
		got := e.claimAll()
		if len(got) != 1 {
			t.Fatalf("notices = %v, want one", got)
		}
		if want := oidc.Subject(u.ID, c.ID); got[0].Subject != want {
			t.Errorf("queued subject = %q, oidc.Subject = %q", got[0].Subject, want)
		}
	})
}
