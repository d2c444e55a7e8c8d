package keys

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// JWKS returns the public JWK Set (RFC 7517 §5), {"keys":[...]}, holding the
// active keys (one per algorithm) and every retired key still published, each
// with kty, kid, alg and use "sig" (RFC 7517 §4) and no private member. The
// bytes are encoded once per key change and shared: callers must not modify
// them.
func (s *Set) JWKS() []byte { return s.snap.Load().jwks }

// JWKSETag is a strong, quoted ETag (RFC 9110 §8.8.3) for the bytes JWKS
// returns: a hash of them, so it changes exactly when they do and every
// process serving the same keys gives the same value.
func (s *Set) JWKSETag() string { return s.snap.Load().etag }

// PublicKeys returns the published keys as public JWKs, as in JWKS.
func (s *Set) PublicKeys() []jose.JSONWebKey { return slices.Clone(s.snap.Load().publicKeys) }

// buildSnapshot orders keys, builds the active keys' signers and encodes the
// JWKS. It takes ownership of keys (it sorts the slice).
func buildSnapshot(keys []*key, now time.Time, retain time.Duration) (*snapshot, error) {
	slices.SortStableFunc(keys, compareKeys)
	if len(keys) == 0 || keys[0].retiredAt != nil {
		return nil, errors.New("no active key")
	}
	snap := &snapshot{keys: keys, active: make(map[Algorithm]*key), signers: make(map[Algorithm]jose.Signer),
		published: make(map[string]*key, len(keys))}
	for _, k := range keys {
		if k.retiredAt == nil {
			if snap.active[k.alg] != nil {
				return nil, fmt.Errorf("two active %s keys, %s and %s", k.alg, snap.active[k.alg].kid, k.kid)
			}
			signer, err := jose.NewSigner(
				jose.SigningKey{
					Algorithm: jose.SignatureAlgorithm(k.alg),
					Key:       jose.JSONWebKey{Key: k.priv, KeyID: k.kid},
				},
				(&jose.SignerOptions{}).WithType("JWT"),
			)
			if err != nil {
				return nil, fmt.Errorf("signer for key %s: %w", k.kid, err)
			}
			snap.active[k.alg], snap.signers[k.alg] = k, signer
		}
		if k.retiredAt != nil {
			end := k.retiredAt.Add(retain)
			if !now.Before(end) {
				continue
			}
			if snap.nextExpiry.IsZero() || end.Before(snap.nextExpiry) {
				snap.nextExpiry = end
			}
		}
		snap.published[k.kid] = k
		snap.publicKeys = append(snap.publicKeys, k.pub)
		if !slices.Contains(snap.algs, k.alg) {
			snap.algs = append(snap.algs, k.alg)
		}
	}
	snap.joseAlgs = joseAlgs(snap.algs)
	var err error
	snap.jwks, err = json.Marshal(jose.JSONWebKeySet{Keys: snap.publicKeys})
	if err != nil {
		return nil, fmt.Errorf("encode JWKS: %w", err)
	}
	sum := sha256.Sum256(snap.jwks)
	snap.etag = `"` + base64.RawURLEncoding.EncodeToString(sum[:]) + `"`
	return snap, nil
}

// compareKeys orders the active keys first, by algorithm (RS256, ES256,
// EdDSA), then retired keys by retirement, newest first. Ties fall back to
// creation time and kid so the order, and with it the JWKS bytes and ETag, is
// the same in every process.
func compareKeys(a, b *key) int {
	switch {
	case a.retiredAt == nil && b.retiredAt != nil:
		return -1
	case a.retiredAt != nil && b.retiredAt == nil:
		return 1
	case a.retiredAt == nil && a.alg != b.alg:
		return a.alg.rank() - b.alg.rank()
	case a.retiredAt != nil && !a.retiredAt.Equal(*b.retiredAt):
		return b.retiredAt.Compare(*a.retiredAt)
	case !a.createdAt.Equal(b.createdAt):
		return b.createdAt.Compare(a.createdAt)
	}
	if a.kid < b.kid {
		return -1
	}
	if a.kid > b.kid {
		return 1
	}
	return 0
}
