// Package session is a browser's sign-in at inkpass: the record behind the
// session cookie that makes single sign-on work, and the opaque random values
// (cookies, codes, tokens) that inkpass hands out and stores only as hashes.
package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"sync/atomic"
	"time"
)

// Session is one signed-in browser.
type Session struct {
	// SID is the public identifier carried in ID tokens (the sid claim); it
	// is not the cookie value.
	SID    string
	UserID int64
	// AuthTime is when the sign-in that made the session was completed
	// (every step of it); the ID token's auth_time.
	AuthTime time.Time
	// AMR are the authentication methods of that sign-in, as RFC 8176
	// values (MethodPassword, ...), in the order they were used; the ID
	// token's amr. An acr, when inkpass has levels to tell apart, is to be
	// derived from these, not stored beside them.
	AMR       []string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Authentication method values (RFC 8176 §2) a session may record.
const (
	// MethodPassword is a password sign-in.
	MethodPassword = "pwd"
	// MethodOTP is a one-time code: an authenticator app's (RFC 6238) or a
	// recovery code, which RFC 8176 "otp" covers too (a one-time password).
	MethodOTP = "otp"
	// MethodMFA says the sign-in used more than one factor (RFC 8176 §2).
	MethodMFA = "mfa"
)

// ErrNotFound is returned for an unknown, expired or revoked session.
var ErrNotFound = errors.New("session not found")

// InactiveUserError is the answer for a live session whose user is no longer
// active (the studio's app may set is_active = 0 behind inkpass's back). It
// matches ErrNotFound, so callers that only ask "is there a session" need not
// know it; the one that can act on it revokes what the user still holds, so
// that re-activating the user does not bring this session back.
type InactiveUserError struct{ UserID int64 }

func (e *InactiveUserError) Error() string { return "session's user is inactive" }

// Is makes errors.Is(err, ErrNotFound) true.
func (e *InactiveUserError) Is(target error) bool { return target == ErrNotFound }

// NewToken returns a random 256-bit value, URL-safe, for a cookie, a code or a
// token (RFC 6749 §10.10 asks for at least 128 bits; RFC 9700 for
// unguessable values).
func NewToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewGrantID names a grant (the tokens one authorization or one
// client_credentials request gives rise to): the time in nanoseconds, then 16
// random bytes, in hex. Ids made one after another sort one after another, so
// the database adds each to the end of its grant index, a page that the
// commits' other grants share, rather than to a random page of its own. The
// random half keeps ids unique and unguessable; a grant id is never given
// out, only stored.
func NewGrantID() string {
	var b [24]byte
	binary.BigEndian.PutUint64(b[:8], nextNanos())
	rand.Read(b[8:])
	return hex.EncodeToString(b[:])
}

// NewSortableToken is NewToken after the time it was made: 16 hex digits of
// Unix nanoseconds and a dot. Hash keeps that time in front of the digest, so
// the stored forms of tokens made one after another sort one after another,
// and the database adds each to the end of its index, a page the commit's
// other tokens share, rather than to a random page of its own (about half
// of an access token's write cost is its index entries). The time is not
// secret, expires_in tells as much; the 256 random bits after it are the
// token's strength, as with NewToken.
func NewSortableToken() string {
	var t [8]byte
	binary.BigEndian.PutUint64(t[:], nextNanos())
	return hex.EncodeToString(t[:]) + "." + NewToken()
}

var lastNanos atomic.Uint64

// nextNanos is the Unix time in nanoseconds, but always more than it last
// returned: a coarse clock (or a step back) must not put a new value before
// an older one.
func nextNanos() uint64 {
	for {
		last := lastNanos.Load()
		next := max(uint64(time.Now().UnixNano()), last+1)
		if lastNanos.CompareAndSwap(last, next) {
			return next
		}
	}
}

// sortableLen is the length of a NewSortableToken value.
const sortableLen = 16 + 1 + 43

// Hash is how such a value is stored: SHA-256, which is right for values with
// 256 bits of entropy and costs nothing to check. A sortable token's stored
// form starts with its 8-byte time (40 bytes in all); any other value's is
// the 32-byte digest alone, so tokens issued before sortable ones existed
// still match.
func Hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	if len(token) == sortableLen && token[16] == '.' {
		var t [8]byte
		if _, err := hex.Decode(t[:], []byte(token[:16])); err == nil {
			return append(t[:], h[:]...)
		}
	}
	return h[:]
}

// ErrAuthRequestNotFound is returned for a pending authorization request that
// is unknown, expired, or was made by another browser.
var ErrAuthRequestNotFound = errors.New("authorization request not found or expired")

// Extension keys that codes and tokens carry in their extension, which the
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
