// Package oidc is the protocol: the authorization request and its checks,
// consent, the token endpoint (authorization_code with PKCE, refresh_token
// with rotation, client_credentials), ID tokens, userinfo, discovery and
// JWKS, RP-initiated logout, revocation and introspection, built on
// go-oauth2's manage and server packages with their loose defaults replaced
// (exact redirect URIs, S256 only, hashed client secrets, atomic codes).
//
// It renders no HTML: internal/web owns pages and cookies and calls the
// Provider's flow methods. It declares the small storage interfaces it needs;
// internal/store implements them.
package oidc
