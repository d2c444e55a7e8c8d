package oidc

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/session"
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
	amr         []string // the session's methods (grantAMR); omitted when empty
	sid         string
	accessToken string
}

// grantAMR is the amr claim (RFC 8176) of a grant's ID tokens: the methods of
// the session it was issued under, carried from the code (Grant). A grant
// issued before sessions recorded their methods carries none; every sign-in
// then was a password one, so it says so.
//
// The acr claim is derived from these same methods (grantACR), so that amr
// and acr never disagree.
func grantAMR(ext url.Values) []string {
	if amr := strings.Fields(ext.Get(extAMR)); len(amr) > 0 {
		return amr
	}
	if ext.Get(extSID) != "" {
		return []string{session.MethodPassword}
	}
	return nil
}

// The authentication context classes (acr values) inkpass tells apart,
// advertised in acr_values_supported and asked for with acr_values.
const (
	// ACRPassword: a password sign-in (or one whose methods are unknown).
	ACRPassword = "urn:inkpass:acr:pwd"
	// ACRMFA: a password and a second factor (amr holds "mfa").
	ACRMFA = "urn:inkpass:acr:mfa"
)

// grantACR is the acr claim for the methods amr (grantAMR): ACRMFA when the
// sign-in used a second factor, ACRPassword otherwise; "" (no claim) when
// there are no methods (client_credentials has no user sign-in).
func grantACR(amr []string) string {
	switch {
	case len(amr) == 0:
		return ""
	case slices.Contains(amr, session.MethodMFA):
		return ACRMFA
	default:
		return ACRPassword
	}
}

// tokenSigner signs a JWT with the active key of alg (Signer.SignAs).
type tokenSigner interface {
	SignAs(alg keys.Algorithm, payload []byte) (string, error)
}

// mintIDToken signs an ID token (OIDC Core §2) with the active key of the
// client's algorithm: each client keeps its own (Registration §2
// id_token_signed_response_alg), so a key rotation or another client's
// choice never changes the alg a running relying party verifies. at_hash
// uses that algorithm's hash (§3.1.3.6).
func mintIDToken(cfg Config, signer tokenSigner, in idTokenInput) (string, error) {
	alg := in.alg
	if alg == "" {
		alg = keys.RS256
	}
	now := cfg.Now()
	c := userClaims(in.user, in.clientID, in.scopes, in.claims)
	c.Iss, c.Aud, c.Azp = cfg.Issuer, in.clientID, in.clientID
	c.Iat, c.Exp = now.Unix(), now.Add(cfg.IDTokenTTL).Unix()
	c.Amr, c.Acr = in.amr, grantACR(in.amr)
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
	tok, err := signer.SignAs(alg, payload)
	if err != nil {
		return "", fmt.Errorf("sign ID token: %w", err)
	}
	return tok, nil
}
