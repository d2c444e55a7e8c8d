package mfa

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"testing"
	"time"
)

// TestRFC6238Vectors checks hotp over RFC 6238's time steps against the
// appendix B table (8 digits, the three hashes with their seeds).
func TestRFC6238Vectors(t *testing.T) {
	seeds := map[string]struct {
		h   func() hash.Hash
		key string
	}{
		"SHA1":   {sha1.New, "12345678901234567890"},
		"SHA256": {sha256.New, "12345678901234567890123456789012"},
		"SHA512": {sha512.New, "1234567890123456789012345678901234567890123456789012345678901234"},
	}
	tests := []struct {
		unix int64
		alg  string
		want string
	}{
		{59, "SHA1", "94287082"}, {59, "SHA256", "46119246"}, {59, "SHA512", "90693936"},
		{1111111109, "SHA1", "07081804"}, {1111111109, "SHA256", "68084774"}, {1111111109, "SHA512", "25091201"},
		{1111111111, "SHA1", "14050471"}, {1111111111, "SHA256", "67062674"}, {1111111111, "SHA512", "99943326"},
		{1234567890, "SHA1", "89005924"}, {1234567890, "SHA256", "91819424"}, {1234567890, "SHA512", "93441116"},
		{2000000000, "SHA1", "69279037"}, {2000000000, "SHA256", "90698825"}, {2000000000, "SHA512", "38618901"},
		{20000000000, "SHA1", "65353130"}, {20000000000, "SHA256", "77737706"}, {20000000000, "SHA512", "47863826"},
	}
	for _, tt := range tests {
		s := seeds[tt.alg]
		got := hotp(s.h, []byte(s.key), Step(time.Unix(tt.unix, 0)), 8)
		if got != tt.want {
			t.Errorf("TOTP %s at %d = %s, want %s", tt.alg, tt.unix, got, tt.want)
		}
	}
	// The 6-digit code apps show is the last six digits of the same value.
	if got := Code([]byte("12345678901234567890"), time.Unix(59, 0)); got != "287082" {
		t.Errorf("Code at 59 = %s, want 287082", got)
	}
}

// TestMatchStepDrift accepts the step before and after now and no further,
// and never a step at or before the last accepted one.
func TestMatchStepDrift(t *testing.T) {
	key := []byte("12345678901234567890")
	now := time.Unix(1111111111, 0)
	cur := Step(now)
	tests := []struct {
		name   string
		offset time.Duration
		last   int64
		want   bool
	}{
		{"current step", 0, 0, true},
		{"one step behind", -Period, 0, true},
		{"one step ahead", Period, 0, true},
		{"two steps behind", -2 * Period, 0, false},
		{"two steps ahead", 2 * Period, 0, false},
		{"already used step", 0, cur, false},
		{"older than the last used", -Period, cur, false},
		{"newer than the last used", Period, cur, true},
	}
	for _, tt := range tests {
		code := Code(key, now.Add(tt.offset))
		step, ok := matchStep(key, code, now, tt.last)
		if ok != tt.want {
			t.Errorf("%s: ok = %v, want %v", tt.name, ok, tt.want)
		}
		if ok && step != Step(now.Add(tt.offset)) {
			t.Errorf("%s: step = %d, want %d", tt.name, step, Step(now.Add(tt.offset)))
		}
	}
	if _, ok := matchStep(key, "12345", now, 0); ok {
		t.Error("a 5-digit code matched")
	}
}

func TestSecretTextRoundTrip(t *testing.T) {
	key := newSecret()
	got, err := ParseSecretText(SecretText(key))
	if err != nil || string(got) != string(key) {
		t.Fatalf("ParseSecretText(SecretText(key)) = %x, %v; want %x", got, err, key)
	}
}
