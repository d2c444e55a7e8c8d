package keys

import (
	"context"
	"crypto"
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
// Rotate works from what the store holds, under its exclusive lock (the
// folder's flock, the database's write transaction), not from this Set's
// snapshot, so rotations by several processes never lose one another's keys
// nor make two active keys of one algorithm. Key generation happens before
// the lock is taken.
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
// the store has none, and returns the keys it made (none when every
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
// with an active key in the store when algs is nil) a new key becomes active
// and retires the previous active key of its algorithm; with onlyMissing,
// keys are made only for algorithms without an active key. The result lists
// the new keys; with an error it is non-empty only when they were stored.
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
	now := s.clock()
	var fresh []*key
	// fn works from what the store holds, under its lock, not from this
	// Set's snapshot, so rotations by several processes never lose one
	// another's keys. It may run more than once: it only computes (a key
	// generated in it is kept in pre for the next run).
	after, err := s.store.Update(context.Background(), func(current []Record) (Change, error) {
		fresh = nil
		stored := make(map[Algorithm]Record)
		for _, r := range current {
			if r.RetiredAt == nil {
				stored[r.Alg] = r
			}
		}
		want := algs
		if want == nil {
			// Another process may have added an algorithm since our snapshot.
			for _, a := range SupportedAlgorithms() {
				if _, ok := stored[a]; ok {
					want = append(want, a)
				}
			}
		}
		ch := Change{Retire: make(map[string]time.Time)}
		for _, a := range want {
			old, has := stored[a]
			if onlyMissing && has {
				continue
			}
			if slices.ContainsFunc(fresh, func(k *key) bool { return k.alg == a }) {
				continue
			}
			priv := pre[a]
			if priv == nil {
				var err error
				if priv, err = generate(a, s.rsaBits); err != nil {
					return Change{}, err
				}
				pre[a] = priv
			}
			k, err := newKey(a, priv, now, nil)
			if err != nil {
				return Change{}, err
			}
			fresh = append(fresh, k)
			ch.Add = append(ch.Add, k.record())
			if has {
				ch.Retire[old.KID] = now
			}
		}
		if len(fresh) == 0 {
			// Nothing to write: serve what the store holds.
			return Change{}, nil
		}
		ch.Remove = expired(current, ch.Retire, now, s.retain)
		return ch, nil
	})
	if after == nil {
		return nil, err
	}
	keys, kerr := keysOf(after)
	if kerr != nil {
		return nil, errors.Join(kerr, err)
	}
	newSnap, kerr := buildSnapshot(keys, now, s.retain)
	if kerr != nil {
		return nil, errors.Join(kerr, err)
	}
	s.snap.Store(newSnap)
	made := make([]Info, 0, len(fresh))
	for _, k := range fresh {
		if i := slices.IndexFunc(newSnap.keys, func(n *key) bool { return n.kid == k.kid }); i >= 0 {
			made = append(made, newSnap.info(newSnap.keys[i]))
		}
	}
	if err != nil {
		return made, fmt.Errorf("new keys are active: %w", err)
	}
	return made, nil
}

// Reload picks up changes made by another process, such as `inkpass keys
// rotate`. When the store has not changed it costs one stat of keys.json (or
// one small query). It also drops retired keys whose RetainFor has passed
// from the JWKS, even when nothing in the store changed; it never writes or
// deletes anything.
//
// changed reports whether what the Set serves (active key or JWKS) changed.
// On error the Set keeps serving its previous keys.
func (s *Set) Reload() (changed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.snap.Load()
	now := s.clock()

	recs, stored, err := s.store.Load(context.Background())
	if err != nil {
		return false, fmt.Errorf("reload keys: %w", err)
	}
	if !stored {
		return s.expire(old, now)
	}
	keys, err := keysOf(recs)
	if err != nil {
		return false, fmt.Errorf("reload keys: %w", err)
	}
	snap, err := buildSnapshot(keys, now, s.retain)
	if err != nil {
		return false, fmt.Errorf("reload keys: %w", err)
	}
	s.snap.Store(snap)
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

// expired lists the retired keys (retired in recs, or by retire) whose
// publication has ended at now. A key retired at r is published while
// now < r+retain.
func expired(recs []Record, retire map[string]time.Time, now time.Time, retain time.Duration) []string {
	var out []string
	for _, r := range recs {
		retiredAt := r.RetiredAt
		if t, ok := retire[r.KID]; ok {
			retiredAt = &t
		}
		if retiredAt != nil && !now.Before(retiredAt.Add(retain)) {
			out = append(out, r.KID)
		}
	}
	return out
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
