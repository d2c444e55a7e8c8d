package console

import (
	"context"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/branding"
	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/session"
)

// Clients is the client registry, the same rules as `inkpass client`:
// *client.Registry implements it.
type Clients interface {
	List(ctx context.Context) ([]*client.Client, error)
	Get(ctx context.Context, id string) (*client.Client, error)
	// Register stores a new client and returns its secret, once.
	Register(ctx context.Context, o client.Options) (*client.Client, string, error)
	SetRedirectURIs(ctx context.Context, id string, uris []string) (*client.Client, error)
	SetEnabled(ctx context.Context, id string, enabled bool) (*client.Client, error)
	RotateSecret(ctx context.Context, id string) (*client.Client, string, error)
	Remove(ctx context.Context, id string) error
}

// SigningKeys is the server's own key set (*keys.Set): rotating through it
// changes what this process signs with and publishes at once.
type SigningKeys interface {
	Statuses() []keys.Status
	Rotate(alg keys.Algorithm) (keys.Info, error)
	RetainFor() time.Duration
}

// Access is who is signed in where, and ending it; store.DB implements it.
type Access interface {
	SignedInUsers(ctx context.Context, limit int) ([]session.SignedIn, error)
	UserSessions(ctx context.Context, userID int64) ([]session.Live, error)
	EndUserSession(ctx context.Context, userID int64, sid string) error
	EndUserSessions(ctx context.Context, userID int64) (int, error)
	ConnectedApps(ctx context.Context, userID int64) ([]session.App, error)
	RevokeClientAccess(ctx context.Context, userID int64, clientID string) error
}

// Activity is the audit trail's daily counts for the chart; store.DB
// implements it (the listing is Store.AuditEvents).
type Activity interface {
	AuditDailyCounts(ctx context.Context, from, to time.Time, kinds ...audit.Kind) ([]audit.DayCount, error)
}

// Branding is the studio's look (*branding.Service).
type Branding interface {
	// Current is the look in effect (stored over the defaults), which the
	// console's own header takes too.
	Current(ctx context.Context) branding.Settings
	Stored(ctx context.Context) (branding.Settings, error)
	Defaults() branding.Settings
	Update(ctx context.Context, in branding.Settings, actor string) error
	SetLogo(ctx context.Context, data []byte, actor string) error
	RemoveLogo(ctx context.Context, actor string) error
}
