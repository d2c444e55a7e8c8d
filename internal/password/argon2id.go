package password

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// The PHC string format (as libargon2's encoder writes it and argon2-cffi
// stores it): $argon2id$v=19$m=M,t=T,p=P$SALT$HASH, salt and hash in
// standard base64 without padding.

// Salt and digest bounds in bytes. The minimums are libargon2's
// (ARGON2_MIN_SALT_LENGTH, ARGON2_MIN_OUTLEN); the maximums only keep the
// strings short.
const (
	argon2MinSalt = 8
	argon2MaxSalt = 64
	argon2MinKey  = 4
	argon2MaxKey  = 128
)

// b64 is strict so that one hash has exactly one spelling: non-zero padding
// bits in the last character are refused rather than ignored.
var b64 = base64.RawStdEncoding.Strict()

type argon2idHash struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	salt    []byte
	digest  []byte
}

func encodeArgon2id(p Argon2Params, salt, digest []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(digest))
}

func argon2idKey(plain string, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	return argon2.IDKey([]byte(plain), salt, time, memory, threads, keyLen)
}

func parseArgon2id(encoded string, lim *limits) (*argon2idHash, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) == 5 && strings.HasPrefix(parts[2], "m=") {
		// No v= field means version 0x10 (1.0), which x/crypto does not
		// implement; argon2-cffi has written v=19 since its first release.
		return nil, unknown("argon2id version 16 is not supported")
	}
	if len(parts) != 6 {
		return nil, malformed("argon2id hash has %d $-separated fields, want 6", len(parts))
	}
	version, ok := strings.CutPrefix(parts[2], "v=")
	if !ok {
		return nil, malformed("argon2id hash has no version field")
	}
	v, ok := parseDecimal(version)
	if !ok {
		return nil, malformed("argon2id version is not a decimal number")
	}
	if v != argon2.Version {
		return nil, unknown("argon2id version %d is not supported", v)
	}

	// libargon2's decoder requires exactly m, t, p in this order, and so do
	// we: keyid= and data= are never written by argon2-cffi.
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return nil, malformed("argon2id parameters are not m=,t=,p=")
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		s, ok := strings.CutPrefix(fields[i], name)
		if !ok {
			return nil, malformed("argon2id parameters are not m=,t=,p=")
		}
		if vals[i], ok = parseDecimal(s); !ok {
			return nil, malformed("argon2id parameter %s is not a decimal number", strings.TrimSuffix(name, "="))
		}
	}
	m, t, p := vals[0], vals[1], vals[2]
	switch {
	case p < 1 || p > lim.argon2MaxThreads:
		return nil, malformed("argon2id p %d is outside [1, %d]", p, lim.argon2MaxThreads)
	case t < 1 || t > lim.argon2MaxTime:
		return nil, malformed("argon2id t %d is outside [1, %d]", t, lim.argon2MaxTime)
	case m < 8*p || m > lim.argon2MaxMemory:
		// RFC 9106 §3.1: m >= 8·p KiB.
		return nil, malformed("argon2id m %d KiB is outside [8·p, %d]", m, lim.argon2MaxMemory)
	case lim.argon2MaxWork > 0 && m*t > lim.argon2MaxWork:
		return nil, malformed("argon2id m·t %d KiB-passes is above the limit %d", m*t, lim.argon2MaxWork)
	}

	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return nil, malformed("argon2id salt is not unpadded base64")
	}
	if len(salt) < argon2MinSalt || len(salt) > argon2MaxSalt {
		return nil, malformed("argon2id salt is %d bytes, outside [%d, %d]", len(salt), argon2MinSalt, argon2MaxSalt)
	}
	digest, err := b64.DecodeString(parts[5])
	if err != nil {
		return nil, malformed("argon2id digest is not unpadded base64")
	}
	if len(digest) < argon2MinKey || len(digest) > argon2MaxKey {
		return nil, malformed("argon2id digest is %d bytes, outside [%d, %d]", len(digest), argon2MinKey, argon2MaxKey)
	}
	return &argon2idHash{memory: uint32(m), time: uint32(t), threads: uint8(p), salt: salt, digest: digest}, nil
}

func (a *argon2idHash) format() Format    { return FormatArgon2id }
func (a *argon2idHash) memoryCost() int64 { return int64(a.memory) * 1024 }
func (a *argon2idHash) describe() string {
	return fmt.Sprintf("argon2id m=%d,t=%d,p=%d", a.memory, a.time, a.threads)
}

func (a *argon2idHash) matches(plain string) (bool, error) {
	key := argon2idKey(plain, a.salt, a.time, a.memory, a.threads, uint32(len(a.digest)))
	return subtle.ConstantTimeCompare(key, a.digest) == 1, nil
}
