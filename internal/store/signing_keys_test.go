package store_test

import (
	"bytes"
	"crypto/x509"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/keys/keystoretest"
	"github.com/inkpass/inkpass/internal/store"
)

func testKEK(b byte) []byte { return bytes.Repeat([]byte{b}, keys.KEKSize) }

func signingKeys(t *testing.T, path string, kek []byte) *store.SigningKeys {
	t.Helper()
	sealer, err := keys.NewSealer(kek)
	if err != nil {
		t.Fatal(err)
	}
	return mustOpen(t, path, store.Options{}).SigningKeys(sealer)
}

// TestSigningKeys_Contract runs the key store contract on the database. Each
// Store is a database handle of its own, as each server has.
func TestSigningKeys_Contract(t *testing.T) {
	keystoretest.Run(t, func(t *testing.T) keystoretest.Backing {
		path := filepath.Join(t.TempDir(), "inkpass.db")
		return func(t *testing.T) keys.Store { return signingKeys(t, path, testKEK(7)) }
	})
}

func TestSigningKeys(t *testing.T) {
	t.Run("the private key column holds no plaintext key", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "inkpass.db")
		set, _, err := keys.Open(keys.Options{Store: signingKeys(t, path, testKEK(7)), Algorithm: keys.ES256})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := set.Ensure(keys.EdDSA); err != nil {
			t.Fatal(err)
		}
		// The plaintext each row must not contain, taken from a store that
		// returns it decrypted.
		recs, _, err := signingKeys(t, path, testKEK(7)).Load(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		plain := map[string][]byte{}
		for _, r := range recs {
			der, err := x509.MarshalPKCS8PrivateKey(r.Key)
			if err != nil {
				t.Fatal(err)
			}
			plain[r.KID] = der
		}
		rows, err := rawDB(t, path).Query(`SELECT kid, private_key FROM inkpass_signing_keys`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var kid string
			var stored []byte
			if err := rows.Scan(&kid, &stored); err != nil {
				t.Fatal(err)
			}
			n++
			if bytes.Contains(stored, []byte("PRIVATE KEY")) {
				t.Errorf("key %s is stored as PEM", kid)
			}
			der := plain[kid]
			if len(der) == 0 || bytes.Contains(stored, der) || bytes.Contains(stored, der[len(der)-32:]) {
				t.Errorf("key %s: the stored bytes contain the raw PKCS#8 key (or its last 32 bytes)", kid)
			}
		}
		if n != 2 {
			t.Errorf("%d rows, want 2", n)
		}
	})

	t.Run("a wrong KEK fails clearly and the Set keeps serving", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "inkpass.db")
		set, _, err := keys.Open(keys.Options{Store: signingKeys(t, path, testKEK(7)), Algorithm: keys.ES256})
		if err != nil {
			t.Fatal(err)
		}
		kid := set.Active().KID
		_, _, err = keys.Open(keys.Options{Store: signingKeys(t, path, testKEK(8)), Algorithm: keys.ES256})
		if !errors.Is(err, keys.ErrWrongKEK) {
			t.Fatalf("Open with another KEK: %v, want keys.ErrWrongKEK", err)
		}
		if !strings.Contains(err.Error(), kid) || !strings.Contains(err.Error(), "key-encryption key") {
			t.Errorf("error %q does not name the key %s and the key-encryption key", err, kid)
		}
	})

	t.Run("a sealed key moved to another row does not open", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "inkpass.db")
		set, _, err := keys.Open(keys.Options{Store: signingKeys(t, path, testKEK(7)), Algorithm: keys.ES256})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := set.Rotate(keys.ES256); err != nil {
			t.Fatal(err)
		}
		// Give the active row the retired key's sealed bytes: whoever can
		// write the database must not choose the key we sign with.
		if _, err := rawDB(t, path).Exec(`UPDATE inkpass_signing_keys SET private_key = (SELECT private_key FROM inkpass_signing_keys WHERE retired_at IS NOT NULL) WHERE retired_at IS NULL`); err != nil {
			t.Fatal(err)
		}
		_, _, err = keys.Open(keys.Options{Store: signingKeys(t, path, testKEK(7)), Algorithm: keys.ES256})
		if !errors.Is(err, keys.ErrWrongKEK) {
			t.Fatalf("Open after swapping sealed keys: %v, want keys.ErrWrongKEK", err)
		}
	})
}
