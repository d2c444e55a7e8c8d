package oidc

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/inkpass/inkpass/internal/session"
)

// Sessions signs browsers in and out: the sessions behind the session
// cookie. It needs the SessionStore, and the users' RevokeInactiveUser for
// a session found to belong to a deactivated user.
type Sessions struct {
	cfg   Config
	store SessionStore
	users inactiveRevoker
}

// inactiveRevoker ends what a user found inactive still holds
// (UserFinder.RevokeInactiveUser).
type inactiveRevoker interface {
	RevokeInactiveUser(ctx context.Context, id int64) error
}

// NewSessions keeps sessions in store, live for cfg.SessionTTL.
func NewSessions(cfg Config, store SessionStore, users inactiveRevoker) *Sessions {
	return &Sessions{cfg: cfg.withDefaults(), store: store, users: users}
}

// SessionStore keeps browser sessions: the port of StartSession, Session and
// EndSession.
type SessionStore interface {
	// CreateSession stores s under the hash of its cookie token.
	CreateSession(ctx context.Context, tokenHash []byte, s session.Session) error
	// SessionByTokenHash returns the live session (not expired, not
	// revoked) or session.ErrNotFound; a live session of a user who is no
	// longer active is a *session.InactiveUserError (which matches
	// ErrNotFound). It is a read: the caller decides to RevokeInactiveUser.
	SessionByTokenHash(ctx context.Context, tokenHash []byte) (*session.Session, error)
	// RevokeSession ends the session and, in the same transaction, queues a
	// back-channel logout for each client that took part in it (was issued
	// a code in it). Ending an unknown or ended session is no error and
	// queues nothing.
	RevokeSession(ctx context.Context, tokenHash []byte) error
}

// StartSession signs a browser in for userID, whose sign-in has just been
// completed with the authentication methods amr (RFC 8176 values, in the
// order used; session.MethodPassword for a password), and returns the cookie
// value (shown to no one else; stored only as its hash). The session's
// auth_time is now: call it when the last step of the sign-in is done.
func (p *Sessions) StartSession(ctx context.Context, userID int64, amr []string) (string, *session.Session, error) {
	if len(amr) == 0 {
		return "", nil, errors.New("start session: no authentication method")
	}
	now := p.cfg.Now()
	s := session.Session{
		SID:       session.NewToken()[:22],
		UserID:    userID,
		AuthTime:  now,
		AMR:       slices.Clone(amr),
		CreatedAt: now,
		ExpiresAt: now.Add(p.cfg.SessionTTL),
	}
	token := session.NewToken()
	if err := p.store.CreateSession(ctx, session.Hash(token), s); err != nil {
		return "", nil, fmt.Errorf("start session: %w", err)
	}
	return token, &s, nil
}

// Session returns the live session behind a cookie value, or nil when there is
// none (unknown, expired, revoked, or its user deactivated).
func (p *Sessions) Session(ctx context.Context, cookie string) (*session.Session, error) {
	if cookie == "" {
		return nil, nil
	}
	s, err := p.store.SessionByTokenHash(ctx, session.Hash(cookie))
	var inactive *session.InactiveUserError
	if errors.As(err, &inactive) {
		revokeInactive(ctx, p.users, p.cfg.Logger, inactive.UserID)
	}
	if errors.Is(err, session.ErrNotFound) {
		return nil, nil
	}
	return s, err
}

// EndSession signs the browser out.
func (p *Sessions) EndSession(ctx context.Context, cookie string) error {
	if cookie == "" {
		return nil
	}
	return p.store.RevokeSession(ctx, session.Hash(cookie))
}
