package testsupport

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	c := NewClock(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now = %v, want %v", got, start)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { c.Advance(time.Second) })
	}
	wg.Wait()
	if got, want := c.Now(), start.Add(10*time.Second); !got.Equal(want) {
		t.Errorf("Now after ten concurrent one-second advances = %v, want %v", got, want)
	}
}

func TestLogBuffer(t *testing.T) {
	var l LogBuffer
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() { fmt.Fprintf(&l, "line %02d\n", i) })
	}
	wg.Wait()
	out := l.String()
	if n := strings.Count(out, "\n"); n != 20 {
		t.Errorf("%d lines after 20 concurrent writes, want 20:\n%s", n, out)
	}
	for i := range 20 {
		if !strings.Contains(out, fmt.Sprintf("line %02d\n", i)) {
			t.Errorf("line %02d missing or torn:\n%s", i, out)
		}
	}
}

func TestOffsetClock(t *testing.T) {
	var c OffsetClock
	before := time.Now()
	if got := c.Now(); got.Before(before) || got.After(time.Now()) {
		t.Fatalf("zero OffsetClock reads %v, want real time (between %v and now)", got, before)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { c.Advance(time.Hour) })
	}
	wg.Wait()
	lo := time.Now().Add(10 * time.Hour)
	got := c.Now()
	hi := time.Now().Add(10 * time.Hour)
	if got.Before(lo) || got.After(hi) {
		t.Errorf("after ten concurrent one-hour advances Now = %v, want real time plus 10h (between %v and %v)", got, lo, hi)
	}
}
