package web

import (
	"context"
	"net/http"

	"github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/session"
)

// The ports: what the pages ask of the protocol layer, one small interface
// per page or sign-in step, declared here where they are consumed.
// *oidc.Provider implements them all (cmd/inkpass passes it as
// Deps.Provider); page tests pass fakes (pages_fakes_test.go), so a page can be
// tested without a database, a key set or password hashing.
//
// A new step or page that needs the provider gets a port of its own here
// (a second factor: secondFactorStep) and joins protocol below.

// protocol is the whole protocol layer as the pages see it.
type protocol interface {
	browserSessions
	authorizer
	pendingRequests
	passwordStep
	consentStep
	logoutEndpoint
	documentSource
	protocolEndpoints
}

// browserSessions are sign-in sessions by the session cookie's value: every
// page that asks who is signed in (home, account, logout, the sign-in steps),
// the password step that starts one and the pages that end one.
type browserSessions interface {
	// Session returns the live session behind cookie, or nil (and no
	// error) when there is none: no cookie, unknown, expired, revoked, or
	// its user deactivated.
	Session(ctx context.Context, cookie string) (*session.Session, error)
	// StartSession signs the browser in for userID with the methods amr
	// (RFC 8176) and returns the new cookie value.
	StartSession(ctx context.Context, userID int64, amr []string) (string, *session.Session, error)
	// EndSession revokes the session behind cookie; "" is a no-op.
	EndSession(ctx context.Context, cookie string) error
}

// authorizer is the authorization endpoint (authorize.go) and the answer of
// every sign-in step that ends a request: the code or an error for the
// client.
type authorizer interface {
	// ParseAuthorize validates an authorization request. An error with
	// NoRedirect, or with a nil request, must stay on inkpass's own page
	// (RFC 6749 §4.1.2.1); the rest go to the client through ErrorResponse.
	ParseAuthorize(r *http.Request) (*oidc.AuthRequest, *oidc.Error)
	// Grant issues the code for req to the session's user.
	Grant(ctx context.Context, req *oidc.AuthRequest, s *session.Session) (*oidc.Response, *oidc.Error)
	// ErrorResponse is the response that tells the client about e.
	ErrorResponse(req *oidc.AuthRequest, e *oidc.Error) *oidc.Response
}

// pendingRequests keep a request server-side, bound to the browser, while
// it walks the sign-in steps (steps.go: park, resume, advance, finish).
// Load, RecordLogin and Finish return oidc.ErrUnknownAuthRequest for a
// request that is gone, expired, answered, or another browser's.
type pendingRequests interface {
	// SaveAuthRequest stores req for browserID and returns its id.
	SaveAuthRequest(ctx context.Context, req *oidc.AuthRequest, browserID string) (string, error)
	// LoadAuthRequest returns browserID's pending request id.
	LoadAuthRequest(ctx context.Context, id, browserID string) (*oidc.AuthRequest, error)
	// RecordLogin notes that session s satisfied the request's password
	// step, on the stored request and on req.
	RecordLogin(ctx context.Context, id, browserID string, req *oidc.AuthRequest, s *session.Session) error
	// FinishAuthRequest deletes the request once answered, so that it is
	// answered once.
	FinishAuthRequest(ctx context.Context, id string) error
}

// passwordStep is the rule of the password step (stepPassword, login.go).
type passwordStep interface {
	// NeedsLogin reports whether req needs the password although the
	// browser has session s (nil for none): prompt=login, max_age, a hint
	// naming another user (OIDC Core §3.1.2.1).
	NeedsLogin(req *oidc.AuthRequest, s *session.Session) bool
}

// consentStep is the consent step (stepConsent, consent.go).
type consentStep interface {
	// NeedsConsent reports whether userID must approve req's scopes and
	// extra claims first.
	NeedsConsent(ctx context.Context, req *oidc.AuthRequest, userID int64) (bool, error)
	// RecordConsent remembers userID's approval of req.
	RecordConsent(ctx context.Context, req *oidc.AuthRequest, userID int64) error
}

// logoutEndpoint is RP-Initiated Logout (logout.go).
type logoutEndpoint interface {
	// ParseLogout validates a logout request; its redirect URI is kept
	// only when registered for the client.
	ParseLogout(r *http.Request) (*oidc.LogoutRequest, *oidc.Error)
	// Logout ends the session behind cookie and revokes the tokens issued
	// under s (nil for none).
	Logout(ctx context.Context, cookie string, s *session.Session) error
}

// documentSource gives the pre-encoded discovery document and JWKS with
// their ETags, for documents' fast path (documents.go).
type documentSource interface {
	Discovery() (body []byte, etag string)
	JWKS() (body []byte, etag string)
}

// protocolEndpoints are the endpoints relying parties call, served whole by
// the protocol layer and mounted in routes.go.
type protocolEndpoints interface {
	TokenHandler() http.Handler
	UserInfoHandler() http.Handler
	DiscoveryHandler() http.Handler
	JWKSHandler() http.Handler
	RevokeHandler() http.Handler
	IntrospectHandler() http.Handler
}
