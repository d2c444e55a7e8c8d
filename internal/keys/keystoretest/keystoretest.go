// Package keystoretest is the contract of keys.Store, checked through a
// keys.Set only: every store (the key folder in internal/keys, the database
// in internal/store) must give a Set the same behaviour, including the
// multi-server cases (a rotation seen by another Set after Reload, concurrent
// rotations leaving one active key per algorithm). Run it with -race.
package keystoretest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/testsupport"
)

// Backing opens a new Store on one backing (one folder, one database), as
// each server would: two Stores from one Backing share their keys.
type Backing func(t *testing.T) keys.Store

// Run runs the contract. fresh returns a Backing that starts empty.
func Run(t *testing.T, fresh func(t *testing.T) Backing) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b Backing)
	}{
		{"Open on an empty store makes one key, and a second Set opens the same", testOpen},
		{"Rotate keeps the old key published and its tokens verifiable", testRotate},
		{"a second Set sees a rotation by the first after Reload", testReload},
		{"Rotate by a Set with a stale snapshot keeps keys the other added", testStaleRotate},
		{"a retired key past its retention is removed at the next rotation", testPrune},
		{"concurrent rotations by two Sets leave one active key per algorithm", testConcurrentRotate},
		{"concurrent Ensure by two Sets makes one key", testConcurrentEnsure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, fresh(t)) })
	}
}

// newClock is the settable time source the contract's tests advance
// instead of sleeping.
func newClock() *testsupport.Clock {
	return testsupport.NewClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
}

const retain = time.Hour

// open opens a Set on a new Store of b. ES256 keeps key generation cheap.
func open(t *testing.T, b Backing, c *testsupport.Clock) (*keys.Set, bool) {
	t.Helper()
	s, created, err := keys.Open(keys.Options{Store: b(t), Algorithm: keys.ES256, RetainFor: retain, Now: c.Now})
	if err != nil {
		t.Fatalf("keys.Open: %v", err)
	}
	return s, created
}

func kids(list []keys.Info) []string {
	out := make([]string, len(list))
	for i, k := range list {
		out[i] = k.KID
	}
	return out
}

func testOpen(t *testing.T, b Backing) {
	c := newClock()
	s1, created := open(t, b, c)
	if !created {
		t.Error("first Open: created = false, want true")
	}
	if l := s1.List(); len(l) != 1 || !l[0].Active || l[0].Algorithm != keys.ES256 {
		t.Fatalf("first Open: keys %+v, want one active ES256 key", l)
	}
	s2, created := open(t, b, c)
	if created {
		t.Error("second Open: created = true, want false (the store already has a key)")
	}
	if got, want := s2.Active().KID, s1.Active().KID; got != want {
		t.Errorf("second Set's active key %s, want %s", got, want)
	}
}

func testRotate(t *testing.T, b Backing) {
	c := newClock()
	s, _ := open(t, b, c)
	old := s.Active()
	token, err := s.Sign([]byte(`{"sub":"1"}`))
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	made, err := s.Rotate(keys.ES256)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if made.KID == old.KID || !made.Active || s.Active().KID != made.KID {
		t.Fatalf("after Rotate: made %+v, active %s, old %s", made, s.Active().KID, old.KID)
	}
	list := s.List()
	if len(list) != 2 || list[1].KID != old.KID || list[1].RetiredAt == nil || !list[1].RetiredAt.Equal(c.Now()) || !list[1].Published {
		t.Fatalf("after Rotate: keys %+v, want the old key retired now and published", list)
	}
	if _, err := s.Verify(token); err != nil {
		t.Errorf("a token of the retired key no longer verifies: %v", err)
	}
}

func testReload(t *testing.T, b Backing) {
	c := newClock()
	s1, _ := open(t, b, c)
	s2, _ := open(t, b, c)
	if changed, err := s2.Reload(); err != nil || changed {
		t.Fatalf("Reload with nothing new: changed=%v err=%v, want false, nil", changed, err)
	}
	made, err := s1.Rotate(keys.ES256)
	if err != nil {
		t.Fatal(err)
	}
	if s2.Active().KID == made.KID {
		t.Fatal("the second Set saw the rotation before Reload; the test proves nothing")
	}
	changed, err := s2.Reload()
	if err != nil || !changed {
		t.Fatalf("Reload after a rotation: changed=%v err=%v, want true, nil", changed, err)
	}
	if got := s2.Active().KID; got != made.KID {
		t.Errorf("second Set's active key %s after Reload, want %s", got, made.KID)
	}
	if got, want := fmt.Sprint(kids(s2.List())), fmt.Sprint(kids(s1.List())); got != want {
		t.Errorf("second Set lists %s, first %s", got, want)
	}
	if s2.JWKSETag() != s1.JWKSETag() {
		t.Error("the two Sets serve different JWKS")
	}
}

func testStaleRotate(t *testing.T, b Backing) {
	c := newClock()
	s1, _ := open(t, b, c)
	s2, _ := open(t, b, c)
	added, err := s1.Ensure(keys.EdDSA)
	if err != nil || len(added) != 1 {
		t.Fatalf("Ensure(EdDSA): %v, %v", added, err)
	}
	if _, err := s2.Rotate(keys.ES256); err != nil {
		t.Fatal(err)
	}
	if got, ok := s2.ActiveFor(keys.EdDSA); !ok || got.KID != added[0].KID {
		t.Errorf("stale Set's rotation lost the EdDSA key the other added: %+v", s2.List())
	}
}

func testPrune(t *testing.T, b Backing) {
	c := newClock()
	s, _ := open(t, b, c)
	first := s.Active().KID
	if _, err := s.Rotate(keys.ES256); err != nil {
		t.Fatal(err)
	}
	c.Advance(retain)
	if _, err := s.Rotate(keys.ES256); err != nil {
		t.Fatal(err)
	}
	for _, k := range s.List() {
		if k.KID == first {
			t.Errorf("key %s retired %s ago is still stored: %+v", first, retain, s.List())
		}
	}
	again, _ := open(t, b, c)
	if n := len(again.List()); n != 2 {
		t.Errorf("a new Set loads %d keys, want 2 (the pruned one gone)", n)
	}
}

func testConcurrentRotate(t *testing.T, b Backing) {
	c := newClock()
	sets := make([]*keys.Set, 2)
	sets[0], _ = open(t, b, c)
	sets[1], _ = open(t, b, c)
	const perSet = 4
	var wg sync.WaitGroup
	made := make(chan string, 2*perSet)
	for _, s := range sets {
		for range perSet {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k, err := s.Rotate(keys.ES256)
				if err != nil {
					t.Errorf("Rotate: %v", err)
					return
				}
				made <- k.KID
			}()
		}
	}
	wg.Wait()
	close(made)
	seen := map[string]bool{}
	for kid := range made {
		if seen[kid] {
			t.Errorf("two rotations returned key %s", kid)
		}
		seen[kid] = true
	}
	check, _ := open(t, b, c)
	active := 0
	for _, k := range check.List() {
		if k.Active {
			active++
		}
	}
	if active != 1 {
		t.Errorf("%d active ES256 keys after concurrent rotations, want 1: %+v", active, check.List())
	}
	if n := len(check.List()); n != 1+2*perSet {
		t.Errorf("%d keys stored, want %d (the first plus one per rotation)", n, 1+2*perSet)
	}
	for _, s := range sets {
		if _, err := s.Reload(); err != nil {
			t.Fatal(err)
		}
		if s.Active().KID != check.Active().KID {
			t.Errorf("after Reload a Set signs with %s, the store's active key is %s", s.Active().KID, check.Active().KID)
		}
	}
}

func testConcurrentEnsure(t *testing.T, b Backing) {
	c := newClock()
	s1, _ := open(t, b, c)
	s2, _ := open(t, b, c)
	var wg sync.WaitGroup
	for _, s := range []*keys.Set{s1, s2, s1, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Ensure(keys.EdDSA); err != nil {
				t.Errorf("Ensure: %v", err)
			}
		}()
	}
	wg.Wait()
	check, _ := open(t, b, c)
	n := 0
	for _, k := range check.List() {
		if k.Algorithm == keys.EdDSA {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d EdDSA keys after concurrent Ensure, want 1: %+v", n, check.List())
	}
}
