package keys

import (
	"testing"
	"time"
)

func TestSet_Statuses(t *testing.T) {
	clk := newClock()
	s := mustOpen(t, Options{Dir: t.TempDir(), Algorithm: ES256, RetainFor: time.Hour, Now: clk.Now})
	first := s.Active()
	clk.Advance(time.Minute)
	second, err := s.Rotate(ES256)
	if err != nil {
		t.Fatal(err)
	}
	rotatedAt := clk.Now()
	clk.Advance(time.Minute)
	third, err := s.Rotate(ES256)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour - 30*time.Second) // first retired at +1m: its hour is over; second at +2m: not yet
	if _, err := s.Reload(); err != nil {
		t.Fatal(err)
	}

	got := s.Statuses()
	if len(got) < 3 {
		t.Fatalf("Statuses() = %+v, want three keys", got)
	}
	byKID := map[string]Status{}
	for _, st := range got {
		byKID[st.KID] = st
	}
	if st := byKID[third.KID]; st.State != StateActive || st.PublishedUntil != nil {
		t.Errorf("the active key: %+v, want active with no end of publication", st)
	}
	if st := byKID[first.KID]; st.State != StateRetired || st.PublishedUntil == nil || !st.PublishedUntil.Equal(rotatedAt.Add(time.Hour)) {
		t.Errorf("the first key: %+v, want retired, published until %v", st, rotatedAt.Add(time.Hour))
	}
	if st := byKID[second.KID]; st.State != StateRetiring || st.PublishedUntil == nil || !st.PublishedUntil.After(clk.Now()) {
		t.Errorf("the second key: %+v, want retiring, published until after now", st)
	}
	if s.RetainFor() != time.Hour {
		t.Errorf("RetainFor() = %v, want 1h", s.RetainFor())
	}
}
