package password

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// bcryptHash is a modular-crypt bcrypt string, $2b$CC$ + 22 salt + 31 hash
// characters. Verification is left to x/crypto/bcrypt; parse only makes sure
// the string is one the library will handle without surprises and that the
// cost is within bounds (x/crypto alone accepts up to 31, days of work).
type bcryptHash struct {
	cost    int
	encoded string
}

const (
	bcryptLen      = 60
	bcryptMinCost  = 4 // bcrypt.MinCost
	bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

var bcryptChar = func() (t [256]bool) {
	for i := 0; i < len(bcryptAlphabet); i++ {
		t[bcryptAlphabet[i]] = true
	}
	return t
}()

func parseBcrypt(encoded string, lim *limits) (*bcryptHash, error) {
	if len(encoded) != bcryptLen {
		return nil, malformed("bcrypt hash is %d bytes, want %d", len(encoded), bcryptLen)
	}
	// encoded[:4] is $2a$, $2b$ or $2y$ (checked by sniff).
	c, ok := parseDecimal(encoded[4:6])
	if !ok || encoded[6] != '$' {
		return nil, malformed("bcrypt cost is not two decimal digits")
	}
	if c < bcryptMinCost || c > uint64(lim.bcryptMaxCost) {
		return nil, malformed("bcrypt cost %d is outside [%d, %d]", c, bcryptMinCost, lim.bcryptMaxCost)
	}
	for i := 7; i < len(encoded); i++ {
		if !bcryptChar[encoded[i]] {
			return nil, malformed("bcrypt salt and hash are not bcrypt base64")
		}
	}
	return &bcryptHash{cost: int(c), encoded: encoded}, nil
}

func (b *bcryptHash) format() Format    { return FormatBcrypt }
func (b *bcryptHash) memoryCost() int64 { return smallKDFCost }
func (b *bcryptHash) describe() string  { return fmt.Sprintf("bcrypt cost %d", b.cost) }

// matches hands the password to x/crypto/bcrypt unchanged. The library reads
// only its first 72 bytes, exactly as Python's bcrypt did when it wrote the
// studio's hashes, so long passwords keep working; it compares in constant
// time.
func (b *bcryptHash) matches(plain string) (bool, error) {
	err := bcrypt.CompareHashAndPassword([]byte(b.encoded), []byte(plain))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	default:
		// The salt's last character can still carry bits bcrypt base64
		// cannot decode; the library reports that here.
		return false, malformed("bcrypt hash refused by the library (%v)", err)
	}
}
