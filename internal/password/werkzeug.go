package password

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash"
	"math/bits"
	"strings"

	"golang.org/x/crypto/scrypt"
)

// werkzeug (werkzeug/security.py) writes METHOD$SALT$HEXDIGEST. The salt is
// used as its UTF-8 bytes, not decoded, and the digest is lower-case hex that
// check_password_hash compares as a string, so only lower case ever matches
// there and only lower case is accepted here.

// werkzeug 3.1's DEFAULT_PBKDF2_ITERATIONS: what a bare "pbkdf2" or
// "pbkdf2:HASH" method means to the werkzeug that wrote the test vectors.
const werkzeugPBKDF2DefaultIter = 1_000_000

// werkzeugSaltChars is werkzeug's SALT_CHARS (string.ascii_letters + digits).
const werkzeugSaltChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// werkzeugSalt returns werkzeug's gen_salt(16): uniform over its alphabet.
// Bytes of 248 and above are dropped so the modulo does not favour any
// character (248 = 4·62).
func werkzeugSalt() string {
	out := make([]byte, 0, werkzeugSaltLen)
	var buf [32]byte
	for len(out) < werkzeugSaltLen {
		rand.Read(buf[:])
		for _, c := range buf {
			if c >= 248 {
				continue
			}
			out = append(out, werkzeugSaltChars[int(c)%len(werkzeugSaltChars)])
			if len(out) == werkzeugSaltLen {
				break
			}
		}
	}
	return string(out)
}

// hexLower is how werkzeug writes digests (bytes.hex()).
func hexLower(b []byte) string { return hex.EncodeToString(b) }

func encodeWerkzeugScrypt(salt string, digest []byte) string {
	return fmt.Sprintf("scrypt:%d:%d:%d$%s$%s", werkzeugScryptN, werkzeugScryptR, werkzeugScryptP, salt, hexLower(digest))
}

// splitWerkzeug cuts METHOD$SALT$HEX into its parts and the method's
// colon-separated arguments. werkzeug splits on the first two "$" only, so a
// salt never holds "$"; the digest check refuses any "$" left in the digest.
func splitWerkzeug(encoded, family string) (args []string, salt, digest string, err error) {
	method, rest, ok := strings.Cut(encoded, "$")
	if !ok {
		return nil, "", "", malformed("%s hash has no salt or digest", family)
	}
	salt, digest, ok = strings.Cut(rest, "$")
	if !ok {
		return nil, "", "", malformed("%s hash has no digest", family)
	}
	if salt == "" {
		// werkzeug's gen_salt refuses length < 1, so it never writes one.
		return nil, "", "", malformed("%s hash has an empty salt", family)
	}
	args = strings.Split(method, ":")[1:]
	return args, salt, digest, nil
}

// decodeHexDigest decodes a lower-case hex digest of exactly want bytes.
func decodeHexDigest(s string, want int, family string) ([]byte, error) {
	if len(s) != 2*want {
		return nil, malformed("%s digest is %d hex characters, want %d", family, len(s), 2*want)
	}
	out := make([]byte, want)
	for i := 0; i < want; i++ {
		hi, ok1 := hexNibble(s[2*i])
		lo, ok2 := hexNibble(s[2*i+1])
		if !ok1 || !ok2 {
			return nil, malformed("%s digest is not lower-case hex", family)
		}
		out[i] = hi<<4 | lo
	}
	return out, nil
}

func hexNibble(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// scryptHash is werkzeug's "scrypt:N:r:p$salt$hex", 64-byte key.
type scryptHash struct {
	n, r, p int
	salt    string
	digest  []byte
}

// scryptMemoryCost is the V array scrypt allocates (128·r·N bytes), which
// dominates its memory; the p blocks of 128·r are negligible beside it.
func scryptMemoryCost(n, r int) int64 { return 128 * int64(n) * int64(r) }

func parseWerkzeugScrypt(encoded string, lim *limits) (*scryptHash, error) {
	args, salt, digestHex, err := splitWerkzeug(encoded, "scrypt")
	if err != nil {
		return nil, err
	}
	n, r, p := uint64(werkzeugScryptN), uint64(werkzeugScryptR), uint64(werkzeugScryptP)
	switch len(args) {
	case 0:
		// A bare "scrypt" means werkzeug's defaults; werkzeug itself always
		// writes the numbers, but its check_password_hash accepts this.
	case 3:
		var ok1, ok2, ok3 bool
		n, ok1 = parseDecimal(args[0])
		r, ok2 = parseDecimal(args[1])
		p, ok3 = parseDecimal(args[2])
		if !ok1 || !ok2 || !ok3 {
			return nil, malformed("scrypt parameters are not decimal numbers")
		}
	default:
		return nil, malformed("scrypt takes 3 parameters, got %d", len(args))
	}
	switch {
	case n < 2 || n&(n-1) != 0:
		return nil, malformed("scrypt N %d is not a power of two above 1", n)
	case n > lim.scryptMaxN:
		return nil, malformed("scrypt N 2^%d is above the limit 2^%d", bits.Len64(n)-1, bits.Len64(lim.scryptMaxN)-1)
	case r < 1 || r > lim.scryptMaxR:
		return nil, malformed("scrypt r %d is outside [1, %d]", r, lim.scryptMaxR)
	case p < 1 || p > lim.scryptMaxP:
		return nil, malformed("scrypt p %d is outside [1, %d]", p, lim.scryptMaxP)
	case scryptMemoryCost(int(n), int(r)) > lim.scryptMaxMemory:
		return nil, malformed("scrypt N·r needs %d bytes, above the limit %d", scryptMemoryCost(int(n), int(r)), lim.scryptMaxMemory)
	case lim.scryptMaxWork > 0 && n*r*p > lim.scryptMaxWork:
		return nil, malformed("scrypt N·r·p %d is above the limit %d", n*r*p, lim.scryptMaxWork)
	}
	digest, err := decodeHexDigest(digestHex, werkzeugScryptKeyLen, "scrypt")
	if err != nil {
		return nil, err
	}
	return &scryptHash{n: int(n), r: int(r), p: int(p), salt: salt, digest: digest}, nil
}

func (s *scryptHash) format() Format    { return FormatWerkzeugScrypt }
func (s *scryptHash) memoryCost() int64 { return scryptMemoryCost(s.n, s.r) }
func (s *scryptHash) describe() string  { return fmt.Sprintf("scrypt:%d:%d:%d", s.n, s.r, s.p) }

func (s *scryptHash) matches(plain string) (bool, error) {
	key, err := scryptKey(plain, s.salt, s.n, s.r, s.p)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(key, s.digest) == 1, nil
}

func scryptKey(plain, salt string, n, r, p int) ([]byte, error) {
	key, err := scrypt.Key([]byte(plain), []byte(salt), n, r, p, werkzeugScryptKeyLen)
	if err != nil {
		return nil, fmt.Errorf("derive scrypt key: %w", err)
	}
	return key, nil
}

// pbkdf2Hash is werkzeug's "pbkdf2:HASH:ITERATIONS$salt$hex"; the key length
// is the digest size of HASH, as hashlib.pbkdf2_hmac's default dklen.
type pbkdf2Hash struct {
	prf     string
	newHash func() hash.Hash
	iter    int
	salt    string
	digest  []byte
}

// pbkdf2PRFs are the hashlib names werkzeug users pick in practice. md5 and
// the rest are refused as unknown: nobody should be logging in through them.
var pbkdf2PRFs = map[string]func() hash.Hash{
	"sha1":   sha1.New,
	"sha224": sha256.New224,
	"sha256": sha256.New,
	"sha384": sha512.New384,
	"sha512": sha512.New,
}

func parseWerkzeugPBKDF2(encoded string, lim *limits) (*pbkdf2Hash, error) {
	args, salt, digestHex, err := splitWerkzeug(encoded, "pbkdf2")
	if err != nil {
		return nil, err
	}
	// werkzeug's _hash_internal: no argument means sha256 and the default
	// iterations, one means that hash and the default iterations.
	prf, iter := "sha256", uint64(werkzeugPBKDF2DefaultIter)
	switch len(args) {
	case 0:
	case 1:
		prf = args[0]
	case 2:
		prf = args[0]
		var ok bool
		if iter, ok = parseDecimal(args[1]); !ok {
			return nil, malformed("pbkdf2 iterations are not a decimal number")
		}
	default:
		return nil, malformed("pbkdf2 takes at most 2 parameters, got %d", len(args))
	}
	newHash, ok := pbkdf2PRFs[prf]
	if !ok {
		return nil, unknown("pbkdf2 hash function is not one of sha1, sha224, sha256, sha384, sha512")
	}
	if iter < 1 || iter > lim.pbkdf2MaxIter {
		return nil, malformed("pbkdf2 iterations %d are outside [1, %d]", iter, lim.pbkdf2MaxIter)
	}
	digest, err := decodeHexDigest(digestHex, newHash().Size(), "pbkdf2")
	if err != nil {
		return nil, err
	}
	return &pbkdf2Hash{prf: prf, newHash: newHash, iter: int(iter), salt: salt, digest: digest}, nil
}

func (s *pbkdf2Hash) format() Format    { return FormatWerkzeugPBKDF2 }
func (s *pbkdf2Hash) memoryCost() int64 { return smallKDFCost }
func (s *pbkdf2Hash) describe() string  { return fmt.Sprintf("pbkdf2:%s:%d", s.prf, s.iter) }

func (s *pbkdf2Hash) matches(plain string) (bool, error) {
	key, err := pbkdf2.Key(s.newHash, plain, []byte(s.salt), s.iter, len(s.digest))
	if err != nil {
		return false, fmt.Errorf("derive pbkdf2 key: %w", err)
	}
	return subtle.ConstantTimeCompare(key, s.digest) == 1, nil
}
