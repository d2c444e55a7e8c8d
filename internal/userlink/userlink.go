// Package userlink makes and redeems the single-use links inkpass sends to a
// person: an invitation (set a first password), a password reset, and an
// email verification. A link is 32 random bytes, base64url, under the
// issuer's /link/ path; only its SHA-256 is stored. It expires, works once
// (one conditional UPDATE decides between two uses), dies when a newer link
// of its purpose is issued, when the user is deactivated, and when what it
// was issued against changes: the password hash for an invitation or a
// reset (a password changed by any means, the studio's app included), the
// email for a verification.
//
// The package declares what it needs: a Store (internal/store implements
// it), a Hasher (internal/password) and a Mailer (the mail outbox), and
// builds the messages itself (message.go).
package userlink

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/mail"
	"github.com/inkpass/inkpass/internal/user"
)

// Purpose is what a link lets its holder do.
type Purpose string

// The purposes; the store's CHECK constraint lists the same three.
const (
	Invitation        Purpose = "invitation"
	PasswordReset     Purpose = "password_reset"
	EmailVerification Purpose = "email_verification"
)

// SetsPassword reports whether following a link of p sets a password.
func (p Purpose) SetsPassword() bool { return p == Invitation || p == PasswordReset }

// PathPrefix is where links live on the issuer: PathPrefix + token.
const PathPrefix = "/link/"

// Default lifetimes (config links.*).
const (
	DefaultInvitationTTL        = 72 * time.Hour
	DefaultPasswordResetTTL     = time.Hour
	DefaultEmailVerificationTTL = 24 * time.Hour
)

// selfServiceLimit bounds the links a person may have sent to themselves
// (forgotten password, email verification) per purpose within
// selfServiceWindow, counted in the database so that it survives restarts:
// enough for a lost message or two, too few to flood a mailbox.
const (
	selfServiceLimit  = 3
	selfServiceWindow = time.Hour
)

// ErrInvalid is the one answer for a link that is unknown, used, expired,
// superseded, or whose user is deactivated or changed what the link was
// bound to: the page never says which.
var ErrInvalid = errors.New("the link is unknown, used or expired")

// ErrInactive refuses a link for a deactivated user.
var ErrInactive = errors.New("the user is deactivated")

// ErrNoEmail refuses to send a link to a user without an email address, or
// when no mail is configured.
var ErrNoEmail = errors.New("no email to send the link to")

// ErrTooMany refuses a self-service link over the per-account limit.
var ErrTooMany = errors.New("too many links asked for: try again later")

// Link is one stored link: the hash of its token, never the token.
type Link struct {
	UserID    int64
	Purpose   Purpose
	Hash      []byte
	CreatedAt time.Time
	ExpiresAt time.Time
	// IssuedBy is who asked: an admin's username, "cli", or "self" for a
	// person asking for their own reset or verification.
	IssuedBy string
}

// Binding is what a link of purpose p for u is bound to, hashed: the
// password hash for the links that set a password, the email for a
// verification. The store records it when the link is issued and refuses
// the link once the user's row gives another value.
func Binding(p Purpose, u *user.User) []byte {
	v := u.PasswordHash
	if p == EmailVerification {
		v = u.Email
	}
	sum := sha256.Sum256([]byte(string(p) + "\x00" + v))
	return sum[:]
}

// Store keeps links. Every method that writes is one transaction.
type Store interface {
	// IssueLink stores l with Binding(l.Purpose, u) of the user's row as it
	// is in that transaction and marks every unused link of the same user
	// and purpose used, so only the newest works. It returns the user;
	// user.ErrNotFound for no such user, ErrInactive for a deactivated one,
	// ErrNoEmail for a verification of a user without an email (then
	// nothing is written).
	IssueLink(ctx context.Context, l Link) (*user.User, error)
	// LinkUser reads, never writes: the purpose and active user of the
	// unused, unexpired link whose token hashes to hash and whose binding
	// still holds; ErrInvalid otherwise.
	LinkUser(ctx context.Context, hash []byte) (Purpose, *user.User, error)
	// ConsumePasswordLink, in one transaction: marks the link used with
	// UPDATE ... WHERE used_at IS NULL AND expires_at > now (of two uses,
	// one wins), checks it is an invitation or reset of an active user whose
	// binding holds, stores newHash as the password and revokes everything
	// the user holds (as user.Repository.SetPasswordHash), their other
	// unused links included. Otherwise ErrInvalid, and nothing is written.
	ConsumePasswordLink(ctx context.Context, hash []byte, newHash string) (Purpose, *user.User, error)
	// ConsumeEmailLink is the same for a verification: the link is marked
	// used and the user's current email recorded as verified
	// (inkpass_user_verifications), or ErrInvalid and nothing written.
	ConsumeEmailLink(ctx context.Context, hash []byte) (*user.User, error)
	// CountLinks counts the user's links of purpose issued since, used or
	// not (the self-service limit).
	CountLinks(ctx context.Context, userID int64, purpose Purpose, since time.Time) (int, error)
	// UserByLogin returns the user whose username (in any letter case) is
	// login or, failing that, the one user whose email is login (in any
	// letter case); user.ErrNotFound otherwise, also when several share
	// the email.
	UserByLogin(ctx context.Context, login string) (*user.User, error)
}

// Hasher hashes a new password; *password.Hasher implements it.
type Hasher interface {
	Hash(ctx context.Context, plain string) (string, error)
}

// Mailer queues a message for delivery; the mail outbox implements it. It
// must not wait for the mail server.
type Mailer interface {
	Enqueue(ctx context.Context, m mail.Message) error
}

// Options configure a Service.
type Options struct {
	// Issuer is the absolute URL links are made under.
	Issuer string
	// StudioName signs the messages ("inkpass" when empty).
	StudioName string
	// Studio, when set, is the studio's current name (the console may have
	// changed it since start); an empty answer falls back to StudioName.
	Studio func(ctx context.Context) string
	// Lifetimes; zero takes the defaults.
	InvitationTTL, PasswordResetTTL, EmailVerificationTTL time.Duration
	// MinPasswordLength is the password policy (user.DefaultMinPasswordLength
	// when zero), as the account page applies it.
	MinPasswordLength int
	// Mailer sends links by email; nil means email is not configured: links
	// are only returned to the caller, and no self-service link is sent.
	Mailer Mailer
	Audit  audit.Recorder
	Logger *slog.Logger
	Now    func() time.Time
}

// Service issues and redeems links.
type Service struct {
	store  Store
	hasher Hasher
	opts   Options
}

// New wires a Service.
func New(store Store, hasher Hasher, opts Options) *Service {
	if opts.InvitationTTL <= 0 {
		opts.InvitationTTL = DefaultInvitationTTL
	}
	if opts.PasswordResetTTL <= 0 {
		opts.PasswordResetTTL = DefaultPasswordResetTTL
	}
	if opts.EmailVerificationTTL <= 0 {
		opts.EmailVerificationTTL = DefaultEmailVerificationTTL
	}
	if opts.MinPasswordLength <= 0 {
		opts.MinPasswordLength = user.DefaultMinPasswordLength
	}
	if opts.Audit == nil {
		opts.Audit = audit.Discard{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if strings.TrimSpace(opts.StudioName) == "" {
		opts.StudioName = "inkpass"
	}
	opts.Issuer = strings.TrimRight(opts.Issuer, "/")
	return &Service{store: store, hasher: hasher, opts: opts}
}

// EmailEnabled reports whether links can be sent by email (a Mailer is
// configured): the login page offers "Forgot password?" only then.
func (s *Service) EmailEnabled() bool { return s.opts.Mailer != nil }

// Invite issues an invitation for the user: a link to set a first password,
// valid for the invitation lifetime, which replaces any earlier invitation.
// link is the absolute URL; actor is the acting admin's username (or "cli").
// When email is configured and the user has an address, it is also sent.
func (s *Service) Invite(ctx context.Context, userID int64, actor string) (link string, expires time.Time, err error) {
	return s.issueAndSend(ctx, userID, Invitation, actor)
}

// PasswordReset issues a password-reset link for the user, as Invite does.
func (s *Service) PasswordReset(ctx context.Context, userID int64, actor string) (link string, expires time.Time, err error) {
	return s.issueAndSend(ctx, userID, PasswordReset, actor)
}

func (s *Service) issueAndSend(ctx context.Context, userID int64, p Purpose, actor string) (string, time.Time, error) {
	link, expires, u, err := s.issue(ctx, userID, p, actor)
	if err != nil {
		return "", time.Time{}, err
	}
	if s.opts.Mailer != nil && u.Email != "" {
		if err := s.send(ctx, u, p, link, expires); err != nil {
			// The caller holds the link and shows it: a queue failure
			// leaves the admin the manual way.
			s.opts.Logger.ErrorContext(ctx, "queue link message", "purpose", string(p), "user_id", u.ID, "err", err)
		}
	}
	return link, expires, nil
}

// SendEmailVerification sends the signed-in user a link that verifies their
// current email. ErrNoEmail when they have none or email is not configured;
// ErrTooMany over the per-account limit.
func (s *Service) SendEmailVerification(ctx context.Context, userID int64) (email string, err error) {
	if s.opts.Mailer == nil {
		return "", ErrNoEmail
	}
	if err := s.underLimit(ctx, userID, EmailVerification); err != nil {
		return "", err
	}
	link, expires, u, err := s.issue(ctx, userID, EmailVerification, "self")
	if err != nil {
		return "", err
	}
	if err := s.send(ctx, u, EmailVerification, link, expires); err != nil {
		return "", err
	}
	return u.Email, nil
}

// ForgotPassword sends a reset link to the email of the active account
// whose username or email is login, within the per-account limit. It
// reports nothing the person asking may see: an unknown, deactivated or
// address-less account, or one over its limit, is logged at most, and the
// page gives everyone the same answer. Only a failure of ours is returned.
func (s *Service) ForgotPassword(ctx context.Context, login string) error {
	login = strings.TrimSpace(login)
	if s.opts.Mailer == nil || login == "" || len(login) > 254 {
		return nil
	}
	u, err := s.store.UserByLogin(ctx, login)
	switch {
	case errors.Is(err, user.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("forgot password: %w", err)
	case !u.Active || u.Email == "":
		s.opts.Logger.InfoContext(ctx, "password reset asked for an account that cannot get one", "user_id", u.ID, "active", u.Active)
		return nil
	}
	if err := s.underLimit(ctx, u.ID, PasswordReset); errors.Is(err, ErrTooMany) {
		s.opts.Logger.WarnContext(ctx, "password reset asked for too often", "user_id", u.ID)
		return nil
	} else if err != nil {
		return err
	}
	link, expires, u, err := s.issue(ctx, u.ID, PasswordReset, "self")
	if errors.Is(err, ErrInactive) || errors.Is(err, user.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.send(ctx, u, PasswordReset, link, expires)
}

func (s *Service) underLimit(ctx context.Context, userID int64, p Purpose) error {
	n, err := s.store.CountLinks(ctx, userID, p, s.opts.Now().Add(-selfServiceWindow))
	if err != nil {
		return fmt.Errorf("count links: %w", err)
	}
	if n >= selfServiceLimit {
		return ErrTooMany
	}
	return nil
}

// issue makes a token, stores its hash and audits the issue.
func (s *Service) issue(ctx context.Context, userID int64, p Purpose, actor string) (link string, expires time.Time, u *user.User, err error) {
	if actor == "" {
		return "", time.Time{}, nil, errors.New("issue link: the actor is required")
	}
	token, hash := newToken()
	now := s.opts.Now()
	expires = now.Add(s.ttl(p)).Truncate(time.Second)
	u, err = s.store.IssueLink(ctx, Link{UserID: userID, Purpose: p, Hash: hash, CreatedAt: now, ExpiresAt: expires, IssuedBy: actor})
	if err != nil {
		return "", time.Time{}, nil, fmt.Errorf("issue %s link for user %d: %w", p, userID, err)
	}
	s.record(ctx, audit.Event{Kind: issuedKinds[p], UserID: u.ID, Username: u.Username, Detail: "by " + actor})
	return s.opts.Issuer + PathPrefix + token, expires, u, nil
}

var issuedKinds = map[Purpose]audit.Kind{
	Invitation:        audit.InvitationIssued,
	PasswordReset:     audit.PasswordResetIssued,
	EmailVerification: audit.EmailVerificationIssued,
}

func (s *Service) ttl(p Purpose) time.Duration {
	switch p {
	case Invitation:
		return s.opts.InvitationTTL
	case PasswordReset:
		return s.opts.PasswordResetTTL
	}
	return s.opts.EmailVerificationTTL
}

// Lookup names the purpose and user of a live link, without using it (the
// link page's GET: mail scanners and previews open links too). ErrInvalid
// for anything else.
func (s *Service) Lookup(ctx context.Context, token string) (Purpose, *user.User, error) {
	hash, ok := hashToken(token)
	if !ok {
		return "", nil, ErrInvalid
	}
	return s.store.LinkUser(ctx, hash)
}

// SetPassword redeems an invitation or reset link: the password policy is
// checked (a *user.FieldError, the link untouched), the password hashed,
// and then, in one transaction, the link used and the password stored, with
// everything the user held revoked. ErrInvalid when the link is not (or no
// longer) good; then nothing changed.
func (s *Service) SetPassword(ctx context.Context, token, plain string) (*user.User, error) {
	hash, ok := hashToken(token)
	if !ok {
		return nil, ErrInvalid
	}
	p, u, err := s.store.LinkUser(ctx, hash)
	if err != nil {
		return nil, err
	}
	if !p.SetsPassword() {
		return nil, ErrInvalid
	}
	if err := user.CheckPassword(plain, u.Username, s.opts.MinPasswordLength); err != nil {
		return nil, err
	}
	pwHash, err := s.hasher.Hash(ctx, plain)
	if err != nil {
		return nil, fmt.Errorf("set password by link: %w", err)
	}
	p, u, err = s.store.ConsumePasswordLink(ctx, hash, pwHash)
	if err != nil {
		if errors.Is(err, ErrInvalid) {
			return nil, ErrInvalid
		}
		return nil, fmt.Errorf("set password by link: %w", err)
	}
	s.record(ctx, audit.Event{Kind: audit.PasswordChanged, UserID: u.ID, Username: u.Username, Detail: "by " + string(p) + " link"})
	return u, nil
}

// VerifyEmail redeems a verification link: the user's current email is
// recorded as verified. ErrInvalid when the link is not good, for instance
// because the email changed since it was sent.
func (s *Service) VerifyEmail(ctx context.Context, token string) (*user.User, error) {
	hash, ok := hashToken(token)
	if !ok {
		return nil, ErrInvalid
	}
	u, err := s.store.ConsumeEmailLink(ctx, hash)
	if err != nil {
		if errors.Is(err, ErrInvalid) {
			return nil, ErrInvalid
		}
		return nil, fmt.Errorf("verify email by link: %w", err)
	}
	s.record(ctx, audit.Event{Kind: audit.UserVerified, UserID: u.ID, Username: u.Username, Detail: string(user.ContactEmail) + " by link"})
	return u, nil
}

func (s *Service) record(ctx context.Context, e audit.Event) {
	if err := s.opts.Audit.Record(ctx, e); err != nil {
		s.opts.Logger.ErrorContext(ctx, "audit", "kind", string(e.Kind), "err", err)
	}
}

// tokenBytes is the entropy of a link: 256 bits.
const tokenBytes = 32

// newToken returns a fresh token and the hash that is stored.
func newToken() (token string, hash []byte) {
	var b [tokenBytes]byte
	rand.Read(b[:]) // never fails since Go 1.24
	sum := sha256.Sum256(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:]), sum[:]
}

// hashToken is the stored form of a token; false for a string that cannot
// be one (so it costs no database read).
func hashToken(token string) ([]byte, bool) {
	if len(token) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != tokenBytes {
		return nil, false
	}
	sum := sha256.Sum256(b)
	return sum[:], true
}
