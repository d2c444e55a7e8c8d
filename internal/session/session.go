// Package session is a browser's sign-in at inkpass: the record behind the
// session cookie that makes single sign-on work, and the opaque random values
// (cookies, codes, tokens) that inkpass hands out and stores only as hashes.
package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"
)

// Session is one signed-in browser.
type Session struct {
	// SID is the public identifier carried in ID tokens (the sid claim); it
	// is not the cookie value.
	SID       string
	UserID    int64
	AuthTime  time.Time
	CreatedAt time.Time
	ExpiresAt time.Time
}

// ErrNotFound is returned for an unknown, expired or revoked session.
var ErrNotFound = errors.New("session not found")

// NewToken returns a random 256-bit value, URL-safe, for a cookie, a code or a
// token (RFC 6749 §10.10 asks for at least 128 bits; RFC 9700 for
// unguessable values).
func NewToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash is how such a value is stored: SHA-256, which is right for values with
// 256 bits of entropy and costs nothing to check.
func Hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// ErrAuthRequestNotFound is returned for a pending authorization request that
// is unknown, expired, or was made by another browser.
var ErrAuthRequestNotFound = errors.New("authorization request not found or expired")

// Extension keys that codes and tokens carry through go-oauth2, which the
// store also keeps in columns of their own.
const (
	ExtGrantID = "grant_id"
	ExtSID     = "sid"
)

// TokenRecord is what the store knows of an access or refresh token, for
// revocation and introspection (RFC 7009, RFC 7662).
type TokenRecord struct {
	Kind      string // "access_token" or "refresh_token"
	GrantID   string
	ClientID  string
	UserID    string // "" for client_credentials
	SID       string
	Scope     string
	IssuedAt  time.Time
	ExpiresAt time.Time
	// Active is false once expired, revoked or (refresh) rotated.
	Active bool
}

// App is a client that holds a user's consent or live tokens, for the
// account page.
type App struct {
	ClientID   string
	ClientName string
	Scope      string
}
