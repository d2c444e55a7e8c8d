package oidc

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/session"
)

// The refresh token grant (RFC 6749 §6) with rotation (RFC 9700 §4.14.2):
// every refresh retires the token presented and issues a new pair in the
// same family; a retired token presented again is reuse and revokes the
// family.
//
// Relying parties such as oauth2-proxy refresh in parallel with one token;
// rotation would take the second request for a stolen token's reuse and
// sign the user out. Within Config.RefreshReuseInterval the store answers a
// just-retired token of the same client with a new pair of the same family,
// and audits it (store.Tokens.RotateRefresh decides, in its transaction).

const badRefresh = "the refresh token is invalid, expired or revoked"

// refreshGrant rotates refresh tokens.
type refreshGrant struct {
	cfg   Config
	store refreshRotator
	users UserFinder
	mint  *tokenMinter
}

func newRefreshGrant(cfg Config, store refreshRotator, users UserFinder, mint *tokenMinter) *refreshGrant {
	return &refreshGrant{cfg: cfg.withDefaults(), store: store, users: users, mint: mint}
}

func (g *refreshGrant) exchange(ctx context.Context, c *client.Client, form url.Values) (*tokenResponse, *Error) {
	refresh := form.Get("refresh_token")
	if refresh == "" {
		return nil, errInvalidRequest("refresh_token is missing")
	}
	old, err := g.store.RefreshGrant(ctx, refresh, c.ID, g.cfg.RefreshReuseInterval)
	if oerr := g.mint.grantFailure(ctx, err, badRefresh); oerr != nil {
		return nil, oerr
	}
	if old.ClientID != c.ID {
		// The generic answer: the client must not learn that the token
		// exists and belongs to someone else; the reason goes to the log.
		return nil, errInvalidGrant(badRefresh).withCause(errors.New("the refresh token was issued to another client"))
	}
	u, oerr := activeUser(ctx, g.users, g.cfg.Logger, old.UserID)
	if oerr != nil {
		return nil, oerr
	}
	scope := old.Scope
	if s := form.Get("scope"); s != "" {
		// RFC 6749 §6: a refresh may narrow the scope, never widen it.
		// Unknown values are dropped, as at /authorize, so a client that
		// sends its original scope again is not refused for them.
		granted := strings.Fields(old.Scope)
		want := client.KnownScopes(uniqueFields(s))
		for _, w := range want {
			if !slices.Contains(granted, w) {
				return nil, errInvalidScope("scope %q was not granted originally", w)
			}
		}
		if !c.AllowsScope(want) {
			return nil, errInvalidScope("scope includes a value this client may not request")
		}
		scope = strings.Join(want, " ")
	}
	t := session.IssuedTokens{Access: session.NewSortableToken(), AccessTTL: g.cfg.AccessTTL, Scope: scope}
	// A client that narrowed offline_access away gets no new refresh token;
	// the one it presented is retired all the same.
	if wantsRefresh(c, scope) {
		t.Refresh = session.NewSortableToken()
	}
	if err := g.store.RotateRefresh(ctx, old, t); err != nil {
		return nil, g.mint.grantFailure(ctx, err, badRefresh)
	}
	return g.mint.respond(ctx, c, old.Grant, t, false, u)
}
