package oidc

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// Error is an OAuth 2.0 / OpenID Connect error response. Build one with a
// constructor so that no shared value is ever mutated; Description is safe to
// show a client, cause is for the log only.
type Error struct {
	Code        string
	Description string
	Status      int
	// NoRedirect marks authorization errors found before client_id and
	// redirect_uri were both known good: they are shown on inkpass's own
	// page and never sent to a redirect URI (RFC 6749 §4.1.2.1).
	NoRedirect bool
	// BasicChallenge adds WWW-Authenticate: Basic to a 401 (RFC 6749 §5.2).
	BasicChallenge bool
	// RetryAfter, when above zero, is sent as Retry-After (RFC 9110 §10.2.3),
	// rounded up to whole seconds: with a 503 temporarily_unavailable, or a
	// throttled 401 invalid_client.
	RetryAfter time.Duration
	cause      error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Description, e.cause)
	}
	return e.Code + ": " + e.Description
}

func (e *Error) Unwrap() error { return e.cause }

// LogValue keeps log lines structured and free of request data.
func (e *Error) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("error", e.Code), slog.String("description", e.Description)}
	if e.cause != nil {
		attrs = append(attrs, slog.String("cause", e.cause.Error()))
	}
	return slog.GroupValue(attrs...)
}

func (e *Error) withCause(err error) *Error { e.cause = err; return e }

func newErr(code string, status int, format string, args ...any) *Error {
	return &Error{Code: code, Status: status, Description: fmt.Sprintf(format, args...)}
}

func errInvalidRequest(format string, args ...any) *Error {
	return newErr("invalid_request", http.StatusBadRequest, format, args...)
}
func errInvalidClient(format string, args ...any) *Error {
	return newErr("invalid_client", http.StatusUnauthorized, format, args...)
}
func errInvalidGrant(format string, args ...any) *Error {
	return newErr("invalid_grant", http.StatusBadRequest, format, args...)
}
func errUnauthorizedClient(format string, args ...any) *Error {
	return newErr("unauthorized_client", http.StatusBadRequest, format, args...)
}
func errUnsupportedGrantType(format string, args ...any) *Error {
	return newErr("unsupported_grant_type", http.StatusBadRequest, format, args...)
}
func errUnsupportedResponseType(format string, args ...any) *Error {
	return newErr("unsupported_response_type", http.StatusBadRequest, format, args...)
}
func errInvalidScope(format string, args ...any) *Error {
	return newErr("invalid_scope", http.StatusBadRequest, format, args...)
}
func errInvalidToken(format string, args ...any) *Error {
	return newErr("invalid_token", http.StatusUnauthorized, format, args...)
}
func errInsufficientScope(format string, args ...any) *Error {
	return newErr("insufficient_scope", http.StatusForbidden, format, args...)
}

// ErrLoginRequired answers prompt=none without a usable session (OIDC Core
// §3.1.2.6).
func ErrLoginRequired() *Error {
	return newErr("login_required", http.StatusBadRequest, "the user must sign in")
}

// ErrAccessDenied is what a client hears when the user says no.
func ErrAccessDenied() *Error {
	return newErr("access_denied", http.StatusForbidden, "the user denied the request")
}

// retryable is a failure that passes by itself: the store's ErrBusy, a write
// that gave up on a database another process kept locked, or its ErrFull, a
// write refused for lack of disk space.
type retryable interface{ RetryAfter() time.Duration }

// errServer hides our own failure from the client; the cause goes to the log.
// A cause that passes by itself (a database another process kept locked)
// becomes temporarily_unavailable with a 503 and Retry-After, so that clients
// retry rather than report an error: RFC 6749 §4.1.2.1 defines the code for
// the authorization endpoint, and the token endpoint uses it the same way
// (as RFC 8628 and OpenID's CIBA do).
func errServer(cause error) *Error {
	var busy retryable
	if errors.As(cause, &busy) {
		e := newErr("temporarily_unavailable", http.StatusServiceUnavailable, "the server is busy; try again in a moment").withCause(cause)
		e.RetryAfter = max(busy.RetryAfter(), time.Second)
		return e
	}
	return (&Error{Code: "server_error", Status: http.StatusInternalServerError, Description: "internal error"}).withCause(cause)
}

// SetRetryAfter adds the Retry-After header e asks for, if any.
func (e *Error) SetRetryAfter(h http.Header) {
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
}

// noRedirect turns e into an error for inkpass's own page.
func (e *Error) noRedirect() *Error { e.NoRedirect = true; return e }
