package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/inkpass/inkpass/internal/testsupport"
)

var allAlgs = []Algorithm{RS256, ES256, EdDSA}

// newClock is an injectable time source; tests advance it instead of
// sleeping.
func newClock() *testsupport.Clock {
	return testsupport.NewClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
}

// mustOpen opens a Set and fails the test on error.
func mustOpen(t testing.TB, opts Options) *Set {
	t.Helper()
	s, _, err := Open(opts)
	if err != nil {
		t.Fatalf("Open(%+v): %v", opts, err)
	}
	return s
}

// parseJWKS reads JWKS bytes the way a relying party would.
func parseJWKS(t *testing.T, b []byte) jose.JSONWebKeySet {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatalf("parse JWKS %s: %v", b, err)
	}
	return set
}

// verifyWithJWKS verifies a token using only the published JWKS bytes and
// go-jose, independently of Set.Verify.
func verifyWithJWKS(t *testing.T, jwks []byte, token string) ([]byte, error) {
	t.Helper()
	set := parseJWKS(t, jwks)
	jws, err := jose.ParseSignedCompact(token, joseAlgs(allAlgs))
	if err != nil {
		return nil, err
	}
	kid := jws.Signatures[0].Protected.KeyID
	found := set.Key(kid)
	if len(found) != 1 {
		return nil, fmt.Errorf("kid %q: %d keys in JWKS", kid, len(found))
	}
	return jws.Verify(found[0])
}

// tokenHeader decodes a compact JWS's protected header as plain JSON.
func tokenHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	part, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatalf("decode header: %v", err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatalf("parse header %s: %v", raw, err)
	}
	return h
}

func jwksKIDs(t *testing.T, jwks []byte) []string {
	t.Helper()
	var kids []string
	for _, k := range parseJWKS(t, jwks).Keys {
		kids = append(kids, k.KeyID)
	}
	return kids
}

func readIndexFile(t *testing.T, dir string) indexFile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, indexName))
	if err != nil {
		t.Fatal(err)
	}
	var idx indexFile
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatalf("parse index %s: %v", raw, err)
	}
	return idx
}

func writeIndexFile(t *testing.T, dir string, idx indexFile) {
	t.Helper()
	raw, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, indexName), raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

func permOf(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func skipOnWindows(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX permissions on windows")
	}
}

func TestOpen(t *testing.T) {
	for _, alg := range allAlgs {
		t.Run(string(alg)+" on an empty directory generates one key, then reopening loads it", func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "keys") // does not exist yet
			clk := newClock()
			s, created, err := Open(Options{Dir: dir, Algorithm: alg, Now: clk.Now})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !created {
				t.Errorf("created = false, want true for an empty directory")
			}
			list := s.List()
			if len(list) != 1 {
				t.Fatalf("List() has %d keys, want 1", len(list))
			}
			active := s.Active()
			want := Info{KID: active.KID, Algorithm: alg, CreatedAt: clk.Now(), Active: true, Published: true}
			if active.RetiredAt != nil || active != want || list[0] != want {
				t.Errorf("Active() = %+v, List()[0] = %+v, want %+v", active, list[0], want)
			}
			if len(active.KID) != 43 { // base64url of a SHA-256 thumbprint
				t.Errorf("kid %q has length %d, want 43", active.KID, len(active.KID))
			}

			if runtime.GOOS != "windows" {
				if got := permOf(t, dir); got != 0o700 {
					t.Errorf("dir mode = %04o, want 0700", got)
				}
				for _, name := range []string{active.KID + ".pem", indexName} {
					if got := permOf(t, filepath.Join(dir, name)); got != 0o600 {
						t.Errorf("%s mode = %04o, want 0600", name, got)
					}
				}
			}

			idx := readIndexFile(t, dir)
			wantIdx := indexFile{Version: 1, Keys: []indexEntry{{
				KID: active.KID, Alg: alg, CreatedAt: clk.Now(), File: active.KID + ".pem",
			}}}
			if !indexEqual(idx, wantIdx) {
				t.Errorf("index = %+v, want %+v", idx, wantIdx)
			}
			raw, _ := os.ReadFile(filepath.Join(dir, indexName))
			if !bytes.Contains(raw, []byte(`"retired_at": null`)) {
				t.Errorf("index does not spell out retired_at null:\n%s", raw)
			}

			again, created, err := Open(Options{Dir: dir, Algorithm: alg, Now: clk.Now})
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			if created {
				t.Errorf("reopen: created = true, want false")
			}
			if got := again.Active(); got != active {
				t.Errorf("reopen: Active() = %+v, want %+v", got, active)
			}
			if !bytes.Equal(again.JWKS(), s.JWKS()) || again.JWKSETag() != s.JWKSETag() {
				t.Errorf("reopen: JWKS or ETag differs from the first open")
			}
		})
	}

	t.Run("with another configured algorithm keeps the existing key and makes none", func(t *testing.T) {
		dir := t.TempDir()
		first := mustOpen(t, Options{Dir: dir, Algorithm: ES256})
		again := mustOpen(t, Options{Dir: dir, Algorithm: EdDSA})
		if got := again.ActiveKeys(); len(got) != 1 || got[0].KID != first.Active().KID || got[0].Algorithm != ES256 {
			t.Errorf("ActiveKeys() = %+v, want only the existing ES256 key %s", got, first.Active().KID)
		}
		if got, ok := again.ActiveFor(EdDSA); ok || again.Active() != got {
			t.Errorf("ActiveFor(EdDSA) = %+v, %v; want none until Ensure or Rotate", got, ok)
		}
	})

	t.Run("with bad options fails before touching the directory", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			opts Options
			want string
		}{
			{"unknown algorithm", Options{Algorithm: "HS256"}, "unsupported signing algorithm"},
			{"negative retention", Options{RetainFor: -time.Second}, "must not be negative"},
			{"odd RSA size", Options{RSABits: 1024}, "want 2048, 3072 or 4096"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.opts.Dir = filepath.Join(t.TempDir(), "keys")
				_, _, err := Open(tc.opts)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Open error = %v, want one containing %q", err, tc.want)
				}
				if _, err := os.Stat(tc.opts.Dir); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("directory was created despite bad options")
				}
			})
		}
	})

	t.Run("with RSABits 3072 generates a 3072-bit key", func(t *testing.T) {
		if testing.Short() {
			t.Skip("3072-bit key generation is slow")
		}
		s := mustOpen(t, Options{Dir: t.TempDir(), Algorithm: RS256, RSABits: 3072})
		pub := s.PublicKeys()[0].Key.(*rsa.PublicKey)
		if got := pub.N.BitLen(); got != 3072 {
			t.Errorf("modulus has %d bits, want 3072", got)
		}
	})
}

func indexEqual(a, b indexFile) bool {
	if a.Version != b.Version || len(a.Keys) != len(b.Keys) {
		return false
	}
	for i := range a.Keys {
		x, y := a.Keys[i], b.Keys[i]
		if x.KID != y.KID || x.Alg != y.Alg || !x.CreatedAt.Equal(y.CreatedAt) || x.File != y.File ||
			(x.RetiredAt == nil) != (y.RetiredAt == nil) || (x.RetiredAt != nil && !x.RetiredAt.Equal(*y.RetiredAt)) {
			return false
		}
	}
	return true
}

func TestSet_Sign(t *testing.T) {
	for _, alg := range allAlgs {
		t.Run(string(alg)+" token verifies with the published JWKS and carries kid, alg and typ", func(t *testing.T) {
			s := mustOpen(t, Options{Dir: t.TempDir(), Algorithm: alg})
			payload := []byte(`{"sub":"42","aud":"demo"}`)
			token, err := s.Sign(payload)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}

			h := tokenHeader(t, token)
			want := map[string]any{"alg": string(alg), "kid": s.Active().KID, "typ": "JWT"}
			if len(h) != len(want) || h["alg"] != want["alg"] || h["kid"] != want["kid"] || h["typ"] != want["typ"] {
				t.Errorf("header = %v, want %v", h, want)
			}

			got, err := verifyWithJWKS(t, s.JWKS(), token)
			if err != nil {
				t.Fatalf("verify with JWKS: %v", err)
			}
			if !bytes.Equal(got, payload) {
				t.Errorf("payload = %s, want %s", got, payload)
			}
			if got, err := s.Verify(token); err != nil || !bytes.Equal(got, payload) {
				t.Errorf("Set.Verify = %s, %v; want %s, nil", got, err, payload)
			}
		})
	}
}

func TestSet_Rotate(t *testing.T) {
	t.Run("new key is active, old key stays published and its tokens still verify", func(t *testing.T) {
		clk := newClock()
		s := mustOpen(t, Options{Dir: t.TempDir(), Algorithm: ES256, RetainFor: time.Hour, Now: clk.Now})
		old := s.Active()
		oldToken, err := s.Sign([]byte(`{"n":1}`))
		if err != nil {
			t.Fatal(err)
		}
		oldETag := s.JWKSETag()

		clk.Advance(time.Minute)
		info, err := s.Rotate(ES256)
		if err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		if info.KID == old.KID || !info.Active || !info.Published || info.Algorithm != ES256 || !info.CreatedAt.Equal(clk.Now()) {
			t.Errorf("Rotate() = %+v, want a new active published ES256 key created now", info)
		}
		if got := s.Active(); got.KID != info.KID {
			t.Errorf("Active().KID = %s, want %s", got.KID, info.KID)
		}

		list := s.List()
		if len(list) != 2 || list[0].KID != info.KID || list[1].KID != old.KID {
			t.Fatalf("List() = %+v, want [new, old]", list)
		}
		retired := list[1]
		if retired.Active || !retired.Published || retired.RetiredAt == nil || !retired.RetiredAt.Equal(clk.Now()) {
			t.Errorf("old key after rotation = %+v, want retired now and still published", retired)
		}

		if got, want := jwksKIDs(t, s.JWKS()), []string{info.KID, old.KID}; !slices.Equal(got, want) {
			t.Errorf("JWKS kids = %v, want %v", got, want)
		}
		if _, err := verifyWithJWKS(t, s.JWKS(), oldToken); err != nil {
			t.Errorf("token signed before rotation no longer verifies with JWKS: %v", err)
		}
		if _, err := s.Verify(oldToken); err != nil {
			t.Errorf("Set.Verify of token signed before rotation: %v", err)
		}
		if s.JWKSETag() == oldETag {
			t.Errorf("ETag unchanged after rotation: %s", oldETag)
		}
		if got, want := s.snap.Load().algs, []Algorithm{ES256}; !slices.Equal(got, want) {
			t.Errorf("published algorithms = %v, want %v", got, want)
		}

		newToken, err := s.Sign([]byte(`{"n":2}`))
		if err != nil {
			t.Fatal(err)
		}
		if h := tokenHeader(t, newToken); h["kid"] != info.KID || h["alg"] != "ES256" {
			t.Errorf("token after rotation has header %v, want kid %s alg ES256", h, info.KID)
		}

		idx := readIndexFile(t, s.dir)
		if len(idx.Keys) != 2 || idx.Keys[0].RetiredAt != nil || idx.Keys[1].RetiredAt == nil {
			t.Errorf("index after rotation = %+v, want new active key and old retired key", idx)
		}
	})

	t.Run("with an empty algorithm keeps the active key's algorithm", func(t *testing.T) {
		s := mustOpen(t, Options{Dir: t.TempDir(), Algorithm: EdDSA})
		info, err := s.Rotate("")
		if err != nil {
			t.Fatal(err)
		}
		if info.Algorithm != EdDSA {
			t.Errorf("algorithm = %s, want EdDSA", info.Algorithm)
		}
	})

	t.Run("with an unknown algorithm fails and keeps the active key", func(t *testing.T) {
		s := mustOpen(t, Options{Dir: t.TempDir(), Algorithm: EdDSA})
		before := s.Active()
		if _, err := s.Rotate("HS256"); !errors.Is(err, ErrUnsupportedAlgorithm) {
			t.Errorf("Rotate(HS256) error = %v, want ErrUnsupportedAlgorithm", err)
		}
		if s.Active() != before || len(s.List()) != 1 {
			t.Errorf("keys changed after a failed rotation: %+v", s.List())
		}
	})

	t.Run("by a Set with a stale snapshot keeps keys another process added", func(t *testing.T) {
		dir := t.TempDir()
		a := mustOpen(t, Options{Dir: dir, Algorithm: EdDSA})
		b := mustOpen(t, Options{Dir: dir, Algorithm: EdDSA})
		first := a.Active().KID
		second, err := a.Rotate("")
		if err != nil {
			t.Fatal(err)
		}
		third, err := b.Rotate("") // b has not reloaded
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, k := range b.List() {
			got = append(got, k.KID)
		}
		if want := []string{third.KID, second.KID, first}; !slices.Equal(got, want) {
			t.Errorf("List() kids = %v, want %v", got, want)
		}
	})
}

func TestSet_Prune(t *testing.T) {
	const retain = time.Hour
	for _, tc := range []struct {
		name string
		// after runs once the clock has passed the old key's retention and
		// returns the Set to inspect.
		after func(t *testing.T, s *Set, opts Options) *Set
	}{
		{"another rotation removes the expired key from JWKS, index and disk", func(t *testing.T, s *Set, _ Options) *Set {
			if _, err := s.Rotate(""); err != nil {
				t.Fatalf("Rotate: %v", err)
			}
			return s
		}},
		{"reopening removes the expired key from JWKS, index and disk", func(t *testing.T, _ *Set, opts Options) *Set {
			return mustOpen(t, opts)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			opts := Options{Dir: t.TempDir(), Algorithm: ES256, RetainFor: retain, Now: clk.Now}
			s := mustOpen(t, opts)
			old := s.Active().KID
			oldToken, _ := s.Sign([]byte(`{}`))
			if _, err := s.Rotate(""); err != nil {
				t.Fatal(err)
			}
			clk.Advance(retain - time.Nanosecond)
			if got := jwksKIDs(t, s.JWKS()); !slices.Contains(got, old) {
				t.Fatalf("old key left JWKS before RetainFor passed: %v", got)
			}

			clk.Advance(time.Nanosecond) // retired_at + RetainFor is now
			s = tc.after(t, s, opts)

			if got := jwksKIDs(t, s.JWKS()); slices.Contains(got, old) {
				t.Errorf("JWKS still has expired key %s: %v", old, got)
			}
			for _, k := range s.List() {
				if k.KID == old {
					t.Errorf("List() still has expired key %s", old)
				}
			}
			for _, e := range readIndexFile(t, opts.Dir).Keys {
				if e.KID == old {
					t.Errorf("index still lists expired key %s", old)
				}
			}
			if _, err := os.Stat(filepath.Join(opts.Dir, old+".pem")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("key file of expired key still on disk (stat error %v)", err)
			}
			if _, err := s.Verify(oldToken); !errors.Is(err, ErrUnknownKey) {
				t.Errorf("Verify of token from the expired key: error %v, want ErrUnknownKey", err)
			}
		})
	}
}

func TestSet_Reload(t *testing.T) {
	t.Run("a second Set sees a rotation done by the first", func(t *testing.T) {
		dir := t.TempDir()
		clk := newClock()
		cli := mustOpen(t, Options{Dir: dir, Algorithm: ES256, Now: clk.Now})
		server := mustOpen(t, Options{Dir: dir, Algorithm: ES256, Now: clk.Now})

		if changed, err := server.Reload(); err != nil || changed {
			t.Fatalf("Reload with nothing changed = %v, %v; want false, nil", changed, err)
		}
		info, err := cli.Rotate(ES256)
		if err != nil {
			t.Fatal(err)
		}
		changed, err := server.Reload()
		if err != nil || !changed {
			t.Fatalf("Reload after rotation = %v, %v; want true, nil", changed, err)
		}
		if got := server.Active().KID; got != info.KID {
			t.Errorf("server Active().KID = %s, want %s", got, info.KID)
		}
		if !bytes.Equal(server.JWKS(), cli.JWKS()) || server.JWKSETag() != cli.JWKSETag() {
			t.Errorf("server and CLI serve different JWKS after reload")
		}
		token, err := server.Sign([]byte(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		if h := tokenHeader(t, token); h["kid"] != info.KID {
			t.Errorf("server signs with kid %v, want %s", h["kid"], info.KID)
		}
		if changed, err := server.Reload(); err != nil || changed {
			t.Errorf("second Reload = %v, %v; want false, nil", changed, err)
		}
	})

	t.Run("unpublishes a key whose retention passed without touching disk", func(t *testing.T) {
		dir := t.TempDir()
		clk := newClock()
		s := mustOpen(t, Options{Dir: dir, Algorithm: EdDSA, RetainFor: time.Hour, Now: clk.Now})
		old := s.Active().KID
		if _, err := s.Rotate(""); err != nil {
			t.Fatal(err)
		}
		etag := s.JWKSETag()
		clk.Advance(time.Hour)
		changed, err := s.Reload()
		if err != nil || !changed {
			t.Fatalf("Reload after retention = %v, %v; want true, nil", changed, err)
		}
		if slices.Contains(jwksKIDs(t, s.JWKS()), old) || s.JWKSETag() == etag {
			t.Errorf("expired key still in JWKS, or ETag unchanged")
		}
		list := s.List()
		if len(list) != 2 || list[1].KID != old || list[1].Published {
			t.Errorf("List() = %+v, want the expired key listed as unpublished", list)
		}
		if _, err := os.Stat(filepath.Join(dir, old+".pem")); err != nil {
			t.Errorf("Reload deleted a key file: %v", err)
		}
		if changed, err := s.Reload(); err != nil || changed {
			t.Errorf("second Reload = %v, %v; want false, nil", changed, err)
		}
	})

	t.Run("keeps serving the previous keys when the index turns bad", func(t *testing.T) {
		dir := t.TempDir()
		s := mustOpen(t, Options{Dir: dir, Algorithm: EdDSA})
		before := s.Active()
		if err := os.WriteFile(filepath.Join(dir, indexName), []byte("{broken"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Reload(); err == nil || !strings.Contains(err.Error(), indexName) {
			t.Errorf("Reload error = %v, want one naming %s", err, indexName)
		}
		if s.Active() != before {
			t.Errorf("active key changed after a failed reload")
		}
		if _, err := s.Sign([]byte(`{}`)); err != nil {
			t.Errorf("Sign after failed reload: %v", err)
		}
	})
}

func TestOpen_Refuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		perms  bool // needs POSIX permissions
		damage func(t *testing.T, dir, kid string)
		want   []string // substrings of the error; "$DIR" and "$KID" are replaced
		is     error
	}{
		{
			name: "a key file readable by group or others", perms: true,
			damage: func(t *testing.T, dir, kid string) { chmod(t, filepath.Join(dir, kid+".pem"), 0o644) },
			want:   []string{"$DIR/$KID.pem", "0644", "chmod 600 $DIR/$KID.pem"},
			is:     ErrInsecurePermissions,
		},
		{
			name: "a key directory writable by group", perms: true,
			damage: func(t *testing.T, dir, kid string) { chmod(t, dir, 0o770) },
			want:   []string{"chmod 700 $DIR"},
			is:     ErrInsecurePermissions,
		},
		{
			name: "an index writable by others", perms: true,
			damage: func(t *testing.T, dir, kid string) { chmod(t, filepath.Join(dir, indexName), 0o666) },
			want:   []string{"chmod 600 $DIR/keys.json"},
			is:     ErrInsecurePermissions,
		},
		{
			name:   "a key file that is not PEM",
			damage: func(t *testing.T, dir, kid string) { writeFile(t, filepath.Join(dir, kid+".pem"), "not a key\n") },
			want:   []string{"$DIR/$KID.pem", "no PEM block found"},
		},
		{
			name: "a PEM key that is not PKCS#8",
			damage: func(t *testing.T, dir, kid string) {
				k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
				der, _ := x509.MarshalECPrivateKey(k)
				writeFile(t, filepath.Join(dir, kid+".pem"), string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})))
			},
			want: []string{"$DIR/$KID.pem", "PKCS#8"},
		},
		{
			name: "a PEM block with damaged content",
			damage: func(t *testing.T, dir, kid string) {
				writeFile(t, filepath.Join(dir, kid+".pem"), string(pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: []byte("junk")})))
			},
			want: []string{"$DIR/$KID.pem", "parse PKCS#8"},
		},
		{
			name: "a key file holding another key than its kid",
			damage: func(t *testing.T, dir, kid string) {
				k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
				der, _ := x509.MarshalPKCS8PrivateKey(k)
				writeFile(t, filepath.Join(dir, kid+".pem"), string(pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der})))
			},
			want: []string{"$DIR/$KID.pem", "thumbprint", "kid $KID"},
		},
		{
			name:   "an index that is not JSON",
			damage: func(t *testing.T, dir, kid string) { writeFile(t, filepath.Join(dir, indexName), "{\"version\":1,") },
			want:   []string{"$DIR/keys.json"},
		},
		{
			name: "an index with a misspelt field",
			damage: func(t *testing.T, dir, kid string) {
				writeFile(t, filepath.Join(dir, indexName), `{"version":1,"keys":[{"kid":"`+kid+`","alg":"ES256","created_at":"2025-01-01T00:00:00Z","retierd_at":null,"file":"`+kid+`.pem"}]}`)
			},
			want: []string{"$DIR/keys.json", "retierd_at"},
		},
		{
			name:   "an index of an unknown version",
			damage: editIndex(func(idx *indexFile) { idx.Version = 2 }),
			want:   []string{"$DIR/keys.json", "version 2"},
		},
		{
			name:   "an index listing a missing file",
			damage: func(t *testing.T, dir, kid string) { os.Remove(filepath.Join(dir, kid+".pem")) },
			want:   []string{"$DIR/$KID.pem", "missing"},
			is:     fs.ErrNotExist,
		},
		{
			name:   "an index with a file name outside the directory",
			damage: editIndex(func(idx *indexFile) { idx.Keys[0].File = "../elsewhere.pem" }),
			want:   []string{"$DIR/keys.json", `"../elsewhere.pem"`},
		},
		{
			name:   "an index with an unknown algorithm",
			damage: editIndex(func(idx *indexFile) { idx.Keys[0].Alg = "HS256" }),
			want:   []string{"$DIR/keys.json", "HS256"},
			is:     ErrUnsupportedAlgorithm,
		},
		{
			name:   "an index whose algorithm does not fit the key",
			damage: editIndex(func(idx *indexFile) { idx.Keys[0].Alg = RS256 }),
			want:   []string{"$DIR/$KID.pem", "index says RS256", "ECDSA"},
			is:     ErrUnsupportedAlgorithm,
		},
		{
			name: "an index with two active keys of one algorithm",
			damage: editIndex(func(idx *indexFile) {
				other := idx.Keys[0]
				other.KID = "AAAA"
				other.File = "AAAA.pem"
				idx.Keys = append(idx.Keys, other)
			}),
			want: []string{"$DIR/keys.json", "2 ES256 keys", "at most one per algorithm"},
		},
		{
			name:   "an index with no active key",
			damage: editIndex(func(idx *indexFile) { now := time.Now(); idx.Keys[0].RetiredAt = &now }),
			want:   []string{"$DIR/keys.json", "one must be active"},
		},
		{
			name:   "key files without an index",
			damage: func(t *testing.T, dir, kid string) { os.Remove(filepath.Join(dir, indexName)) },
			want:   []string{"holds .pem files", "$DIR/keys.json"},
		},
		{
			name: "an RSA key shorter than 2048 bits",
			damage: func(t *testing.T, dir, kid string) {
				k, err := rsa.GenerateKey(rand.Reader, 1024)
				if err != nil {
					t.Skipf("cannot generate a 1024-bit key here: %v", err)
				}
				weak, _ := newKey(RS256, k, time.Now(), nil)
				der, _ := x509.MarshalPKCS8PrivateKey(k)
				writeFile(t, filepath.Join(dir, weak.kid+".pem"), string(pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der})))
				raw, _ := encodeIndex([]*key{weak})
				writeFile(t, filepath.Join(dir, indexName), string(raw))
				os.Remove(filepath.Join(dir, kid+".pem"))
			},
			want: []string{"1024 bits", "RFC 7518"},
			is:   ErrUnsupportedAlgorithm,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.perms {
				skipOnWindows(t)
			}
			dir := t.TempDir()
			kid := mustOpen(t, Options{Dir: dir, Algorithm: ES256}).Active().KID
			tc.damage(t, dir, kid)

			_, _, err := Open(Options{Dir: dir, Algorithm: ES256})
			if err == nil {
				t.Fatal("Open succeeded, want an error")
			}
			for _, w := range tc.want {
				w = strings.ReplaceAll(strings.ReplaceAll(w, "$DIR", dir), "$KID", kid)
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
		})
	}
}

func chmod(t *testing.T, path string, mode fs.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func editIndex(edit func(*indexFile)) func(t *testing.T, dir, kid string) {
	return func(t *testing.T, dir, kid string) {
		idx := readIndexFile(t, dir)
		edit(&idx)
		writeIndexFile(t, dir, idx)
	}
}

func TestSet_Verify(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, Options{Dir: dir, Algorithm: ES256})
	esKey := s.snap.Load().active[ES256]
	for _, alg := range []Algorithm{ES256, EdDSA} { // retires esKey; a first EdDSA key
		if _, err := s.Rotate(alg); err != nil {
			t.Fatal(err)
		}
	}
	edKey := s.snap.Load().active[EdDSA]
	payload := []byte(`{"sub":"42"}`)
	good, err := s.SignAs(EdDSA, payload)
	if err != nil {
		t.Fatal(err)
	}
	stranger := mustOpen(t, Options{Dir: t.TempDir(), Algorithm: EdDSA})
	foreign, _ := stranger.Sign(payload)

	parts := strings.Split(good, ".")
	b64 := base64.RawURLEncoding.EncodeToString

	for _, tc := range []struct {
		name  string
		token string
		is    error
	}{
		{"a token signed by an unknown key is rejected", foreign, ErrUnknownKey},
		{"a tampered payload is rejected", parts[0] + "." + b64([]byte(`{"sub":"1"}`)) + "." + parts[2], ErrInvalidToken},
		{"a tampered signature is rejected", parts[0] + "." + parts[1] + "." + b64(bytes.Repeat([]byte{1}, 64)), ErrInvalidToken},
		{"a token that is not a JWS is rejected", "not.a.token", ErrInvalidToken},
		{"an empty string is rejected", "", ErrInvalidToken},
		{"alg none is rejected", b64([]byte(`{"alg":"none","kid":"`+edKey.kid+`"}`)) + "." + parts[1] + ".", ErrInvalidToken},
		{"an HMAC token naming our kid is rejected", sign(t, jose.HS256, bytes.Repeat([]byte("k"), 32), edKey.kid, payload), ErrInvalidToken},
		{"a token without kid is rejected", sign(t, jose.EdDSA, edKey.priv, "", payload), ErrInvalidToken},
		{"a token whose alg is not its key's alg is rejected", sign(t, jose.EdDSA, edKey.priv, esKey.kid, payload), ErrInvalidToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Verify(tc.token)
			if !errors.Is(err, tc.is) {
				t.Errorf("Verify error = %v, want %v", err, tc.is)
			}
			if got != nil {
				t.Errorf("Verify returned payload %s with an error", got)
			}
		})
	}

	t.Run("a token from a retired but published key is accepted", func(t *testing.T) {
		old := sign(t, jose.ES256, esKey.priv, esKey.kid, payload)
		if got, err := s.Verify(old); err != nil || !bytes.Equal(got, payload) {
			t.Errorf("Verify = %s, %v; want %s, nil", got, err, payload)
		}
	})
}

// sign makes a compact JWS outside the Set, for tokens the Set would never issue.
func sign(t *testing.T, alg jose.SignatureAlgorithm, k any, kid string, payload []byte) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: k}, opts)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSet_JWKS(t *testing.T) {
	clk := newClock()
	s := mustOpen(t, Options{Dir: t.TempDir(), Algorithm: RS256, Now: clk.Now})
	for _, alg := range []Algorithm{ES256, EdDSA} {
		clk.Advance(time.Minute)
		if _, err := s.Rotate(alg); err != nil {
			t.Fatal(err)
		}
	}

	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(s.JWKS(), &doc); err != nil {
		t.Fatalf("JWKS is not JSON: %v", err)
	}
	// Exactly the public members of RFC 7518 §6.2.1 / §6.3.1 and RFC 8037
	// §2, plus kid, alg and use (RFC 7517 §4): no d, p, q, dp, dq, qi, oth.
	wantMembers := map[string][]string{
		"EdDSA": {"alg", "crv", "kid", "kty", "use", "x"},
		"ES256": {"alg", "crv", "kid", "kty", "use", "x", "y"},
		"RS256": {"alg", "e", "kid", "kty", "n", "use"},
	}
	wantOrder := []string{"RS256", "ES256", "EdDSA"} // one active key per algorithm, in that order
	if len(doc.Keys) != len(wantOrder) {
		t.Fatalf("JWKS has %d keys, want %d: %s", len(doc.Keys), len(wantOrder), s.JWKS())
	}
	for i, k := range doc.Keys {
		alg, _ := k["alg"].(string)
		if alg != wantOrder[i] {
			t.Errorf("keys[%d].alg = %q, want %q", i, alg, wantOrder[i])
		}
		var members []string
		for m := range k {
			members = append(members, m)
		}
		slices.Sort(members)
		if !slices.Equal(members, wantMembers[alg]) {
			t.Errorf("%s key has members %v, want exactly %v", alg, members, wantMembers[alg])
		}
		if k["use"] != "sig" {
			t.Errorf("%s key use = %v, want sig", alg, k["use"])
		}
	}
	for _, jwk := range parseJWKS(t, s.JWKS()).Keys {
		if !jwk.IsPublic() {
			t.Errorf("key %s parses as a private key", jwk.KeyID)
		}
	}

	t.Run("ETag is a quoted hash of the JWKS bytes", func(t *testing.T) {
		sum := sha256.Sum256(s.JWKS())
		if want := `"` + base64.RawURLEncoding.EncodeToString(sum[:]) + `"`; s.JWKSETag() != want {
			t.Errorf("ETag = %s, want %s", s.JWKSETag(), want)
		}
	})

	t.Run("PublicKeys matches the JWKS", func(t *testing.T) {
		var got []string
		for _, k := range s.PublicKeys() {
			if !k.IsPublic() {
				t.Errorf("PublicKeys returned private key %s", k.KeyID)
			}
			got = append(got, k.KeyID)
		}
		if want := jwksKIDs(t, s.JWKS()); !slices.Equal(got, want) {
			t.Errorf("PublicKeys kids = %v, JWKS kids = %v", got, want)
		}
	})
}

// TestKID checks the kid against RFC 7638 §3 computed by hand: SHA-256 of
// the required members in lexicographic order with no whitespace.
func TestKID(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	for _, tc := range []struct {
		alg       Algorithm
		canonical func(k *key) string
	}{
		{EdDSA, func(k *key) string {
			return `{"crv":"Ed25519","kty":"OKP","x":"` + b64(k.priv.Public().(ed25519.PublicKey)) + `"}`
		}},
		{ES256, func(k *key) string {
			pub := k.priv.Public().(*ecdsa.PublicKey)
			raw, _ := pub.Bytes() // 0x04 || X || Y, each 32 bytes
			return `{"crv":"P-256","kty":"EC","x":"` + b64(raw[1:33]) + `","y":"` + b64(raw[33:]) + `"}`
		}},
	} {
		t.Run(string(tc.alg)+" kid is the RFC 7638 thumbprint", func(t *testing.T) {
			s := mustOpen(t, Options{Dir: t.TempDir(), Algorithm: tc.alg})
			k := s.snap.Load().active[tc.alg]
			sum := sha256.Sum256([]byte(tc.canonical(k)))
			if want := b64(sum[:]); k.kid != want {
				t.Errorf("kid = %s, want %s", k.kid, want)
			}
		})
	}
}

func TestParseAlgorithm(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Algorithm
		err  bool
	}{
		{"RS256", RS256, false},
		{"ES256", ES256, false},
		{"EdDSA", EdDSA, false},
		{"rs256", RS256, false},
		{"eddsa", EdDSA, false},
		{"", "", true},
		{"HS256", "", true},
		{"none", "", true},
		{"Ed25519", "", true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseAlgorithm(tc.in)
			if got != tc.want || (err != nil) != tc.err {
				t.Errorf("ParseAlgorithm(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.err)
			}
			if tc.err && !errors.Is(err, ErrUnsupportedAlgorithm) {
				t.Errorf("error %v is not ErrUnsupportedAlgorithm", err)
			}
		})
	}
}

func TestHashForAlgorithm(t *testing.T) {
	for _, tc := range []struct {
		alg  Algorithm
		want string
	}{
		{RS256, "SHA-256"},
		{ES256, "SHA-256"},
		{EdDSA, "SHA-512"},
	} {
		if got := HashForAlgorithm(tc.alg); got.String() != tc.want {
			t.Errorf("HashForAlgorithm(%s) = %s, want %s", tc.alg, got, tc.want)
		}
	}
	if got := HashForAlgorithm("HS256"); got.Available() {
		t.Errorf("HashForAlgorithm(HS256) = %s, want an unavailable hash", got)
	}
}

// TestSet_Concurrent signs, verifies and reads the JWKS while rotating and
// reloading; run with -race. Every token must verify: a key retired during
// the test stays published for RetainFor.
func TestSet_Concurrent(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, Options{Dir: dir, Algorithm: EdDSA})
	other := mustOpen(t, Options{Dir: dir, Algorithm: EdDSA})

	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 8)
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				token, err := s.Sign([]byte(`{"sub":"1"}`))
				if err == nil {
					_, err = s.Verify(token)
				}
				if err == nil && len(s.JWKS()) == 0 {
					err = errors.New("empty JWKS")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := other.Reload(); err != nil {
				errs <- err
				return
			}
		}
	})
	for range 5 {
		if _, err := s.Rotate(""); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if _, err := other.Reload(); err != nil || other.Active().KID != s.Active().KID {
		t.Errorf("after reload the second Set has kid %s, want %s (err %v)", other.Active().KID, s.Active().KID, err)
	}
}

func BenchmarkSign(b *testing.B) {
	payload := []byte(`{"iss":"https://id.example","sub":"42","aud":"demo","exp":1767225600,"iat":1767222000,"nonce":"n-0S6_WzA2Mj"}`)
	for _, alg := range allAlgs {
		b.Run(string(alg), func(b *testing.B) {
			s := mustOpen(b, Options{Dir: b.TempDir(), Algorithm: alg})
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sign(payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkJWKS(b *testing.B) {
	s := mustOpen(b, Options{Dir: b.TempDir(), Algorithm: ES256})
	b.ReportAllocs()
	for b.Loop() {
		if len(s.JWKS()) == 0 || s.JWKSETag() == "" {
			b.Fatal("empty JWKS")
		}
	}
}
