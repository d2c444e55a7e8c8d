package password

import (
	"fmt"
	"strings"
)

// decoded is one parsed hash string, ready to verify.
type decoded interface {
	format() Format
	// memoryCost is the bytes the KDF holds while it runs; the Limiter
	// acquires it before matches is called.
	memoryCost() int64
	// matches recomputes the digest for plain and compares it in constant
	// time. An error means the library refused parameters that parse let
	// through, which is a bug here rather than a wrong password.
	matches(plain string) (bool, error)
	describe() string
	// work is the hash's work, comparable within its family only.
	work() uint64
	// lookalike returns a new hash with the same family and parameters and
	// a random salt and digest, for VerifyDummy.
	lookalike() (string, error)
}

// limits are the largest parameters parse accepts. They exist so that a
// hostile or corrupted row cannot make Verify allocate gigabytes or spin for
// minutes; see the package documentation for the reasoning behind each.
type limits struct {
	maxEncodedLen int

	scryptMaxN      uint64
	scryptMaxR      uint64
	scryptMaxP      uint64
	scryptMaxMemory int64  // bytes, 128·N·r
	scryptMaxWork   uint64 // N·r·p, which the time grows with; 0 means no bound

	pbkdf2MaxIter uint64

	bcryptMaxCost int

	argon2MaxMemory  uint64 // KiB
	argon2MaxTime    uint64
	argon2MaxThreads uint64
	argon2MaxWork    uint64 // m·t in KiB-passes, which the time grows with; 0 means no bound
}

// defaultLimits sit at about twice the costliest default any of werkzeug,
// Python's bcrypt, passlib and argon2-cffi has written, so every stored hash
// those made verifies, and one row cannot make a sign-in (failed or not) cost
// seconds (figures in docs/performance.md).
//
//   - pbkdf2: werkzeug 3.1 writes 1,000,000 iterations (2.3: 600,000);
//   - scrypt: werkzeug writes N=2^15, r=8, p=1 (N·r·p = 2^18), passlib N=2^16;
//   - bcrypt: Python's bcrypt and passlib default to cost 12;
//   - argon2id: argon2-cffi 18 to 21.1 wrote m=102400 KiB, t=2 (m·t =
//     204800), 21.2 on m=65536, t=3 (196608).
var defaultLimits = limits{
	maxEncodedLen: 1024,

	scryptMaxN:      1 << 17,
	scryptMaxR:      16,
	scryptMaxP:      16,
	scryptMaxMemory: 128 << 20,
	scryptMaxWork:   1 << 21,

	pbkdf2MaxIter: 2_000_000,

	bcryptMaxCost: 14,

	argon2MaxMemory:  256 << 10,
	argon2MaxTime:    16,
	argon2MaxThreads: 16,
	argon2MaxWork:    409_600,
}

// Fixed cost charged to the Limiter for the KDFs whose memory does not grow
// with their parameters, so they still count towards concurrency.
const smallKDFCost = 64 << 10

// malformed builds an error wrapping ErrMalformedHash. Messages must never
// quote the encoded string: it may be a plain password in a broken row.
func malformed(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, ErrMalformedHash)...)
}

func unknown(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, ErrUnknownFormat)...)
}

// parse decodes encoded into one of the verifiable families, checking syntax,
// digest length and every parameter against lim before anything is computed.
func parse(encoded string, lim *limits) (decoded, error) {
	if encoded == "" {
		return nil, malformed("empty hash")
	}
	if len(encoded) > lim.maxEncodedLen {
		return nil, malformed("hash is %d bytes, longer than the %d allowed", len(encoded), lim.maxEncodedLen)
	}
	switch sniff(encoded) {
	case FormatArgon2id:
		return parseArgon2id(encoded, lim)
	case FormatBcrypt:
		return parseBcrypt(encoded, lim)
	case FormatWerkzeugScrypt:
		return parseWerkzeugScrypt(encoded, lim)
	case FormatWerkzeugPBKDF2:
		return parseWerkzeugPBKDF2(encoded, lim)
	}
	switch {
	case strings.HasPrefix(encoded, "$argon2i$"), strings.HasPrefix(encoded, "$argon2d$"):
		// Argon2id is the only variant RFC 9106 recommends for passwords,
		// and x/crypto offers no argon2d.
		return nil, unknown("only argon2id is supported among argon2 variants")
	case strings.HasPrefix(encoded, "$2"):
		// $2x$ marks crypt_blowfish's sign-extension bug; x/crypto would
		// silently compute the fixed algorithm and never match.
		return nil, unknown("only $2a$, $2b$ and $2y$ bcrypt variants are supported")
	}
	return nil, unknown("not a werkzeug scrypt or pbkdf2, bcrypt, or argon2id hash")
}

// sniff names the family encoded claims to be, from its prefix alone.
func sniff(encoded string) Format {
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		return FormatArgon2id
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		return FormatBcrypt
	}
	// werkzeug: METHOD$SALT$HEX with METHOD = NAME[:ARG...].
	method, _, _ := strings.Cut(encoded, "$")
	name, _, _ := strings.Cut(method, ":")
	switch name {
	case "scrypt":
		return FormatWerkzeugScrypt
	case "pbkdf2":
		return FormatWerkzeugPBKDF2
	}
	return ""
}

// parseDecimal reads a parameter the way werkzeug and libargon2 write one:
// ASCII digits only, no sign, space or underscore, and short enough not to
// overflow, so bounds checks afterwards compare real values.
func parseDecimal(s string) (uint64, bool) {
	if s == "" || len(s) > 19 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}
