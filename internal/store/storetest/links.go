package storetest

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/user"
	"github.com/inkpass/inkpass/internal/userlink"
)

// issueLink stores a link of purpose for u, valid for ttl, and returns its
// hash (the suite never needs the token).
func (e *env) issueLink(u *user.User, p userlink.Purpose, ttl time.Duration) []byte {
	e.t.Helper()
	var b [32]byte
	rand.Read(b[:])
	sum := sha256.Sum256(b[:])
	now := e.clock.Now()
	if _, err := e.Links.IssueLink(e.ctx, userlink.Link{UserID: u.ID, Purpose: p, Hash: sum[:], CreatedAt: now, ExpiresAt: now.Add(ttl), IssuedBy: "storetest"}); err != nil {
		e.t.Fatalf("IssueLink(%s): %v", p, err)
	}
	return sum[:]
}

func (e *env) linkLive(hash []byte) bool {
	e.t.Helper()
	_, _, err := e.Links.LinkUser(e.ctx, hash)
	if err != nil && !errors.Is(err, userlink.ErrInvalid) {
		e.t.Fatalf("LinkUser: %v", err)
	}
	return err == nil
}

// runLinks checks userlink.Store: single use (also under concurrency),
// expiry, supersession, and the links' death with the user's deactivation
// or the change of what they were bound to; a refused use writes nothing.
func runLinks(t *testing.T, open Opener) {
	t.Run("two uses of one link at once: exactly one sets its password", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		h := e.issueLink(u, userlink.Invitation, time.Hour)
		const n = 8
		wins := make(chan string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				hash := fakeHash + string(rune('a'+i))
				_, _, err := e.Links.ConsumePasswordLink(e.ctx, h, hash)
				switch {
				case err == nil:
					wins <- hash
				case !errors.Is(err, userlink.ErrInvalid):
					t.Errorf("use %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		close(wins)
		var won []string
		for w := range wins {
			won = append(won, w)
		}
		if len(won) != 1 {
			t.Fatalf("%d uses succeeded, want 1", len(won))
		}
		if got := e.getUser(u.ID).PasswordHash; got != won[0] {
			t.Errorf("stored hash %q is not the winner's %q", got, won[0])
		}
	})

	// A verification does not change what the link is bound to (the
	// email), so only the conditional UPDATE stands between two uses.
	t.Run("two uses of one verification link at once: exactly one wins", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		if _, err := e.Users.UpdateUser(e.ctx, u.ID, func(row *user.User, _ int) ([]string, error) {
			row.Email = "once@studio.example"
			return []string{"email"}, nil
		}); err != nil {
			t.Fatal(err)
		}
		h := e.issueLink(u, userlink.EmailVerification, time.Hour)
		const n = 8
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for i := range n {
			wg.Go(func() {
				_, err := e.Links.ConsumeEmailLink(e.ctx, h)
				switch {
				case err == nil:
					mu.Lock()
					won++
					mu.Unlock()
				case !errors.Is(err, userlink.ErrInvalid):
					t.Errorf("use %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if won != 1 {
			t.Errorf("%d uses succeeded, want 1", won)
		}
	})

	t.Run("an expired link is refused and writes nothing", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		h := e.issueLink(u, userlink.PasswordReset, time.Hour)
		e.clock.Advance(time.Hour)
		if e.linkLive(h) {
			t.Error("LinkUser accepts a link at its expiry")
		}
		if _, _, err := e.Links.ConsumePasswordLink(e.ctx, h, "new-hash"); !errors.Is(err, userlink.ErrInvalid) {
			t.Errorf("ConsumePasswordLink = %v, want ErrInvalid", err)
		}
		if got := e.getUser(u.ID).PasswordHash; got != fakeHash {
			t.Errorf("a refused use changed the hash to %q", got)
		}
	})

	t.Run("a newer link of the purpose supersedes the older; other purposes stay", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		u.Email = "links@studio.example"
		if _, err := e.Users.UpdateUser(e.ctx, u.ID, func(row *user.User, _ int) ([]string, error) {
			row.Email = u.Email
			return []string{"email"}, nil
		}); err != nil {
			t.Fatal(err)
		}
		old := e.issueLink(u, userlink.PasswordReset, time.Hour)
		verify := e.issueLink(u, userlink.EmailVerification, time.Hour)
		newer := e.issueLink(u, userlink.PasswordReset, time.Hour)
		if e.linkLive(old) || !e.linkLive(newer) || !e.linkLive(verify) {
			t.Errorf("live: old %v newer %v verify %v; want false true true", e.linkLive(old), e.linkLive(newer), e.linkLive(verify))
		}
		if got, err := e.Links.ConsumeEmailLink(e.ctx, verify); err != nil || !got.EmailVerified {
			t.Errorf("ConsumeEmailLink = %+v, %v; want the email verified", got, err)
		}
		if _, err := e.Links.ConsumeEmailLink(e.ctx, newer); !errors.Is(err, userlink.ErrInvalid) {
			t.Errorf("a reset link used as a verification: %v, want ErrInvalid", err)
		}
		if !e.linkLive(newer) {
			t.Error("a refused use of the wrong purpose used the link")
		}
	})

	t.Run("UserByLogin finds by username, or by an email exactly one user has, in any letter case", func(t *testing.T) {
		e := newEnv(t, open)
		withEmail := func(email string) *user.User {
			u := &user.User{Username: unique("login"), PasswordHash: fakeHash, Role: user.RoleAssistant, Active: true, Email: email}
			id, err := e.Users.CreateUser(e.ctx, u)
			if err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
			u.ID = id
			return u
		}
		u := withEmail("Reset.Me@Studio.example")
		if got, err := e.Links.UserByLogin(e.ctx, " reset.me@studio.EXAMPLE "); err != nil || got.ID != u.ID {
			t.Errorf("UserByLogin(email in another case) = %v, %v; want user %d", got, err, u.ID)
		}
		if got, err := e.Links.UserByLogin(e.ctx, u.Username); err != nil || got.ID != u.ID {
			t.Errorf("UserByLogin(username) = %v, %v; want user %d", got, err, u.ID)
		}
		if _, err := e.Links.UserByLogin(e.ctx, "nobody@studio.example"); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("UserByLogin(unknown email) = %v, want user.ErrNotFound", err)
		}
	})

	t.Run("a password change or a deactivation ends the links", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		h := e.issueLink(u, userlink.PasswordReset, time.Hour)
		if err := e.Users.SetPasswordHash(e.ctx, u.ID, fakeHash+"2"); err != nil {
			t.Fatal(err)
		}
		if e.linkLive(h) {
			t.Error("a reset link outlives a password change")
		}
		h = e.issueLink(u, userlink.PasswordReset, time.Hour)
		if err := e.Users.SetUserActive(e.ctx, u.ID, false, nil); err != nil {
			t.Fatal(err)
		}
		if err := e.Users.SetUserActive(e.ctx, u.ID, true, nil); err != nil {
			t.Fatal(err)
		}
		if e.linkLive(h) {
			t.Error("a link outlives a deactivation and reactivation")
		}
		if _, err := e.Links.IssueLink(e.ctx, userlink.Link{UserID: u.ID + 1000, Purpose: userlink.Invitation, Hash: []byte("x"), CreatedAt: e.clock.Now(), ExpiresAt: e.clock.Now().Add(time.Hour), IssuedBy: "storetest"}); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("IssueLink for no user = %v, want user.ErrNotFound", err)
		}
	})
}
