package oidc

import (
	"github.com/go-oauth2/oauth2/v4"
)

// This file is inkpass's one use of go-oauth2: the grant core in grant_*.go
// owns the lifecycle of codes and tokens, and borrows only the library's
// RFC 7636 S256 transform, so that the PKCE check is the library's
// well-worn one rather than a second implementation.

// pkceMethodS256 is the only code_challenge_method inkpass accepts.
const pkceMethodS256 = string(oauth2.CodeChallengeS256)

// pkceS256Matches reports whether verifier hashes to challenge (RFC 7636
// §4.6).
func pkceS256Matches(challenge, verifier string) bool {
	return oauth2.CodeChallengeS256.Validate(challenge, verifier)
}
