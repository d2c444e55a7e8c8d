package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestKEK(t *testing.T) {
	t.Run("CreateKEK writes a 0600 file that ReadKEK reads back", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "keys", "kek")
		made, err := CreateKEK(path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := permOf(t, path); perm != 0o600 && runtime.GOOS != "windows" {
			t.Errorf("kek mode %04o, want 0600", perm)
		}
		got, err := ReadKEK(path)
		if err != nil || !bytes.Equal(got, made) || len(got) != KEKSize {
			t.Fatalf("ReadKEK = %x, %v; want the %d bytes CreateKEK made", got, err, KEKSize)
		}
		if _, err := CreateKEK(path); !errors.Is(err, fs.ErrExist) {
			t.Errorf("CreateKEK over an existing file: %v, want fs.ErrExist (never replace a KEK)", err)
		}
	})
	t.Run("ReadKEK refuses a file others can read, naming the chmod", func(t *testing.T) {
		skipOnWindows(t)
		path := filepath.Join(t.TempDir(), "kek")
		if _, err := CreateKEK(path); err != nil {
			t.Fatal(err)
		}
		chmod(t, path, 0o644)
		if _, err := ReadKEK(path); !errors.Is(err, ErrInsecurePermissions) || !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Errorf("ReadKEK of a 0644 file: %v, want ErrInsecurePermissions naming chmod 600", err)
		}
	})
	t.Run("ReadKEK refuses a file that is not 32 bytes of base64", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "kek")
		if err := os.WriteFile(path, []byte("c2hvcnQ=\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadKEK(path); err == nil || !strings.Contains(err.Error(), "32 bytes") {
			t.Errorf("ReadKEK of a short key: %v", err)
		}
	})
	t.Run("ReadKEK of a missing file wraps fs.ErrNotExist", func(t *testing.T) {
		if _, err := ReadKEK(filepath.Join(t.TempDir(), "kek")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ReadKEK: %v, want fs.ErrNotExist", err)
		}
	})
}

func TestSealer(t *testing.T) {
	priv, err := generate(ES256, 0)
	if err != nil {
		t.Fatal(err)
	}
	k, err := newKey(ES256, priv, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	kek := bytes.Repeat([]byte{1}, KEKSize)
	s, err := NewSealer(kek)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Seal(k.record())
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	if bytes.Contains(sealed, der) || bytes.Contains(sealed, []byte("PRIVATE KEY")) {
		t.Fatal("the sealed key contains the plaintext key")
	}
	t.Run("opens under the same KEK, kid and alg", func(t *testing.T) {
		got, err := s.Open(k.kid, ES256, sealed)
		if err != nil {
			t.Fatal(err)
		}
		if !got.(*ecdsa.PrivateKey).Equal(priv) {
			t.Error("Open returned another key")
		}
	})
	for _, tc := range []struct {
		name   string
		kek    []byte
		kid    string
		alg    Algorithm
		sealed []byte
	}{
		{"not under another KEK", bytes.Repeat([]byte{2}, KEKSize), k.kid, ES256, sealed},
		{"not for another kid", kek, "AAAA", ES256, sealed},
		{"not for another alg", kek, k.kid, EdDSA, sealed},
		{"not once a byte changed", kek, k.kid, ES256, append(bytes.Clone(sealed[:len(sealed)-1]), sealed[len(sealed)-1]^1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := NewSealer(tc.kek)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := o.Open(tc.kid, tc.alg, tc.sealed); !errors.Is(err, ErrWrongKEK) {
				t.Errorf("Open: %v, want ErrWrongKEK", err)
			}
		})
	}
}
