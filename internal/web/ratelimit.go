package web

import (
	"math"
	"net/netip"
	"sync"
	"time"
)

// PendingLimit bounds how fast one client address may start sign-ins:
// /authorize requests that need the login page, each of which keeps a row
// server-side until the user finishes. Single sign-on with a live session
// stores nothing and does not count.
type PendingLimit struct {
	// PerMinute is the sustained rate; Burst how many may start at once.
	PerMinute float64
	Burst     int
}

// The default lets a studio behind one NAT address start a sign-in a second,
// and sixty at once, while one script can store at most that many rows.
const (
	defaultPendingPerMinute = 60
	defaultPendingBurst     = 60
)

// maxLimiterAddrs bounds the limiter's own memory. A full table first drops
// the addresses whose bucket has refilled (they are as good as unseen); if
// every one is still busy, it starts afresh rather than refuse every new
// address: those many addresses are a distributed flood, which a
// per-address limit cannot stop anyway.
const maxLimiterAddrs = 16384

// addrLimiter is a token bucket per client address, in memory: right for one
// server, and forgotten on restart, which only resets the budgets.
type addrLimiter struct {
	mu      sync.Mutex
	perSec  float64
	burst   float64
	buckets map[string]*bucket
	now     func() time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newAddrLimiter(l PendingLimit, now func() time.Time) *addrLimiter {
	if l.PerMinute <= 0 {
		l.PerMinute = defaultPendingPerMinute
	}
	if l.Burst <= 0 {
		l.Burst = defaultPendingBurst
	}
	return &addrLimiter{perSec: l.PerMinute / 60, burst: float64(l.Burst), buckets: map[string]*bucket{}, now: now}
}

// limiterKey is the address a budget belongs to. An IPv6 host usually holds
// a whole /64, so IPv6 addresses count by /64.
func limiterKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	if a = a.Unmap(); a.Is6() {
		p, _ := a.WithZone("").Prefix(64)
		return p.String()
	}
	return a.String()
}

// allow spends one token of addr's budget. When none is left it returns false
// and how long until one is.
func (l *addrLimiter) allow(addr string) (bool, time.Duration) {
	key, now := limiterKey(addr), l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxLimiterAddrs {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+elapsed*l.perSec)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.perSec * float64(time.Second))
	return false, wait
}

// sweep forgets addresses whose bucket is full again, or every address when
// none is.
func (l *addrLimiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.perSec >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxLimiterAddrs {
		clear(l.buckets)
	}
}
