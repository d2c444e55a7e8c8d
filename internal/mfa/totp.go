package mfa

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"hash"
	"net/url"
	"strings"
	"time"
)

// The TOTP parameters inkpass uses: the ones every authenticator app
// supports (Google Authenticator ignores any other).
const (
	// Period is the time step X of RFC 6238 §4.
	Period = 30 * time.Second
	// Digits is the code length.
	Digits = 6
	// Skew is how many steps before and after the current one a code may be
	// from (RFC 6238 §5.2 recommends at most one for clock drift).
	Skew = 1
	// secretBytes is the key length: 160 bits, the HMAC-SHA1 output size
	// RFC 4226 §4 recommends.
	secretBytes = 20
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Step is the RFC 6238 time step T of t: the whole periods since the epoch.
func Step(t time.Time) int64 { return t.Unix() / int64(Period/time.Second) }

// hotp is RFC 4226's HOTP value of counter under key with the hash h,
// digits long (RFC 6238 uses it with T as the counter).
func hotp(h func() hash.Hash, key []byte, counter int64, digits int) string {
	mac := hmac.New(h, key)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

// Code is the 6-digit TOTP code of key at time t.
func Code(key []byte, t time.Time) string { return hotp(sha1.New, key, Step(t), Digits) }

// matchStep returns the time step within Skew of now whose code is code and
// that is after last (the last step accepted for this factor), or false.
// Every candidate is compared, in constant time, so the timing does not tell
// which step matched.
func matchStep(key []byte, code string, now time.Time, last int64) (int64, bool) {
	code = normalizeCode(code)
	if len(code) != Digits {
		return 0, false
	}
	cur := Step(now)
	var found int64
	ok := false
	for s := cur - Skew; s <= cur+Skew; s++ {
		if subtle.ConstantTimeCompare([]byte(hotp(sha1.New, key, s, Digits)), []byte(code)) == 1 && s > last && !ok {
			found, ok = s, true
		}
	}
	return found, ok
}

// normalizeCode drops the spaces and dashes people type into codes.
func normalizeCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

// newSecret is a fresh random TOTP key.
func newSecret() []byte {
	b := make([]byte, secretBytes)
	rand.Read(b)
	return b
}

// SecretText is key as people type it into an authenticator app: base32
// without padding, in groups of four.
func SecretText(key []byte) string {
	s := b32.EncodeToString(key)
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// ParseSecretText is SecretText's inverse (spaces and case ignored).
func ParseSecretText(s string) ([]byte, error) {
	s = strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	return b32.DecodeString(s)
}

// provisioningURI is the otpauth:// URI authenticator apps read from the QR
// code (the Key Uri Format of Google Authenticator).
func provisioningURI(issuer, account string, key []byte) string {
	label := url.PathEscape(issuer) + ":" + url.PathEscape(account)
	q := url.Values{
		"secret": {b32.EncodeToString(key)}, "issuer": {issuer},
		"algorithm": {"SHA1"}, "digits": {fmt.Sprint(Digits)}, "period": {fmt.Sprint(int(Period / time.Second))},
	}
	return "otpauth://totp/" + label + "?" + q.Encode()
}
