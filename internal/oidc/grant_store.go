package oidc

import (
	"context"
	"strconv"
	"time"

	"github.com/inkpass/inkpass/internal/session"
)

// GrantStore keeps the codes and tokens of grants, one named atomic
// operation per step of a grant's life (store.Tokens implements it;
// internal/store/storetest checks an implementation against this contract).
// Reads never write: on a *session.ReplayedError or *session.ReusedError the
// token endpoint decides to RevokeGrant.
type GrantStore interface {
	// IssueCode stores code for cg, live for ttl, and records that cg's
	// client took part in cg's session (back-channel logout), in one
	// transaction. It fails with session.ErrNotFound when the session is no
	// longer live and session.ErrClientGone when the client is removed or
	// disabled.
	IssueCode(ctx context.Context, code string, cg session.CodeGrant, ttl time.Duration) error
	// RedeemCode marks a live code used and returns it, once accept(code)
	// returned nil; accept's error comes back as is and leaves the code
	// unused (accept only looks: it may run more than once). Unknown,
	// expired and revoked codes are session.ErrGrantInvalid; a used one is
	// a *session.ReplayedError. Of concurrent redemptions exactly one wins.
	RedeemCode(ctx context.Context, code string, accept func(*session.CodeGrant) error) (*session.CodeGrant, error)
	// IssueTokens stores a grant's first tokens, only while its client is
	// enabled (else session.ErrClientGone) and the grant not revoked (else
	// session.ErrGrantInvalid), checked in the writing transaction.
	IssueTokens(ctx context.Context, g session.Grant, t session.IssuedTokens) error
	// RefreshGrant finds a refresh token presented by clientID: live, or
	// retired within reuse by its own client (Retired set); a retired one
	// otherwise is a *session.ReusedError, a dead one
	// session.ErrGrantInvalid.
	RefreshGrant(ctx context.Context, refresh, clientID string, reuse time.Duration) (*session.RefreshGrant, error)
	// RotateRefresh retires old and stores t in its family in one
	// transaction; of concurrent rotations of one token exactly one wins
	// and the others are *session.ReusedError, unless the reuse interval
	// old was loaded with answers them in the family. Errors as IssueTokens.
	RotateRefresh(ctx context.Context, old *session.RefreshGrant, t session.IssuedTokens) error
	// AccessGrant returns a live access token's grant, or
	// session.ErrGrantInvalid.
	AccessGrant(ctx context.Context, access string) (*session.AccessGrant, error)
	// RevokeGrant revokes every token of a grant and burns its id, so that
	// no token can join it afterwards; reason is audited.
	RevokeGrant(ctx context.Context, grantID, reason string) error
}

// The parts of GrantStore, one per unit that uses them: the Authorizer
// issues codes, the grants redeem, issue, rotate and revoke, UserInfo reads
// access grants (accessGrants, userinfo.go).
type (
	codeIssuer interface {
		IssueCode(ctx context.Context, code string, cg session.CodeGrant, ttl time.Duration) error
	}
	tokenIssuer interface {
		IssueTokens(ctx context.Context, g session.Grant, t session.IssuedTokens) error
	}
	codeRedeemer interface {
		RedeemCode(ctx context.Context, code string, accept func(*session.CodeGrant) error) (*session.CodeGrant, error)
		tokenIssuer
	}
	refreshRotator interface {
		RefreshGrant(ctx context.Context, refresh, clientID string, reuse time.Duration) (*session.RefreshGrant, error)
		RotateRefresh(ctx context.Context, old *session.RefreshGrant, t session.IssuedTokens) error
	}
	grantRevoker interface {
		RevokeGrant(ctx context.Context, grantID, reason string) error
	}
)

var _ interface {
	codeIssuer
	tokenGrantStore
	accessGrants
} = GrantStore(nil)

// revokeGrant ends a grant on a replay or reuse; the request is refused
// either way, so a failure is only logged.
func (m *tokenMinter) revokeGrant(ctx context.Context, grantID, reason string) {
	if err := m.revoker.RevokeGrant(ctx, grantID, reason); err != nil {
		m.cfg.Logger.ErrorContext(ctx, "revoke grant", "grant_id", grantID, "reason", reason, "err", err)
	}
}

// recordUserID is a token record's user, 0 for none (or one that is not a
// user id, which no grant has).
func recordUserID(rec *session.TokenRecord) int64 {
	id, _ := strconv.ParseInt(rec.UserID, 10, 64)
	return id
}
