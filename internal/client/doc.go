// Package client owns OAuth clients: the Client type, the rules a registration
// must follow (exact redirect URIs, grants, scopes, auth method), and client
// secrets, which inkpass generates and stores only as keyed hashes.
//
// It implements go-oauth2's ClientInfo and ClientPasswordVerifier so that the
// library checks secrets against the hash in constant time, never with !=.
package client
