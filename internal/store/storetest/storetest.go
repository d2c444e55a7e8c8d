// Package storetest is the conformance suite of inkpass's storage: the
// contracts written on the port interfaces that internal/store implements
// (user.Repository, user.ThrottleStore, oidc.Store, oidc.ClientStore,
// oidc.UserFinder, oidc.GrantStore, backchannel.Outbox, mail.Queue,
// mail.Spool, audit.Recorder, userlink.Store),
// checked through those interfaces only, never through SQL.
//
// A backend passes the suite by handing Run a function that opens a new,
// empty instance of it (see internal/store/conformance_test.go). The suite
// includes the concurrency cases the protocol's security rests on: two
// redemptions of one code, two rotations of one refresh token, concurrent
// throttle reservations and deactivations of the last admins. Run it with
// -race.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/backchannel"
	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/console"
	"github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/testsupport"
	"github.com/inkpass/inkpass/internal/user"
	"github.com/inkpass/inkpass/internal/userlink"
)

// ClientAdmin is how the admin CLI and the configuration sync manage
// clients (cmd/inkpass uses *store.Clients). Create fails with
// client.ErrExists for a taken id. Update and Remove fail with
// client.ErrNotFound for an unknown id; disabling (Update with Enabled
// false) or removing a client revokes its tokens and unredeemed codes in the
// same transaction, and every ClientStore on the same data, in this process
// or another, stops returning the old client at once (no cache outlives a
// change).
type ClientAdmin interface {
	oidc.ClientStore
	Create(ctx context.Context, c *client.Client) error
	Update(ctx context.Context, c *client.Client) error
	Remove(ctx context.Context, id string) error
	List(ctx context.Context) ([]*client.Client, error)
}

// Tokens is the grant store as the token endpoint drives it
// (oidc.GrantStore; see store.Tokens for the contract).
type Tokens = oidc.GrantStore

// Console is the studio console's storage: its queries and the
// re-authentication of a session.
type Console interface {
	console.Store
	console.SessionRecorder
}

// Accounts is the account page's view (internal/web accountStore).
// RevokeClientAccess withdraws the consent and revokes the client's tokens
// and unredeemed codes for that user in one transaction, queuing
// back-channel logouts of the user's sessions at that client.
type Accounts interface {
	ConnectedApps(ctx context.Context, userID int64) ([]session.App, error)
	RevokeClientAccess(ctx context.Context, userID int64, clientID string) error
}

// AuditLog appends events and lists them newest first (inkpass audit).
// AuditDailyCounts counts events of the given kinds per UTC day over
// [from's day, to), every day present in order, zero when empty (the
// console's chart).
type AuditLog interface {
	audit.Recorder
	AuditEvents(ctx context.Context, f audit.Filter) ([]audit.Event, error)
	AuditDailyCounts(ctx context.Context, from, to time.Time, kinds ...audit.Kind) ([]audit.DayCount, error)
}

// SessionAdmin is the admin console's view of who is signed in where.
// UserSessions lists a user's live sessions (not expired, not revoked),
// newest first, with the clients that took part. EndUserSession ends one of
// the user's live sessions by sid, with its tokens and unredeemed codes,
// queuing back-channel logouts, in one transaction; session.ErrNotFound for
// a sid that is not the user's live session. EndUserSessions ends every
// session, token and unredeemed code of the user (back-channel logouts
// queued), keeps the consents, and returns how many live sessions it ended.
type SessionAdmin interface {
	UserSessions(ctx context.Context, userID int64) ([]session.Live, error)
	EndUserSession(ctx context.Context, userID int64, sid string) error
	EndUserSessions(ctx context.Context, userID int64) (int, error)
	// SignedInUsers lists the users with live sessions, the most recently
	// signed-in first, with their count of live sessions; at most limit
	// (0: all).
	SignedInUsers(ctx context.Context, limit int) ([]session.SignedIn, error)
}

// Backend is one backend's implementations of the ports, all on the same
// data. Every field except StudioDeactivate is required.
type Backend struct {
	Users    user.Repository
	Throttle user.ThrottleStore
	Finder   oidc.UserFinder
	Clients  ClientAdmin
	// OtherClients is a second ClientStore on the same data with caches of
	// its own, as a second server process would hold.
	OtherClients oidc.ClientStore
	Tokens       Tokens
	Store        oidc.Store
	Accounts     Accounts
	Audit        AuditLog
	Outbox       backchannel.Outbox
	Mail         MailOutbox
	Links        userlink.Store
	SessionAdmin SessionAdmin
	// Console is what the studio console reads and writes beyond the
	// user repository; nil skips its cases.
	Console Console

	// StudioDeactivate sets a user inactive the way the studio's own app
	// does, behind inkpass's back: nothing is revoked. nil skips the cases
	// that need it.
	StudioDeactivate func(t *testing.T, id int64)
}

// Opener opens a new, empty instance of a backend whose clock is now. It
// registers its own cleanup with t.
type Opener func(t *testing.T, now func() time.Time) Backend

// Run runs the whole suite; each subtest opens its own backend.
func Run(t *testing.T, open Opener) {
	t.Run("Users", func(t *testing.T) { runUsers(t, open) })
	t.Run("Clients", func(t *testing.T) { runClients(t, open) })
	t.Run("Sessions", func(t *testing.T) { runSessions(t, open) })
	t.Run("AuthRequests", func(t *testing.T) { runAuthRequests(t, open) })
	t.Run("Consents", func(t *testing.T) { runConsents(t, open) })
	t.Run("Grants", func(t *testing.T) { runGrants(t, open) })
	t.Run("Audit", func(t *testing.T) { runAudit(t, open) })
	t.Run("Throttle", func(t *testing.T) { runThrottle(t, open) })
	t.Run("Subject", func(t *testing.T) { runSubject(t, open) })
	t.Run("Mail", func(t *testing.T) { runMail(t, open) })
	t.Run("Links", func(t *testing.T) { runLinks(t, open) })
	t.Run("SessionAdmin", func(t *testing.T) { runSessionAdmin(t, open) })
	t.Run("Console", func(t *testing.T) { runConsole(t, open) })
}

// env is one subtest's backend with its clock and helpers.
type env struct {
	Backend
	t     *testing.T
	ctx   context.Context
	clock *testsupport.Clock
}

// start is a fixed whole second, so that backends that store seconds lose
// nothing.
var start = time.Unix(1_800_000_000, 0)

func newEnv(t *testing.T, open Opener) *env {
	t.Helper()
	c := testsupport.NewClock(start)
	return &env{Backend: open(t, c.Now), t: t, ctx: t.Context(), clock: c}
}
