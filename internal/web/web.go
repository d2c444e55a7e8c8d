package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/mfa"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

// authenticator is the part of user.Service the pages use.
type authenticator interface {
	// VerifyPassword and CompleteLogin are the two halves of a login
	// (the password step and the end of the sign-in), so that a second
	// factor can sit between them.
	VerifyPassword(ctx context.Context, username, password, addr string) (*user.PendingLogin, error)
	CompleteLogin(ctx context.Context, pl *user.PendingLogin) (*user.User, error)
	// PasswordVerified ends the password half of a login that a second
	// factor completes (the throttle settled, nothing audited as a login).
	PasswordVerified(ctx context.Context, pl *user.PendingLogin) (*user.User, error)
	AbandonLogin(ctx context.Context, pl *user.PendingLogin) error
	Get(ctx context.Context, id int64) (*user.User, error)
	CheckCurrentPassword(ctx context.Context, id int64, plain, addr string) error
	SetPassword(ctx context.Context, id int64, plain string) error
}

// accountStore lists and revokes the apps a user has let in. ConnectedApps
// lists the clients holding the user's consent or a live refresh token.
// RevokeClientAccess withdraws the consent and revokes the client's tokens
// and codes for the user in one transaction, queuing back-channel
// logouts of the user's sessions at that client; the sessions go on.
type accountStore interface {
	ConnectedApps(ctx context.Context, userID int64) ([]session.App, error)
	RevokeClientAccess(ctx context.Context, userID int64, clientID string) error
}

// secondFactors is the part of mfa.Service the pages use: enrolment on the
// account page, the sign-in step, and the password step's proof kept
// server-side between the two.
type secondFactors interface {
	Required(role string) bool
	HasFactor(ctx context.Context, userID int64) (bool, error)
	Factors(ctx context.Context, userID int64) ([]mfa.Factor, error)
	BeginTOTP(ctx context.Context, u *user.User) (*mfa.Enrolment, error)
	ResumeTOTP(ctx context.Context, u *user.User) (*mfa.Enrolment, error)
	ConfirmTOTP(ctx context.Context, u *user.User, id int64, name, code, addr string) ([]string, error)
	Verify(ctx context.Context, u *user.User, code, addr string) (recovery bool, err error)
	RegenerateRecoveryCodes(ctx context.Context, u *user.User, addr string) ([]string, error)
	RecoveryCodesLeft(ctx context.Context, userID int64) (left, used int, err error)
	Rename(ctx context.Context, userID, id int64, name string) error
	// Remove deletes a factor; without passwordChecked it refuses, with
	// mfa.ErrLastFactor, to leave the user with no confirmed factor.
	Remove(ctx context.Context, u *user.User, id int64, addr string, passwordChecked bool) error
	StartPending(ctx context.Context, browserHash, reqHash []byte, userID int64) error
	Pending(ctx context.Context, browserHash, reqHash []byte) (userID int64, at time.Time, ok bool, err error)
	TakePending(ctx context.Context, browserHash, reqHash []byte) (bool, error)
	RememberFor() time.Duration
	RememberDevice(ctx context.Context, userID int64) (string, error)
	DeviceRemembered(ctx context.Context, token string, userID int64) (bool, error)
	// Passkeys (WebAuthn): PasskeysEnabled is false when the issuer's host
	// cannot be a relying party id; the ceremonies are bound to the
	// browser (the hash of its cookie) and, for a sign-in, the request.
	PasskeysEnabled() bool
	BeginPasskeyEnrolment(ctx context.Context, u *user.User, browserHash []byte) ([]byte, error)
	FinishPasskeyEnrolment(ctx context.Context, u *user.User, browserHash []byte, name string, response []byte, addr string) ([]string, error)
	BeginPasskeySignIn(ctx context.Context, u *user.User, browserHash []byte, reqID string) ([]byte, error)
	VerifyPasskey(ctx context.Context, u *user.User, browserHash []byte, reqID string, response []byte, addr string) (string, error)
	BeginPasswordless(ctx context.Context, browserHash []byte, reqID string) ([]byte, error)
	PasswordlessSignIn(ctx context.Context, browserHash []byte, reqID string, response []byte, addr string) (int64, string, error)
}

// metricsSink counts requests and sign-ins; *metrics.Metrics implements it.
type metricsSink interface {
	Request(route, method string, status int, d time.Duration)
	Login(outcome string)
}

type noMetrics struct{}

func (noMetrics) Request(string, string, int, time.Duration) {}
func (noMetrics) Login(string)                               {}

// Deps is everything the HTTP layer needs; cmd/inkpass builds it.
type Deps struct {
	// Provider is the protocol layer, *oidc.Provider in cmd/inkpass; the
	// ports it must offer are in ports.go.
	Provider protocol
	Users    authenticator
	Accounts accountStore
	// MFA is the second factor; nil for none (every sign-in is a password).
	MFA secondFactors
	// Links are the single-use links (invitations, password resets, email
	// verification) and "Forgot password?"; nil serves none of them.
	Links singleUseLinks
	// Audit records logouts, consents and revocations; nil records none.
	Audit audit.Recorder
	// Studio is the branding when Branding is nil (tests, tools).
	Studio Studio
	// Branding, when set, is the studio's look in effect (config defaults,
	// console overrides); every page reads it on each view, cached in the
	// service.
	Branding brandingSource
	// SecureCookies marks cookies Secure and gives them the __Host- prefix;
	// true whenever the issuer is https.
	SecureCookies bool
	// CSRFKey signs CSRF tokens; it must survive restarts.
	CSRFKey []byte
	// TrustedProxies may set X-Forwarded-For for the client address.
	TrustedProxies []netip.Prefix
	// PendingLimit bounds the sign-ins one client address may start; zero
	// fields take the defaults.
	PendingLimit PendingLimit
	// Ready reports whether the server can take traffic (database, keys).
	Ready  func(ctx context.Context) error
	Logger *slog.Logger
	// Console, when set, is served at /admin and below (the studio
	// console, internal/console); it does its own authorization.
	Console http.Handler
	// UploadLimits raises the body limit (64 KiB) for a POST to one of
	// these paths: the console's logo form.
	UploadLimits map[string]int64
	// Metrics counts requests and sign-ins. /metrics itself is never served
	// here, next to the login page: cmd/inkpass serves it on its own
	// listener.
	Metrics metricsSink
}

// server holds the handlers' shared state.
type server struct {
	Deps
	pages   *renderer
	cookies cookieNames
	log     *slog.Logger
	pending *addrLimiter
	// forgotLimit and forgot: "Forgot password?" (links.go).
	forgotLimit *addrLimiter
	forgot      *forgotQueue
}

// NewHandler builds the whole HTTP handler.
func NewHandler(d Deps) (http.Handler, error) {
	if d.Provider == nil || d.Users == nil || d.Accounts == nil || len(d.CSRFKey) < 32 {
		return nil, errors.New("web: provider, users, accounts and a 32-byte CSRF key are required")
	}
	if d.Metrics == nil {
		d.Metrics = noMetrics{}
	}
	if d.Audit == nil {
		d.Audit = audit.Discard{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Ready == nil {
		d.Ready = func(context.Context) error { return nil }
	}
	pages, err := newRenderer()
	if err != nil {
		return nil, err
	}
	s := &server{Deps: d, pages: pages, cookies: newCookieNames(d.SecureCookies), log: d.Logger,
		pending: newAddrLimiter(d.PendingLimit, time.Now), forgotLimit: newAddrLimiter(forgotPerAddress, time.Now)}
	s.forgot = &forgotQueue{run: s.sendForgotten}
	return s.routes(), nil
}
