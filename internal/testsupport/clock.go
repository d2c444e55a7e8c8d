package testsupport

import (
	"sync"
	"sync/atomic"
	"time"
)

// Clock is an injectable time source that tests advance instead of
// sleeping. Its zero value reads the zero time; use NewClock. It is safe for
// concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock that reads start until it is advanced.
func NewClock(start time.Time) *Clock { return &Clock{t: start} }

// Now returns the clock's time; pass the method value as a Now option.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d (backward when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// OffsetClock is real time plus an offset a test moves forward, so that
// nothing sleeps while the times that no injected clock reaches (a cookie
// jar's, a relying party's) keep running. Its zero value reads real time. It
// is safe for concurrent use.
type OffsetClock struct{ offset atomic.Int64 }

// Now returns the real time plus the offset.
func (c *OffsetClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance adds d to the offset.
func (c *OffsetClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }
