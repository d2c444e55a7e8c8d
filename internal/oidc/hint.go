package oidc

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// hintClaims are the claims inkpass reads from an id_token_hint.
type hintClaims struct {
	Issuer   string          `json:"iss"`
	Subject  string          `json:"sub"`
	Audience json.RawMessage `json:"aud"`
	SID      string          `json:"sid"`
}

func (h *hintClaims) audiences() []string {
	var one string
	if json.Unmarshal(h.Audience, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(h.Audience, &many)
	return many
}

// hintVerifier checks a JWT this issuer signed and returns its payload
// (Signer.Verify).
type hintVerifier interface {
	Verify(compact string) ([]byte, error)
}

// parseIDTokenHint accepts an ID token issuer signed, verified by v, even an
// expired one (OIDC Core §3.1.2.1 and RP-Initiated Logout §2 allow that),
// and returns who it names.
func parseIDTokenHint(v hintVerifier, issuer, hint string) (*hintClaims, error) {
	payload, err := v.Verify(hint)
	if err != nil {
		return nil, fmt.Errorf("id_token_hint: %w", err)
	}
	var c hintClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("id_token_hint: %w", err)
	}
	if c.Issuer != issuer {
		return nil, errors.New("id_token_hint: issued by another issuer")
	}
	// A user's sub is Subject's: today a decimal user id, which this
	// cheap check relies on (subjectIs does the real comparison).
	if _, err := strconv.ParseInt(c.Subject, 10, 64); err != nil {
		return nil, errors.New("id_token_hint: no user subject")
	}
	return &c, nil
}

// subjectIs reports whether sub, the subject of an id_token_hint (or of the
// claims parameter's sub) sent by client clientID, names the user userID:
// Subject's value for them. It is the one comparison of
// a hinted subject with a user: the authorization request's login step
// (AuthRequest.AllowsUser) and the logout confirmation (LogoutRequest.
// ProvenFor) both ask it.
func subjectIs(sub string, userID int64, clientID string) bool {
	return sub != "" && sub == Subject(userID, clientID)
}
