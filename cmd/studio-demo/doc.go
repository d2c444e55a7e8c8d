// Studio-demo is a small studio web app that signs in through inkpass. It is
// the worked example of the README's integration guide: everything a studio
// app needs to do is here, and nothing else.
//
// It uses the OpenID Connect authorization code flow with PKCE (S256) through
// github.com/coreos/go-oidc/v3 and golang.org/x/oauth2, checks state, nonce
// and the RFC 9207 iss parameter on the callback, verifies the ID token,
// calls userinfo, and shows who signed in: name, role, artist and what the
// role may do. Sign-out clears the local session and, when discovery
// advertises an end_session_endpoint, continues with RP-initiated logout
// (OpenID Connect RP-Initiated Logout 1.0) so the inkpass session ends too.
//
// Usage:
//
//	studio-demo [-issuer URL] [-listen ADDR] [-client-id ID] [-client-secret SECRET] [-redirect-url URL]
//
// The client secret, needed only for a confidential client, may come from
// STUDIO_DEMO_CLIENT_SECRET instead of the command line, where other users
// of the machine could read it.
//
// Sessions live in memory: restarting the demo signs everyone out of it.
package main
