package user

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Throttle scopes: failures are counted per username and per client address.
const (
	ScopeUsername = "username"
	ScopeAddress  = "address"
)

// ThrottleStore persists failure counts so that a restart resets nothing.
// RecordFailure must count and lock in one transaction: failures older than
// window are forgotten first, then the count is incremented and locked_until
// set to now+lockFor(count) when that is positive.
type ThrottleStore interface {
	LockedUntil(ctx context.Context, scope, key string) (time.Time, error)
	RecordFailure(ctx context.Context, scope, key string, now time.Time, window time.Duration, lockFor func(failures int) time.Duration) error
	ClearFailures(ctx context.Context, scope, key string) error
}

// ThrottlePolicy: the first few failures are free (people mistype); after that
// each failure locks the key for twice as long as the one before, up to MaxLock.
type ThrottlePolicy struct {
	FreeFailuresPerUsername int
	FreeFailuresPerAddress  int
	BaseLock                time.Duration
	MaxLock                 time.Duration
	Window                  time.Duration
}

// DefaultThrottlePolicy is OWASP's advice in numbers: a handful of free tries,
// then exponential back-off capped at 15 minutes. A shared front-desk address
// gets more free tries than one username.
func DefaultThrottlePolicy() ThrottlePolicy {
	return ThrottlePolicy{
		FreeFailuresPerUsername: 5,
		FreeFailuresPerAddress:  20,
		BaseLock:                2 * time.Second,
		MaxLock:                 15 * time.Minute,
		Window:                  15 * time.Minute,
	}
}

func (p ThrottlePolicy) withDefaults() ThrottlePolicy {
	d := DefaultThrottlePolicy()
	if p.FreeFailuresPerUsername <= 0 {
		p.FreeFailuresPerUsername = d.FreeFailuresPerUsername
	}
	if p.FreeFailuresPerAddress <= 0 {
		p.FreeFailuresPerAddress = d.FreeFailuresPerAddress
	}
	if p.BaseLock <= 0 {
		p.BaseLock = d.BaseLock
	}
	if p.MaxLock <= 0 {
		p.MaxLock = d.MaxLock
	}
	if p.Window <= 0 {
		p.Window = d.Window
	}
	return p
}

// LockFor is the lock that the failures-th failure earns under free free tries.
func (p ThrottlePolicy) LockFor(failures, free int) time.Duration {
	over := failures - free
	if over <= 0 {
		return 0
	}
	lock := p.BaseLock
	for i := 1; i < over && lock < p.MaxLock; i++ {
		lock *= 2
	}
	return min(lock, p.MaxLock)
}

type throttle struct {
	store  ThrottleStore
	policy ThrottlePolicy
	now    func() time.Time
}

// usernameKey folds case so that "Kai" and "kai" share one counter, as they
// share one account.
func usernameKey(username string) string { return strings.ToLower(username) }

func (t *throttle) keys(username, addr string) [][2]string {
	k := [][2]string{{ScopeUsername, usernameKey(username)}}
	if addr != "" {
		k = append(k, [2]string{ScopeAddress, addr})
	}
	return k
}

func (t *throttle) check(ctx context.Context, username, addr string) error {
	now := t.now()
	var wait time.Duration
	for _, k := range t.keys(username, addr) {
		until, err := t.store.LockedUntil(ctx, k[0], k[1])
		if err != nil {
			return fmt.Errorf("check login throttle: %w", err)
		}
		wait = max(wait, until.Sub(now))
	}
	if wait > 0 {
		return &ThrottledError{RetryAfter: wait}
	}
	return nil
}

func (t *throttle) fail(ctx context.Context, username, addr string) error {
	for _, k := range t.keys(username, addr) {
		free := t.policy.FreeFailuresPerUsername
		if k[0] == ScopeAddress {
			free = t.policy.FreeFailuresPerAddress
		}
		lockFor := func(n int) time.Duration { return t.policy.LockFor(n, free) }
		if err := t.store.RecordFailure(ctx, k[0], k[1], t.now(), t.policy.Window, lockFor); err != nil {
			return fmt.Errorf("record login failure: %w", err)
		}
	}
	return nil
}

// succeed clears the username's counter. The address counter is left to expire
// with its window: otherwise one valid account would let an attacker reset the
// address limit between guesses at other accounts.
func (t *throttle) succeed(ctx context.Context, username string) error {
	if err := t.store.ClearFailures(ctx, ScopeUsername, usernameKey(username)); err != nil {
		return fmt.Errorf("clear login throttle: %w", err)
	}
	return nil
}
