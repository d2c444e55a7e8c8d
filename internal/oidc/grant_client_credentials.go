package oidc

import (
	"context"
	"net/url"
	"strings"

	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/session"
)

// The client credentials grant (RFC 6749 §4.4): a confidential client acts
// on its own behalf. There is no user, so no ID token and no refresh token;
// each request is a grant of its own.
type clientCredentialsGrant struct {
	cfg   Config
	store tokenIssuer
	mint  *tokenMinter
}

func newClientCredentialsGrant(cfg Config, store tokenIssuer, mint *tokenMinter) *clientCredentialsGrant {
	return &clientCredentialsGrant{cfg: cfg.withDefaults(), store: store, mint: mint}
}

func (cc *clientCredentialsGrant) exchange(ctx context.Context, c *client.Client, form url.Values) (*tokenResponse, *Error) {
	if c.Public {
		return nil, errUnauthorizedClient("public clients cannot use client_credentials")
	}
	scopes := client.KnownScopes(uniqueFields(form.Get("scope")))
	for _, s := range scopes {
		// There is no user: identity scopes mean nothing here.
		if s == "openid" || s == "offline_access" {
			return nil, errInvalidScope("scope %s needs a user; client_credentials has none", s)
		}
	}
	if !c.AllowsScope(scopes) {
		return nil, errInvalidScope("scope includes a value this client may not request")
	}
	g := session.Grant{ID: session.NewGrantID(), ClientID: c.ID}
	t := session.IssuedTokens{Access: session.NewSortableToken(), AccessTTL: cc.cfg.AccessTTL, Scope: strings.Join(scopes, " ")}
	if err := cc.store.IssueTokens(ctx, g, t); err != nil {
		return nil, cc.mint.grantFailure(ctx, err, "the client may not use this grant")
	}
	return cc.mint.respond(ctx, c, g, t, false, nil)
}
