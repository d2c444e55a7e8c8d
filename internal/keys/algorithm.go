package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// Algorithm is a JWS "alg" value (RFC 7515 §4.1.1) that inkpass can sign with.
type Algorithm string

// The algorithms inkpass signs with. RS256 is the default because OpenID
// Connect Core §15.1 requires every OP to support it, so every relying party
// can verify it.
const (
	RS256 Algorithm = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 §3.3
	ES256 Algorithm = "ES256" // ECDSA P-256 with SHA-256, RFC 7518 §3.4
	EdDSA Algorithm = "EdDSA" // Ed25519, RFC 8037 §3.1
)

// RSA key sizes accepted by Options.RSABits.
const (
	// DefaultRSABits is 2048: RFC 7518 §3.3 makes 2048 bits the minimum for
	// RS256, and NIST SP 800-57 Part 1 rates it 112-bit security, acceptable
	// through 2030. Larger keys make every signature several times slower
	// for a margin ID tokens that live minutes do not need; rotation is the
	// lever for the long term.
	DefaultRSABits = 2048
	// minRSABits is enforced at load as well as at generation, so a hand-placed
	// weak key is refused rather than published.
	minRSABits = 2048
)

// SupportedAlgorithms lists every algorithm inkpass signs with, RS256 first.
// The order is also the order of active keys in List and the JWKS.
func SupportedAlgorithms() []Algorithm { return []Algorithm{RS256, ES256, EdDSA} }

// rank is a's place in SupportedAlgorithms.
func (a Algorithm) rank() int {
	switch a {
	case RS256:
		return 0
	case ES256:
		return 1
	}
	return 2
}

// ErrUnsupportedAlgorithm is returned for an algorithm other than RS256,
// ES256 or EdDSA, and for a key that does not fit its algorithm.
var ErrUnsupportedAlgorithm = errors.New("unsupported signing algorithm (want RS256, ES256 or EdDSA)")

// ParseAlgorithm maps a configuration value to an Algorithm. Matching ignores
// case ("rs256" is RS256) because the value comes from humans; the result is
// always the canonical spelling that goes into JWS headers.
func ParseAlgorithm(s string) (Algorithm, error) {
	for _, a := range SupportedAlgorithms() {
		if strings.EqualFold(s, string(a)) {
			return a, nil
		}
	}
	return "", fmt.Errorf("parse algorithm %q: %w", s, ErrUnsupportedAlgorithm)
}

func (a Algorithm) valid() bool {
	return a == RS256 || a == ES256 || a == EdDSA
}

// HashForAlgorithm returns the hash behind at_hash and c_hash for tokens signed
// with a: "the hash algorithm used in the alg Header Parameter of the ID
// Token's JOSE Header" (OpenID Connect Core §3.1.3.6). EdDSA names no hash of
// its own; SHA-512 is what Ed25519 uses internally and what go-oidc expects.
// It returns 0 for an unknown algorithm; crypto.Hash(0).Available() is false.
func HashForAlgorithm(a Algorithm) crypto.Hash {
	switch a {
	case RS256, ES256:
		return crypto.SHA256
	case EdDSA:
		return crypto.SHA512
	}
	return 0
}

// generate makes a new private key for alg.
func generate(alg Algorithm, rsaBits int) (crypto.Signer, error) {
	switch alg {
	case RS256:
		k, err := rsa.GenerateKey(rand.Reader, rsaBits)
		if err != nil {
			return nil, fmt.Errorf("generate %s key: %w", alg, err)
		}
		return k, nil
	case ES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate %s key: %w", alg, err)
		}
		return k, nil
	case EdDSA:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate %s key: %w", alg, err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("generate %q key: %w", alg, ErrUnsupportedAlgorithm)
}

// checkKey verifies that priv, as parsed from PKCS#8, is a key alg may sign
// with. The index says the alg; the file says the key; they must agree, or a
// header would claim an algorithm the signature does not use.
func checkKey(alg Algorithm, priv any) (crypto.Signer, error) {
	switch alg {
	case RS256:
		k, ok := priv.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("index says %s but file holds a %s key: %w", alg, keyType(priv), ErrUnsupportedAlgorithm)
		}
		// RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used".
		if n := k.N.BitLen(); n < minRSABits {
			return nil, fmt.Errorf("RSA key has %d bits, RFC 7518 §3.3 requires at least %d: %w", n, minRSABits, ErrUnsupportedAlgorithm)
		}
		return k, nil
	case ES256:
		k, ok := priv.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("index says %s but file holds a %s key: %w", alg, keyType(priv), ErrUnsupportedAlgorithm)
		}
		// RFC 7518 §3.4: ES256 is ECDSA using P-256 and SHA-256.
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("ES256 needs curve P-256, file holds %s: %w", k.Curve.Params().Name, ErrUnsupportedAlgorithm)
		}
		return k, nil
	case EdDSA:
		k, ok := priv.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("index says %s but file holds a %s key: %w", alg, keyType(priv), ErrUnsupportedAlgorithm)
		}
		return k, nil
	}
	return nil, fmt.Errorf("algorithm %q: %w", alg, ErrUnsupportedAlgorithm)
}

func keyType(priv any) string {
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		return "RSA"
	case *ecdsa.PrivateKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PrivateKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", priv)
}

// joseAlgs converts to go-jose's type; the spellings are identical.
func joseAlgs(algs []Algorithm) []jose.SignatureAlgorithm {
	out := make([]jose.SignatureAlgorithm, len(algs))
	for i, a := range algs {
		out[i] = jose.SignatureAlgorithm(a)
	}
	return out
}
