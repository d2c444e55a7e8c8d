package keys

import (
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// Sign is SignAs with the set's default algorithm.
func (s *Set) Sign(payload []byte) (string, error) {
	return s.SignAs(s.alg, payload)
}

// SignAs returns payload as a JWS in compact serialization (RFC 7515 §7.1),
// signed by alg's active key, with protected header alg, kid and typ "JWT"
// (RFC 7519 §5.1). The payload is signed as given; building claims is the
// caller's job. The signer is built once per key, so SignAs costs one
// signature and two base64 encodings.
//
// When the set holds no active key of alg (a client was just given a new
// algorithm), SignAs reloads the directory, where `inkpass client` will
// have put one, and failing that makes one itself (Ensure).
func (s *Set) SignAs(alg Algorithm, payload []byte) (string, error) {
	snap, err := s.signing(alg)
	if err != nil {
		return "", err
	}
	return snap.sign(alg, payload)
}

// signing returns a snapshot with an active key of alg.
func (s *Set) signing(alg Algorithm) (*snapshot, error) {
	if snap := s.snap.Load(); snap.active[alg] != nil {
		return snap, nil
	}
	if !alg.valid() {
		return nil, fmt.Errorf("sign: algorithm %q: %w", alg, ErrUnsupportedAlgorithm)
	}
	s.missing.Lock()
	defer s.missing.Unlock()
	if snap := s.snap.Load(); snap.active[alg] != nil {
		return snap, nil // made while we waited
	}
	if _, err := s.Reload(); err != nil {
		return nil, fmt.Errorf("sign with %s: %w", alg, err)
	}
	if _, err := s.Ensure(alg); err != nil {
		return nil, fmt.Errorf("sign with %s: %w", alg, err)
	}
	snap := s.snap.Load()
	if snap.active[alg] == nil {
		return nil, fmt.Errorf("sign with %s: no active key", alg)
	}
	return snap, nil
}

func (snap *snapshot) sign(alg Algorithm, payload []byte) (string, error) {
	return signCompact(snap.signers[alg], snap.active[alg].kid, payload)
}

// signCompact signs payload with signer, key kid's, in compact serialization.
func signCompact(signer jose.Signer, kid string, payload []byte) (string, error) {
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign with key %s: %w", kid, err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("sign with key %s: %w", kid, err)
	}
	return out, nil
}

// activeAlgs lists the algorithms with an active key, in List order.
func (snap *snapshot) activeAlgs() []Algorithm {
	var out []Algorithm
	for _, a := range SupportedAlgorithms() {
		if snap.active[a] != nil {
			out = append(out, a)
		}
	}
	return out
}

// Verify checks a compact JWS against the published key its kid names and
// returns the payload. Only the algorithms of published keys are accepted,
// and the header alg must be the key's own, so a token cannot pick how it is
// checked (RFC 8725 §3.1). It does not look at claims: exp, aud and the rest
// are the caller's. Errors wrap ErrUnknownKey or ErrInvalidToken.
func (s *Set) Verify(compact string) (payload []byte, err error) {
	snap := s.snap.Load()
	jws, err := jose.ParseSignedCompact(compact, snap.joseAlgs)
	if err != nil {
		return nil, fmt.Errorf("verify token: %w: %w", ErrInvalidToken, err)
	}
	// Compact serialization carries exactly one signature, all of it in the
	// protected header (RFC 7515 §7.1).
	h := jws.Signatures[0].Protected
	if h.KeyID == "" {
		return nil, fmt.Errorf("verify token: %w: header has no kid", ErrInvalidToken)
	}
	k := snap.published[h.KeyID]
	if k == nil {
		return nil, fmt.Errorf("verify token: kid %q: %w", h.KeyID, ErrUnknownKey)
	}
	if h.Algorithm != string(k.alg) {
		return nil, fmt.Errorf("verify token: %w: alg %s, but key %s is %s", ErrInvalidToken, h.Algorithm, k.kid, k.alg)
	}
	payload, err = jws.Verify(k.pub.Key)
	if err != nil {
		return nil, fmt.Errorf("verify token: %w: %w", ErrInvalidToken, err)
	}
	return payload, nil
}
