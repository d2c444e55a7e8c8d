package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

// TestDB_SessionAMR: a session keeps the authentication methods it was
// created with; a row written without them (every session before the
// column existed was a password sign-in) reads as ["pwd"]; a method that is
// not an RFC 8176 token is refused.
func TestDB_SessionAMR(t *testing.T) {
	ctx := t.Context()
	db := openFresh(t)
	id, err := db.CreateUser(ctx, &user.User{Username: "amr", PasswordHash: "x", Role: user.RoleAssistant, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	sess := func(sid string, amr ...string) session.Session {
		return session.Session{SID: sid, UserID: id, AuthTime: now, AMR: amr, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	}

	t.Run("the methods come back in order", func(t *testing.T) {
		if err := db.CreateSession(ctx, session.Hash("two-factors"), sess("sid-two", "pwd", "otp")); err != nil {
			t.Fatal(err)
		}
		got, err := db.SessionByTokenHash(ctx, session.Hash("two-factors"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.AMR, []string{"pwd", "otp"}) {
			t.Errorf("AMR = %q, want [pwd otp]", got.AMR)
		}
	})

	t.Run("a row written without amr is a password session", func(t *testing.T) {
		raw := rawDB(t, db.Path())
		if _, err := raw.ExecContext(ctx, `INSERT INTO inkpass_sessions (token_hash, sid, user_id, auth_time, created_at, expires_at)
			VALUES (?, 'sid-old', ?, ?, ?, ?)`, session.Hash("older"), id, now.Unix(), now.Unix(), now.Add(time.Hour).Unix()); err != nil {
			t.Fatal(err)
		}
		got, err := db.SessionByTokenHash(ctx, session.Hash("older"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.AMR, []string{session.MethodPassword}) {
			t.Errorf("AMR = %q, want [pwd]", got.AMR)
		}
	})

	t.Run("a method with a space is refused and nothing is written", func(t *testing.T) {
		if err := db.CreateSession(ctx, session.Hash("bad"), sess("sid-bad", "pwd otp")); err == nil {
			t.Fatal("CreateSession with the method \"pwd otp\" succeeded, want an error")
		}
		if _, err := db.SessionByTokenHash(ctx, session.Hash("bad")); err != session.ErrNotFound {
			t.Errorf("SessionByTokenHash after a refused create = %v, want ErrNotFound", err)
		}
	})
}
