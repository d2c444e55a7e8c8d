// Package oidc is the protocol: the authorization request and its checks,
// consent, the token endpoint (authorization_code with PKCE, refresh_token
// with rotation, client_credentials), ID tokens, userinfo, discovery and
// JWKS, RP-initiated logout, revocation and introspection. Each grant is a
// unit of its own (grant_*.go) over GrantStore's named atomic operations;
// go-oauth2 is confined to oauth2lib.go.
//
// It renders no HTML: internal/web owns pages and cookies and calls the
// Provider's flow methods. It declares the small storage interfaces it needs,
// each next to the unit that uses it (SessionStore in sessions.go,
// AuthRequestStore in authorize.go, ConsentStore in consent.go, TokenRecords
// in revoke.go, ThrottleStore in clientauth.go); Store gathers them for the
// one value that implements them all, internal/store's DB.
//
// Claims come from one table, claimTable in claims.go, which also makes the
// scopes' claims, the consent page's words and discovery's claims_supported;
// sub comes from one function, Subject. docs/architecture.md says how
// to add a claim.
package oidc
