package keys

import (
	"context"
	"crypto"
	"fmt"
	"time"
)

// Store is where a Set keeps its keys: the key folder (the default, for one
// server) or the database (for several servers sharing it; internal/store).
// A Set calls it only from Open, Ensure, Rotate, RotateAll and Reload, one
// call at a time, so an implementation may keep state between calls (what it
// last returned) without locking for the Set's sake.
type Store interface {
	// Load returns every stored key. When nothing changed since this
	// Store's previous Load or Update returned, it returns changed=false and
	// no records, so that Reload costs little. An empty store is an error:
	// a Set is opened (Update) before it reloads.
	Load(ctx context.Context) (recs []Record, changed bool, err error)
	// Update calls fn with every stored key while holding the store's
	// exclusive write lock (the folder's flock, the database's write
	// transaction), then applies the Change fn returns, all of it or none
	// of it, before releasing the lock. So two processes rotating at once
	// run one after the other, and the second sees the first's key. fn may
	// be called more than once (a database retry) and must only compute.
	//
	// It returns the keys as stored afterwards. A non-nil result with an
	// error means the change was stored but cleaning up after it (deleting
	// a removed key's file) failed.
	Update(ctx context.Context, fn func(current []Record) (Change, error)) ([]Record, error)
}

// Record is one stored key. Key is the private key: a Store keeps it
// from everyone but its owner (a 0600 file, or encrypted under a key that is
// not in the database).
type Record struct {
	KID       string
	Alg       Algorithm
	CreatedAt time.Time
	RetiredAt *time.Time // nil for its algorithm's active key
	Key       crypto.Signer
}

// Change is what one Update stores: new keys, keys retired (kid to
// retirement time) and keys removed (by kid). A kid both retired and removed
// is removed.
type Change struct {
	Add    []Record
	Retire map[string]time.Time
	Remove []string
}

// Empty reports whether c changes nothing.
func (c Change) Empty() bool { return len(c.Add) == 0 && len(c.Retire) == 0 && len(c.Remove) == 0 }

func (k *key) record() Record {
	return Record{KID: k.kid, Alg: k.alg, CreatedAt: k.createdAt, RetiredAt: k.retiredAt, Key: k.priv}
}

func records(keys []*key) []Record {
	out := make([]Record, len(keys))
	for i, k := range keys {
		out[i] = k.record()
	}
	return out
}

// keyOf checks a record from a Store and wraps it: the key must fit its
// algorithm and its thumbprint must be its kid, whatever the store.
func keyOf(r Record) (*key, error) {
	signer, err := checkKey(r.Alg, r.Key)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", r.KID, err)
	}
	var retired *time.Time
	if r.RetiredAt != nil {
		t := r.RetiredAt.UTC()
		retired = &t
	}
	k, err := newKey(r.Alg, signer, r.CreatedAt.UTC(), retired)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", r.KID, err)
	}
	if k.kid != r.KID {
		return nil, fmt.Errorf("key %s: the stored key has thumbprint %s", r.KID, k.kid)
	}
	return k, nil
}

func keysOf(recs []Record) ([]*key, error) {
	out := make([]*key, len(recs))
	for i, r := range recs {
		k, err := keyOf(r)
		if err != nil {
			return nil, err
		}
		out[i] = k
	}
	return out, nil
}
