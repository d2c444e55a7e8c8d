package oidc

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/user"
)

// idTokenInput is what an ID token states.
type idTokenInput struct {
	user        *user.User
	clientID    string
	scopes      []string
	nonce       string
	authTime    time.Time
	sid         string
	accessToken string
}

// mintIDToken signs an ID token (OIDC Core §2) with the active key. at_hash
// uses the hash of the algorithm of the key that actually signs (§3.1.3.6),
// which is why the claims are built inside SignFunc.
func (p *Provider) mintIDToken(in idTokenInput) (string, error) {
	now := p.cfg.Now()
	claims := userClaims(in.user, in.scopes)
	maps.Copy(claims, map[string]any{
		"iss": p.cfg.Issuer,
		"aud": in.clientID,
		"azp": in.clientID,
		"iat": now.Unix(),
		"exp": now.Add(p.cfg.IDTokenTTL).Unix(),
		"amr": []string{"pwd"},
	})
	if !in.authTime.IsZero() {
		claims["auth_time"] = in.authTime.Unix()
	}
	if in.nonce != "" {
		claims["nonce"] = in.nonce
	}
	if in.sid != "" {
		claims["sid"] = in.sid
	}
	tok, err := p.signer.SignFunc(func(alg keys.Algorithm) ([]byte, error) {
		if in.accessToken != "" {
			h := keys.HashForAlgorithm(alg).New()
			h.Write([]byte(in.accessToken))
			sum := h.Sum(nil)
			claims["at_hash"] = base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
		}
		return json.Marshal(claims)
	})
	if err != nil {
		return "", fmt.Errorf("sign ID token: %w", err)
	}
	return tok, nil
}
