package keys

import (
	"crypto"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"
)

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
