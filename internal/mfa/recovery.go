package mfa

import (
	"crypto/rand"
	"crypto/sha256"
	"strings"
)

// RecoveryCodeCount is how many recovery codes a user gets at a time.
const RecoveryCodeCount = 10

// recoveryBytes: 10 random bytes, 80 bits, per code. Guessing one of ten
// such codes takes about 2^76 tries against a throttled form, so the codes
// are stored as plain SHA-256 hashes: a password KDF's cost protects
// low-entropy secrets and buys nothing here.
const recoveryBytes = 10

// newRecoveryCodes returns RecoveryCodeCount fresh codes as shown to the
// user (16 base32 letters in four groups) and their hashes as stored.
func newRecoveryCodes() (codes []string, hashes [][]byte) {
	for range RecoveryCodeCount {
		b := make([]byte, recoveryBytes)
		rand.Read(b)
		s := strings.ToLower(b32.EncodeToString(b))
		codes = append(codes, s[0:4]+"-"+s[4:8]+"-"+s[8:12]+"-"+s[12:16])
		hashes = append(hashes, recoveryHash(s))
	}
	return codes, hashes
}

// recoveryHash is the stored form of a recovery code as typed: case, spaces
// and dashes do not matter.
func recoveryHash(code string) []byte {
	sum := sha256.Sum256([]byte(strings.ToLower(normalizeCode(code))))
	return sum[:]
}

// looksLikeRecoveryCode tells a recovery code from a TOTP code by its
// length, so one field on the sign-in page takes either.
func looksLikeRecoveryCode(code string) bool { return len(normalizeCode(code)) == 16 }
