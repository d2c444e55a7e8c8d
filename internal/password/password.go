package password

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// ErrMalformedHash means an encoded hash belongs to a known family but cannot
// be used: bad syntax, a digest of the wrong length, or parameters outside the
// bounds listed in the package documentation.
var ErrMalformedHash = errors.New("malformed password hash")

// ErrUnknownFormat means an encoded hash is not one of the formats this
// package verifies (for example argon2i, md5 pbkdf2, or a plain password).
var ErrUnknownFormat = errors.New("unknown password hash format")

// Format names the hash families.
type Format string

// The hash families Verify understands.
const (
	FormatArgon2id       Format = "argon2id"
	FormatWerkzeugScrypt Format = "scrypt"
	FormatWerkzeugPBKDF2 Format = "pbkdf2"
	FormatBcrypt         Format = "bcrypt"
)

// Target is the policy's format for new and upgraded hashes.
type Target string

const (
	// TargetArgon2id writes argon2id PHC strings with the policy's Argon2
	// parameters and asks for a rehash of anything else.
	TargetArgon2id Target = "argon2id"
	// TargetWerkzeug writes werkzeug's default "scrypt:32768:8:1$salt$hex" so
	// that the studio's Python app can still verify every password inkpass
	// stores. It asks for a rehash of anything that is not werkzeug scrypt at
	// least that strong, argon2id included, because werkzeug cannot verify
	// argon2id.
	TargetWerkzeug Target = "werkzeug"
	// TargetOff writes argon2id for new passwords but never asks for a rehash,
	// so existing rows are only changed by an explicit password change.
	TargetOff Target = "off"
)

// werkzeug's generate_password_hash defaults since 2.3; TargetWerkzeug writes
// exactly these so the output is indistinguishable from the Python app's.
const (
	werkzeugScryptN      = 1 << 15
	werkzeugScryptR      = 8
	werkzeugScryptP      = 1
	werkzeugScryptKeyLen = 64
	werkzeugSaltLen      = 16
)

// Argon2Params are the argon2id cost parameters for new hashes.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// OWASPArgon2 returns the OWASP Password Storage Cheat Sheet minimum for
// argon2id: m=19456 KiB (19 MiB), t=2, p=1, 16-byte salt, 32-byte key.
// NewHasher refuses anything weaker in any single field.
func OWASPArgon2() Argon2Params {
	return Argon2Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// LowCostArgon2ForTests returns argon2id parameters for tests about rules
// rather than hashing (user service rules, sign-in flows, CLI commands): one
// pass over RFC 9106's smallest memory for one lane, 8 KiB, so a hash costs
// microseconds instead of tens of milliseconds. Salt and key keep their
// production sizes so the PHC strings look like real ones. Only
// NewTestHasher accepts them; NewHasher, and so config, refuses them.
func LowCostArgon2ForTests() Argon2Params {
	return Argon2Params{Memory: 8, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// memoryCost is what one argon2id computation with p holds, in bytes.
func (p Argon2Params) memoryCost() int64 { return int64(p.Memory) * 1024 }

// Policy configures a Hasher.
type Policy struct {
	Target Target
	// Argon2 is used for new hashes when Target is argon2id or off, and is the
	// floor for NeedsRehash with TargetArgon2id. It may be left zero with
	// TargetWerkzeug.
	Argon2 Argon2Params
	// MemoryBudget is how many bytes all concurrent hash operations of this
	// Hasher may hold together. It must cover at least one hash in the target
	// format.
	MemoryBudget int64
}

// Hasher hashes and verifies passwords under one Policy. It is safe for
// concurrent use; concurrency is bounded by its Limiter.
type Hasher struct {
	target Target
	argon2 Argon2Params
	limits limits
	lim    *Limiter
	// dummy is a hash with random salt and digest, in the target format
	// until SetDummyLike names the format most users hold. It matches no
	// password; VerifyDummy verifies against it so that an unknown username
	// does the same parse, wait and KDF work as a known one.
	dummy atomic.Pointer[string]
	// observe reports verifications (SetObserver); nil when unset.
	observe func(Verification)
}

// Verification is what an observer hears of one verification: the family and
// parameters computed and how long it took, queueing included. It never says
// whether the password matched: counted by result, verifications tell who
// guessed right.
type Verification struct {
	Format Format
	Took   time.Duration
	d      decoded
}

// Params are the verified hash's parameters as Describe writes them, e.g.
// "scrypt:32768:8:1". Formatted on demand: the server's observer (metrics)
// reads only Took, and this runs on every sign-in.
func (v Verification) Params() string { return v.d.describe() }

// NewHasher validates p and returns a Hasher for it. Every problem is reported
// at once: a target outside argon2id, werkzeug and off; Argon2 parameters below
// OWASPArgon2 (or above the bounds Verify accepts, which would write hashes
// inkpass itself refuses); a MemoryBudget smaller than one hash in the target
// format.
func NewHasher(p Policy) (*Hasher, error) {
	return newHasher(p, OWASPArgon2(), defaultLimits)
}

// NewTestHasher is NewHasher with the Argon2 floor lowered from OWASPArgon2
// to LowCostArgon2ForTests, for tests in other packages whose subject is a
// rule rather than hashing. It is for _test.go files only: production code
// builds its Hasher with NewHasher from config, which keeps the OWASP floor.
// The werkzeug target is unchanged (it always writes werkzeug's own scrypt
// parameters), and internal/password's own tests and one adoption test keep
// verifying real-cost hashes.
func NewTestHasher(p Policy) (*Hasher, error) {
	return newHasher(p, LowCostArgon2ForTests(), defaultLimits)
}

// newHasher lets tests lower the Argon2 floor (so a thousand hashes run in a
// second) and tighten the parse limits (so fuzzing cannot spend minutes on one
// allowed-but-expensive input). Production code goes through NewHasher.
func newHasher(p Policy, floor Argon2Params, lim limits) (*Hasher, error) {
	var errs []error
	var targetCost int64
	switch p.Target {
	case TargetArgon2id, TargetOff:
		errs = append(errs, checkArgon2Params(p.Argon2, floor, lim)...)
		targetCost = p.Argon2.memoryCost()
	case TargetWerkzeug:
		if p.Argon2 != (Argon2Params{}) {
			errs = append(errs, checkArgon2Params(p.Argon2, floor, lim)...)
		}
		targetCost = scryptMemoryCost(werkzeugScryptN, werkzeugScryptR)
	default:
		errs = append(errs, fmt.Errorf("target %q is not one of %q, %q, %q", p.Target, TargetArgon2id, TargetWerkzeug, TargetOff))
	}
	if targetCost > 0 && p.MemoryBudget < targetCost {
		errs = append(errs, fmt.Errorf("memory budget %d bytes is below the %d bytes one %s hash needs", p.MemoryBudget, targetCost, p.Target))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("invalid password policy: %w", err)
	}

	h := &Hasher{
		target: p.Target,
		argon2: p.Argon2,
		limits: lim,
		lim:    newLimiter(p.MemoryBudget),
	}
	var dummy string
	if p.Target == TargetWerkzeug {
		digest := make([]byte, werkzeugScryptKeyLen)
		rand.Read(digest)
		dummy = encodeWerkzeugScrypt(werkzeugSalt(), digest)
	} else {
		salt := make([]byte, p.Argon2.SaltLen)
		digest := make([]byte, p.Argon2.KeyLen)
		rand.Read(salt)
		rand.Read(digest)
		dummy = encodeArgon2id(p.Argon2, salt, digest)
	}
	h.dummy.Store(&dummy)
	return h, nil
}

func checkArgon2Params(a, floor Argon2Params, lim limits) []error {
	var errs []error
	check := func(name string, got, lo, hi uint64, unit string) {
		switch {
		case got < lo:
			errs = append(errs, fmt.Errorf("argon2 %s %d%s is below the minimum %d%s", name, got, unit, lo, unit))
		case got > hi:
			errs = append(errs, fmt.Errorf("argon2 %s %d%s is above the maximum %d%s", name, got, unit, hi, unit))
		}
	}
	check("memory", uint64(a.Memory), uint64(floor.Memory), lim.argon2MaxMemory, " KiB")
	check("time", uint64(a.Time), max(uint64(floor.Time), 1), lim.argon2MaxTime, "")
	check("threads", uint64(a.Threads), max(uint64(floor.Threads), 1), lim.argon2MaxThreads, "")
	check("salt length", uint64(a.SaltLen), max(uint64(floor.SaltLen), argon2MinSalt), argon2MaxSalt, " bytes")
	check("key length", uint64(a.KeyLen), max(uint64(floor.KeyLen), argon2MinKey), argon2MaxKey, " bytes")
	if lim.argon2MaxWork > 0 && uint64(a.Memory)*uint64(a.Time) > lim.argon2MaxWork {
		errs = append(errs, fmt.Errorf("argon2 memory × time %d KiB-passes is above the maximum %d", uint64(a.Memory)*uint64(a.Time), lim.argon2MaxWork))
	}
	// RFC 9106 §3.1: m must be at least 8·p; x/crypto would silently raise it.
	if a.Threads > 0 && uint64(a.Memory) < 8*uint64(a.Threads) {
		errs = append(errs, fmt.Errorf("argon2 memory %d KiB is below 8 KiB per thread", a.Memory))
	}
	return errs
}

// Limiter returns the limiter every Hash and Verify of h runs under, for
// metrics and tests.
func (h *Hasher) Limiter() *Limiter { return h.lim }

// Hash returns a new hash of plain in the target's format (argon2id when the
// target is off). It waits for memory from the Limiter and returns ctx.Err(),
// wrapped, if ctx ends first. Password rules (length and so on) are the
// caller's: Hash accepts any string, the empty one included.
func (h *Hasher) Hash(ctx context.Context, plain string) (string, error) {
	if h.target == TargetWerkzeug {
		salt := werkzeugSalt()
		release, err := h.lim.acquire(ctx, scryptMemoryCost(werkzeugScryptN, werkzeugScryptR))
		if err != nil {
			return "", fmt.Errorf("hash password: wait for hashing memory: %w", err)
		}
		defer release()
		digest, err := scryptKey(plain, salt, werkzeugScryptN, werkzeugScryptR, werkzeugScryptP)
		if err != nil {
			return "", fmt.Errorf("hash password: %w", err)
		}
		return encodeWerkzeugScrypt(salt, digest), nil
	}

	salt := make([]byte, h.argon2.SaltLen)
	rand.Read(salt) // never fails since Go 1.24; it crashes the program instead
	release, err := h.lim.acquire(ctx, h.argon2.memoryCost())
	if err != nil {
		return "", fmt.Errorf("hash password: wait for hashing memory: %w", err)
	}
	defer release()
	digest := argon2idKey(plain, salt, h.argon2.Time, h.argon2.Memory, h.argon2.Threads, h.argon2.KeyLen)
	return encodeArgon2id(h.argon2, salt, digest), nil
}

// Unset is the password_hash of an account whose person has not chosen a
// password yet (an invitation is out): users.password_hash is NOT NULL, so
// the row needs a value that no password matches. Verify answers it as a
// wrong password (after the dummy's work). The studio's werkzeug
// check_password_hash refuses it too: it splits the hash on "$" into method,
// salt and digest and returns False when there are fewer than three parts
// (werkzeug 2.3 and later; older versions return False for fewer than two
// "$"), and Unset has none. The leading "!" is the locked-account mark of
// /etc/shadow, which no hash format starts with.
const Unset = "!inkpass-no-password"

// Verify reports whether plain matches encoded, comparing digests in constant
// time. A wrong password is (false, nil). A string Verify cannot use is an
// error wrapping ErrMalformedHash or ErrUnknownFormat, returned before any
// memory is taken; a ctx that ends while waiting for the Limiter gives its
// ctx.Err(), wrapped. Parameters above the package's bounds are refused as
// ErrMalformedHash rather than computed.
//
// bcrypt only ever reads the first 72 bytes of a password. Verify keeps that
// library behaviour, which is also how Python's bcrypt made the studio's
// hashes: any password sharing those 72 bytes matches.
func (h *Hasher) Verify(ctx context.Context, plain, encoded string) (ok bool, err error) {
	if encoded == Unset {
		// No password matches; the answer costs what a wrong password
		// costs, so it does not tell an invited account apart.
		h.VerifyDummy(ctx, plain)
		return false, ctx.Err()
	}
	d, err := parse(encoded, &h.limits)
	if err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	if h.observe != nil {
		start := time.Now()
		defer func() { h.observe(Verification{Format: d.format(), Took: time.Since(start), d: d}) }()
	}
	release, err := h.lim.acquire(ctx, d.memoryCost())
	if err != nil {
		return false, fmt.Errorf("verify password: wait for hashing memory: %w", err)
	}
	defer release()
	ok, err = d.matches(plain)
	if err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	return ok, nil
}

// VerifyDummy spends the work of verifying plain against the dummy hash
// (parse, Limiter wait, KDF, compare) and throws the answer away. Call it when
// the username is unknown so response time does not reveal which usernames
// exist. The dummy is in the target format until SetDummyLike gives it the
// family and parameters most stored hashes have (see Census); users whose
// hash differs from that still cost what their own format costs.
func (h *Hasher) VerifyDummy(ctx context.Context, plain string) {
	_, _ = h.Verify(ctx, plain, h.dummyHash())
}

func (h *Hasher) dummyHash() string { return *h.dummy.Load() }

// SetObserver makes fn hear of every verification, VerifyDummy's included
// (for metrics and tests). Call it before the Hasher is shared.
func (h *Hasher) SetObserver(fn func(Verification)) {
	h.observe = fn
}

// NeedsRehash reports whether a hash that just verified should be replaced by
// Hash(plain). It is always false for TargetOff. For TargetArgon2id it is true
// for every other family and for argon2id whose m, t or p is below the policy
// (salt and digest length are not considered). For TargetWerkzeug it is true
// for everything but werkzeug scrypt with N >= 32768, r >= 8, p >= 1: argon2id
// is rehashed too, because the studio's Python app cannot verify it.
// Strings that do not parse give true (except with TargetOff); callers only
// ask after Verify succeeded, so that case never reaches a rewrite.
func (h *Hasher) NeedsRehash(encoded string) bool {
	if h.target == TargetOff || encoded == Unset {
		// Unset: no password to rehash (and none verifies against it).
		return false
	}
	d, err := parse(encoded, &h.limits)
	if err != nil {
		return true
	}
	switch h.target {
	case TargetWerkzeug:
		s, ok := d.(*scryptHash)
		return !ok || s.n < werkzeugScryptN || s.r < werkzeugScryptR || s.p < werkzeugScryptP
	default: // TargetArgon2id
		a, ok := d.(*argon2idHash)
		return !ok || a.memory < h.argon2.Memory || a.time < h.argon2.Time || a.threads < h.argon2.Threads
	}
}

// Identify returns the family of encoded after checking the whole string the
// way Verify would, or an error wrapping ErrMalformedHash or ErrUnknownFormat.
func Identify(encoded string) (Format, error) {
	d, err := parse(encoded, &defaultLimits)
	if err != nil {
		return "", fmt.Errorf("identify password hash: %w", err)
	}
	return d.format(), nil
}

// Describe names the family and cost parameters of encoded, for listings such
// as `user list --weak-hashes`: "scrypt:32768:8:1", "pbkdf2:sha256:600000",
// "argon2id m=19456,t=2,p=1", "bcrypt cost 12". It never includes the salt or
// digest. A string that does not parse gives "unknown format" or, when its
// family is recognisable, "malformed <family> hash"; the string itself is never
// echoed, since a broken row may hold a plain password.
func Describe(encoded string) string {
	if encoded == Unset {
		return "no password yet"
	}
	d, err := parse(encoded, &defaultLimits)
	if err == nil {
		return d.describe()
	}
	if f := sniff(encoded); f != "" && !errors.Is(err, ErrUnknownFormat) {
		return "malformed " + string(f) + " hash"
	}
	return "unknown format"
}
