package oidc

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/user"
)

// idTokenInput is what an ID token states.
type idTokenInput struct {
	user     *user.User
	clientID string
	scopes   []string
	// claims are the claims parameter's id_token member (ClaimsRequest).
	claims      []string
	nonce       string
	authTime    time.Time
	sid         string
	accessToken string
}

// amrPassword is the amr claim (RFC 8176) of every ID token: inkpass signs
// people in with a password and nothing else.
var amrPassword = []string{"pwd"}

// mintIDToken signs an ID token (OIDC Core §2) with the active key. at_hash
// uses the hash of the algorithm of the key that actually signs (§3.1.3.6),
// which is why the claims are built inside SignFunc.
func (p *Provider) mintIDToken(in idTokenInput) (string, error) {
	now := p.cfg.Now()
	c := userClaims(in.user, in.scopes, in.claims)
	c.Iss, c.Aud, c.Azp = p.cfg.Issuer, in.clientID, in.clientID
	c.Iat, c.Exp = now.Unix(), now.Add(p.cfg.IDTokenTTL).Unix()
	c.Amr = amrPassword
	if !in.authTime.IsZero() {
		c.AuthTime = in.authTime.Unix()
	}
	c.Nonce, c.Sid = in.nonce, in.sid
	tok, err := p.signer.SignFunc(func(alg keys.Algorithm) ([]byte, error) {
		if in.accessToken != "" {
			h := keys.HashForAlgorithm(alg).New()
			h.Write([]byte(in.accessToken))
			sum := h.Sum(nil)
			c.AtHash = base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
		}
		return json.Marshal(c)
	})
	if err != nil {
		return "", fmt.Errorf("sign ID token: %w", err)
	}
	return tok, nil
}
