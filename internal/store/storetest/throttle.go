package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/user"
)

// lockAfter is a lock rule: the first free charges are free, every later one
// locks the key for a minute.
func lockAfter(free int) func(int) time.Duration {
	return func(n int) time.Duration {
		if n > free {
			return time.Minute
		}
		return 0
	}
}

func runThrottle(t *testing.T, open Opener) {
	t.Run("Reserve counts, locks after the free charges, and charges nothing while locked", func(t *testing.T) {
		e := newEnv(t, open)
		now := e.clock.Now()
		keys := []user.ThrottleKey{
			{Scope: user.ScopeUsername, Key: "st_ana", LockFor: lockAfter(2)},
			{Scope: user.ScopeAddress, Key: "192.0.2.9", LockFor: lockAfter(10)},
		}
		for want := 1; want <= 3; want++ {
			counts, wait, err := e.Throttle.Reserve(e.ctx, now, time.Hour, keys)
			if err != nil || wait != 0 || !slices.Equal(counts, []int{want, want}) {
				t.Fatalf("Reserve %d = %v, %v, %v; want [%d %d], no wait", want, counts, wait, err, want, want)
			}
		}
		counts, wait, err := e.Throttle.Reserve(e.ctx, now.Add(10*time.Second), time.Hour, keys)
		if err != nil || counts != nil || wait != 50*time.Second {
			t.Errorf("Reserve while locked = %v, %v, %v; want nil counts and a 50s wait", counts, wait, err)
		}
		// Nothing was charged while locked: the address is still at 3.
		addr := keys[1:]
		if counts, _, _ := e.Throttle.Reserve(e.ctx, now.Add(10*time.Second), time.Hour, addr); !slices.Equal(counts, []int{4}) {
			t.Errorf("address count after a refused Reserve = %v, want [4]", counts)
		}
		// Refund of the charge that set the lock lifts it.
		if err := e.Throttle.Refund(e.ctx, user.ScopeUsername, "st_ana", 3); err != nil {
			t.Fatal(err)
		}
		if counts, wait, _ := e.Throttle.Reserve(e.ctx, now.Add(11*time.Second), time.Hour, keys[:1]); wait != 0 || !slices.Equal(counts, []int{3}) {
			t.Errorf("Reserve after Refund = %v, %v; want [3], no wait", counts, wait)
		}
		if err := e.Throttle.ClearFailures(e.ctx, user.ScopeUsername, "st_ana"); err != nil {
			t.Fatal(err)
		}
		if counts, wait, _ := e.Throttle.Reserve(e.ctx, now.Add(12*time.Second), time.Hour, keys[:1]); wait != 0 || !slices.Equal(counts, []int{1}) {
			t.Errorf("Reserve after ClearFailures = %v, %v; want [1]", counts, wait)
		}
	})

	t.Run("charges older than the window are forgotten", func(t *testing.T) {
		e := newEnv(t, open)
		now := e.clock.Now()
		k := []user.ThrottleKey{{Scope: user.ScopeUsername, Key: "st_old", LockFor: lockAfter(100)}}
		for range 3 {
			if _, _, err := e.Throttle.Reserve(e.ctx, now, time.Minute, k); err != nil {
				t.Fatal(err)
			}
		}
		counts, _, err := e.Throttle.Reserve(e.ctx, now.Add(2*time.Minute), time.Minute, k)
		if err != nil || !slices.Equal(counts, []int{1}) {
			t.Errorf("Reserve after the window = %v, %v; want [1]", counts, err)
		}
	})

	t.Run("concurrent reserves for one key never pass more than the lock rule allows", func(t *testing.T) {
		e := newEnv(t, open)
		const free, n = 3, 16
		now := e.clock.Now()
		k := []user.ThrottleKey{{Scope: user.ScopeUsername, Key: "st_burst", LockFor: lockAfter(free)}}
		var mu sync.Mutex
		var passed []int
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				counts, wait, err := e.Throttle.Reserve(e.ctx, now, time.Hour, k)
				if err != nil {
					t.Errorf("Reserve: %v", err)
					return
				}
				if wait == 0 {
					mu.Lock()
					passed = append(passed, counts[0])
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		slices.Sort(passed)
		// The free charges, then the one that earns the lock.
		if want := []int{1, 2, 3, 4}; !slices.Equal(passed, want) {
			t.Errorf("%d concurrent reserves passed with counts %v, want %v", n, passed, want)
		}
	})
}
