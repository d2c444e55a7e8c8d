package password

import (
	"context"
	"sync"
	"testing"
)

// observed records what the Hasher's observer hears.
type observed struct {
	mu sync.Mutex
	vs []Verification
}

func (o *observed) add(v Verification) { o.mu.Lock(); o.vs = append(o.vs, v); o.mu.Unlock() }

// TestHasher_SetDummyLike: after SetDummyLike(h), VerifyDummy computes the
// same family with the same parameters as h, for every format the studio's
// database can hold, and still matches no password. Each vector gets its own
// Hasher so the real-cost vectors run in parallel; the slow ones (seconds
// each under -race) skip the explicit second verification, which the cheaper
// vectors of their family make, and under -short skip this test altogether
// (TestHasher_Verify_WerkzeugVectors still verifies them).
func TestHasher_SetDummyLike(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors(t) {
		t.Run(v.Method, func(t *testing.T) {
			if slowVectors[v.Method] && testing.Short() {
				t.Skip("-short: a slow vector; the cheaper ones of its family run")
			}
			t.Parallel()
			h := mustHasher(t, TargetArgon2id)
			var obs observed
			h.SetObserver(obs.add)
			if err := h.SetDummyLike(v.Hash); err != nil {
				t.Fatal(err)
			}
			h.VerifyDummy(context.Background(), v.Password)
			want := Describe(v.Hash)
			if len(obs.vs) != 1 || obs.vs[0].Params() != want || obs.vs[0].Format != sniff(v.Hash) {
				t.Errorf("VerifyDummy computed %+v, want one %s verification", obs.vs, want)
			}
			if !slowVectors[v.Method] {
				if ok, err := h.Verify(context.Background(), v.Password, h.dummyHash()); ok || err != nil {
					t.Errorf("the dummy matches the vector's password (%v) or does not verify (%v)", ok, err)
				}
			}
			if h.dummyHash() == v.Hash {
				t.Error("the dummy is the stored hash itself")
			}
		})
	}
	h := mustHasher(t, TargetArgon2id)
	if err := h.SetDummyLike("pbkdf2:md5:1000$salt$00"); err == nil {
		t.Error("SetDummyLike of an unusable hash succeeded")
	}
}

// TestCensus_Dominant: the family most hashes belong to wins, then the
// parameters most of that family share, then the costliest.
func TestCensus_Dominant(t *testing.T) {
	hash := map[string]string{}
	for _, v := range loadVectors(t) {
		hash[v.Method] = v.Hash
	}
	for _, tc := range []struct {
		name   string
		stored []string
		want   string
	}{
		{"nothing stored", nil, ""},
		// The studio fixture: three pbkdf2 users of different iterations,
		// two scrypt ones.
		{"the studio fixture", []string{"scrypt", "pbkdf2:sha256:600000", "pbkdf2", "scrypt:16384:8:1", "pbkdf2:sha256:260000"}, "pbkdf2"},
		{"one parameter set most common", []string{"pbkdf2:sha256:260000", "pbkdf2:sha256:260000", "pbkdf2", "scrypt", "scrypt:16384:8:1"}, "pbkdf2:sha256:260000"},
		{"after upgrades", []string{"argon2", "argon2", "argon2", "bcrypt:12", "pbkdf2"}, "argon2"},
		{"unusable rows are not counted", []string{"bcrypt:10", "", "plain-text-password", "not$a$hash"}, "bcrypt:10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c Census
			for _, m := range tc.stored {
				h, ok := hash[m]
				if !ok {
					h = m
				}
				c.Add(h)
			}
			got, ok := c.Dominant()
			if want := hash[tc.want]; got != want || ok != (want != "") {
				t.Errorf("Dominant = %q (%s), %v, want the %q vector (%s)", got, Describe(got), ok, tc.want, Describe(want))
			}
		})
	}
}
