package keys

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// A key store outside the folder (the database) holds private keys sealed
// with AES-256-GCM under a key-encryption key (KEK) that is not stored with
// them: a copy of the database alone signs nothing. The KEK is a file of its
// own, 32 random bytes in base64 on one line, mode 0600, refused like a key
// file when group or others may read it.

// KEKSize is the length of a key-encryption key: AES-256.
const KEKSize = 32

// ErrWrongKEK is returned when a sealed key does not open: the KEK is not the
// one it was sealed under, or the stored bytes were altered or moved to
// another kid.
var ErrWrongKEK = errors.New("the key-encryption key does not open this signing key (wrong KEK file, or the stored key was altered)")

// sealVersion is the first byte of a sealed key, so a later format can be
// told apart instead of failing as a wrong KEK.
const sealVersion = 1

// ReadKEK reads the KEK file at path. A missing file is an error wrapping
// fs.ErrNotExist, so the caller can decide whether to CreateKEK.
func ReadKEK(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read key-encryption key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read key-encryption key %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read key-encryption key %s: not a regular file", path)
	}
	if err := checkPerm(path, fi, keyForbidden, fileMode); err != nil {
		return nil, fmt.Errorf("read key-encryption key %s: %w", path, err)
	}
	data, err := readLimited(f)
	if err != nil {
		return nil, fmt.Errorf("read key-encryption key %s: %w", path, err)
	}
	kek, err := DecodeKEK(string(data))
	if err != nil {
		return nil, fmt.Errorf("read key-encryption key %s: %w", path, err)
	}
	return kek, nil
}

// DecodeKEK reads a KEK written as CreateKEK writes it: KEKSize bytes in
// base64 on one line (the form INKPASS_KEY_ENCRYPTION_KEY takes too). The
// error never quotes the text.
func DecodeKEK(text string) ([]byte, error) {
	kek, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil || len(kek) != KEKSize {
		return nil, fmt.Errorf("want %d bytes in base64 on one line", KEKSize)
	}
	return kek, nil
}

// CreateKEK writes a new random KEK at path (mode 0600; its folder is made
// 0700 if missing). It never replaces an existing file: that would make
// every key sealed under the old one unreadable.
func CreateKEK(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), dirMode); err != nil {
		return nil, fmt.Errorf("create key-encryption key %s: %w", path, err)
	}
	kek := make([]byte, KEKSize)
	if _, err := rand.Read(kek); err != nil {
		return nil, fmt.Errorf("create key-encryption key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return nil, fmt.Errorf("create key-encryption key: %w", err)
	}
	if err := writeSyncClose(f, []byte(base64.StdEncoding.EncodeToString(kek)+"\n")); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("create key-encryption key %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("create key-encryption key %s: %w", path, err)
	}
	return kek, nil
}

// Sealer seals private keys for a Store that must not hold them in clear.
type Sealer struct{ aead cipher.AEAD }

// NewSealer returns a Sealer under kek (KEKSize bytes).
func NewSealer(kek []byte) (*Sealer, error) {
	if len(kek) != KEKSize {
		return nil, fmt.Errorf("key-encryption key: %d bytes, want %d", len(kek), KEKSize)
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("key-encryption key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("key-encryption key: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// sealAAD binds a sealed key to its kid and alg: a sealed key copied to
// another row does not open.
func sealAAD(kid string, alg Algorithm) []byte {
	return []byte("inkpass signing key\x00" + kid + "\x00" + string(alg))
}

// Seal encrypts r's private key (PKCS#8 DER) as version || nonce ||
// ciphertext. A fresh random 96-bit nonce per key is safe far beyond the
// number of keys one KEK will ever seal (NIST SP 800-38D §8.3).
func (s *Sealer) Seal(r Record) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(r.Key)
	if err != nil {
		return nil, fmt.Errorf("seal key %s: %w", r.KID, err)
	}
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(der)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("seal key %s: %w", r.KID, err)
	}
	return s.aead.Seal(out, out[1:], der, sealAAD(r.KID, r.Alg)), nil
}

// Open decrypts what Seal made for kid and alg. It fails with ErrWrongKEK
// when the KEK differs or the bytes were altered; the key's fit to alg and
// kid is checked by the Set, as for every store.
func (s *Sealer) Open(kid string, alg Algorithm, sealed []byte) (crypto.Signer, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, fmt.Errorf("open key %s: not a sealed key of version %d", kid, sealVersion)
	}
	der, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], sealAAD(kid, alg))
	if err != nil {
		return nil, fmt.Errorf("open key %s: %w", kid, ErrWrongKEK)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("open key %s: parse PKCS#8: %w", kid, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("open key %s: a %T cannot sign", kid, priv)
	}
	return signer, nil
}
