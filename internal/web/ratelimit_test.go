package web

import (
	"net/netip"
	"testing"
	"time"
)

func TestAddrLimiter(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := newAddrLimiter(PendingLimit{PerMinute: 6, Burst: 3}, func() time.Time { return now })

	t.Run("an address gets its burst, then waits for the next token", func(t *testing.T) {
		for i := range 3 {
			if ok, _ := l.allow("192.0.2.1"); !ok {
				t.Fatalf("request %d of the burst refused", i+1)
			}
		}
		ok, wait := l.allow("192.0.2.1")
		if ok || wait <= 0 || wait > 10*time.Second {
			t.Errorf("allow after the burst = %v, %v; want false and at most 10 s (6 a minute)", ok, wait)
		}
		now = now.Add(10 * time.Second)
		if ok, _ := l.allow("192.0.2.1"); !ok {
			t.Errorf("refused 10 s later, when one token has come back")
		}
	})

	t.Run("other addresses have budgets of their own", func(t *testing.T) {
		if ok, _ := l.allow("192.0.2.2"); !ok {
			t.Errorf("a second address was refused")
		}
	})

	t.Run("IPv6 addresses of one /64 share a budget", func(t *testing.T) {
		for i, a := range []string{"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::9"} {
			if ok, _ := l.allow(a); !ok {
				t.Fatalf("request %d refused", i+1)
			}
		}
		if ok, _ := l.allow("2001:db8:1:2:abcd::1"); ok {
			t.Errorf("a fourth address of the same /64 was let through beyond the burst")
		}
		if ok, _ := l.allow("2001:db8:1:3::1"); !ok {
			t.Errorf("another /64 was refused")
		}
	})

	t.Run("the table stays bounded", func(t *testing.T) {
		big := newAddrLimiter(PendingLimit{PerMinute: 1, Burst: 1}, func() time.Time { return now })
		for i := range maxLimiterAddrs + 10 {
			big.allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String())
		}
		if n := len(big.buckets); n > maxLimiterAddrs {
			t.Errorf("%d addresses kept, want at most %d", n, maxLimiterAddrs)
		}
	})
}
