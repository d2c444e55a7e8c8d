package keys

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
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
	// Algorithm is used only when Open generates the first key. It does not
	// change an existing active key: compare Active().Algorithm and Rotate.
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
	RetiredAt *time.Time `json:"retired_at"` // nil for the active key
	Active    bool       `json:"active"`
	// Published: the key is in the JWKS and Verify accepts it. Always true
	// for the active key; for a retired key, until RetiredAt+RetainFor.
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

	mu      sync.Mutex // serialises Rotate and Reload; guards idxStat, idxSum
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
	keys       []*key // active first, then retired, most recently retired first
	active     *key
	signer     jose.Signer
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

// Rotate generates a key of alg, makes it the active key, and retires the
// previous active key at now. An empty alg keeps the active key's algorithm.
// Retired keys whose RetainFor has passed are pruned from the index and disk.
//
// Rotate works from the index on disk, under the directory's exclusive lock,
// not from this Set's snapshot, so rotations by several processes never lose
// one another's keys. Key generation happens before the lock is taken.
//
// If the new index is written but deleting a pruned file fails, the rotation
// stands: Rotate returns the new key's Info together with the error.
func (s *Set) Rotate(alg Algorithm) (Info, error) {
	if alg == "" {
		alg = s.snap.Load().active.alg
	}
	if !alg.valid() {
		return Info{}, fmt.Errorf("rotate keys: algorithm %q: %w", alg, ErrUnsupportedAlgorithm)
	}
	priv, err := generate(alg, s.rsaBits)
	if err != nil {
		return Info{}, fmt.Errorf("rotate keys: %w", err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := lockDir(s.dir, true)
	if err != nil {
		return Info{}, fmt.Errorf("rotate keys: %w", err)
	}
	defer unlock()

	_, _, idx, err := readIndex(s.dir)
	if err != nil {
		return Info{}, fmt.Errorf("rotate keys: %w", err)
	}
	if idx == nil || len(idx.Keys) == 0 {
		return Info{}, fmt.Errorf("rotate keys: %s lists no keys", filepath.Join(s.dir, indexName))
	}
	current, err := loadKeys(s.dir, idx)
	if err != nil {
		return Info{}, fmt.Errorf("rotate keys: %w", err)
	}

	now := s.clock()
	fresh, err := newKey(alg, priv, now, nil)
	if err != nil {
		return Info{}, fmt.Errorf("rotate keys: %w", err)
	}
	next := []*key{fresh}
	for _, k := range current {
		if k.retiredAt == nil {
			retired := *k
			t := now
			retired.retiredAt = &t
			k = &retired
		}
		next = append(next, k)
	}
	kept, pruned := prune(next, now, s.retain)
	snap, err := buildSnapshot(kept, now, s.retain)
	if err != nil {
		return Info{}, fmt.Errorf("rotate keys: %w", err)
	}

	if err := writeKeyFile(s.dir, fresh.file(), priv); err != nil {
		return Info{}, fmt.Errorf("rotate keys: %w", err)
	}
	raw, fi, err := writeIndex(s.dir, snap.keys)
	if err != nil {
		// The index still names the old active key; the new file is unlisted.
		os.Remove(filepath.Join(s.dir, fresh.file()))
		return Info{}, fmt.Errorf("rotate keys: %w", err)
	}
	s.install(snap, raw, fi)
	info := snap.info(fresh)
	if err := removeKeyFiles(s.dir, pruned); err != nil {
		return info, fmt.Errorf("rotate keys: new key %s is active: %w", fresh.kid, err)
	}
	return info, nil
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
	return snap.active.kid != old.active.kid || snap.etag != old.etag, nil
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

// List describes every key in the index: the active key first, then retired
// keys, most recently retired first. It includes retired keys no longer
// published but not yet pruned (Published=false).
func (s *Set) List() []Info {
	snap := s.snap.Load()
	out := make([]Info, len(snap.keys))
	for i, k := range snap.keys {
		out[i] = snap.info(k)
	}
	return out
}

// Active describes the key Sign uses.
func (s *Set) Active() Info {
	snap := s.snap.Load()
	return snap.info(snap.active)
}

// Sign returns payload as a JWS in compact serialization (RFC 7515 §7.1),
// signed by the active key, with protected header alg, kid and typ "JWT"
// (RFC 7519 §5.1). The payload is signed as given; building claims is the
// caller's job. The signer is built once per key, so Sign costs one
// signature and two base64 encodings.
func (s *Set) Sign(payload []byte) (string, error) {
	return s.snap.Load().sign(payload)
}

// SignFunc is Sign for payloads that depend on the signing algorithm, such
// as an ID token's at_hash and c_hash (HashForAlgorithm). build receives the
// algorithm of the key that will sign, taken from the same snapshot, so the
// hash always matches the token's alg even when a rotation to another
// algorithm lands between the two steps. An error from build is returned
// wrapped.
func (s *Set) SignFunc(build func(alg Algorithm) ([]byte, error)) (string, error) {
	snap := s.snap.Load()
	payload, err := build(snap.active.alg)
	if err != nil {
		return "", fmt.Errorf("build payload for key %s: %w", snap.active.kid, err)
	}
	return snap.sign(payload)
}

func (snap *snapshot) sign(payload []byte) (string, error) {
	jws, err := snap.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign with key %s: %w", snap.active.kid, err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("sign with key %s: %w", snap.active.kid, err)
	}
	return out, nil
}

// JWKS returns the public JWK Set (RFC 7517 §5), {"keys":[...]}, holding the
// active key and every retired key still published, each with kty, kid, alg
// and use "sig" (RFC 7517 §4) and no private member. The bytes are encoded
// once per key change and shared: callers must not modify them.
func (s *Set) JWKS() []byte { return s.snap.Load().jwks }

// JWKSETag is a strong, quoted ETag (RFC 9110 §8.8.3) for the bytes JWKS
// returns: a hash of them, so it changes exactly when they do and every
// process serving the same keys gives the same value.
func (s *Set) JWKSETag() string { return s.snap.Load().etag }

// Algorithms lists the algorithms of published keys, the active key's first,
// without repeats. Discovery's id_token_signing_alg_values_supported should
// name Active().Algorithm, the only one new tokens use; this list is what
// Verify accepts.
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
		Active:    k == snap.active,
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

// buildSnapshot orders keys, builds the active key's signer and encodes the
// JWKS. It takes ownership of keys (it sorts the slice).
func buildSnapshot(keys []*key, now time.Time, retain time.Duration) (*snapshot, error) {
	slices.SortStableFunc(keys, compareKeys)
	if len(keys) == 0 || keys[0].retiredAt != nil {
		return nil, errors.New("no active key")
	}
	active := keys[0]
	signer, err := jose.NewSigner(
		jose.SigningKey{
			Algorithm: jose.SignatureAlgorithm(active.alg),
			Key:       jose.JSONWebKey{Key: active.priv, KeyID: active.kid},
		},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return nil, fmt.Errorf("signer for key %s: %w", active.kid, err)
	}
	snap := &snapshot{keys: keys, active: active, signer: signer, published: make(map[string]*key, len(keys))}
	for _, k := range keys {
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
	snap.jwks, err = json.Marshal(jose.JSONWebKeySet{Keys: snap.publicKeys})
	if err != nil {
		return nil, fmt.Errorf("encode JWKS: %w", err)
	}
	sum := sha256.Sum256(snap.jwks)
	snap.etag = `"` + base64.RawURLEncoding.EncodeToString(sum[:]) + `"`
	return snap, nil
}

// compareKeys orders the active key first, then retired keys by retirement,
// newest first. Ties fall back to creation time and kid so the order, and
// with it the JWKS bytes and ETag, is the same in every process.
func compareKeys(a, b *key) int {
	switch {
	case a.retiredAt == nil && b.retiredAt != nil:
		return -1
	case a.retiredAt != nil && b.retiredAt == nil:
		return 1
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
