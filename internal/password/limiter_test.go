package password

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"
)

// testArgon2 is far below OWASP so a thousand verifications finish in about a
// second under -race. Only newHasher accepts it; NewHasher refuses it.
var testArgon2 = Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}

func newTestHasher(t *testing.T, budget int64) *Hasher {
	t.Helper()
	if _, err := NewHasher(Policy{Target: TargetArgon2id, Argon2: testArgon2, MemoryBudget: budget}); err == nil {
		t.Fatal("NewHasher accepted test-only argon2 params below OWASP")
	}
	h, err := newHasher(Policy{Target: TargetArgon2id, Argon2: testArgon2, MemoryBudget: budget}, testArgon2, defaultLimits)
	if err != nil {
		t.Fatalf("newHasher: %v", err)
	}
	return h
}

// waitFor polls cond; the deadline is only a guard against a hung test, no
// assertion depends on timing.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestLimiter_BoundsConcurrentVerify shows the bound by counting: with room
// for four hashes, a thousand simultaneous logins never have more than four
// KDFs in flight, and more than one does run at a time.
func TestLimiter_BoundsConcurrentVerify(t *testing.T) {
	t.Parallel()
	const (
		callers  = 1000
		maxSlots = 4
	)
	h := newTestHasher(t, maxSlots*testArgon2.memoryCost())
	ctx := context.Background()
	encoded, err := h.Hash(ctx, "parallel")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	before := h.Limiter().Stats()

	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		fails = make(chan error, callers)
	)
	for range callers {
		wg.Go(func() {
			<-start
			ok, err := h.Verify(ctx, "parallel", encoded)
			if err != nil || !ok {
				fails <- errors.Join(err, errors.New("verify answered false"))
			}
		})
	}
	close(start)
	wg.Wait()
	close(fails)
	for err := range fails {
		t.Errorf("Verify: %v", err)
	}

	s := h.Limiter().Stats()
	if got := s.Completed - before.Completed; got != callers {
		t.Errorf("Completed = %d, want %d", got, callers)
	}
	// The memory budget allows four; the CPU cap allows GOMAXPROCS.
	limit := min(int64(maxSlots), int64(runtime.GOMAXPROCS(0)))
	if s.PeakInFlight > limit {
		t.Errorf("PeakInFlight = %d, want at most %d", s.PeakInFlight, limit)
	}
	// With 1000 callers queued, a second KDF starts as soon as the scheduler
	// runs another goroutine; 1 here would mean the limiter serialises
	// everything although it has room for more.
	if limit >= 2 && s.PeakInFlight < 2 {
		t.Errorf("PeakInFlight = %d, want at least 2: hashes should run in parallel", s.PeakInFlight)
	}
	if s.InFlight != 0 || s.Waiting != 0 {
		t.Errorf("after all callers returned: InFlight = %d, Waiting = %d; want 0, 0", s.InFlight, s.Waiting)
	}
}

func TestLimiter_WaiterGetsContextError(t *testing.T) {
	t.Parallel()
	h := newTestHasher(t, testArgon2.memoryCost())
	encoded, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}

	t.Run("a caller whose context is canceled while waiting should get context.Canceled", func(t *testing.T) {
		release, err := h.lim.acquire(context.Background(), h.lim.budget) // hold the whole budget
		if err != nil {
			t.Fatalf("acquire: %v", err)
		}
		defer release()

		ctx, cancel := context.WithCancel(context.Background())
		type result struct {
			ok  bool
			err error
		}
		done := make(chan result, 1)
		go func() {
			ok, err := h.Verify(ctx, "pw", encoded)
			done <- result{ok, err}
		}()
		waitFor(t, "the verifier to wait", func() bool { return h.Limiter().Stats().Waiting == 1 })
		cancel()
		r := <-done
		if r.ok || !errors.Is(r.err, context.Canceled) {
			t.Errorf("Verify = %v, %v; want false and context.Canceled", r.ok, r.err)
		}
		if s := h.Limiter().Stats(); s.Waiting != 0 || s.InFlight != 1 {
			t.Errorf("stats after cancel = %+v, want Waiting 0 and only the holder in flight", s)
		}
	})

	t.Run("a caller with an expired deadline should get context.DeadlineExceeded from Hash", func(t *testing.T) {
		ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
		defer cancel()
		if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Hash = %v, want context.DeadlineExceeded", err)
		}
	})

	t.Run("the budget should be whole again after a canceled waiter", func(t *testing.T) {
		ok, err := h.Verify(context.Background(), "pw", encoded)
		if err != nil || !ok {
			t.Errorf("Verify = %v, %v; want true, nil", ok, err)
		}
	})
}

// TestLimiter_OversizedOperationRunsAlone checks that a cost above the budget
// is charged as the whole budget: it runs, and nothing runs beside it.
func TestLimiter_OversizedOperationRunsAlone(t *testing.T) {
	t.Parallel()
	l := newLimiter(1 << 20)
	ctx := context.Background()

	big, err := l.acquire(ctx, 1<<30)
	if err != nil {
		t.Fatalf("acquire above the budget: %v", err)
	}
	got := make(chan struct{})
	go func() {
		small, err := l.acquire(ctx, smallKDFCost)
		if err != nil {
			t.Errorf("small acquire: %v", err)
			close(got)
			return
		}
		small()
		close(got)
	}()
	waitFor(t, "the small operation to queue", func() bool { return l.Stats().Waiting == 1 })
	if s := l.Stats(); s.InFlight != 1 {
		t.Errorf("InFlight beside an oversized operation = %d, want 1", s.InFlight)
	}
	big()
	big() // a second release must not free the budget twice
	<-got
	if s := l.Stats(); s.Completed != 2 || s.PeakInFlight != 1 {
		t.Errorf("stats = %+v, want Completed 2 and PeakInFlight 1", s)
	}
}
