package user_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/user"
)

// gateHasher is a cheap hasher whose Hash waits at a gate, so a test can
// change the password while a login is upgrading the old one's hash.
// "old:" hashes need a rehash; "new:" hashes are current.
type gateHasher struct {
	hashing chan struct{} // receives when Hash starts
	release chan struct{} // Hash returns once it is closed
}

func (g *gateHasher) Hash(ctx context.Context, plain string) (string, error) {
	g.hashing <- struct{}{}
	<-g.release
	return "new:" + plain, nil
}

func (g *gateHasher) Verify(_ context.Context, plain, encoded string) (bool, error) {
	_, p, _ := strings.Cut(encoded, ":")
	return p == plain, nil
}

func (g *gateHasher) NeedsRehash(encoded string) bool { return strings.HasPrefix(encoded, "old:") }

func (g *gateHasher) VerifyDummy(context.Context, string) {}

// A password changed while a login with the old one is upgrading its hash
// must stay changed: the login fails, and the old password does not come
// back with the upgrade.
func TestService_Authenticate_PasswordChangedWhileHashing(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "inkpass.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	g := &gateHasher{hashing: make(chan struct{}), release: make(chan struct{})}
	svc := user.NewService(db, g, db, user.Options{})
	id, err := db.CreateUser(ctx, &user.User{Username: "stale_login", PasswordHash: "old:first-password", Role: user.RoleAssistant, Active: true})
	if err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := svc.Authenticate(ctx, "stale_login", "first-password", "192.0.2.1")
		done <- err
	}()
	<-g.hashing // the login verified the old password and is upgrading it
	if err := db.SetPasswordHash(ctx, id, "new:second-password"); err != nil {
		t.Fatal(err)
	}
	close(g.release)
	if err := <-done; !errors.Is(err, user.ErrInvalidCredentials) {
		t.Errorf("login with the password changed under it: err = %v, want ErrInvalidCredentials", err)
	}
	u, err := db.UserByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if u.PasswordHash != "new:second-password" {
		t.Errorf("hash after the race = %q, want the changed password's %q", u.PasswordHash, "new:second-password")
	}
	if u.LastLogin != nil {
		t.Errorf("last_login = %v, want none: the login did not complete", u.LastLogin)
	}
}
