package oidc

import (
	"context"
	"errors"
	"net/url"

	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/session"
)

// The authorization code grant (RFC 6749 §4.1, OIDC Core §3.1): Grant
// (authorize.go) issues the code through issueCode, the token endpoint
// redeems it here.

// issueCode stores a new code for cg in codes and returns it.
func issueCode(ctx context.Context, cfg Config, codes codeIssuer, cg session.CodeGrant) (string, error) {
	code := session.NewSortableToken()
	cg.AccessTTL = cfg.AccessTTL
	if err := codes.IssueCode(ctx, code, cg, cfg.CodeTTL); err != nil {
		return "", err
	}
	return code, nil
}

// codeGrant redeems codes for tokens.
type codeGrant struct {
	cfg   Config
	store codeRedeemer
	users UserFinder
	mint  *tokenMinter
}

func newCodeGrant(cfg Config, store codeRedeemer, users UserFinder, mint *tokenMinter) *codeGrant {
	return &codeGrant{cfg: cfg.withDefaults(), store: store, users: users, mint: mint}
}

const badCode = "the authorization code is invalid, expired, already used, or was issued to another client or redirect_uri"

// exchange redeems a code for tokens. The code is checked (client,
// redirect_uri, PKCE) before it is consumed, so a wrong verifier does not
// burn it for its legitimate holder; a code used already is a replay (RFC
// 6749 §4.1.2) and revokes everything its first exchange issued.
func (g *codeGrant) exchange(ctx context.Context, c *client.Client, form url.Values) (*tokenResponse, *Error) {
	code := form.Get("code")
	if code == "" {
		return nil, errInvalidRequest("code is missing")
	}
	redirectURI := form.Get("redirect_uri")
	if redirectURI == "" && len(c.RedirectURIs) == 1 {
		redirectURI = c.RedirectURIs[0]
	}
	if redirectURI == "" {
		return nil, errInvalidRequest("redirect_uri is missing")
	}
	verifier := form.Get("code_verifier")
	if verifier != "" && !verifierPattern.MatchString(verifier) {
		return nil, errInvalidGrant("code_verifier is malformed")
	}
	if c.Public && verifier == "" {
		return nil, errInvalidGrant("PKCE code_verifier is required for public clients")
	}
	cg, err := g.store.RedeemCode(ctx, code, func(cg *session.CodeGrant) error {
		if cg.ClientID != c.ID || (cg.RedirectURI != "" && cg.RedirectURI != redirectURI) {
			return errInvalidGrant(badCode)
		}
		if e := checkPKCE(cg, verifier); e != nil {
			return e
		}
		return nil
	})
	if oerr := g.mint.grantFailure(ctx, err, badCode); oerr != nil {
		return nil, oerr
	}
	u, oerr := activeUser(ctx, g.users, g.cfg.Logger, cg.UserID)
	if oerr != nil {
		return nil, oerr
	}
	t := session.IssuedTokens{Access: session.NewSortableToken(), AccessTTL: cg.AccessTTL, Scope: cg.Scope}
	if t.AccessTTL <= 0 {
		t.AccessTTL = g.cfg.AccessTTL
	}
	if wantsRefresh(c, cg.Scope) {
		t.Refresh, t.RefreshTTL = session.NewSortableToken(), g.cfg.RefreshTTL
	}
	if err := g.store.IssueTokens(ctx, cg.Grant, t); err != nil {
		return nil, g.mint.grantFailure(ctx, err, badCode)
	}
	return g.mint.respond(ctx, c, cg.Grant, t, true, u)
}

// checkPKCE is RFC 7636 §4.6 with S256 only: a code issued with a challenge
// needs its verifier, and a code issued without one takes none (a verifier
// added at the token endpoint is a downgrade attempt, RFC 9700 §2.1.1).
func checkPKCE(cg *session.CodeGrant, verifier string) *Error {
	switch {
	case cg.Challenge == "" && verifier == "":
		return nil
	case cg.Challenge == "" || verifier == "",
		cg.ChallengeMethod != pkceMethodS256,
		!pkceS256Matches(cg.Challenge, verifier):
		return errInvalidGrant("PKCE verification failed")
	}
	return nil
}

// grantFailure turns a grant store error into the client's answer, and
// revokes the grant of a replayed code or a reused refresh token: that
// decision is the token endpoint's, the store only reports.
func (m *tokenMinter) grantFailure(ctx context.Context, err error, msg string) *Error {
	if err == nil {
		return nil
	}
	var (
		oe       *Error
		replayed *session.ReplayedError
		reused   *session.ReusedError
	)
	switch {
	case errors.As(err, &oe):
		return oe
	case errors.As(err, &replayed):
		m.revokeGrant(ctx, replayed.GrantID, session.ReasonCodeReplayed)
		return errInvalidGrant("%s", msg).withCause(err)
	case errors.As(err, &reused):
		m.revokeGrant(ctx, reused.GrantID, session.ReasonRefreshReused)
		return errInvalidGrant("%s", msg).withCause(err)
	case errors.Is(err, session.ErrGrantInvalid):
		return errInvalidGrant("%s", msg).withCause(err)
	case errors.Is(err, session.ErrClientGone):
		return errInvalidClient("client authentication failed").withCause(err)
	}
	return errServer(err)
}

// wantsRefresh is whether an issuance gets a refresh token: only for a
// client allowed to refresh that asked for offline_access (OIDC Core §11).
func wantsRefresh(c *client.Client, scope string) bool {
	return c.AllowsGrant(client.GrantRefreshToken) && hasScope(scope, "offline_access")
}
