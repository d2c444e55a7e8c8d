package session_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/inkpass/inkpass/internal/session"
)

// TestSortableTokens: sortable tokens carry 256 random bits after their time,
// their stored forms sort in the order they were made, and every other value
// is stored as its bare SHA-256, as before.
func TestSortableTokens(t *testing.T) {
	const n = 200
	prev := []byte{}
	seen := map[string]bool{}
	for i := range n {
		tok := session.NewSortableToken()
		when, secret, ok := strings.Cut(tok, ".")
		if !ok || len(when) != 16 {
			t.Fatalf("token %q: want 16 hex digits, a dot, and the random part", tok)
		}
		if raw, err := base64.RawURLEncoding.DecodeString(secret); err != nil || len(raw) != 32 {
			t.Fatalf("token %q: random part is not 32 bytes of base64url (%v)", tok, err)
		}
		if seen[secret] {
			t.Fatalf("random part repeated after %d tokens", i)
		}
		seen[secret] = true

		h := session.Hash(tok)
		sum := sha256.Sum256([]byte(tok))
		if len(h) != 40 || !bytes.Equal(h[8:], sum[:]) {
			t.Fatalf("Hash(%q) = %x, want 8 bytes of time then the SHA-256 of the token", tok, h)
		}
		if bytes.Compare(prev, h) >= 0 {
			t.Fatalf("token %d's stored form sorts before the one made before it", i)
		}
		prev = h
	}

	for name, v := range map[string]string{
		"a plain token":                    session.NewToken(),
		"a sortable-length value, not hex": "zzzzzzzzzzzzzzzz." + session.NewToken(),
		"a sortable-length value, no dot":  "0123456789abcdef_" + session.NewToken(),
		"a value one character short":      session.NewSortableToken()[1:],
		"an empty value":                   "",
	} {
		sum := sha256.Sum256([]byte(v))
		if got := session.Hash(v); !bytes.Equal(got, sum[:]) {
			t.Errorf("%s: Hash = %x, want its bare SHA-256", name, got)
		}
	}
}

func TestNewGrantID(t *testing.T) {
	prev := ""
	seen := map[string]bool{}
	for range 200 {
		id := session.NewGrantID()
		if len(id) != 48 || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("grant id %q: want 48 lower-case hex digits", id)
		}
		if id <= prev || seen[id] {
			t.Fatalf("grant id %q does not sort after %q", id, prev)
		}
		seen[id], prev = true, id
	}
}
