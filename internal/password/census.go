package password

import (
	"crypto/rand"
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// Census counts stored hashes by family and parameters, to find the ones most
// users hold: an unknown username must cost what a known one usually costs,
// and on an adopted database that is the studio's legacy format, not the
// target. The zero value is ready to use; it is not safe for concurrent use.
type Census struct {
	families map[Format]int
	groups   map[string]*censusGroup
}

type censusGroup struct {
	d       decoded
	encoded string
	n       int
}

// Add counts encoded. Strings that do not parse (or are refused) are not
// counted: nobody signs in through them.
func (c *Census) Add(encoded string) {
	d, err := parse(encoded, &defaultLimits)
	if err != nil {
		return
	}
	if c.groups == nil {
		c.families, c.groups = map[Format]int{}, map[string]*censusGroup{}
	}
	c.families[d.format()]++
	key := d.describe()
	g := c.groups[key]
	if g == nil {
		g = &censusGroup{d: d, encoded: encoded}
		c.groups[key] = g
	}
	g.n++
}

// Dominant returns one stored hash of the family most hashes belong to, with
// the parameters most hashes of that family share; among equally common
// parameters, the costliest (so an unknown username is never the quickest
// answer), and among equally common families, the first in Format order. ok
// is false when nothing was counted.
func (c *Census) Dominant() (encoded string, ok bool) {
	var best Format
	for _, f := range []Format{FormatArgon2id, FormatWerkzeugScrypt, FormatWerkzeugPBKDF2, FormatBcrypt} {
		if c.families[f] > c.families[best] {
			best = f
		}
	}
	var top *censusGroup
	for _, g := range c.groups {
		if g.d.format() != best {
			continue
		}
		if top == nil || g.n > top.n || (g.n == top.n && (g.d.work() > top.d.work() ||
			g.d.work() == top.d.work() && g.encoded < top.encoded)) {
			top = g
		}
	}
	if top == nil {
		return "", false
	}
	return top.encoded, true
}

// SetDummyLike makes VerifyDummy verify against a hash of encoded's family and
// parameters (salt and digest random, so it matches no password), instead of
// the target format. Safe to call while the Hasher is in use. It returns an
// error, and changes nothing, when encoded does not parse.
func (h *Hasher) SetDummyLike(encoded string) error {
	d, err := parse(encoded, &h.limits)
	if err != nil {
		return fmt.Errorf("set dummy hash: %w", err)
	}
	dummy, err := d.lookalike()
	if err != nil {
		return fmt.Errorf("set dummy hash: %w", err)
	}
	h.dummy.Store(&dummy)
	return nil
}

// lookalike builds a hash with the same family and parameters as s.
func (s *scryptHash) lookalike() (string, error) {
	digest := make([]byte, werkzeugScryptKeyLen)
	rand.Read(digest)
	return fmt.Sprintf("scrypt:%d:%d:%d$%s$%s", s.n, s.r, s.p, werkzeugSalt(), hexLower(digest)), nil
}

func (s *pbkdf2Hash) lookalike() (string, error) {
	digest := make([]byte, len(s.digest))
	rand.Read(digest)
	return fmt.Sprintf("pbkdf2:%s:%d$%s$%s", s.prf, s.iter, werkzeugSalt(), hexLower(digest)), nil
}

// bcrypt's salt is a 16-byte value in its own base64; the simplest correct
// string is a real hash of a random password, made once per refresh.
func (b *bcryptHash) lookalike() (string, error) {
	out, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), b.cost)
	if err != nil {
		return "", fmt.Errorf("make bcrypt dummy: %w", err)
	}
	return string(out), nil
}

func (a *argon2idHash) lookalike() (string, error) {
	salt, digest := make([]byte, len(a.salt)), make([]byte, len(a.digest))
	rand.Read(salt)
	rand.Read(digest)
	return encodeArgon2id(Argon2Params{Memory: a.memory, Time: a.time, Threads: a.threads}, salt, digest), nil
}

// work is a within-family measure of a hash's work, for Census ties.
func (s *scryptHash) work() uint64   { return uint64(s.n) * uint64(s.r) * uint64(s.p) }
func (s *pbkdf2Hash) work() uint64   { return uint64(s.iter) * uint64(s.newHash().BlockSize()) }
func (b *bcryptHash) work() uint64   { return 1 << b.cost }
func (a *argon2idHash) work() uint64 { return uint64(a.memory) * uint64(a.time) }
