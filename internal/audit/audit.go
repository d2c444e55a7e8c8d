// Package audit names the security events inkpass records and the Event that
// carries one. Recording is append-only (the store enforces it with triggers);
// an Event never holds a password, code, token, secret or cookie value.
package audit

import (
	"context"
	"time"
)

// Kind is what happened.
type Kind string

// The recorded kinds.
const (
	LoginSucceeded  Kind = "login_succeeded"
	LoginFailed     Kind = "login_failed"
	Logout          Kind = "logout"
	ConsentGranted  Kind = "consent_granted"
	ConsentRevoked  Kind = "consent_revoked"
	TokenRevoked    Kind = "token_revoked"
	PasswordChanged Kind = "password_changed"
	// PasswordCheckFailed: a signed-in user gave a wrong current password
	// (on the account page, before a password change).
	PasswordCheckFailed Kind = "password_check_failed"
	UserActivated       Kind = "user_activated"
	UserDeactivated     Kind = "user_deactivated"
	// UserVerified and UserUnverified: an admin marked a user's email or
	// phone (Detail) verified, or took it back.
	UserVerified   Kind = "user_verified"
	UserUnverified Kind = "user_unverified"
	KeyRotated     Kind = "key_rotated"
	CodeReplayed   Kind = "code_replayed"
	RefreshReused  Kind = "refresh_token_reused"
	// RefreshReuseAllowed: a just-rotated refresh token was presented again
	// by its own client within tokens.refresh_reuse_interval and answered
	// with a new pair of the same family (parallel refreshes), not revoked.
	// Detail names the grant, never the token.
	RefreshReuseAllowed Kind = "refresh_token_reuse_allowed"
	// ClientAuthFailed is a failed client authentication at /token,
	// /revoke or /introspect.
	ClientAuthFailed Kind = "client_auth_failed"
	// The second factor (internal/mfa): an authenticator app enrolled or
	// removed, a code accepted or refused (Detail says why, never the
	// code), a recovery code used, recovery codes made anew, and an admin's
	// reset of a user's factors.
	MFAEnrolled            Kind = "mfa_enrolled"
	MFARemoved             Kind = "mfa_removed"
	MFASucceeded           Kind = "mfa_succeeded"
	MFAFailed              Kind = "mfa_failed"
	MFARecoveryUsed        Kind = "mfa_recovery_code_used"
	MFARecoveryRegenerated Kind = "mfa_recovery_codes_regenerated"
	MFAReset               Kind = "mfa_reset"
	// BrandingChanged: an admin changed the studio's look (name, accent
	// colour, support contact, logo). Username is the acting admin, Detail
	// what changed.
	BrandingChanged Kind = "branding_changed"
	// MailFailed: an email (an invitation, a reset link) was given up after
	// its last attempt or a permanent refusal. Detail names its kind, the
	// recipient and the server's reply, never the body: bodies carry
	// single-use links.
	MailFailed Kind = "mail_failed"
	// Single-use links (internal/userlink): an invitation, a password
	// reset or an email verification issued; Detail names who asked
	// ("by alice", "by cli", "by self"), never the link. Using one is
	// password_changed or user_verified with Detail "... by link".
	InvitationIssued        Kind = "invitation_issued"
	PasswordResetIssued     Kind = "password_reset_issued"
	EmailVerificationIssued Kind = "email_verification_issued"
	// The studio console (internal/console): a user made, a user's
	// profile or role changed (Detail names the fields, never values),
	// an artist record added or renamed, and an admin's re-authentication
	// before a sensitive action.
	UserCreated     Kind = "user_created"
	UserUpdated     Kind = "user_updated"
	ArtistCreated   Kind = "artist_created"
	ArtistRenamed   Kind = "artist_renamed"
	Reauthenticated Kind = "reauthenticated"
	// The console's Apps (client registrations: Detail says what
	// changed, never a secret), and an admin's ending of a user's
	// sessions (Detail: one sid or all).
	ClientRegistered    Kind = "client_registered"
	ClientChanged       Kind = "client_changed"
	ClientSecretRotated Kind = "client_secret_rotated"
	ClientRemoved       Kind = "client_removed"
	SessionsEnded       Kind = "sessions_ended"
)

// Kinds lists every kind, for validating filters.
var Kinds = []Kind{LoginSucceeded, LoginFailed, Logout, ConsentGranted, ConsentRevoked, TokenRevoked,
	PasswordChanged, PasswordCheckFailed, UserActivated, UserDeactivated, UserVerified, UserUnverified, KeyRotated, CodeReplayed, RefreshReused, RefreshReuseAllowed, ClientAuthFailed,
	MFAEnrolled, MFARemoved, MFASucceeded, MFAFailed, MFARecoveryUsed, MFARecoveryRegenerated, MFAReset,
	BrandingChanged, MailFailed, InvitationIssued, PasswordResetIssued, EmailVerificationIssued,
	UserCreated, UserUpdated, ArtistCreated, ArtistRenamed, Reauthenticated,
	ClientRegistered, ClientChanged, ClientSecretRotated, ClientRemoved, SessionsEnded}

// Event is one audit record.
type Event struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	Kind     Kind      `json:"kind"`
	UserID   int64     `json:"user_id,omitempty"`
	Username string    `json:"username,omitempty"`
	ClientID string    `json:"client_id,omitempty"`
	Addr     string    `json:"addr,omitempty"`
	// Detail is a short reason in words ("wrong password", "by admin CLI").
	Detail string `json:"detail,omitempty"`
	// Actor is who made the change when it is not the user it is about:
	// "admin:<username>" for the studio console. Empty for a person's own
	// sign-in, the CLI and inkpass itself.
	Actor string `json:"actor,omitempty"`
}

type actorKey struct{}

// WithActor returns ctx carrying actor: every event recorded with that
// context (by the console's handler or by a service it calls, such as
// user.Service.Deactivate or mfa.Service.Reset) names it, unless the event
// names its own.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom is the actor WithActor put in ctx, or "".
func ActorFrom(ctx context.Context) string {
	a, _ := ctx.Value(actorKey{}).(string)
	return a
}

// Recorder appends events. Implementations must not fail the caller's action
// for a lost event silently: they return the error, and callers log it.
type Recorder interface {
	Record(ctx context.Context, e Event) error
}

// Filter narrows a listing; zero values match everything.
type Filter struct {
	UserID int64
	Kind   Kind
	// ClientID: only events of this client.
	ClientID string
	// Since and Until: only events at or after Since, and before Until.
	Since, Until time.Time
	// BeforeID: only events older than the event with this id: the next
	// page after a page whose last (oldest) event it is. The listing is
	// newest first, by id, so a page does not shift when events are added.
	BeforeID int64
	Limit    int
}

// Discard records nothing; for tests and tools that do not audit.
type Discard struct{}

// Record implements Recorder.
func (Discard) Record(context.Context, Event) error { return nil }
