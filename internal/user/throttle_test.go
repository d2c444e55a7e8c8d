package user_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/user"
)

// blockingHasher holds every verification until release is closed, and says
// on entered when one starts, so a test can see how many run at once without
// timing anything.
type blockingHasher struct {
	*countingHasher
	entered chan struct{}
	release chan struct{}
}

func newBlockingHasher(c *countingHasher) *blockingHasher {
	return &blockingHasher{countingHasher: c, entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (b *blockingHasher) Verify(ctx context.Context, plain, encoded string) (bool, error) {
	b.entered <- struct{}{}
	<-b.release
	return b.countingHasher.Verify(ctx, plain, encoded)
}

func (b *blockingHasher) VerifyDummy(ctx context.Context, plain string) {
	b.entered <- struct{}{}
	<-b.release
	b.countingHasher.VerifyDummy(ctx, plain)
}

// waitFor receives n values from c, failing the test if they do not come
// within a generous bound (a hang, not a timing assertion).
func waitFor[T any](t *testing.T, c <-chan T, n int, what string) []T {
	t.Helper()
	var out []T
	deadline := time.After(30 * time.Second)
	for len(out) < n {
		select {
		case v := <-c:
			out = append(out, v)
		case <-deadline:
			t.Fatalf("got %d of %d %s", len(out), n, what)
		}
	}
	return out
}

func wantConcurrent(t *testing.T, err error, what string) {
	t.Helper()
	var te *user.ThrottledError
	if !errors.As(err, &te) || !te.Concurrent || te.RetryAfter <= 0 {
		t.Errorf("%s: err = %v, want a *ThrottledError marked Concurrent with a Retry-After", what, err)
	}
}

// TestService_Authenticate_ConcurrencyLimits: one verification at a time per
// username, and at most MaxConcurrentPerAddress attempts running or queued
// per address; the others are refused at once (not queued), and other
// addresses keep getting through.
func TestService_Authenticate_ConcurrencyLimits(t *testing.T) {
	e := throttleEnv(t, testThrottle)
	bh := newBlockingHasher(e.hasher)
	policy := testThrottle
	policy.MaxConcurrentPerAddress = 3
	svc := user.NewService(e.db, bh, e.db, user.Options{Throttle: policy, Now: e.clock.Now})
	ctx := context.Background()

	const flood = 10
	results := make(chan error, flood+2)
	for i := range flood {
		go func() {
			_, err := svc.Authenticate(ctx, fmt.Sprintf("flood%d", i), "wrong-password", "198.51.100.7")
			results <- err
		}()
	}
	waitFor(t, bh.entered, policy.MaxConcurrentPerAddress, "verifications from the flooding address")
	for i, err := range waitFor(t, results, flood-policy.MaxConcurrentPerAddress, "refusals") {
		wantConcurrent(t, err, fmt.Sprintf("refused attempt %d", i))
	}

	// Another address is not held up by the flood.
	go func() {
		_, err := svc.Authenticate(ctx, "mira", miraPassword, "203.0.113.9")
		results <- err
	}()
	waitFor(t, bh.entered, 1, "verification from another address")

	// mira's verification is running: a second one for her, from anywhere,
	// is refused rather than queued, and charges nothing.
	_, err := svc.Authenticate(ctx, "MIRA", miraPassword, "192.0.2.200")
	wantConcurrent(t, err, "a second attempt for the same username")

	close(bh.release)
	for _, err := range waitFor(t, results, policy.MaxConcurrentPerAddress+1, "finished attempts") {
		if err != nil && !errors.Is(err, user.ErrInvalidCredentials) {
			t.Errorf("a let-through attempt ended with %v", err)
		}
	}
	if v, d := bh.verify.Load(), bh.dummy.Load(); v != 1 || d != int64(policy.MaxConcurrentPerAddress) {
		t.Errorf("Verify ran %d times and VerifyDummy %d, want 1 and %d", v, d, policy.MaxConcurrentPerAddress)
	}
	// With nothing running, the address and the username take attempts again.
	if _, err := svc.Authenticate(ctx, "mira", miraPassword, "192.0.2.200"); err != nil {
		t.Errorf("mira afterwards: %v", err)
	}
}

// TestService_Authenticate_IPv6CountedBy64: an IPv6 client picks addresses in
// its /64 at will, so failures from one /64 share one address counter.
func TestService_Authenticate_IPv6CountedBy64(t *testing.T) {
	p := testThrottle
	p.FreeFailuresPerUsername, p.FreeFailuresPerAddress = 100, 2
	e := throttleEnv(t, p)
	for i, addr := range []string{"2001:db8:0:1::1", "2001:db8:0:1::2", "2001:db8:0:1:ffff:ffff:ffff:ffff"} {
		e.failN(t, fmt.Sprintf("guess%d", i), addr, 1)
	}
	_, err := e.svc.Authenticate(context.Background(), "mira", miraPassword, "2001:db8:0:1:abcd::9")
	wantThrottled(t, err, p.BaseLock)
	if _, err := e.svc.Authenticate(context.Background(), "mira", miraPassword, "2001:db8:0:2::1"); err != nil {
		t.Errorf("another /64: %v, want a sign-in", err)
	}
	if _, err := e.svc.Authenticate(context.Background(), "mira", miraPassword, "192.0.2.1"); err != nil {
		t.Errorf("an IPv4 address: %v, want a sign-in", err)
	}
}

// TestService_Authenticate_SuccessRefundsTheAddress: every attempt is
// charged before hashing, so a success must take its address charge back, or
// a shared front-desk address would lock after its free failures' worth of
// good sign-ins.
func TestService_Authenticate_SuccessRefundsTheAddress(t *testing.T) {
	p := testThrottle
	p.FreeFailuresPerAddress = 2
	e := throttleEnv(t, p)
	for i := range 2*p.FreeFailuresPerAddress + 2 {
		if _, err := e.svc.Authenticate(context.Background(), "mira", miraPassword, "192.0.2.50"); err != nil {
			t.Fatalf("sign-in %d from one address: %v", i+1, err)
		}
	}
	if n := e.raw(t, `SELECT coalesce(sum(failures), 0) FROM inkpass_login_throttle`); n != "0" {
		t.Errorf("failures left after good sign-ins = %s, want 0", n)
	}
}
