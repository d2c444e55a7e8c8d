package store_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/user"
)

// TestDB_Prune checks that expired rows go and live ones stay.
func TestDB_Prune(t *testing.T) {
	ctx := context.Background()
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "p.db"), store.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	id, err := db.CreateUser(ctx, &user.User{Username: "p", PasswordHash: "x", Role: user.RoleAdmin, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	start := now()
	oldSess := session.Session{SID: "old", UserID: id, AuthTime: start, CreatedAt: start, ExpiresAt: start.Add(time.Hour)}
	liveSess := session.Session{SID: "live", UserID: id, AuthTime: start, CreatedAt: start, ExpiresAt: start.Add(30 * 24 * time.Hour)}
	if err := db.CreateSession(ctx, session.Hash("old"), oldSess); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSession(ctx, session.Hash("live"), liveSess); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Reserve(ctx, start, 15*time.Minute, []user.ThrottleKey{{Scope: user.ScopeUsername, Key: "p", LockFor: func(int) time.Duration { return 0 }}}); err != nil {
		t.Fatal(err)
	}

	offset.Store(int64(10 * 24 * time.Hour))
	got, err := db.Prune(ctx, 30*24*time.Hour, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got.Sessions != 1 || got.Throttle != 1 {
		t.Errorf("Prune = %+v, want the expired session and the stale throttle entry deleted", got)
	}
	if s, err := db.SessionByTokenHash(ctx, session.Hash("live")); err != nil || s.SID != "live" {
		t.Errorf("the live session is gone: %v", err)
	}
	again, err := db.Prune(ctx, 30*24*time.Hour, 15*time.Minute)
	if err != nil || again != (store.PruneResult{}) {
		t.Errorf("second Prune = %+v, %v; want nothing left to delete", again, err)
	}
}
