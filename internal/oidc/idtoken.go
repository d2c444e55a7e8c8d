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
	alg      keys.Algorithm // the client's id_token_signed_response_alg; RS256 when empty
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

// mintIDToken signs an ID token (OIDC Core §2) with the active key of the
// client's algorithm: each client keeps its own (Registration §2
// id_token_signed_response_alg), so a key rotation or another client's
// choice never changes the alg a running relying party verifies. at_hash
// uses that algorithm's hash (§3.1.3.6).
func (p *Provider) mintIDToken(in idTokenInput) (string, error) {
	alg := in.alg
	if alg == "" {
		alg = keys.RS256
	}
	now := p.cfg.Now()
	c := userClaims(in.user, in.scopes, in.claims)
	c.Iss, c.Aud, c.Azp = p.cfg.Issuer, in.clientID, in.clientID
	c.Iat, c.Exp = now.Unix(), now.Add(p.cfg.IDTokenTTL).Unix()
	c.Amr = amrPassword
	if !in.authTime.IsZero() {
		c.AuthTime = in.authTime.Unix()
	}
	c.Nonce, c.Sid = in.nonce, in.sid
	if in.accessToken != "" {
		h := keys.HashForAlgorithm(alg).New()
		h.Write([]byte(in.accessToken))
		sum := h.Sum(nil)
		c.AtHash = base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode ID token: %w", err)
	}
	tok, err := p.signer.SignAs(alg, payload)
	if err != nil {
		return "", fmt.Errorf("sign ID token: %w", err)
	}
	return tok, nil
}
