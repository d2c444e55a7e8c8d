package mfa

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/skip2/go-qrcode"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

// Kinds of factor.
const (
	// KindTOTP is an authenticator app (RFC 6238).
	KindTOTP = "totp"
	// KindWebAuthn is a passkey or security key (WebAuthn, passkey.go).
	KindWebAuthn = "webauthn"
)

// ScopeTOTP is the throttle scope of second-factor codes (TOTP and recovery
// codes alike), keyed by user id. It is its own counter, never cleared by a
// good password: whoever holds a stolen password still locks the second
// factor by guessing at it.
const ScopeTOTP = "totp"

// Audit kinds of the second factor (defined in package audit, which lists
// every kind for the CLI's filter).
const (
	AuditEnrolled      = audit.MFAEnrolled
	AuditRemoved       = audit.MFARemoved
	AuditSucceeded     = audit.MFASucceeded
	AuditFailed        = audit.MFAFailed
	AuditRecoveryUsed  = audit.MFARecoveryUsed
	AuditRecoveryReset = audit.MFARecoveryRegenerated
	AuditReset         = audit.MFAReset
)

// Errors.
var (
	// ErrInvalidCode: a wrong, expired or already used code.
	ErrInvalidCode = errors.New("the code is not valid")
	// ErrNotFound: no such factor of this user.
	ErrNotFound = errors.New("factor not found")
	// ErrLastFactor: the removal would leave the user without a confirmed
	// factor, which needs the password (and is never allowed for a role
	// that must have one).
	ErrLastFactor = errors.New("the last second factor")
	// ErrNoEnrolment: no enrolment is waiting for confirmation.
	ErrNoEnrolment = errors.New("no enrolment to confirm")
)

// Factor is one second factor of a user.
type Factor struct {
	ID         int64
	UserID     int64
	Kind       string
	Name       string
	Confirmed  bool
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// Store keeps factors, recovery codes and the password step's proof. Its
// single-use operations (AcceptStep, UseRecoveryCode, TakePending) are
// conditional writes, so two requests cannot both use one code.
type Store interface {
	// CreateFactor stores an unconfirmed factor, replacing the user's other
	// unconfirmed ones of its kind; sealed is its secret, sealed.
	CreateFactor(ctx context.Context, f Factor, sealed []byte) (int64, error)
	// Factors lists the user's factors, oldest first.
	Factors(ctx context.Context, userID int64) ([]Factor, error)
	// FactorSecret returns a factor's sealed secret and its last accepted
	// step; ErrNotFound when the user has no such factor.
	FactorSecret(ctx context.Context, userID, id int64) (sealed []byte, lastStep int64, err error)
	// AcceptStep records step as used for the factor (and confirms it)
	// only when it is later than the last one accepted; false otherwise.
	AcceptStep(ctx context.Context, userID, id, step int64, now time.Time) (bool, error)
	RenameFactor(ctx context.Context, userID, id int64, name string) error
	// DeleteFactor removes a factor; when it was the user's last confirmed
	// one, the recovery codes go with it. With keepOne it refuses, with
	// ErrLastFactor and nothing deleted, when no other confirmed factor
	// would remain: the check and the delete are one transaction, so two
	// removals at once cannot both pass it.
	DeleteFactor(ctx context.Context, userID, id int64, keepOne bool) error
	// ResetUser removes every factor and recovery code of the user and, in
	// the same transaction, ends the user's sessions, tokens and codes.
	ResetUser(ctx context.Context, userID int64) (int, error)
	ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes [][]byte, now time.Time) error
	// UseRecoveryCode marks an unused code used; false when there is none.
	UseRecoveryCode(ctx context.Context, userID int64, hash []byte, now time.Time) (bool, error)
	RecoveryCodesLeft(ctx context.Context, userID int64) (left, used int, err error)
	// SavePending records that the password of userID was verified at
	// at for this browser and request, until expires.
	SavePending(ctx context.Context, browserHash, reqHash []byte, userID int64, at, expires time.Time) error
	// Pending returns the live proof, or ok false.
	Pending(ctx context.Context, browserHash, reqHash []byte, now time.Time) (userID int64, at time.Time, ok bool, err error)
	// TakePending deletes the proof; false when it was gone already.
	TakePending(ctx context.Context, browserHash, reqHash []byte) (bool, error)
	// RememberDevice stores a remembered device (the hash of its cookie)
	// of userID until expires; DeviceRemembered checks one; ForgetDevices
	// drops all of the user's (DeleteFactor and ResetUser do too).
	RememberDevice(ctx context.Context, tokenHash []byte, userID int64, now, expires time.Time) error
	DeviceRemembered(ctx context.Context, tokenHash []byte, userID int64, now time.Time) (bool, error)
	ForgetDevices(ctx context.Context, userID int64) error
	PasskeyStore
}

// Options configure a Service.
type Options struct {
	// Issuer is the name authenticator apps show (the studio's).
	Issuer string
	// RequiredRoles are the roles that must have a second factor.
	RequiredRoles []string
	// RememberDevice, when positive, lets a user skip the second factor on
	// a device for this long (mfa.remember_device); zero: never.
	RememberDevice time.Duration
	// Throttle is the policy of the code counter: FreeFailuresPerUsername
	// free failures, then BaseLock doubling to MaxLock, within Window.
	Throttle user.ThrottlePolicy
	Now      func() time.Time
	Audit    audit.Recorder
	Logger   *slog.Logger
	// WebAuthnOrigin is the issuer URL: its origin is the one origin a
	// passkey ceremony may come from and its host the relying party id.
	// Empty: no passkeys.
	WebAuthnOrigin string
}

// Service enrols and verifies second factors.
type Service struct {
	store    Store
	throttle user.ThrottleStore
	sealer   *Sealer
	opts     Options
	passkeys *webauthn.WebAuthn // nil: no passkeys
}

// NewService builds a Service.
func NewService(st Store, ts user.ThrottleStore, sealer *Sealer, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Audit == nil {
		opts.Audit = audit.Discard{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Issuer == "" {
		opts.Issuer = "inkpass"
	}
	opts.Throttle = opts.Throttle.WithDefaults()
	s := &Service{store: st, throttle: ts, sealer: sealer, opts: opts}
	if opts.WebAuthnOrigin != "" {
		wa, err := newWebAuthn(opts.Issuer, opts.WebAuthnOrigin)
		if err != nil {
			// The issuer is validated at start-up; a host WebAuthn
			// cannot use (an IP address) only turns passkeys off.
			opts.Logger.Info("passkeys are off", "err", err)
		} else {
			s.passkeys = wa
		}
	}
	return s
}

// PendingTTL is how long a verified password waits for the second factor.
const PendingTTL = 5 * time.Minute

// Required reports whether policy demands a second factor of role.
func (s *Service) Required(role string) bool {
	return slices.Contains(s.opts.RequiredRoles, role)
}

// Factors lists the user's confirmed factors.
func (s *Service) Factors(ctx context.Context, userID int64) ([]Factor, error) {
	all, err := s.store.Factors(ctx, userID)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(f Factor) bool { return !f.Confirmed }), nil
}

// HasFactor reports whether the user has a confirmed factor.
func (s *Service) HasFactor(ctx context.Context, userID int64) (bool, error) {
	fs, err := s.Factors(ctx, userID)
	return len(fs) > 0, err
}

// Enrolment is a TOTP factor waiting for its first code.
type Enrolment struct {
	FactorID int64
	// Secret is the key as text, to type into an app.
	Secret string
	// URI is the otpauth:// URI the QR code holds.
	URI string
	// QR is the QR code as a data: URI of a PNG, for an <img>.
	QR string
}

// BeginTOTP makes a new, unconfirmed TOTP factor for u and returns what the
// enrolment page shows. Any earlier unconfirmed one is replaced.
func (s *Service) BeginTOTP(ctx context.Context, u *user.User) (*Enrolment, error) {
	key := newSecret()
	f := Factor{UserID: u.ID, Kind: KindTOTP, Name: "Authenticator app", CreatedAt: s.opts.Now()}
	id, err := s.store.CreateFactor(ctx, f, s.sealer.Seal(key, userAD(u.ID)))
	if err != nil {
		return nil, fmt.Errorf("begin totp enrolment: %w", err)
	}
	return s.enrolment(id, u, key)
}

// ResumeTOTP returns u's enrolment waiting for its first code, the same
// secret again (a reloaded page or a mistyped code must not make the user
// scan a new one), or begins one when there is none.
func (s *Service) ResumeTOTP(ctx context.Context, u *user.User) (*Enrolment, error) {
	all, err := s.store.Factors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for i := len(all) - 1; i >= 0; i-- {
		f := all[i]
		if f.Confirmed || f.Kind != KindTOTP {
			continue
		}
		sealed, _, err := s.store.FactorSecret(ctx, u.ID, f.ID)
		if err != nil {
			return nil, err
		}
		key, err := s.sealer.Open(sealed, userAD(u.ID))
		if err != nil {
			return nil, err
		}
		return s.enrolment(f.ID, u, key)
	}
	return s.BeginTOTP(ctx, u)
}

func (s *Service) enrolment(id int64, u *user.User, key []byte) (*Enrolment, error) {
	uri := provisioningURI(s.opts.Issuer, u.Username, key)
	png, err := qrcode.Encode(uri, qrcode.Medium, 256)
	if err != nil {
		return nil, fmt.Errorf("draw qr code: %w", err)
	}
	return &Enrolment{FactorID: id, Secret: SecretText(key), URI: uri,
		QR: "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)}, nil
}

// ConfirmTOTP activates the unconfirmed factor id of u with a code from it,
// naming it name. It is throttled like any code. When u had no recovery
// codes, ten are made and returned: shown once, never again.
func (s *Service) ConfirmTOTP(ctx context.Context, u *user.User, id int64, name, code, addr string) ([]string, error) {
	all, err := s.store.Factors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(all, func(f Factor) bool { return f.ID == id && !f.Confirmed && f.Kind == KindTOTP })
	if i < 0 {
		return nil, ErrNoEnrolment
	}
	if err := s.checkCode(ctx, u, addr, func(now time.Time) (bool, error) {
		return s.tryTOTP(ctx, u.ID, id, code, now)
	}); err != nil {
		return nil, err
	}
	if name = cleanName(name); name != "" {
		if err := s.store.RenameFactor(ctx, u.ID, id, name); err != nil {
			return nil, err
		}
	}
	s.record(ctx, audit.Event{Kind: AuditEnrolled, UserID: u.ID, Username: u.Username, Addr: addr, Detail: KindTOTP})
	// A change of factors ends every remembered device.
	if err := s.store.ForgetDevices(ctx, u.ID); err != nil {
		return nil, err
	}
	left, used, err := s.store.RecoveryCodesLeft(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if left+used > 0 {
		return nil, nil
	}
	return s.RegenerateRecoveryCodes(ctx, u, addr)
}

// Verify checks a code for u's sign-in: a TOTP code from any of u's
// confirmed TOTP factors, or a recovery code (told apart by length). A good
// code is used up. Failures are charged to u's ScopeTOTP counter before the
// check, in the write that checks its lock, and audited; a locked counter
// is a *user.ThrottledError. recovery reports that a recovery code was used.
func (s *Service) Verify(ctx context.Context, u *user.User, code, addr string) (recovery bool, err error) {
	if looksLikeRecoveryCode(code) {
		err = s.checkCode(ctx, u, addr, func(now time.Time) (bool, error) {
			return s.store.UseRecoveryCode(ctx, u.ID, recoveryHash(code), now)
		})
		if err == nil {
			s.record(ctx, audit.Event{Kind: AuditRecoveryUsed, UserID: u.ID, Username: u.Username, Addr: addr})
		}
		return true, err
	}
	factors, err := s.Factors(ctx, u.ID)
	if err != nil {
		return false, err
	}
	err = s.checkCode(ctx, u, addr, func(now time.Time) (bool, error) {
		for _, f := range factors {
			if f.Kind != KindTOTP {
				continue
			}
			ok, err := s.tryTOTP(ctx, u.ID, f.ID, code, now)
			if ok || err != nil {
				return ok, err
			}
		}
		return false, nil
	})
	if err == nil {
		s.record(ctx, audit.Event{Kind: AuditSucceeded, UserID: u.ID, Username: u.Username, Addr: addr, Detail: KindTOTP})
	}
	return false, err
}

// tryTOTP checks code against factor id and, when it matches a step not
// used before, records that step (the code's single use).
func (s *Service) tryTOTP(ctx context.Context, userID, id int64, code string, now time.Time) (bool, error) {
	sealed, last, err := s.store.FactorSecret(ctx, userID, id)
	if err != nil {
		return false, err
	}
	key, err := s.sealer.Open(sealed, userAD(userID))
	if err != nil {
		return false, err
	}
	step, ok := matchStep(key, code, now, last)
	if !ok {
		return false, nil
	}
	return s.store.AcceptStep(ctx, userID, id, step, now)
}

// checkCode runs check under u's code throttle: the attempt is charged
// before the check (Reserve), kept as a failure when the check fails, and
// the counter cleared when it succeeds.
func (s *Service) checkCode(ctx context.Context, u *user.User, addr string, check func(time.Time) (bool, error)) error {
	now := s.opts.Now()
	key := user.ThrottleKey{Scope: ScopeTOTP, Key: strconv.FormatInt(u.ID, 10), LockFor: func(n int) time.Duration {
		return s.opts.Throttle.LockFor(n, s.opts.Throttle.FreeFailuresPerUsername)
	}}
	_, wait, err := s.throttle.Reserve(ctx, now, s.opts.Throttle.Window, []user.ThrottleKey{key})
	if err != nil {
		return fmt.Errorf("check code throttle: %w", err)
	}
	if wait > 0 {
		s.record(ctx, audit.Event{Kind: AuditFailed, UserID: u.ID, Username: u.Username, Addr: addr, Detail: "locked: too many wrong codes"})
		return &user.ThrottledError{RetryAfter: wait}
	}
	ok, err := check(now)
	if err != nil {
		return err
	}
	if !ok {
		s.opts.Logger.InfoContext(ctx, "second factor failed", "user_id", u.ID, "addr", addr)
		s.record(ctx, audit.Event{Kind: AuditFailed, UserID: u.ID, Username: u.Username, Addr: addr, Detail: "wrong or used code"})
		return ErrInvalidCode
	}
	if err := s.throttle.ClearFailures(context.WithoutCancel(ctx), key.Scope, key.Key); err != nil {
		return fmt.Errorf("clear code throttle: %w", err)
	}
	return nil
}

// RegenerateRecoveryCodes replaces u's recovery codes with ten new ones and
// returns them (shown once).
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, u *user.User, addr string) ([]string, error) {
	codes, hashes := newRecoveryCodes()
	if err := s.store.ReplaceRecoveryCodes(ctx, u.ID, hashes, s.opts.Now()); err != nil {
		return nil, fmt.Errorf("store recovery codes: %w", err)
	}
	s.record(ctx, audit.Event{Kind: AuditRecoveryReset, UserID: u.ID, Username: u.Username, Addr: addr})
	return codes, nil
}

// RecoveryCodesLeft says how many of u's recovery codes are unused and used.
func (s *Service) RecoveryCodesLeft(ctx context.Context, userID int64) (left, used int, err error) {
	return s.store.RecoveryCodesLeft(ctx, userID)
}

// Rename names a factor.
func (s *Service) Rename(ctx context.Context, userID, id int64, name string) error {
	name = cleanName(name)
	if name == "" {
		return errors.New("a factor needs a name")
	}
	return s.store.RenameFactor(ctx, userID, id, name)
}

// Remove deletes a factor of u. passwordChecked says the caller has just
// checked u's current password: without it, a removal that would leave u
// with no confirmed factor is refused with ErrLastFactor, and with it too
// when u's role must have one.
func (s *Service) Remove(ctx context.Context, u *user.User, id int64, addr string, passwordChecked bool) error {
	// The last factor goes only with the password, and never from a role
	// that must have one; the store checks it in the delete's transaction.
	keepOne := !passwordChecked || s.Required(string(u.Role))
	if err := s.store.DeleteFactor(ctx, u.ID, id, keepOne); err != nil {
		return err
	}
	s.record(ctx, audit.Event{Kind: AuditRemoved, UserID: u.ID, Username: u.Username, Addr: addr, Detail: "factor " + strconv.FormatInt(id, 10)})
	return nil
}

// Reset removes every factor and recovery code of u and ends u's sessions
// and grants (an admin's recovery of a lost device); by says who, for the
// audit.
func (s *Service) Reset(ctx context.Context, u *user.User, by string) (int, error) {
	n, err := s.store.ResetUser(ctx, u.ID)
	if err != nil {
		return 0, fmt.Errorf("reset second factors of user %d: %w", u.ID, err)
	}
	s.record(ctx, audit.Event{Kind: AuditReset, UserID: u.ID, Username: u.Username, Detail: by + ": " + strconv.Itoa(n) + " factor(s) removed, sessions and grants ended"})
	return n, nil
}

// RememberFor is how long a device may skip the second factor; zero when
// devices are never remembered.
func (s *Service) RememberFor() time.Duration { return s.opts.RememberDevice }

// RememberDevice makes a device token for userID, stored as its hash, for
// RememberFor; "" when remembering is off.
func (s *Service) RememberDevice(ctx context.Context, userID int64) (string, error) {
	if s.opts.RememberDevice <= 0 {
		return "", nil
	}
	token := session.NewToken()
	now := s.opts.Now()
	if err := s.store.RememberDevice(ctx, session.Hash(token), userID, now, now.Add(s.opts.RememberDevice)); err != nil {
		return "", err
	}
	return token, nil
}

// DeviceRemembered reports whether token (the device cookie) is a live
// remembered device of userID. Always false while remembering is off, so
// turning the option off takes effect at once.
func (s *Service) DeviceRemembered(ctx context.Context, token string, userID int64) (bool, error) {
	if s.opts.RememberDevice <= 0 || token == "" {
		return false, nil
	}
	return s.store.DeviceRemembered(ctx, session.Hash(token), userID, s.opts.Now())
}

// StartPending records that u's password was verified now, for this
// browser and request, for PendingTTL.
func (s *Service) StartPending(ctx context.Context, browserHash, reqHash []byte, userID int64) error {
	now := s.opts.Now()
	return s.store.SavePending(ctx, browserHash, reqHash, userID, now, now.Add(PendingTTL))
}

// Pending returns the password step's live proof for this browser and
// request: whose password, and when.
func (s *Service) Pending(ctx context.Context, browserHash, reqHash []byte) (userID int64, at time.Time, ok bool, err error) {
	return s.store.Pending(ctx, browserHash, reqHash, s.opts.Now())
}

// TakePending consumes the proof once the second factor is given; false
// when another request took it first.
func (s *Service) TakePending(ctx context.Context, browserHash, reqHash []byte) (bool, error) {
	return s.store.TakePending(ctx, browserHash, reqHash)
}

func (s *Service) record(ctx context.Context, e audit.Event) {
	if err := s.opts.Audit.Record(ctx, e); err != nil {
		s.opts.Logger.ErrorContext(ctx, "audit", "kind", string(e.Kind), "err", err)
	}
}

// userAD binds a sealed secret to its user.
func userAD(userID int64) []byte { return []byte("inkpass-mfa-user:" + strconv.FormatInt(userID, 10)) }

// cleanName trims a factor name to one line of at most 64 characters.
func cleanName(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 64 {
		s = string(r[:64])
	}
	return s
}
