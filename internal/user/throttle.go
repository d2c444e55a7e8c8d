package user

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Throttle scopes: failures are counted per username and per client address.
const (
	ScopeUsername = "username"
	ScopeAddress  = "address"
)

// ThrottleKey is one counter a login attempt is charged to, with the lock
// its n-th charge earns.
type ThrottleKey struct {
	Scope, Key string
	LockFor    func(attempts int) time.Duration
}

// ThrottleStore persists attempt counts so that a restart resets nothing.
type ThrottleStore interface {
	// Reserve checks and counts in one write transaction, so N concurrent
	// calls for one key pass at most as many times as its LockFor allows:
	// when any key is locked at now it charges nothing and returns the
	// longest remaining lock as wait (and nil counts); otherwise it forgets
	// attempts older than window, adds one to every key, sets each key's
	// lock to now+LockFor(count) when that is positive, and returns the
	// counts, which Refund needs.
	Reserve(ctx context.Context, now time.Time, window time.Duration, keys []ThrottleKey) (counts []int, wait time.Duration, err error)
	// Refund takes one charge back; when the key's count is still count
	// (nothing was charged since), the lock that charge set is lifted too.
	Refund(ctx context.Context, scope, key string, count int) error
	// ClearFailures forgets a key.
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
	// MaxConcurrentPerAddress bounds the attempts one client address may
	// have running or waiting for a hashing slot at once, so that one
	// address cannot fill the queue that every sign-in waits in.
	MaxConcurrentPerAddress int
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
		MaxConcurrentPerAddress: 8,
	}
}

// WithDefaults is p with its zero fields set to DefaultThrottlePolicy's:
// other counters (the second factor's) follow the same policy.
func (p ThrottlePolicy) WithDefaults() ThrottlePolicy { return p.withDefaults() }

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
	if p.MaxConcurrentPerAddress <= 0 {
		p.MaxConcurrentPerAddress = d.MaxConcurrentPerAddress
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

// concurrentRetry is the Retry-After of an attempt refused because another
// one for the same username, or too many from the same address, is running:
// one verification takes well under a second.
const concurrentRetry = time.Second

type throttle struct {
	store  ThrottleStore
	policy ThrottlePolicy
	now    func() time.Time

	// The in-process half of the throttle: which usernames have a
	// verification running, and how many attempts each address has
	// running or waiting for a hashing slot. The database half (Reserve)
	// counts; this half keeps one username to one guess at a time and one
	// address from filling the hashing queue, which a count alone cannot.
	// It is per process, which is what one server needs.
	mu      sync.Mutex
	running map[string]bool
	perAddr map[string]int
}

// usernameKey folds case so that "Kai" and "kai" share one counter, as they
// share one account.
func usernameKey(username string) string { return strings.ToLower(username) }

// AddressKey is the address an attempt is counted against. An IPv6 client
// usually holds a whole /64 (RFC 6177), and picking a fresh address inside it
// costs nothing, so IPv6 addresses are counted by their /64.
func AddressKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil || !a.Unmap().Is6() {
		return addr
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return addr
	}
	return p.String()
}

func (t *throttle) keys(username, addr string) []ThrottleKey {
	lock := func(free int) func(int) time.Duration {
		return func(n int) time.Duration { return t.policy.LockFor(n, free) }
	}
	k := []ThrottleKey{{Scope: ScopeUsername, Key: usernameKey(username), LockFor: lock(t.policy.FreeFailuresPerUsername)}}
	if addr != "" {
		k = append(k, ThrottleKey{Scope: ScopeAddress, Key: AddressKey(addr), LockFor: lock(t.policy.FreeFailuresPerAddress)})
	}
	return k
}

// attempt is one password check that the throttle let through: it holds its
// username's running slot and one of its address's, and one charge on each
// of their counters.
type attempt struct {
	t      *throttle
	keys   []ThrottleKey
	counts []int
	done   bool
}

// begin lets one password check start, or says why not: a *ThrottledError
// when another check for the username is running, when the address has
// MaxConcurrentPerAddress running, or when a counter is locked. The attempt
// is charged as a failure before any hashing is done, in the same write that
// checks the lock; the caller then reports it with failed, succeeded or
// abandoned.
func (t *throttle) begin(ctx context.Context, username, addr string) (*attempt, error) {
	a := &attempt{t: t, keys: t.keys(username, addr)}
	if !t.enter(a.keys) {
		return nil, &ThrottledError{RetryAfter: concurrentRetry, Concurrent: true}
	}
	counts, wait, err := t.store.Reserve(ctx, t.now(), t.policy.Window, a.keys)
	if err != nil || wait > 0 {
		t.leave(a.keys)
		if err != nil {
			return nil, fmt.Errorf("check login throttle: %w", err)
		}
		return nil, &ThrottledError{RetryAfter: wait}
	}
	a.counts = counts
	return a, nil
}

func (t *throttle) enter(keys []ThrottleKey) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.running == nil {
		t.running, t.perAddr = map[string]bool{}, map[string]int{}
	}
	user := keys[0].Key
	if t.running[user] {
		return false
	}
	if len(keys) > 1 {
		if t.perAddr[keys[1].Key] >= t.policy.MaxConcurrentPerAddress {
			return false
		}
		t.perAddr[keys[1].Key]++
	}
	t.running[user] = true
	return true
}

func (t *throttle) leave(keys []ThrottleKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.running, keys[0].Key)
	if len(keys) > 1 {
		if t.perAddr[keys[1].Key]--; t.perAddr[keys[1].Key] <= 0 {
			delete(t.perAddr, keys[1].Key)
		}
	}
}

// The methods below accept a nil attempt (no throttle) and do nothing.

// failed ends an attempt whose password was wrong: its charges stay.
func (a *attempt) failed() {
	if a != nil {
		a.end()
	}
}

// succeeded ends an attempt whose password was right: the username's counter
// is cleared, and the address's charge is taken back. The rest of the
// address's counter is left to expire with its window: otherwise one valid
// account would let an attacker reset the address limit between guesses at
// other accounts.
func (a *attempt) succeeded(ctx context.Context) error {
	if a == nil {
		return nil
	}
	defer a.end()
	ctx = context.WithoutCancel(ctx)
	if err := a.t.store.ClearFailures(ctx, a.keys[0].Scope, a.keys[0].Key); err != nil {
		return fmt.Errorf("clear login throttle: %w", err)
	}
	for i := 1; i < len(a.keys); i++ {
		if err := a.t.store.Refund(ctx, a.keys[i].Scope, a.keys[i].Key, a.counts[i]); err != nil {
			return fmt.Errorf("refund login attempt: %w", err)
		}
	}
	return nil
}

// abandoned ends an attempt that was never answered (its context ended while
// it waited for a hashing slot): every charge is taken back, so a busy server
// locks nobody out. Its context is over, so the refund runs without it.
func (a *attempt) abandoned(ctx context.Context) error {
	if a == nil {
		return nil
	}
	defer a.end()
	ctx = context.WithoutCancel(ctx)
	for i, k := range a.keys {
		if err := a.t.store.Refund(ctx, k.Scope, k.Key, a.counts[i]); err != nil {
			return fmt.Errorf("refund login attempt: %w", err)
		}
	}
	return nil
}

func (a *attempt) end() {
	if !a.done {
		a.done = true
		a.t.leave(a.keys)
	}
}

// usernameFailures is how many attempts the username's counter holds,
// this one included.
func (a *attempt) usernameFailures() int { return a.counts[0] }
