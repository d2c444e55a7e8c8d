package mfa

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// keyBytes is the length of the sealing key: AES-256.
const keyBytes = 32

// Sealer encrypts factor secrets at rest with AES-GCM under a key kept
// outside the database (a file in the keys folder), so a copy of the
// database alone (a backup, a stolen file) yields no TOTP secret. Each
// secret is bound to its user as additional data, so a sealed secret moved
// to another user's row does not open.
type Sealer struct{ aead cipher.AEAD }

// NewSealer makes a Sealer from a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != keyBytes {
		return nil, fmt.Errorf("mfa key: %d bytes, want %d", len(key), keyBytes)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("mfa key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("mfa key: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// LoadOrCreateKey reads the sealing key at path, or creates it (random,
// mode 0600, its folder 0700) when the file does not exist, as the signing
// keys are made on first use. A file of the wrong size is an error, never
// replaced: the secrets sealed under it would be lost.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil {
		if len(key) != keyBytes {
			return nil, fmt.Errorf("mfa key %s: %d bytes, want %d", path, len(key), keyBytes)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read mfa key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create mfa key folder: %w", err)
	}
	key = make([]byte, keyBytes)
	rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		// Another process made it first: use that one.
		return LoadOrCreateKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("create mfa key: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("write mfa key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write mfa key: %w", err)
	}
	return key, nil
}

// Seal encrypts plain for the user named by ad: nonce, then ciphertext.
func (s *Sealer) Seal(plain, ad []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plain, ad)
}

// Open decrypts what Seal made for the same ad.
func (s *Sealer) Open(sealed, ad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("open mfa secret: too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, fmt.Errorf("open mfa secret: %w", err)
	}
	return plain, nil
}
