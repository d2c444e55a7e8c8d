package keys

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
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
	// generates in an empty directory, and the one Sign, SignFunc, Active and
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
	dir     string
	alg     Algorithm
	retain  time.Duration
	now     func() time.Time
	rsaBits int

	snap atomic.Pointer[snapshot]

	mu sync.Mutex // serialises Rotate and Reload; guards idxStat, idxSum
	// missing serialises signers that find no key of their algorithm, so
	// a burst of them generates one key, not one each.
	missing sync.Mutex
	idxStat fs.FileInfo
	idxSum  [sha256.Size]byte
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

// Open loads the key directory, creating it if missing. When the directory
// holds no keys it generates one of opts.Algorithm and reports created=true,
// so the caller can log it. Retired keys past RetainFor are pruned: their
// entries leave the index and their files are deleted.
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
	s := &Set{dir: opts.Dir, alg: opts.Algorithm, retain: opts.RetainFor, now: opts.Now, rsaBits: opts.RSABits}
	if s.dir == "" {
		s.dir = DefaultDir
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
	if err := os.MkdirAll(s.dir, dirMode); err != nil {
		return false, fmt.Errorf("create key directory: %w", err)
	}
	if err := checkDir(s.dir); err != nil {
		return false, err
	}
	unlock, err := lockDir(s.dir, true)
	if err != nil {
		return false, err
	}
	defer unlock()

	now := s.clock()
	raw, fi, idx, err := readIndex(s.dir)
	if err != nil {
		return false, err
	}
	var (
		keys    []*key
		pruned  []*key
		created bool
	)
	if idx == nil || len(idx.Keys) == 0 {
		has, err := hasPEMFiles(s.dir)
		if err != nil {
			return false, fmt.Errorf("read key directory: %w", err)
		}
		if has {
			return false, fmt.Errorf("%s holds .pem files but %s lists no keys; restore the index from a backup or move the files away",
				s.dir, filepath.Join(s.dir, indexName))
		}
		// The folder may predate inkpass (a git checkout makes it 0755):
		// before the first private key goes in, make it the owner's alone.
		if err := os.Chmod(s.dir, dirMode); err != nil {
			return false, fmt.Errorf("secure key directory: %w", err)
		}
		priv, err := generate(s.alg, s.rsaBits)
		if err != nil {
			return false, err
		}
		k, err := newKey(s.alg, priv, now, nil)
		if err != nil {
			return false, err
		}
		if err := writeKeyFile(s.dir, k.file(), priv); err != nil {
			return false, err
		}
		keys, created = []*key{k}, true
	} else {
		loaded, err := loadKeys(s.dir, idx)
		if err != nil {
			return false, err
		}
		keys, pruned = prune(loaded, now, s.retain)
	}

	snap, err := buildSnapshot(keys, now, s.retain)
	if err != nil {
		return false, err
	}
	if created || len(pruned) > 0 {
		if raw, fi, err = writeIndex(s.dir, snap.keys); err != nil {
			return false, err
		}
	}
	// Delete only after the index no longer names the files: a crash in
	// between leaves an unlisted file, never a listed file that is missing.
	if err := removeKeyFiles(s.dir, pruned); err != nil {
		return false, err
	}
	s.install(snap, raw, fi)
	return created, nil
}

// Rotate generates a key of alg and makes it alg's active key, retiring the
// previous active key of alg (if any) at now. Keys of other algorithms are
// untouched, so no client's algorithm changes. An empty alg is the set's
// default algorithm. Retired keys whose RetainFor has passed are pruned from
// the index and disk.
//
// Rotate works from the index on disk, under the directory's exclusive lock,
// not from this Set's snapshot, so rotations by several processes never lose
// one another's keys. Key generation happens before the lock is taken.
//
// If the new index is written but deleting a pruned file fails, the rotation
// stands: Rotate returns the new key's Info together with the error.
func (s *Set) Rotate(alg Algorithm) (Info, error) {
	if alg == "" {
		alg = s.alg
	}
	if !alg.valid() {
		return Info{}, fmt.Errorf("rotate keys: algorithm %q: %w", alg, ErrUnsupportedAlgorithm)
	}
	made, err := s.update([]Algorithm{alg}, false)
	if len(made) == 0 {
		return Info{}, fmt.Errorf("rotate keys: %w", err)
	}
	if err != nil {
		err = fmt.Errorf("rotate keys: %w", err)
	}
	return made[0], err
}

// RotateAll rotates every algorithm that has an active key, in one index
// write, and returns the new keys.
func (s *Set) RotateAll() ([]Info, error) {
	made, err := s.update(nil, false)
	if err != nil {
		return made, fmt.Errorf("rotate keys: %w", err)
	}
	return made, nil
}

// Ensure gives every algorithm in algs an active key, generating one where
// the index on disk has none, and returns the keys it made (none when every
// algorithm already had one). It also picks up keys another process added.
func (s *Set) Ensure(algs ...Algorithm) ([]Info, error) {
	snap := s.snap.Load()
	missing := false
	for _, a := range algs {
		if !a.valid() {
			return nil, fmt.Errorf("ensure keys: algorithm %q: %w", a, ErrUnsupportedAlgorithm)
		}
		missing = missing || snap.active[a] == nil
	}
	if !missing {
		return nil, nil
	}
	made, err := s.update(algs, true)
	if err != nil {
		return made, fmt.Errorf("ensure keys: %w", err)
	}
	return made, nil
}

// update is Rotate, RotateAll and Ensure. For each of algs (every algorithm
// with an active key on disk when algs is nil) a new key becomes active and
// retires the previous active key of its algorithm; with onlyMissing, keys
// are made only for algorithms without an active key. The result lists the
// new keys; with an error it is non-empty only when they were written.
func (s *Set) update(algs []Algorithm, onlyMissing bool) ([]Info, error) {
	snap := s.snap.Load()
	pre := make(map[Algorithm]crypto.Signer)
	planned := algs
	if planned == nil {
		planned = snap.activeAlgs()
	}
	for _, a := range planned {
		if _, ok := pre[a]; ok || (onlyMissing && snap.active[a] != nil) {
			continue
		}
		priv, err := generate(a, s.rsaBits)
		if err != nil {
			return nil, err
		}
		pre[a] = priv
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := lockDir(s.dir, true)
	if err != nil {
		return nil, err
	}
	defer unlock()

	raw, fi, idx, err := readIndex(s.dir)
	if err != nil {
		return nil, err
	}
	if idx == nil || len(idx.Keys) == 0 {
		return nil, fmt.Errorf("%s lists no keys", filepath.Join(s.dir, indexName))
	}
	current, err := loadKeys(s.dir, idx)
	if err != nil {
		return nil, err
	}
	onDisk := make(map[Algorithm]*key)
	for _, k := range current {
		if k.retiredAt == nil {
			onDisk[k.alg] = k
		}
	}
	if algs == nil {
		// Another process may have added an algorithm since our snapshot.
		for _, a := range SupportedAlgorithms() {
			if onDisk[a] != nil {
				algs = append(algs, a)
			}
		}
	}

	now := s.clock()
	next := slices.Clone(current)
	var fresh []*key
	for _, a := range algs {
		if onlyMissing && onDisk[a] != nil {
			continue
		}
		if slices.ContainsFunc(fresh, func(k *key) bool { return k.alg == a }) {
			continue
		}
		priv := pre[a]
		if priv == nil {
			if priv, err = generate(a, s.rsaBits); err != nil {
				return nil, err
			}
		}
		k, err := newKey(a, priv, now, nil)
		if err != nil {
			return nil, err
		}
		fresh = append(fresh, k)
		if old := onDisk[a]; old != nil {
			retired := *old
			t := now
			retired.retiredAt = &t
			next[slices.Index(next, old)] = &retired
		}
	}
	if len(fresh) == 0 {
		// Nothing to write: serve what the disk holds.
		snap, err := buildSnapshot(current, now, s.retain)
		if err != nil {
			return nil, err
		}
		s.install(snap, raw, fi)
		return nil, nil
	}
	kept, pruned := prune(append(next, fresh...), now, s.retain)
	newSnap, err := buildSnapshot(kept, now, s.retain)
	if err != nil {
		return nil, err
	}
	var written []*key
	for _, k := range fresh {
		if err := writeKeyFile(s.dir, k.file(), k.priv); err != nil {
			removeKeyFiles(s.dir, written)
			return nil, err
		}
		written = append(written, k)
	}
	raw, fi, err = writeIndex(s.dir, newSnap.keys)
	if err != nil {
		// The index still names the old keys; the new files are unlisted.
		removeKeyFiles(s.dir, written)
		return nil, err
	}
	s.install(newSnap, raw, fi)
	made := make([]Info, len(fresh))
	for i, k := range fresh {
		made[i] = newSnap.info(k)
	}
	if err := removeKeyFiles(s.dir, pruned); err != nil {
		return made, fmt.Errorf("new keys are active: %w", err)
	}
	return made, nil
}

// Reload picks up changes made by another process, such as `inkpass keys
// rotate`. When keys.json has the same identity, size and mtime as last seen
// it costs one stat. Otherwise it re-reads the directory under a shared lock.
// It also drops retired keys whose RetainFor has passed from the JWKS, even
// when nothing on disk changed; it never writes or deletes files.
//
// changed reports whether what the Set serves (active key or JWKS) changed.
// On error the Set keeps serving its previous keys.
func (s *Set) Reload() (changed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.snap.Load()
	now := s.clock()

	fi, err := os.Stat(filepath.Join(s.dir, indexName))
	if err != nil {
		return false, fmt.Errorf("reload keys: %w", err)
	}
	if sameIndex(fi, s.idxStat) {
		return s.expire(old, now)
	}

	unlock, err := lockDir(s.dir, false)
	if err != nil {
		return false, fmt.Errorf("reload keys: %w", err)
	}
	defer unlock()
	raw, fi, idx, err := readIndex(s.dir)
	if err != nil {
		return false, fmt.Errorf("reload keys: %w", err)
	}
	if idx == nil || len(idx.Keys) == 0 {
		return false, fmt.Errorf("reload keys: %s lists no keys", filepath.Join(s.dir, indexName))
	}
	if sha256.Sum256(raw) == s.idxSum {
		s.idxStat = fi // rewritten with the same content
		return s.expire(old, now)
	}
	keys, err := loadKeys(s.dir, idx)
	if err != nil {
		return false, fmt.Errorf("reload keys: %w", err)
	}
	snap, err := buildSnapshot(keys, now, s.retain)
	if err != nil {
		return false, fmt.Errorf("reload keys: %w", err)
	}
	s.install(snap, raw, fi)
	sameKID := func(a, b *key) bool { return a.kid == b.kid }
	return !maps.EqualFunc(snap.active, old.active, sameKID) || snap.etag != old.etag, nil
}

// expire rebuilds the snapshot if a retired key's publication has ended.
func (s *Set) expire(old *snapshot, now time.Time) (bool, error) {
	if old.nextExpiry.IsZero() || now.Before(old.nextExpiry) {
		return false, nil
	}
	snap, err := buildSnapshot(slices.Clone(old.keys), now, s.retain)
	if err != nil {
		return false, fmt.Errorf("reload keys: %w", err)
	}
	s.snap.Store(snap)
	return snap.etag != old.etag, nil
}

// sameIndex compares stat results. Every write replaces keys.json by rename,
// so the file identity (device and inode) changes on each write; size and
// mtime guard against an inode being reused.
func sameIndex(a, b fs.FileInfo) bool {
	return b != nil && os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

func (s *Set) install(snap *snapshot, raw []byte, fi fs.FileInfo) {
	s.snap.Store(snap)
	s.idxStat = fi
	s.idxSum = sha256.Sum256(raw)
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

// Sign is SignAs with the set's default algorithm.
func (s *Set) Sign(payload []byte) (string, error) {
	return s.SignAs(s.alg, payload)
}

// SignAs returns payload as a JWS in compact serialization (RFC 7515 §7.1),
// signed by alg's active key, with protected header alg, kid and typ "JWT"
// (RFC 7519 §5.1). The payload is signed as given; building claims is the
// caller's job. The signer is built once per key, so SignAs costs one
// signature and two base64 encodings.
//
// When the set holds no active key of alg (a client was just given a new
// algorithm), SignAs reloads the directory, where `inkpass client` will
// have put one, and failing that makes one itself (Ensure).
func (s *Set) SignAs(alg Algorithm, payload []byte) (string, error) {
	snap, err := s.signing(alg)
	if err != nil {
		return "", err
	}
	return snap.sign(alg, payload)
}

// SignFunc is for payloads that depend on the signing algorithm, such as an
// ID token's at_hash and c_hash (HashForAlgorithm): build receives the set's
// default algorithm, the one that signs. An error from build is returned
// wrapped.
func (s *Set) SignFunc(build func(alg Algorithm) ([]byte, error)) (string, error) {
	snap, err := s.signing(s.alg)
	if err != nil {
		return "", err
	}
	payload, err := build(s.alg)
	if err != nil {
		return "", fmt.Errorf("build payload for key %s: %w", snap.active[s.alg].kid, err)
	}
	return snap.sign(s.alg, payload)
}

// signing returns a snapshot with an active key of alg.
func (s *Set) signing(alg Algorithm) (*snapshot, error) {
	if snap := s.snap.Load(); snap.active[alg] != nil {
		return snap, nil
	}
	if !alg.valid() {
		return nil, fmt.Errorf("sign: algorithm %q: %w", alg, ErrUnsupportedAlgorithm)
	}
	s.missing.Lock()
	defer s.missing.Unlock()
	if snap := s.snap.Load(); snap.active[alg] != nil {
		return snap, nil // made while we waited
	}
	if _, err := s.Reload(); err != nil {
		return nil, fmt.Errorf("sign with %s: %w", alg, err)
	}
	if _, err := s.Ensure(alg); err != nil {
		return nil, fmt.Errorf("sign with %s: %w", alg, err)
	}
	snap := s.snap.Load()
	if snap.active[alg] == nil {
		return nil, fmt.Errorf("sign with %s: no active key", alg)
	}
	return snap, nil
}

func (snap *snapshot) sign(alg Algorithm, payload []byte) (string, error) {
	kid := snap.active[alg].kid
	jws, err := snap.signers[alg].Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign with key %s: %w", kid, err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("sign with key %s: %w", kid, err)
	}
	return out, nil
}

// activeAlgs lists the algorithms with an active key, in List order.
func (snap *snapshot) activeAlgs() []Algorithm {
	var out []Algorithm
	for _, a := range SupportedAlgorithms() {
		if snap.active[a] != nil {
			out = append(out, a)
		}
	}
	return out
}

// JWKS returns the public JWK Set (RFC 7517 §5), {"keys":[...]}, holding the
// active keys (one per algorithm) and every retired key still published, each
// with kty, kid, alg and use "sig" (RFC 7517 §4) and no private member. The
// bytes are encoded once per key change and shared: callers must not modify
// them.
func (s *Set) JWKS() []byte { return s.snap.Load().jwks }

// JWKSETag is a strong, quoted ETag (RFC 9110 §8.8.3) for the bytes JWKS
// returns: a hash of them, so it changes exactly when they do and every
// process serving the same keys gives the same value.
func (s *Set) JWKSETag() string { return s.snap.Load().etag }

// Algorithms lists the algorithms of published keys, without repeats, in
// List order: what Verify accepts.
func (s *Set) Algorithms() []Algorithm { return slices.Clone(s.snap.Load().algs) }

// PublicKeys returns the published keys as public JWKs, as in JWKS.
func (s *Set) PublicKeys() []jose.JSONWebKey { return slices.Clone(s.snap.Load().publicKeys) }

// Verify checks a compact JWS against the published key its kid names and
// returns the payload. Only the algorithms of published keys are accepted,
// and the header alg must be the key's own, so a token cannot pick how it is
// checked (RFC 8725 §3.1). It does not look at claims: exp, aud and the rest
// are the caller's. Errors wrap ErrUnknownKey or ErrInvalidToken.
func (s *Set) Verify(compact string) (payload []byte, err error) {
	snap := s.snap.Load()
	jws, err := jose.ParseSignedCompact(compact, snap.joseAlgs)
	if err != nil {
		return nil, fmt.Errorf("verify token: %w: %w", ErrInvalidToken, err)
	}
	// Compact serialization carries exactly one signature, all of it in the
	// protected header (RFC 7515 §7.1).
	h := jws.Signatures[0].Protected
	if h.KeyID == "" {
		return nil, fmt.Errorf("verify token: %w: header has no kid", ErrInvalidToken)
	}
	k := snap.published[h.KeyID]
	if k == nil {
		return nil, fmt.Errorf("verify token: kid %q: %w", h.KeyID, ErrUnknownKey)
	}
	if h.Algorithm != string(k.alg) {
		return nil, fmt.Errorf("verify token: %w: alg %s, but key %s is %s", ErrInvalidToken, h.Algorithm, k.kid, k.alg)
	}
	payload, err = jws.Verify(k.pub.Key)
	if err != nil {
		return nil, fmt.Errorf("verify token: %w: %w", ErrInvalidToken, err)
	}
	return payload, nil
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

// readIndex reads keys.json. A missing index is not an error: idx is nil.
func readIndex(dir string) (raw []byte, fi fs.FileInfo, idx *indexFile, err error) {
	path := filepath.Join(dir, indexName)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, nil
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, nil, fmt.Errorf("read %s: not a regular file", path)
	}
	if err := checkPerm(path, fi, indexForbidden, fileMode); err != nil {
		return nil, nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	if raw, err = readLimited(f); err != nil {
		return nil, nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	if idx, err = parseIndex(path, raw); err != nil {
		return nil, nil, nil, err
	}
	return raw, fi, idx, nil
}

// loadKeys reads every file the index lists and checks it against its entry.
func loadKeys(dir string, idx *indexFile) ([]*key, error) {
	keys := make([]*key, 0, len(idx.Keys))
	for _, e := range idx.Keys {
		path := filepath.Join(dir, e.File)
		priv, err := readKeyFile(path)
		if err != nil {
			return nil, fmt.Errorf("load key %s: %w", path, err)
		}
		signer, err := checkKey(e.Alg, priv)
		if err != nil {
			return nil, fmt.Errorf("load key %s: %w", path, err)
		}
		var retired *time.Time
		if e.RetiredAt != nil {
			t := e.RetiredAt.UTC()
			retired = &t
		}
		k, err := newKey(e.Alg, signer, e.CreatedAt.UTC(), retired)
		if err != nil {
			return nil, fmt.Errorf("load key %s: %w", path, err)
		}
		if k.kid != e.KID {
			return nil, fmt.Errorf("load key %s: the file holds the key with thumbprint %s but %s lists it as kid %s; the file was replaced or the index edited",
				path, k.kid, indexName, e.KID)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func writeIndex(dir string, keys []*key) ([]byte, fs.FileInfo, error) {
	raw, err := encodeIndex(keys)
	if err != nil {
		return nil, nil, err
	}
	if err := writeFileAtomic(dir, indexName, raw); err != nil {
		return nil, nil, err
	}
	fi, err := os.Stat(filepath.Join(dir, indexName))
	if err != nil {
		return nil, nil, fmt.Errorf("write %s: %w", indexName, err)
	}
	return raw, fi, nil
}

// prune splits keys into those still published at now and retired keys
// whose publication has ended. A key retired at r is published while
// now < r+retain.
func prune(keys []*key, now time.Time, retain time.Duration) (kept, pruned []*key) {
	for _, k := range keys {
		if k.retiredAt != nil && !now.Before(k.retiredAt.Add(retain)) {
			pruned = append(pruned, k)
			continue
		}
		kept = append(kept, k)
	}
	return kept, pruned
}

func removeKeyFiles(dir string, keys []*key) error {
	var errs []error
	for _, k := range keys {
		path := filepath.Join(dir, k.file())
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove retired key %s: %w", path, err))
		}
	}
	return errors.Join(errs...)
}

// buildSnapshot orders keys, builds the active keys' signers and encodes the
// JWKS. It takes ownership of keys (it sorts the slice).
func buildSnapshot(keys []*key, now time.Time, retain time.Duration) (*snapshot, error) {
	slices.SortStableFunc(keys, compareKeys)
	if len(keys) == 0 || keys[0].retiredAt != nil {
		return nil, errors.New("no active key")
	}
	snap := &snapshot{keys: keys, active: make(map[Algorithm]*key), signers: make(map[Algorithm]jose.Signer),
		published: make(map[string]*key, len(keys))}
	for _, k := range keys {
		if k.retiredAt == nil {
			if snap.active[k.alg] != nil {
				return nil, fmt.Errorf("two active %s keys, %s and %s", k.alg, snap.active[k.alg].kid, k.kid)
			}
			signer, err := jose.NewSigner(
				jose.SigningKey{
					Algorithm: jose.SignatureAlgorithm(k.alg),
					Key:       jose.JSONWebKey{Key: k.priv, KeyID: k.kid},
				},
				(&jose.SignerOptions{}).WithType("JWT"),
			)
			if err != nil {
				return nil, fmt.Errorf("signer for key %s: %w", k.kid, err)
			}
			snap.active[k.alg], snap.signers[k.alg] = k, signer
		}
		if k.retiredAt != nil {
			end := k.retiredAt.Add(retain)
			if !now.Before(end) {
				continue
			}
			if snap.nextExpiry.IsZero() || end.Before(snap.nextExpiry) {
				snap.nextExpiry = end
			}
		}
		snap.published[k.kid] = k
		snap.publicKeys = append(snap.publicKeys, k.pub)
		if !slices.Contains(snap.algs, k.alg) {
			snap.algs = append(snap.algs, k.alg)
		}
	}
	snap.joseAlgs = joseAlgs(snap.algs)
	var err error
	snap.jwks, err = json.Marshal(jose.JSONWebKeySet{Keys: snap.publicKeys})
	if err != nil {
		return nil, fmt.Errorf("encode JWKS: %w", err)
	}
	sum := sha256.Sum256(snap.jwks)
	snap.etag = `"` + base64.RawURLEncoding.EncodeToString(sum[:]) + `"`
	return snap, nil
}

// compareKeys orders the active keys first, by algorithm (RS256, ES256,
// EdDSA), then retired keys by retirement, newest first. Ties fall back to
// creation time and kid so the order, and with it the JWKS bytes and ETag, is
// the same in every process.
func compareKeys(a, b *key) int {
	switch {
	case a.retiredAt == nil && b.retiredAt != nil:
		return -1
	case a.retiredAt != nil && b.retiredAt == nil:
		return 1
	case a.retiredAt == nil && a.alg != b.alg:
		return a.alg.rank() - b.alg.rank()
	case a.retiredAt != nil && !a.retiredAt.Equal(*b.retiredAt):
		return b.retiredAt.Compare(*a.retiredAt)
	case !a.createdAt.Equal(b.createdAt):
		return b.createdAt.Compare(a.createdAt)
	}
	if a.kid < b.kid {
		return -1
	}
	if a.kid > b.kid {
		return 1
	}
	return 0
}
