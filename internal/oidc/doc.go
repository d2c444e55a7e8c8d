// Package oidc is the protocol: the authorization request and its checks, the
// token endpoint (authorization_code with PKCE, refresh_token with rotation,
// client_credentials), ID tokens, userinfo, discovery and JWKS. Each grant
// is a unit of its own (grant_*.go) over GrantStore's named atomic
// operations; go-oauth2 is confined to oauth2lib.go.
//
// It renders no HTML: internal/web owns pages and cookies and calls the
// Provider's flow methods. It declares the small storage interfaces it needs;
// internal/store implements them.
package oidc
