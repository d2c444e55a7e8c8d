package password

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// Limiter bounds the memory held by concurrent hash operations. Memory-hard
// KDFs are what make password hashing safe, and also what makes a login flood
// able to exhaust the server: 100 concurrent argon2id logins at 19 MiB each
// need 1.9 GiB. Each operation acquires its memory cost (argon2id m·1024
// bytes, scrypt 128·N·r bytes, bcrypt and pbkdf2 a fixed 64 KiB) from one
// weighted semaphore sized by Policy.MemoryBudget, and waits, in FIFO order,
// until it fits.
//
// A cost larger than the whole budget is charged as the whole budget, so an
// expensive-but-allowed hash still runs, alone, instead of waiting forever.
//
// It also caps concurrent operations at GOMAXPROCS: the KDFs are CPU-bound, so
// running more at once than there are cores only stretches every login and
// keeps more memory live (figures in docs/performance.md).
type Limiter struct {
	sem    *semaphore.Weighted
	budget int64
	// slots caps operations at the number of cores.
	slots *semaphore.Weighted

	inFlight  atomic.Int64
	peak      atomic.Int64
	waiting   atomic.Int64
	completed atomic.Int64
}

// LimiterStats are the Limiter's counters, for metrics and for tests that
// show bounded concurrency by counting rather than by timing.
type LimiterStats struct {
	InFlight     int64 // operations holding memory now
	PeakInFlight int64 // the highest InFlight since the Limiter was made
	Waiting      int64 // operations asking for memory now, most of them blocked
	Completed    int64 // operations that got memory and have released it
}

func newLimiter(budget int64) *Limiter {
	return &Limiter{sem: semaphore.NewWeighted(budget), budget: budget, slots: semaphore.NewWeighted(int64(runtime.GOMAXPROCS(0)))}
}

// Stats returns a snapshot of the counters. Fields are read one by one, so a
// snapshot taken while operations run may be off by one between fields.
func (l *Limiter) Stats() LimiterStats {
	return LimiterStats{
		InFlight:     l.inFlight.Load(),
		PeakInFlight: l.peak.Load(),
		Waiting:      l.waiting.Load(),
		Completed:    l.completed.Load(),
	}
}

// acquire waits until cost bytes (capped at the budget) are free, or returns
// ctx.Err() unwrapped if ctx ends first. The returned release must be called
// once the operation is done; calling it again does nothing.
func (l *Limiter) acquire(ctx context.Context, cost int64) (release func(), err error) {
	cost = min(max(cost, 1), l.budget)
	l.waiting.Add(1)
	if err = l.slots.Acquire(ctx, 1); err != nil {
		l.waiting.Add(-1)
		return nil, err
	}
	err = l.sem.Acquire(ctx, cost)
	l.waiting.Add(-1)
	if err != nil {
		l.slots.Release(1)
		return nil, err
	}
	n := l.inFlight.Add(1)
	for {
		p := l.peak.Load()
		if n <= p || l.peak.CompareAndSwap(p, n) {
			break
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			l.inFlight.Add(-1)
			l.completed.Add(1)
			l.sem.Release(cost)
			l.slots.Release(1)
		})
	}, nil
}
