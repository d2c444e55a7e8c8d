package user

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Role is what a user may do in the studio's apps; it travels in every ID token.
type Role string

// The three roles of SCHEMA.md.
const (
	RoleAdmin     Role = "admin"
	RoleAssistant Role = "assistant"
	RoleArtist    Role = "artist"
)

// Roles lists every valid role, in the order a form should offer them.
var Roles = []Role{RoleAdmin, RoleAssistant, RoleArtist}

// ParseRole accepts a role name in any letter case.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range Roles {
		if r == known {
			return r, nil
		}
	}
	return "", &FieldError{Field: "role", Problem: "must be one of admin, assistant, artist"}
}

// Known reports whether r is one of the three roles of SCHEMA.md. A row that
// the studio's app wrote with any other role (an empty one included) is read
// as it is, so that an admin can see and fix it, but its user cannot sign in.
func (r Role) Known() bool {
	switch r {
	case RoleAdmin, RoleAssistant, RoleArtist:
		return true
	}
	return false
}

// Oddity is a stored value that does not fit its column: a date that is no
// date, an is_active other than 0 or 1, a role outside the three. The studio's
// app writes the users table too, and one such row must never break a login
// or a listing, so the user is read as if the column were empty (is_active:
// as inactive; role: as it is, refusing sign-in) and the oddity is reported.
type Oddity struct {
	Column  string
	Problem string // safe to log: it may quote a date, a role or is_active, never a secret
}

// Contact is a field of the users table that an admin can verify.
type Contact string

// The verifiable fields.
const (
	ContactEmail Contact = "email"
	ContactPhone Contact = "phone"
)

// User is one row of the studio's users table. Optional text fields are empty
// when the column is NULL; they are written back as NULL, never as "".
type User struct {
	ID           int64
	Username     string
	PasswordHash string
	Role         Role
	ArtistID     *int64
	Active       bool
	Name         string
	Birthdate    string // YYYY-MM-DD
	Email        string
	Phone        string
	Instagram    string // without the leading @
	CreatedAt    time.Time
	LastLogin    *time.Time

	// ArtistName is the linked artist record's name, when the artists table has
	// one; it is read, never written.
	ArtistName string

	// EmailVerified and PhoneVerified say whether an admin has verified the
	// row's email and phone exactly as they are now (inkpass user verify);
	// read, never written with the row: a changed value is unverified.
	EmailVerified bool
	PhoneVerified bool

	// Oddities are the columns of this row that could not be read as their
	// type (see Oddity); read, never written.
	Oddities []Oddity
}

// MarshalJSON writes every column, with null for an empty optional field, so
// that scripts reading `--json` always find the same keys. The hash never leaves.
func (u *User) MarshalJSON() ([]byte, error) {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	// created_at is null only when the stored value was no date (an Oddity).
	var created *time.Time
	if !u.CreatedAt.IsZero() {
		created = &u.CreatedAt
	}
	return json.Marshal(struct {
		ID         int64      `json:"id"`
		Username   string     `json:"username"`
		Role       Role       `json:"role"`
		ArtistID   *int64     `json:"artist_id"`
		ArtistName *string    `json:"artist_name"`
		Active     bool       `json:"is_active"`
		Name       *string    `json:"name"`
		Birthdate  *string    `json:"birthdate"`
		Email      *string    `json:"email"`
		EmailOK    bool       `json:"email_verified"`
		Phone      *string    `json:"phone"`
		PhoneOK    bool       `json:"phone_verified"`
		Instagram  *string    `json:"instagram"`
		CreatedAt  *time.Time `json:"created_at"`
		LastLogin  *time.Time `json:"last_login"`
	}{u.ID, u.Username, u.Role, u.ArtistID, opt(u.ArtistName), u.Active, opt(u.Name), opt(u.Birthdate),
		opt(u.Email), u.EmailVerified, opt(u.Phone), u.PhoneVerified, opt(u.Instagram), created, u.LastLogin})
}

// Artist is the part of the studio's artists table that inkpass reads.
type Artist struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Sentinel errors. Callers compare with errors.Is.
var (
	ErrNotFound           = errors.New("user not found")
	ErrArtistNotFound     = errors.New("artist not found")
	ErrUsernameTaken      = errors.New("username already taken")
	ErrEmailTaken         = errors.New("email already used by another user")
	ErrInvalidCredentials = errors.New("invalid username or password")
	ErrThrottled          = errors.New("too many failed sign-in attempts")
	// ErrLoginStale is Repository.RecordLogin's answer when the password
	// was changed or the user deactivated after the login verified it.
	ErrLoginStale = errors.New("password changed or user deactivated during sign-in")
)

// FieldError is a rule violation on one field, phrased for the person who
// typed the value.
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// ValidationError collects every FieldError of one request, so that a form or
// a CLI can show them all at once.
type ValidationError struct {
	Fields []*FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return "invalid user: " + strings.Join(parts, "; ")
}

// Unwrap lets errors.As find the individual FieldErrors.
func (e *ValidationError) Unwrap() []error {
	errs := make([]error, len(e.Fields))
	for i, f := range e.Fields {
		errs[i] = f
	}
	return errs
}

// ThrottledError says how long the caller must wait; it matches ErrThrottled.
type ThrottledError struct {
	RetryAfter time.Duration
	// Concurrent: refused because another attempt for the same username, or
	// too many from the same address, was running; no counter is locked.
	Concurrent bool
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v: try again in %s", ErrThrottled, e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }
