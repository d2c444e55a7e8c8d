// Package oidc is the protocol: the authorization request and its checks,
// consent, the token endpoint (authorization_code with PKCE, refresh_token
// with rotation, client_credentials), ID tokens, userinfo, discovery and
// JWKS, RP-initiated logout, revocation and introspection.
//
// It is made of endpoint-sized units, each a type with its own constructor
// that takes only the ports it uses (docs/architecture.md has the table):
// Authorizer and PendingRequests (authorize.go), Sessions (sessions.go),
// Consents (consent.go), LogoutEndpoint (logout.go), ClientAuthenticator
// (clientauth.go), TokenEndpoint with one type per grant (token.go,
// grant_*.go, over the parts of GrantStore's named atomic operations),
// UserInfo (userinfo.go), Revocation and Introspection (revoke.go), and
// Documents (discovery.go). Provider is only their composition: New builds
// every unit from the full dependency set cmd/inkpass wires, and embeds
// them, so that internal/web holds one value for all its ports. What units
// share are package functions over the ports they need (activeUser,
// revokeInactive, mintIDToken, parseIDTokenHint, writeTokenError) and the
// Config value (issuer, lifetimes, clock, logger, audit, metrics); no unit
// reaches another's store.
//
// It renders no HTML: internal/web owns pages and cookies and calls the
// units' flow methods. It declares the small storage interfaces it needs,
// each next to the unit that uses it (SessionStore in sessions.go,
// AuthRequestStore in authorize.go, ConsentStore in consent.go, TokenRecords
// in revoke.go, ThrottleStore in clientauth.go, GrantStore in
// grant_store.go); Store gathers them for the one value that implements them
// all, internal/store's DB. go-oauth2 is confined to oauth2lib.go.
//
// Claims come from one table, claimTable in claims.go, which also makes the
// scopes' claims, the consent page's words and discovery's claims_supported;
// sub comes from one function, Subject. docs/architecture.md says how
// to add a claim or a grant.
package oidc
