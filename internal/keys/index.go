package keys

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
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
