package password

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// fuzzLimits keep every accepted input cheap, so the fuzzer explores parsing
// instead of spending seconds inside one allowed scrypt or bcrypt.
var fuzzLimits = limits{
	maxEncodedLen:    1024,
	scryptMaxN:       1 << 10,
	scryptMaxR:       8,
	scryptMaxP:       2,
	scryptMaxMemory:  1 << 20,
	pbkdf2MaxIter:    1000,
	bcryptMaxCost:    5,
	argon2MaxMemory:  1024,
	argon2MaxTime:    2,
	argon2MaxThreads: 4,
}

var describeShape = regexp.MustCompile(`^(unknown format|malformed (argon2id|bcrypt|scrypt|pbkdf2) hash|scrypt:\d+:\d+:\d+|pbkdf2:sha(1|224|256|384|512):\d+|argon2id m=\d+,t=\d+,p=\d+|bcrypt cost \d+)$`)

// FuzzVerify checks that no string reaching Verify, Identify, Describe or
// NeedsRehash panics, that every error is one of the two sentinels, and that
// Describe never returns anything but its fixed shapes (so never a salt, a
// digest or a plain password).
func FuzzVerify(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(v.Password, v.Hash)
	}
	for _, u := range studioFixture {
		f.Add(u.password, u.hash)
	}
	// Cheap hashes that pass fuzzLimits, so mutations start from strings that
	// reach the KDFs.
	cheapBcrypt, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		f.Fatalf("bcrypt: %v", err)
	}
	for _, s := range []string{
		string(cheapBcrypt),
		"scrypt:16:1:1$salt$" + strings.Repeat("0", 128),
		"pbkdf2:sha256:1$salt$" + strings.Repeat("0", 64),
		"pbkdf2:sha1$salt$" + strings.Repeat("0", 40),
		"$argon2id$v=19$m=64,t=1,p=1$" + b64salt + "$" + b64digest,
		"", "$", "scrypt:abc", "pbkdf2:md5:1$s$h", "$argon2id$v=19$m=x", "$2b$", "pässwörd 🔑",
	} {
		f.Add("pw", s)
	}

	h, err := newHasher(Policy{Target: TargetArgon2id, Argon2: testArgon2, MemoryBudget: 1 << 24}, testArgon2, fuzzLimits)
	if err != nil {
		f.Fatalf("newHasher: %v", err)
	}
	f.Fuzz(func(t *testing.T, plain, encoded string) {
		ok, err := h.Verify(context.Background(), plain, encoded)
		if err != nil {
			if ok {
				t.Errorf("Verify = true with error %v", err)
			}
			if !errors.Is(err, ErrMalformedHash) && !errors.Is(err, ErrUnknownFormat) {
				t.Errorf("Verify error %v wraps neither sentinel", err)
			}
			if len(encoded) >= 16 && strings.Contains(err.Error(), encoded) {
				t.Errorf("Verify error %q quotes the encoded string", err)
			}
		}
		_, idErr := Identify(encoded)
		if idErr != nil && !errors.Is(idErr, ErrMalformedHash) && !errors.Is(idErr, ErrUnknownFormat) {
			t.Errorf("Identify error %v wraps neither sentinel", idErr)
		}
		if d := Describe(encoded); !describeShape.MatchString(d) {
			t.Errorf("Describe = %q, not one of its fixed shapes", d)
		}
		h.NeedsRehash(encoded)
	})
}
