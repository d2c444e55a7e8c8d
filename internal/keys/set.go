package keys

import (
	"context"
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Defaults applied by Open to zero Options fields.
const (
	DefaultDir       = "keys"
	DefaultAlgorithm = RS256
	// DefaultRetainFor keeps a retired key published for a day: far longer
	// than an ID token lives, and long enough to accept an id_token_hint
	// from a session that started just before a rotation.
	DefaultRetainFor = 24 * time.Hour
)

// Errors from Verify. Both are wrapped with detail; test with errors.Is.
var (
	// ErrUnknownKey: the token's kid names no published key (never ours,
	// or retired longer ago than Options.RetainFor).
	ErrUnknownKey = errors.New("token signed by an unknown key")
	// ErrInvalidToken: malformed, an algorithm we do not publish, no kid,
	// or a signature that does not verify.
	ErrInvalidToken = errors.New("invalid token")
)

// Options configures Open. Zero fields take the defaults above.
type Options struct {
	// Dir is the key directory, created with mode 0700 if missing.
	Dir string
	// Algorithm is the set's default algorithm: that of the first key Open
	// generates in an empty directory, and the one Sign, Active and
	// Rotate("") use. Each algorithm has its own active key (Ensure, Rotate,
	// SignAs), so this never changes what an existing key signs.
	Algorithm Algorithm
	// RetainFor is how long a retired key stays published. It must be at
	// least the maximum lifetime of anything the key signed. The server and
	// the CLI must use the same value, since both prune. Negative is an error.
	RetainFor time.Duration
	// Now is the clock; tests inject one. Times are kept in UTC.
	Now func() time.Time
	// RSABits is the size of generated RS256 keys: 2048 (default), 3072 or
	// 4096. Keys on disk are accepted at any size from 2048 up.
	RSABits int
	// Store keeps the keys; nil is the key folder Dir (NewFolderStore).
	// The database store is internal/store's SigningKeys.
	Store Store
}

// Info describes one key. It holds no key material.
type Info struct {
	KID       string     `json:"kid"`
	Algorithm Algorithm  `json:"alg"`
	CreatedAt time.Time  `json:"created_at"`
	RetiredAt *time.Time `json:"retired_at"` // nil for an active key
	// Active: the key signs new tokens of its algorithm. There is at most
	// one active key per algorithm.
	Active bool `json:"active"`
	// Published: the key is in the JWKS and Verify accepts it. Always true
	// for an active key; for a retired key, until RetiredAt+RetainFor.
	Published bool `json:"published"`
}

// Set is the key directory loaded into memory. It is safe for concurrent
// use. Readers (Sign, JWKS, Verify, List, ...) load an immutable snapshot
// through an atomic pointer and never block; Rotate and Reload build a new
// snapshot and swap it in.
//
// A Set must be made by Open.
type Set struct {
	dir     string // the key folder; "" with another Store
	store   Store
	alg     Algorithm
	retain  time.Duration
	now     func() time.Time
	rsaBits int

	snap atomic.Pointer[snapshot]

	mu sync.Mutex // serialises Rotate and Reload, and so calls to store
	// missing serialises signers that find no key of their algorithm, so
	// a burst of them generates one key, not one each.
	missing sync.Mutex
}

// key is one loaded key. It is never modified after construction: snapshots
// share keys, so retiring one makes a copy.
type key struct {
	kid       string
	alg       Algorithm
	createdAt time.Time
	retiredAt *time.Time
	priv      crypto.Signer
	pub       jose.JSONWebKey // public half with kid, alg and use set
}

func (k *key) file() string { return k.kid + ".pem" }

// snapshot is everything the read paths need, computed once per change.
type snapshot struct {
	keys       []*key // active first (RS256, ES256, EdDSA), then retired, most recently retired first
	active     map[Algorithm]*key
	signers    map[Algorithm]jose.Signer
	published  map[string]*key
	publicKeys []jose.JSONWebKey
	jwks       []byte
	etag       string
	algs       []Algorithm
	joseAlgs   []jose.SignatureAlgorithm
	nextExpiry time.Time // earliest end of a retired key's publication; zero if none
}

// Open loads the keys from opts.Store, by default the key directory, which
// it creates if missing. When the store holds no keys it generates one of
// opts.Algorithm and reports created=true, so the caller can log it. Retired
// keys past RetainFor are pruned: their entries leave the index and their
// files are deleted (or their rows, in the database).
//
// Open refuses, with an error naming the file: a key file that group or
// others can access, or a directory or index they can write
// (ErrInsecurePermissions); a malformed index; a listed file that is
// missing, not PKCS#8 PEM, or whose key does not match its kid and alg; and
// .pem files without an index, since generating a key then would hide a lost
// index.
func Open(opts Options) (s *Set, created bool, err error) {
	s, err = newSet(opts)
	if err != nil {
		return nil, false, fmt.Errorf("open keys: %w", err)
	}
	created, err = s.open()
	if err != nil {
		return nil, false, fmt.Errorf("open keys: %w", err)
	}
	return s, created, nil
}

func newSet(opts Options) (*Set, error) {
	s := &Set{dir: opts.Dir, store: opts.Store, alg: opts.Algorithm, retain: opts.RetainFor, now: opts.Now, rsaBits: opts.RSABits}
	if s.store == nil {
		if s.dir == "" {
			s.dir = DefaultDir
		}
		s.store = NewFolderStore(s.dir)
	}
	if s.alg == "" {
		s.alg = DefaultAlgorithm
	}
	if !s.alg.valid() {
		return nil, fmt.Errorf("algorithm %q: %w", s.alg, ErrUnsupportedAlgorithm)
	}
	switch {
	case s.retain == 0:
		s.retain = DefaultRetainFor
	case s.retain < 0:
		return nil, fmt.Errorf("retain for %s: must not be negative", s.retain)
	}
	if s.now == nil {
		s.now = time.Now
	}
	switch s.rsaBits {
	case 0:
		s.rsaBits = DefaultRSABits
	case 2048, 3072, 4096:
	default:
		return nil, fmt.Errorf("rsa bits %d: want 2048, 3072 or 4096", s.rsaBits)
	}
	return s, nil
}

// clock returns the injected time in UTC, which also drops the monotonic
// reading so that in-memory times compare like times read back from disk.
func (s *Set) clock() time.Time { return s.now().UTC() }

func (s *Set) open() (bool, error) {
	if f, ok := s.store.(*folderStore); ok {
		if err := f.prepare(); err != nil {
			return false, err
		}
	}
	now := s.clock()
	var (
		first   *key
		created bool
	)
	after, err := s.store.Update(context.Background(), func(current []Record) (Change, error) {
		created = false
		if len(current) == 0 {
			// Generated once, even if the store calls fn again.
			if first == nil {
				priv, err := generate(s.alg, s.rsaBits)
				if err != nil {
					return Change{}, err
				}
				if first, err = newKey(s.alg, priv, now, nil); err != nil {
					return Change{}, err
				}
			}
			created = true
			return Change{Add: []Record{first.record()}}, nil
		}
		return Change{Remove: expired(current, nil, now, s.retain)}, nil
	})
	if err != nil {
		return false, err
	}
	keys, err := keysOf(after)
	if err != nil {
		return false, err
	}
	snap, err := buildSnapshot(keys, now, s.retain)
	if err != nil {
		return false, err
	}
	s.snap.Store(snap)
	return created, nil
}

// List describes every key in the index: the active keys first (RS256,
// ES256, EdDSA), then retired keys, most recently retired first. It includes
// retired keys no longer published but not yet pruned (Published=false).
func (s *Set) List() []Info {
	snap := s.snap.Load()
	out := make([]Info, len(snap.keys))
	for i, k := range snap.keys {
		out[i] = snap.info(k)
	}
	return out
}

// Active describes the active key of the set's default algorithm
// (Options.Algorithm); the zero Info when it has none.
func (s *Set) Active() Info {
	info, _ := s.ActiveFor(s.alg)
	return info
}

// ActiveFor describes the active key of alg, if there is one.
func (s *Set) ActiveFor(alg Algorithm) (Info, bool) {
	snap := s.snap.Load()
	k := snap.active[alg]
	if k == nil {
		return Info{}, false
	}
	return snap.info(k), true
}

// ActiveKeys describes every active key, one per algorithm, in List order.
func (s *Set) ActiveKeys() []Info {
	snap := s.snap.Load()
	out := make([]Info, 0, len(snap.active))
	for _, a := range snap.activeAlgs() {
		out = append(out, snap.info(snap.active[a]))
	}
	return out
}

func (snap *snapshot) info(k *key) Info {
	info := Info{
		KID:       k.kid,
		Algorithm: k.alg,
		CreatedAt: k.createdAt,
		Active:    snap.active[k.alg] == k,
		Published: snap.published[k.kid] != nil,
	}
	if k.retiredAt != nil {
		t := *k.retiredAt
		info.RetiredAt = &t
	}
	return info
}

// newKey wraps a private key. The kid is the key's RFC 7638 thumbprint:
// SHA-256 over the required public members in lexicographic order,
// base64url without padding.
func newKey(alg Algorithm, priv crypto.Signer, createdAt time.Time, retiredAt *time.Time) (*key, error) {
	pub := jose.JSONWebKey{Key: priv.Public(), Algorithm: string(alg), Use: "sig"}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("thumbprint %s key: %w", alg, err)
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	return &key{kid: pub.KeyID, alg: alg, createdAt: createdAt, retiredAt: retiredAt, priv: priv, pub: pub}, nil
}
