package password

import (
	"context"
	"strings"
	"testing"
)

// werkzeugAccepts mirrors the first step of werkzeug's check_password_hash
// (werkzeug/security.py): `method, salt, hashval = pwhash.split("$", 2)`
// inside try/except ValueError -> return False (2.3 and later), or
// `if pwhash.count("$") < 2: return False` (earlier). A string without two
// "$" is refused before any method is looked up, so no version raises or
// compares anything for it.
func werkzeugAccepts(pwhash string) bool { return len(strings.SplitN(pwhash, "$", 3)) == 3 }

// TestUnset: the invited account's marker verifies no password, costs a
// dummy verification (so it answers like a wrong password), is described in
// words, and is refused by werkzeug's format rule.
func TestUnset(t *testing.T) {
	t.Parallel()
	for _, target := range []Target{TargetArgon2id, TargetWerkzeug, TargetOff} {
		h := mustHasher(t, target)
		for _, plain := range []string{"", Unset, "!inkpass-no-password", "correct horse battery staple"} {
			ok, err := h.Verify(context.Background(), plain, Unset)
			if ok || err != nil {
				t.Errorf("%s: Verify(%q, Unset) = %v, %v; want false, nil", target, plain, ok, err)
			}
		}
		if h.NeedsRehash(Unset) {
			t.Errorf("%s: NeedsRehash(Unset) = true: an invited account is no weak hash", target)
		}
		if s := h.Limiter().Stats(); s.Completed != 4 {
			t.Errorf("%s: Completed = %d after 4 verifications against Unset, want 4 (each spends the dummy's work)", target, s.Completed)
		}
	}
	if d := Describe(Unset); d != "no password yet" {
		t.Errorf("Describe(Unset) = %q", d)
	}
	if werkzeugAccepts(Unset) {
		t.Errorf("Unset %q splits into werkzeug's three parts; check_password_hash would look its method up", Unset)
	}
	// The rule above is werkzeug's: every vector it made splits in three.
	for _, v := range loadVectors(t) {
		if !werkzeugAccepts(v.Hash) {
			t.Errorf("werkzeug vector %q does not split in three: the mirror of its rule is wrong", v.Hash)
		}
	}
	if len(Unset) > 255 {
		t.Errorf("Unset is %d bytes; users.password_hash is VARCHAR(255)", len(Unset))
	}
}
