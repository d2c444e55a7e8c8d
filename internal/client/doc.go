// Package client owns OAuth clients: the Client type, the rules a registration
// must follow (exact redirect URIs, grants, scopes, auth method), and client
// secrets, which inkpass generates and stores only as keyed hashes.
//
// VerifySecret checks a secret against the hash in constant time, never
// with !=.
package client
