package password

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestParse_CostBounds: a stored hash whose parameters would make one
// verification cost seconds (a failed attempt included) is refused before
// anything is computed, while every parameter set that werkzeug, Python's
// bcrypt, passlib and argon2-cffi have written by default is accepted.
func TestParse_CostBounds(t *testing.T) {
	argon := func(params string) string { return "$argon2id$v=19$" + params + "$" + b64salt + "$" + b64digest }
	bcryptCost := func(c string) string { return "$2b$" + c + "$" + bcrypt12[7:] }
	accepted := []struct{ name, encoded string }{
		{"werkzeug 3.1 pbkdf2 (1,000,000)", "pbkdf2:sha256:1000000$salt$" + hex64},
		{"werkzeug 2.3 pbkdf2 (600,000)", "pbkdf2:sha256:600000$salt$" + hex64},
		{"twice werkzeug's newest pbkdf2", "pbkdf2:sha256:2000000$salt$" + hex64},
		{"werkzeug 0.x pbkdf2 sha1 (1000)", "pbkdf2:sha1:1000$salt$" + hex64[:40]},
		{"werkzeug scrypt", "scrypt:32768:8:1$salt$" + hex128},
		{"passlib scrypt (2^16, 8, 1)", "scrypt:65536:8:1$salt$" + hex128},
		{"scrypt 2^17, 8, 2", "scrypt:131072:8:2$salt$" + hex128},
		{"Python bcrypt default (12)", bcrypt12},
		{"bcrypt 14", bcryptCost("14")},
		{"argon2-cffi 16.x (m=512,t=2,p=2)", argon("m=512,t=2,p=2")},
		{"argon2-cffi 18-21.1 (m=102400,t=2,p=8)", argon("m=102400,t=2,p=8")},
		{"argon2-cffi 21.2+ / RFC 9106 low memory (m=65536,t=3,p=4)", argon("m=65536,t=3,p=4")},
		{"OWASP argon2id", argon("m=19456,t=2,p=1")},
		{"OWASP argon2id, least memory (m=7168,t=5)", argon("m=7168,t=5,p=1")},
	}
	for _, tc := range accepted {
		t.Run(tc.name+" is accepted", func(t *testing.T) {
			if _, err := parse(tc.encoded, &defaultLimits); err != nil {
				t.Errorf("parse: %v", err)
			}
		})
	}
	refused := []struct{ name, encoded, says string }{
		{"pbkdf2 with 10 million iterations (2.2 s a try)", "pbkdf2:sha256:10000000$salt$" + hex64, "iterations"},
		{"pbkdf2 just above the bound", "pbkdf2:sha512:2000001$salt$" + hex128, "iterations"},
		{"bcrypt 15", bcryptCost("15"), "cost 15"},
		{"bcrypt 16", bcryptCost("16"), "cost 16"},
		{"scrypt 2^18 (256 MiB)", "scrypt:262144:8:1$salt$" + hex128, "scrypt"},
		{"scrypt N·r·p of 2^22", "scrypt:131072:8:4$salt$" + hex128, "scrypt"},
		{"scrypt r=32", "scrypt:16384:32:1$salt$" + hex128, "scrypt"},
		{"argon2id 256 MiB, 16 passes", argon("m=262144,t=16,p=1"), "argon2id"},
		{"argon2id 64 MiB, 16 passes", argon("m=65536,t=16,p=4"), "argon2id"},
		{"argon2id 256 MiB, 2 passes", argon("m=262144,t=2,p=4"), "argon2id"},
	}
	h := mustHasher(t, TargetArgon2id)
	for _, tc := range refused {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			before := h.Limiter().Stats().Completed
			ok, err := h.Verify(context.Background(), "secure_password", tc.encoded)
			if ok || !errors.Is(err, ErrMalformedHash) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("Verify = %v, %v; want false and a malformed-hash error naming %q", ok, err, tc.says)
			}
			if n := h.Limiter().Stats().Completed - before; n != 0 {
				t.Errorf("%d KDF runs for a refused hash, want 0", n)
			}
		})
	}
}
