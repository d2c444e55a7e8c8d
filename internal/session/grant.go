package session

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Grant is what a user (or, for client_credentials, a client alone) granted
// a client: every code and token issued under it shares its ID, so that a
// replayed code or a reused refresh token revokes them all.
type Grant struct {
	ID          string
	ClientID    string
	UserID      int64 // 0 for client_credentials: there is no user
	SID         string
	Scope       string
	RedirectURI string
	// Extension carries what the ID tokens of the grant need (nonce,
	// auth_time, amr, the claims request) from the code to every refresh.
	Extension url.Values
}

// CodeGrant is an authorization code: the grant it will start, the PKCE
// challenge it was issued with, and the lifetime its access tokens get.
type CodeGrant struct {
	Grant
	Challenge       string
	ChallengeMethod string
	AccessTTL       time.Duration
	ExpiresAt       time.Time
}

// IssuedTokens is one issuance of a grant: an access token and, when the
// grant may refresh, a refresh token (Refresh "" otherwise).
type IssuedTokens struct {
	Access     string
	AccessTTL  time.Duration
	Refresh    string
	RefreshTTL time.Duration
	// Scope is the scope of this issuance; a refresh may narrow it.
	Scope string
}

// RefreshGrant is a refresh token as the store found it for a refresh
// request: its grant and row, and when its family expires.
type RefreshGrant struct {
	Grant
	Row            int64
	RefreshCreated time.Time
	RefreshExpires time.Time
	// Retired is set when the token was rotated already and is presented
	// again by its own client within the reuse interval: the rotation
	// decides, in its transaction, whether it is still answered.
	Retired bool
	// Presenter and Reuse are the client and interval it was loaded for.
	Presenter string
	Reuse     time.Duration
}

// AccessGrant is a live access token's grant.
type AccessGrant struct {
	Grant
	ExpiresAt time.Time
}

// ErrGrantInvalid is a code or token that is unknown, expired, revoked, or
// of a client removed or disabled: dead, with no attack to report.
var ErrGrantInvalid = errors.New("the grant is invalid, expired or revoked")

// ErrClientGone is a grant whose client was removed or disabled while its
// tokens were being issued: nothing was stored.
var ErrClientGone = errors.New("the client was removed or disabled")

// ReplayedError is an authorization code presented after it was redeemed
// (RFC 6749 §4.1.2). The store reports it and writes nothing; the token
// endpoint revokes the grant.
type ReplayedError struct{ GrantID string }

func (e *ReplayedError) Error() string {
	return fmt.Sprintf("authorization code of grant %s replayed", e.GrantID)
}

// ReusedError is a retired refresh token presented again outside the reuse
// rules (RFC 9700 §4.14.2). The store reports it and writes nothing; the
// token endpoint revokes the grant.
type ReusedError struct{ GrantID string }

func (e *ReusedError) Error() string {
	return fmt.Sprintf("refresh token of grant %s reused", e.GrantID)
}

// Reasons a grant is revoked, recorded with the burned grant id; the first
// two are audited as attack signals.
const (
	ReasonCodeReplayed  = "authorization code replayed"
	ReasonRefreshReused = "refresh token reused"
)
