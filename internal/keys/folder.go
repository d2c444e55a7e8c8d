package keys

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// folderStore is the key folder (doc.go, "On disk"): the default Store.
type folderStore struct {
	dir string
	// What keys.json looked like when last read or written, so that Load
	// costs one stat when nothing changed.
	idxStat fs.FileInfo
	idxSum  [sha256.Size]byte
}

// NewFolderStore returns the Store that keeps keys as files in dir, as Open
// does when Options.Store is nil. `inkpass keys migrate-to-database` reads
// the folder through it.
func NewFolderStore(dir string) Store { return &folderStore{dir: dir} }

var _ Store = (*folderStore)(nil)

// prepare creates the folder (0700) and refuses one others may write.
func (f *folderStore) prepare() error {
	if err := os.MkdirAll(f.dir, dirMode); err != nil {
		return fmt.Errorf("create key directory: %w", err)
	}
	return checkDir(f.dir)
}

// Load reads the index and its key files under a shared lock, so it never
// sees an index whose files a concurrent prune has just removed. When
// keys.json has the same identity, size and mtime as last seen it costs one
// stat, and when it was rewritten with the same content, no key is read.
func (f *folderStore) Load(ctx context.Context) ([]Record, bool, error) {
	fi, err := os.Stat(filepath.Join(f.dir, indexName))
	if err != nil {
		return nil, false, err
	}
	if sameIndex(fi, f.idxStat) {
		return nil, false, nil
	}
	unlock, err := lockDir(f.dir, false)
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	raw, fi, idx, err := readIndex(f.dir)
	if err != nil {
		return nil, false, err
	}
	if idx == nil || len(idx.Keys) == 0 {
		return nil, false, fmt.Errorf("%s lists no keys", filepath.Join(f.dir, indexName))
	}
	if sha256.Sum256(raw) == f.idxSum {
		f.idxStat = fi // rewritten with the same content
		return nil, false, nil
	}
	keys, err := loadKeys(f.dir, idx)
	if err != nil {
		return nil, false, err
	}
	f.seen(raw, fi)
	return records(keys), true, nil
}

// Update works from the index on disk under the folder's exclusive lock. A
// new key file is durable before the index names it, and removed keys'
// files are deleted only after the index no longer names them, so a crash
// never leaves an index that points at a missing or half-written key.
func (f *folderStore) Update(ctx context.Context, fn func([]Record) (Change, error)) ([]Record, error) {
	unlock, err := lockDir(f.dir, true)
	if err != nil {
		return nil, err
	}
	defer unlock()

	raw, fi, idx, err := readIndex(f.dir)
	if err != nil {
		return nil, err
	}
	var current []*key
	empty := idx == nil || len(idx.Keys) == 0
	if empty {
		has, err := hasPEMFiles(f.dir)
		if err != nil {
			return nil, fmt.Errorf("read key directory: %w", err)
		}
		if has {
			return nil, fmt.Errorf("%s holds .pem files but %s lists no keys; restore the index from a backup or move the files away",
				f.dir, filepath.Join(f.dir, indexName))
		}
	} else if current, err = loadKeys(f.dir, idx); err != nil {
		return nil, err
	}
	ch, err := fn(records(current))
	if err != nil {
		return nil, err
	}
	if ch.Empty() {
		if !empty {
			f.seen(raw, fi)
		}
		return records(current), nil
	}
	if empty {
		// The folder may predate inkpass (a git checkout makes it 0755):
		// before the first private key goes in, make it the owner's alone.
		if err := os.Chmod(f.dir, dirMode); err != nil {
			return nil, fmt.Errorf("secure key directory: %w", err)
		}
	}

	var next, pruned, fresh []*key
	for _, k := range current {
		if slices.Contains(ch.Remove, k.kid) {
			pruned = append(pruned, k)
			continue
		}
		if t, ok := ch.Retire[k.kid]; ok {
			retired := *k
			t = t.UTC()
			retired.retiredAt = &t
			k = &retired
		}
		next = append(next, k)
	}
	for _, r := range ch.Add {
		k, err := keyOf(r)
		if err != nil {
			return nil, err
		}
		fresh = append(fresh, k)
		next = append(next, k)
	}
	slices.SortStableFunc(next, compareKeys)

	var written []*key
	for _, k := range fresh {
		if err := writeKeyFile(f.dir, k.file(), k.priv); err != nil {
			removeKeyFiles(f.dir, written)
			return nil, err
		}
		written = append(written, k)
	}
	raw, fi, err = writeIndex(f.dir, next)
	if err != nil {
		// The index still names the old keys; the new files are unlisted.
		removeKeyFiles(f.dir, written)
		return nil, err
	}
	f.seen(raw, fi)
	return records(next), removeKeyFiles(f.dir, pruned)
}

func (f *folderStore) seen(raw []byte, fi fs.FileInfo) {
	f.idxStat = fi
	f.idxSum = sha256.Sum256(raw)
}
