package keys

import (
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// SignTyped is SignAs with another typ header, for tokens that must not be
// taken for an ID token: a logout token is "logout+jwt" (OpenID Connect
// Back-Channel Logout 1.0 §2.4; RFC 8725 §3.11). The signer is built per call,
// which suits tokens rarer than ID tokens.
func (s *Set) SignTyped(alg Algorithm, typ string, payload []byte) (string, error) {
	snap, err := s.signing(alg)
	if err != nil {
		return "", err
	}
	active := snap.active[alg]
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.SignatureAlgorithm(active.alg), Key: jose.JSONWebKey{Key: active.priv, KeyID: active.kid}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)),
	)
	if err != nil {
		return "", fmt.Errorf("signer for key %s: %w", active.kid, err)
	}
	return signCompact(signer, active.kid, payload)
}
