package store_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/user"
)

// TestDB_Reserve_IsAtomic: many attempts reserved at once on one key get
// exactly the free ones plus the one that earns the lock; the rest are told
// to wait and are not counted.
func TestDB_Reserve_IsAtomic(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "inkpass.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Unix(1_750_000_000, 0)
	const free = 5
	keys := []user.ThrottleKey{
		{Scope: user.ScopeUsername, Key: "kai", LockFor: func(n int) time.Duration { return user.DefaultThrottlePolicy().LockFor(n, free) }},
		{Scope: user.ScopeAddress, Key: "192.0.2.7", LockFor: func(int) time.Duration { return 0 }},
	}
	const attempts = 40
	var mu sync.Mutex
	var granted []int
	waited := 0
	var wg sync.WaitGroup
	for range attempts {
		wg.Go(func() {
			counts, wait, err := db.Reserve(ctx, now, 15*time.Minute, keys)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Errorf("Reserve: %v", err)
			case wait > 0:
				waited++
			default:
				granted = append(granted, counts[0])
			}
		})
	}
	wg.Wait()
	slices.Sort(granted)
	if want := []int{1, 2, 3, 4, 5, 6}; !slices.Equal(granted, want) {
		t.Errorf("granted counts %v, want %v", granted, want)
	}
	if waited != attempts-free-1 {
		t.Errorf("%d attempts told to wait, want %d", waited, attempts-free-1)
	}
	if until, err := db.LockedUntil(ctx, user.ScopeAddress, "192.0.2.7"); err != nil || !until.IsZero() {
		t.Errorf("address LockedUntil = %v, %v: a refused reservation must charge no key", until, err)
	}

	// Refunding the charge that set the lock lifts it; the attempt after is
	// granted as the 6th again.
	if err := db.Refund(ctx, user.ScopeUsername, "kai", 6); err != nil {
		t.Fatal(err)
	}
	counts, wait, err := db.Reserve(ctx, now, 15*time.Minute, keys)
	if err != nil || wait != 0 || counts[0] != 6 {
		t.Errorf("after a refund Reserve = %v, %v, %v, want [6 …], 0, nil", counts, wait, err)
	}
	// A stale refund (others were charged since) keeps the newer lock.
	if err := db.Refund(ctx, user.ScopeUsername, "kai", 3); err != nil {
		t.Fatal(err)
	}
	if _, wait, _ := db.Reserve(ctx, now, 15*time.Minute, keys); wait <= 0 {
		t.Errorf("after a stale refund Reserve waited %v, want the lock to hold", wait)
	}
}

// TestDB_Reserve_LockLastsItsWholeLength: the tables keep whole seconds, and
// a lock must not end early for it. A 2 s lock earned at x.9 s still holds
// 1.5 s later; cut short to whole seconds it had ended after 1.1 s.
func TestDB_Reserve_LockLastsItsWholeLength(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "inkpass.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	keys := []user.ThrottleKey{{Scope: user.ScopeUsername, Key: "kai", LockFor: func(int) time.Duration { return 2 * time.Second }}}
	earned := time.Unix(1_750_000_000, 900_000_000)
	if _, wait, err := db.Reserve(ctx, earned, 15*time.Minute, keys); err != nil || wait > 0 {
		t.Fatalf("first Reserve: wait %v, err %v", wait, err)
	}
	for _, after := range []time.Duration{100 * time.Millisecond, 1500 * time.Millisecond, 1999 * time.Millisecond} {
		if _, wait, err := db.Reserve(ctx, earned.Add(after), 15*time.Minute, keys); err != nil || wait <= 0 {
			t.Errorf("Reserve %v after a 2 s lock: wait %v, err %v; want still locked", after, wait, err)
		}
	}
	if _, wait, err := db.Reserve(ctx, earned.Add(2100*time.Millisecond), 15*time.Minute, keys); err != nil || wait > 0 {
		t.Errorf("Reserve once the lock is over: wait %v, err %v", wait, err)
	}
}
