package keys

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

const (
	indexName    = "keys.json"
	lockName     = "keys.lock"
	indexVersion = 1
)

// indexFile is the JSON shape of keys.json. The version lets a later inkpass
// change the format and refuse an index it does not understand instead of
// misreading it.
type indexFile struct {
	Version int          `json:"version"`
	Keys    []indexEntry `json:"keys"`
}

type indexEntry struct {
	KID       string     `json:"kid"`
	Alg       Algorithm  `json:"alg"`
	CreatedAt time.Time  `json:"created_at"`
	RetiredAt *time.Time `json:"retired_at"` // null for its algorithm's active key
	File      string     `json:"file"`
}

// parseIndex decodes and checks keys.json. It checks the structure only;
// loadKeys then checks every entry against its file. Unknown fields are
// errors because the index is small and sometimes edited by hand, and a
// misspelt "retired_at" silently read as null would make two keys active.
func parseIndex(path string, data []byte) (*indexFile, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var idx indexFile
	if err := dec.Decode(&idx); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("parse %s: data after the JSON object", path)
	}
	if idx.Version != indexVersion {
		return nil, fmt.Errorf("parse %s: version %d, this inkpass reads version %d", path, idx.Version, indexVersion)
	}
	active := make(map[Algorithm]int)
	seen := make(map[string]bool, len(idx.Keys))
	for i, e := range idx.Keys {
		where := fmt.Sprintf("parse %s: keys[%d]", path, i)
		if !validKID(e.KID) {
			return nil, fmt.Errorf("%s: kid %q is not a base64url string", where, e.KID)
		}
		if seen[e.KID] {
			return nil, fmt.Errorf("%s: kid %s listed twice", where, e.KID)
		}
		seen[e.KID] = true
		if !e.Alg.valid() {
			return nil, fmt.Errorf("%s (kid %s): alg %q: %w", where, e.KID, e.Alg, ErrUnsupportedAlgorithm)
		}
		if e.CreatedAt.IsZero() {
			return nil, fmt.Errorf("%s (kid %s): created_at missing", where, e.KID)
		}
		// The file name is derived, never trusted: this is also what keeps
		// an edited index from pointing outside the key directory.
		if e.File != e.KID+".pem" {
			return nil, fmt.Errorf("%s (kid %s): file %q, want %q", where, e.KID, e.File, e.KID+".pem")
		}
		if e.RetiredAt == nil {
			active[e.Alg]++
		}
	}
	// One active key per algorithm: each client's ID tokens use the key of
	// its own algorithm (id_token_signed_response_alg).
	for _, a := range SupportedAlgorithms() {
		if active[a] > 1 {
			return nil, fmt.Errorf("parse %s: %d %s keys have retired_at null, at most one per algorithm may be active", path, active[a], a)
		}
	}
	if len(idx.Keys) > 0 && len(active) == 0 {
		return nil, fmt.Errorf("parse %s: every key has a retired_at, one must be active", path)
	}
	return &idx, nil
}

// validKID accepts the base64url alphabet (RFC 4648 §5) only, so a kid is
// safe in a file name, a URL and a log line alike.
func validKID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// encodeIndex renders keys (already in List order) as keys.json. Times are
// written in UTC so the file reads the same wherever it was written.
func encodeIndex(keys []*key) ([]byte, error) {
	idx := indexFile{Version: indexVersion, Keys: make([]indexEntry, len(keys))}
	for i, k := range keys {
		e := indexEntry{KID: k.kid, Alg: k.alg, CreatedAt: k.createdAt.UTC(), File: k.file()}
		if k.retiredAt != nil {
			t := k.retiredAt.UTC()
			e.RetiredAt = &t
		}
		idx.Keys[i] = e
	}
	data, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", indexName, err)
	}
	return append(data, '\n'), nil
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
