package keys

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// TestSet_ActiveKeyPerAlgorithm: each algorithm has its own active key, and
// signing, rotating or adding one algorithm never changes which key another
// algorithm signs with (issue 13: a rotation must not switch a client's alg).
func TestSet_ActiveKeyPerAlgorithm(t *testing.T) {
	type step struct {
		name string
		do   func(t *testing.T, s *Set) // changes the set
		// changed lists the algorithms whose active key the step replaces or
		// adds; every other algorithm must keep its kid.
		changed []Algorithm
		// want lists the algorithms with an active key after the step.
		want []Algorithm
	}
	rotate := func(alg Algorithm) func(t *testing.T, s *Set) {
		return func(t *testing.T, s *Set) {
			if _, err := s.Rotate(alg); err != nil {
				t.Fatalf("Rotate(%s): %v", alg, err)
			}
		}
	}
	ensure := func(algs ...Algorithm) func(t *testing.T, s *Set) {
		return func(t *testing.T, s *Set) {
			if _, err := s.Ensure(algs...); err != nil {
				t.Fatalf("Ensure(%v): %v", algs, err)
			}
		}
	}
	for _, tc := range []struct {
		name  string
		first Algorithm
		steps []step
	}{
		{"an RS256 set gains ES256 and rotates each separately", RS256, []step{
			{"Ensure(RS256, ES256) adds an ES256 key only", ensure(RS256, ES256), []Algorithm{ES256}, []Algorithm{RS256, ES256}},
			{"Ensure again makes nothing", ensure(RS256, ES256), nil, []Algorithm{RS256, ES256}},
			{"Rotate(ES256) leaves RS256 alone", rotate(ES256), []Algorithm{ES256}, []Algorithm{RS256, ES256}},
			{"Rotate(\"\") rotates the default algorithm only", rotate(""), []Algorithm{RS256}, []Algorithm{RS256, ES256}},
			{"Rotate(EdDSA) adds a first EdDSA key", rotate(EdDSA), []Algorithm{EdDSA}, []Algorithm{RS256, ES256, EdDSA}},
			{"RotateAll rotates every algorithm", func(t *testing.T, s *Set) {
				made, err := s.RotateAll()
				if err != nil || len(made) != 3 {
					t.Fatalf("RotateAll() = %+v, %v; want three new keys", made, err)
				}
			}, []Algorithm{RS256, ES256, EdDSA}, []Algorithm{RS256, ES256, EdDSA}},
		}},
		{"a legacy ES256-only directory gains RS256 without losing ES256", ES256, []step{
			{"Ensure(RS256) adds RS256", ensure(RS256), []Algorithm{RS256}, []Algorithm{RS256, ES256}},
			{"Rotate(RS256) leaves ES256 alone", rotate(RS256), []Algorithm{RS256}, []Algorithm{RS256, ES256}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			s := mustOpen(t, Options{Dir: t.TempDir(), Algorithm: tc.first, Now: clk.Now})
			var retired []string
			for _, st := range tc.steps {
				before := map[Algorithm]string{}
				for _, k := range s.ActiveKeys() {
					before[k.Algorithm] = k.KID
				}
				clk.Advance(time.Minute)
				st.do(t, s)
				var got []Algorithm
				for _, k := range s.ActiveKeys() {
					got = append(got, k.Algorithm)
					old, had := before[k.Algorithm]
					switch {
					case slices.Contains(st.changed, k.Algorithm) && had && old == k.KID:
						t.Errorf("%s: %s key %s was not replaced", st.name, k.Algorithm, old)
					case slices.Contains(st.changed, k.Algorithm) && had:
						retired = append(retired, old)
					case !slices.Contains(st.changed, k.Algorithm) && (!had || old != k.KID):
						t.Errorf("%s: %s active key changed from %q to %s", st.name, k.Algorithm, old, k.KID)
					}
					// SignAs uses exactly that key.
					tok, err := s.SignAs(k.Algorithm, []byte(`{}`))
					if err != nil {
						t.Fatalf("%s: SignAs(%s): %v", st.name, k.Algorithm, err)
					}
					if h := tokenHeader(t, tok); h["alg"] != string(k.Algorithm) || h["kid"] != k.KID {
						t.Errorf("%s: SignAs(%s) header %v, want kid %s", st.name, k.Algorithm, h, k.KID)
					}
				}
				if !slices.Equal(got, st.want) {
					t.Errorf("%s: active algorithms %v, want %v", st.name, got, st.want)
				}
				// The JWKS holds every active key and every retired one
				// still published.
				kids := jwksKIDs(t, s.JWKS())
				for _, k := range s.ActiveKeys() {
					if !slices.Contains(kids, k.KID) {
						t.Errorf("%s: JWKS lacks active %s key %s", st.name, k.Algorithm, k.KID)
					}
				}
				for _, kid := range retired {
					if !slices.Contains(kids, kid) {
						t.Errorf("%s: JWKS lacks retired key %s", st.name, kid)
					}
				}
			}
			// What this Set wrote, a fresh one reads the same.
			again := mustOpen(t, Options{Dir: s.dir, Algorithm: tc.first, Now: clk.Now})
			if got, want := again.ActiveKeys(), s.ActiveKeys(); !slices.Equal(got, want) {
				t.Errorf("reopened: ActiveKeys() = %+v, want %+v", got, want)
			}
		})
	}
}

// TestSet_SignAsMissingAlgorithm: a client just given a new algorithm gets
// its tokens signed at once: the server's Set picks up the key the CLI made,
// or makes one itself.
func TestSet_SignAsMissingAlgorithm(t *testing.T) {
	t.Run("a key another process made is picked up, not duplicated", func(t *testing.T) {
		dir := t.TempDir()
		server := mustOpen(t, Options{Dir: dir})
		cli := mustOpen(t, Options{Dir: dir})
		made, err := cli.Ensure(ES256)
		if err != nil || len(made) != 1 {
			t.Fatalf("cli Ensure(ES256) = %+v, %v", made, err)
		}
		tok, err := server.SignAs(ES256, []byte(`{}`))
		if err != nil {
			t.Fatalf("server SignAs(ES256): %v", err)
		}
		if h := tokenHeader(t, tok); h["kid"] != made[0].KID {
			t.Errorf("server signed with kid %v, want the CLI's %s", h["kid"], made[0].KID)
		}
		if n := len(readIndexFile(t, dir).Keys); n != 2 {
			t.Errorf("index has %d keys, want 2 (RS256 and the CLI's ES256)", n)
		}
	})
	t.Run("with no key on disk either, one is made and published", func(t *testing.T) {
		s := mustOpen(t, Options{Dir: t.TempDir()})
		tok, err := s.SignAs(EdDSA, []byte(`{"sub":"1"}`))
		if err != nil {
			t.Fatalf("SignAs(EdDSA): %v", err)
		}
		info, ok := s.ActiveFor(EdDSA)
		if !ok || tokenHeader(t, tok)["kid"] != info.KID {
			t.Fatalf("ActiveFor(EdDSA) = %+v, %v; token header %v", info, ok, tokenHeader(t, tok))
		}
		if _, err := verifyWithJWKS(t, s.JWKS(), tok); err != nil {
			t.Errorf("the EdDSA token does not verify with the JWKS: %v", err)
		}
	})
	t.Run("an unknown algorithm is refused", func(t *testing.T) {
		s := mustOpen(t, Options{Dir: t.TempDir()})
		if _, err := s.SignAs("HS256", []byte(`{}`)); err == nil {
			t.Error("SignAs(HS256) succeeded")
		}
		if _, err := s.Ensure("none"); err == nil {
			t.Error("Ensure(none) succeeded")
		}
		if n := len(s.List()); n != 1 {
			t.Errorf("List has %d keys, want 1", n)
		}
	})
}

// TestSet_SignAsMissingAlgorithmConcurrently: many requests for a client
// whose algorithm has no key yet make exactly one key between them.
func TestSet_SignAsMissingAlgorithmConcurrently(t *testing.T) {
	s := mustOpen(t, Options{Dir: t.TempDir()})
	const n = 16
	kids := make(chan any, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			tok, err := s.SignAs(ES256, []byte(`{}`))
			if err != nil {
				errs <- err
				return
			}
			kids <- tokenHeader(t, tok)["kid"]
		})
	}
	wg.Wait()
	close(kids)
	close(errs)
	for err := range errs {
		t.Errorf("SignAs(ES256): %v", err)
	}
	seen := map[any]bool{}
	for kid := range kids {
		seen[kid] = true
	}
	if len(seen) != 1 || len(s.List()) != 2 {
		t.Errorf("%d distinct kids signed, %d keys listed; want one ES256 key made (and the RS256 key)", len(seen), len(s.List()))
	}
}
