package console

import (
	"context"
	"net/http"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/mfa"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

// Sessions is the inkpass browser session as internal/web keeps it (its
// cookies, its CSRF binding): web.BrowserSessions implements it, so the
// console never learns the cookie names.
type Sessions interface {
	// Session is the live session of the request's browser, or nil for
	// none (no cookie, expired, ended, or its user deactivated).
	Session(r *http.Request) (*session.Session, error)
	// BrowserID is the browser's random id (set when it has none): CSRF
	// tokens are bound to it.
	BrowserID(w http.ResponseWriter, r *http.Request) string
	// EndSession signs the browser out (after too many wrong passwords on
	// the re-authentication page).
	EndSession(w http.ResponseWriter, r *http.Request) error
	// ClientAddr is the address failed passwords are counted against
	// (trusted proxies resolved as on the login page).
	ClientAddr(r *http.Request) string
}

// SessionRecorder records a new authentication on a live session: its
// auth_time becomes at and its amr methods (a re-authentication before a
// sensitive action). store.DB implements it.
type SessionRecorder interface {
	ReauthenticateSession(ctx context.Context, sid string, at time.Time, amr []string) error
}

// Users is the part of user.Service the console uses: the same rules as the
// CLI (one rule set, two front ends).
type Users interface {
	Create(ctx context.Context, u user.User, plainPassword string) (*user.User, error)
	// CreateInvited stores a user with no password yet (noPassword is the
	// marker no password matches), for an invitation link to complete.
	CreateInvited(ctx context.Context, u user.User, noPassword string) (*user.User, error)
	Get(ctx context.Context, id int64) (*user.User, error)
	Update(ctx context.Context, id int64, p user.Patch) (*user.User, error)
	Deactivate(ctx context.Context, id int64) error
	Reactivate(ctx context.Context, id int64) error
	CheckCurrentPassword(ctx context.Context, id int64, plain, addr string) error
}

// SecondFactors is the part of mfa.Service the console uses: whether a
// user has a factor (and so must give it to re-authenticate), checking a
// code, and an admin's reset of a user's factors.
type SecondFactors interface {
	HasFactor(ctx context.Context, userID int64) (bool, error)
	Factors(ctx context.Context, userID int64) ([]mfa.Factor, error)
	Verify(ctx context.Context, u *user.User, code, addr string) (recovery bool, err error)
	Reset(ctx context.Context, u *user.User, by string) (int, error)
}

// Links makes the single-use links of internal/invite: a password reset for
// an existing user, or an invitation to set a first password. Each returns
// the link (shown to the admin once) and when it expires; actor names the
// admin ("admin:alice") for the audit trail.
type Links interface {
	PasswordReset(ctx context.Context, userID int64, actor string) (link string, expires time.Time, err error)
	Invite(ctx context.Context, userID int64, actor string) (string, time.Time, error)
}

// Store is what the built-in sections read and write beyond user.Service;
// store.DB implements it.
type Store interface {
	// ConsoleCounts are the dashboard's numbers; "today" starts at since.
	ConsoleCounts(ctx context.Context, since time.Time) (Counts, error)
	// SearchPeople lists the users matching q's text, role and state,
	// ordered by id, each with whether they have a confirmed second factor.
	SearchPeople(ctx context.Context, q PeopleQuery) ([]Person, error)
	AuditEvents(ctx context.Context, f audit.Filter) ([]audit.Event, error)

	// Artists: the studio's artists table, whose only fixed column is id.
	// ArtistsHaveNames says whether it has a name column; without one
	// artists are added in the studio's app, and CreateArtist and
	// RenameArtist fail.
	ArtistsHaveNames() bool
	ListArtists(ctx context.Context) ([]user.Artist, error)
	CreateArtist(ctx context.Context, name string) (int64, error)
	// RenameArtist returns user.ErrArtistNotFound for an unknown id.
	RenameArtist(ctx context.Context, id int64, name string) error
}

// Counts are the dashboard's numbers.
type Counts struct {
	// ActiveByRole counts active users per role; Inactive the others.
	ActiveByRole map[user.Role]int
	Inactive     int
	// ActiveApps counts enabled OAuth clients.
	ActiveApps int
	// SignInsToday and FailuresToday count login_succeeded and
	// login_failed events since the start of the day.
	SignInsToday  int
	FailuresToday int
}

// PeopleQuery narrows SearchPeople; zero values match everyone.
type PeopleQuery struct {
	// Text is matched, in any letter case, inside the name, username,
	// email and Instagram handle.
	Text   string
	Role   user.Role
	Active *bool
	// HasFactor, when set, keeps only users with (or without) a confirmed
	// second factor.
	HasFactor *bool
}

// Person is a user as the people list shows them.
type Person struct {
	*user.User
	HasFactor bool
}
