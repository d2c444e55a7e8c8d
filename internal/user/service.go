package user

import (
	"context"
	"errors"
	"fmt"
	"github.com/inkpass/inkpass/internal/audit"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Repository is the storage the Service needs. internal/store implements it;
// internal/store/storetest checks any implementation against this contract.
//
// Every method that writes runs in one write transaction: it happens whole
// or not at all. Lookups return ErrNotFound for an unknown id or username.
// Several writes end what the user holds; "revoke everything" below means,
// in that same transaction: every session ends, with a back-channel logout
// notice queued for each client that took part in it (backchannel.Outbox);
// every access and refresh token of every client is revoked; every
// unredeemed code is revoked (so redeeming it later is refused without being
// taken for a replay), and the grant of a code being exchanged at that moment
// is burned, so it cannot turn into tokens afterwards. Consents are kept.
type Repository interface {
	// CreateUser inserts u and returns its id, checking in the same
	// transaction that no user has the username in any letter case
	// (ErrUsernameTaken) or the email (ErrEmailTaken), and that the artist
	// exists (ErrArtistNotFound).
	CreateUser(ctx context.Context, u *User) (int64, error)
	UserByID(ctx context.Context, id int64) (*User, error)
	// UserByUsername prefers an exact match, then one in another letter case.
	UserByUsername(ctx context.Context, username string) (*User, error)
	// ListUsers returns the users matching f, ordered by id.
	ListUsers(ctx context.Context, f Filter) ([]*User, error)
	// UpdateUser reads the row inside its transaction, lets change edit and
	// check it (with the active admins counted in that transaction), and
	// writes only the columns change names, with the same uniqueness checks
	// as CreateUser. An error from change aborts it; nothing is written.
	UpdateUser(ctx context.Context, id int64, change ChangeFunc) (*User, error)
	// SetUserActive sets is_active. check, when not nil, sees the row and
	// the active admins counted inside the transaction and may refuse (the
	// last-admin rule), so two concurrent deactivations cannot both pass it.
	// Deactivating also revokes everything; reactivating brings nothing back.
	SetUserActive(ctx context.Context, id int64, active bool, check func(u *User, activeAdmins int) error) error
	// SetPasswordHash replaces the hash and revokes everything: whoever
	// knew the old password is out with it (RFC 9700 §4.14.2).
	SetPasswordHash(ctx context.Context, id int64, hash string) error
	// RecordLogin sets last_login and, when newHash is not empty, replaces
	// the hash, only while the row still holds verifiedHash (the hash the
	// login checked) and the user is active; otherwise it writes nothing and
	// returns ErrLoginStale, so a password change or deactivation made
	// while the login was hashing is never undone.
	RecordLogin(ctx context.Context, id int64, at time.Time, verifiedHash, newHash string) error
	// RevokeInactiveUser revokes everything of a user who is not active
	// (deactivated by the studio's app, which revokes nothing) and audits
	// it; it does nothing for an active user or one who holds nothing.
	RevokeInactiveUser(ctx context.Context, id int64) error
	// SetVerification records the user's current email or phone as
	// verified, or with verified false forgets that it was, and returns the
	// user as it is then. Verifying an empty field is a *FieldError.
	SetVerification(ctx context.Context, id int64, kind Contact, verified bool) (*User, error)
}

// ChangeFunc edits u, the row as it is inside the update's transaction, given
// the number of active admins then; it returns the columns it set (profile
// columns by name: username, role, artist_id, name, birthdate, email, phone,
// instagram), or an error that aborts the update.
type ChangeFunc func(u *User, activeAdmins int) (columns []string, err error)

// Hasher hashes and verifies passwords; internal/password implements it.
type Hasher interface {
	Hash(ctx context.Context, plain string) (string, error)
	Verify(ctx context.Context, plain, encoded string) (bool, error)
	NeedsRehash(encoded string) bool
	VerifyDummy(ctx context.Context, plain string)
}

// Filter narrows ListUsers. Zero values mean "any".
type Filter struct {
	Role   Role
	Active *bool
}

// Options configure a Service.
type Options struct {
	MinPasswordLength int
	Throttle          ThrottlePolicy
	Now               func() time.Time
	Logger            *slog.Logger
	// Audit records logins, password changes and (de)activations; nil
	// records none.
	Audit audit.Recorder
}

// Service holds the user rules on top of a Repository.
type Service struct {
	repo     Repository
	hasher   Hasher
	throttle *throttle
	minPass  int
	now      func() time.Time
	log      *slog.Logger
	audit    audit.Recorder
}

// NewService wires a Service. ts may be nil to disable throttling (tests only).
func NewService(repo Repository, hasher Hasher, ts ThrottleStore, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MinPasswordLength <= 0 {
		opts.MinPasswordLength = DefaultMinPasswordLength
	}
	if opts.Audit == nil {
		opts.Audit = audit.Discard{}
	}
	s := &Service{repo: repo, hasher: hasher, minPass: opts.MinPasswordLength, now: opts.Now, log: opts.Logger, audit: opts.Audit}
	if ts != nil {
		s.throttle = &throttle{store: ts, policy: opts.Throttle.withDefaults(), now: opts.Now}
	}
	return s
}

// Create validates u, hashes the password and stores the user. It returns the
// stored user with its id and created_at.
func (s *Service) Create(ctx context.Context, u User, plainPassword string) (*User, error) {
	u.normalize()
	u.Active = true
	if err := s.validate(&u, &plainPassword); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, plainPassword)
	if err != nil {
		return nil, fmt.Errorf("create user %q: %w", u.Username, err)
	}
	u.PasswordHash = hash
	id, err := s.repo.CreateUser(ctx, &u)
	if err != nil {
		return nil, fmt.Errorf("create user %q: %w", u.Username, err)
	}
	return s.repo.UserByID(ctx, id)
}

// CreateInvited stores a user who has no password yet: the row's hash is
// noPassword, a marker no password matches (password.Unset, which the
// caller passes because this package does not hash), until the person sets
// one through an invitation link. The field rules are Create's.
func (s *Service) CreateInvited(ctx context.Context, u User, noPassword string) (*User, error) {
	if noPassword == "" {
		return nil, errors.New("create invited user: the no-password marker is required")
	}
	u.normalize()
	u.Active = true
	if err := s.validate(&u, nil); err != nil {
		return nil, err
	}
	u.PasswordHash = noPassword
	id, err := s.repo.CreateUser(ctx, &u)
	if err != nil {
		return nil, fmt.Errorf("create user %q: %w", u.Username, err)
	}
	return s.repo.UserByID(ctx, id)
}

// validate runs the field rules and, when plain is not nil, the password policy,
// returning every violation in one ValidationError.
func (s *Service) validate(u *User, plain *string) error {
	var fields []*FieldError
	if err := u.Validate(s.now()); err != nil {
		var ve *ValidationError
		if !errors.As(err, &ve) {
			return err
		}
		fields = ve.Fields
	}
	if plain != nil {
		if err := CheckPassword(*plain, u.Username, s.minPass); err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				return err
			}
			fields = append(fields, fe)
		}
	}
	if len(fields) > 0 {
		return &ValidationError{Fields: fields}
	}
	return nil
}

// Get returns the user with that id, active or not.
func (s *Service) Get(ctx context.Context, id int64) (*User, error) {
	return s.repo.UserByID(ctx, id)
}

// GetByUsername returns the user with that username, active or not.
func (s *Service) GetByUsername(ctx context.Context, username string) (*User, error) {
	return s.repo.UserByUsername(ctx, strings.TrimSpace(username))
}

// List returns the users matching f, ordered by id.
func (s *Service) List(ctx context.Context, f Filter) ([]*User, error) {
	return s.repo.ListUsers(ctx, f)
}

// Patch names the fields an update changes; nil pointers leave a field alone and
// a pointer to "" clears an optional field.
type Patch struct {
	Username  *string
	Role      *Role
	ArtistID  **int64
	Name      *string
	Birthdate *string
	Email     *string
	Phone     *string
	Instagram *string
}

// apply sets the fields p names on u and returns their columns.
func (p Patch) apply(u *User) []string {
	var cols []string
	set := func(col string, dst, src *string) {
		if src != nil {
			*dst = *src
			cols = append(cols, col)
		}
	}
	set("username", &u.Username, p.Username)
	if p.Role != nil {
		u.Role = *p.Role
		cols = append(cols, "role")
	}
	if p.ArtistID != nil {
		u.ArtistID = *p.ArtistID
		cols = append(cols, "artist_id")
	}
	set("name", &u.Name, p.Name)
	set("birthdate", &u.Birthdate, p.Birthdate)
	set("email", &u.Email, p.Email)
	set("phone", &u.Phone, p.Phone)
	set("instagram", &u.Instagram, p.Instagram)
	u.normalize()
	return cols
}

// Update applies p to the user with that id after checking the result as a whole
// (changing the role to admin, say, must also clear artist_id). The row is read,
// checked and written in one transaction, and only the fields p names are
// written, so an update never undoes a concurrent one (inkpass's or the
// studio app's) of another field. Only the rules that touch a changed field
// are checked: a value the studio's app stored in another column does not
// block the change. Demoting the last active admin returns ErrLastAdmin.
func (s *Service) Update(ctx context.Context, id int64, p Patch) (*User, error) {
	var ruleErr error
	u, err := s.repo.UpdateUser(ctx, id, func(u *User, activeAdmins int) ([]string, error) {
		wasAdmin := u.Role == RoleAdmin && u.Active
		cols := p.apply(u)
		if ruleErr = s.validateChanged(u, cols); ruleErr != nil {
			return nil, ruleErr
		}
		if wasAdmin && u.Role != RoleAdmin && activeAdmins <= 1 {
			ruleErr = ErrLastAdmin
			return nil, ruleErr
		}
		return cols, nil
	})
	if ruleErr != nil && errors.Is(err, ruleErr) {
		return nil, ruleErr
	}
	if err != nil {
		return nil, fmt.Errorf("update user %d: %w", id, err)
	}
	return u, nil
}

// validateChanged runs the field rules on u and keeps the violations of the
// fields in cols; role and artist_id are one rule and go together.
func (s *Service) validateChanged(u *User, cols []string) error {
	err := s.validate(u, nil)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	changed := func(f string) bool {
		if f == "role" || f == "artist_id" {
			return slices.Contains(cols, "role") || slices.Contains(cols, "artist_id")
		}
		return slices.Contains(cols, f)
	}
	var kept []*FieldError
	for _, fe := range ve.Fields {
		if changed(fe.Field) {
			kept = append(kept, fe)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	return &ValidationError{Fields: kept}
}

// record appends an audit event; losing one is logged, never fatal to the
// action it describes.
func (s *Service) record(ctx context.Context, e audit.Event) {
	if err := s.audit.Record(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "audit", "kind", string(e.Kind), "err", err)
	}
}

// ErrLastAdmin keeps the studio from locking itself out of inkpass.
var ErrLastAdmin = errors.New("this is the last active admin: make another admin first")

// Deactivate is the soft delete: the row stays for the audit trail, the user can
// no longer sign in, and the store revokes their sessions and tokens. The
// last-admin rule is checked inside the same transaction, so two concurrent
// deactivations of the last two admins cannot both succeed.
func (s *Service) Deactivate(ctx context.Context, id int64) error {
	var username string
	err := s.repo.SetUserActive(ctx, id, false, func(u *User, activeAdmins int) error {
		username = u.Username
		if u.Role == RoleAdmin && u.Active && activeAdmins <= 1 {
			return ErrLastAdmin
		}
		return nil
	})
	if errors.Is(err, ErrLastAdmin) {
		return ErrLastAdmin
	}
	if err != nil {
		return fmt.Errorf("deactivate user %d: %w", id, err)
	}
	s.record(ctx, audit.Event{Kind: audit.UserDeactivated, UserID: id, Username: username})
	return nil
}

// SetVerified marks the user's email or phone, exactly as stored now,
// verified by an admin (or with verified false, no longer verified), and
// audits it; the event names the field, never the value. Changing the value
// later makes it unverified again (User.EmailVerified).
func (s *Service) SetVerified(ctx context.Context, id int64, kind Contact, verified bool) (*User, error) {
	u, err := s.repo.SetVerification(ctx, id, kind, verified)
	if err != nil {
		return nil, fmt.Errorf("verify %s of user %d: %w", kind, id, err)
	}
	ev := audit.Event{Kind: audit.UserVerified, UserID: id, Username: u.Username, Detail: string(kind)}
	if !verified {
		ev.Kind = audit.UserUnverified
	}
	s.record(ctx, ev)
	return u, nil
}

// Reactivate lets a deactivated user sign in again.
func (s *Service) Reactivate(ctx context.Context, id int64) error {
	if err := s.repo.SetUserActive(ctx, id, true, nil); err != nil {
		return fmt.Errorf("activate user %d: %w", id, err)
	}
	s.record(ctx, audit.Event{Kind: audit.UserActivated, UserID: id})
	return nil
}

// SetPassword checks the policy, hashes and stores a new password. The store
// ends every session and revokes every app's tokens of the user in the same
// transaction: whoever knew the old password is out with it. (The account
// page then signs the browser that made the change back in.)
func (s *Service) SetPassword(ctx context.Context, id int64, plain string) error {
	u, err := s.repo.UserByID(ctx, id)
	if err != nil {
		return fmt.Errorf("set password of user %d: %w", id, err)
	}
	if err := CheckPassword(plain, u.Username, s.minPass); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, plain)
	if err != nil {
		return fmt.Errorf("set password of user %d: %w", id, err)
	}
	if err := s.repo.SetPasswordHash(ctx, id, hash); err != nil {
		return fmt.Errorf("set password of user %d: %w", id, err)
	}
	s.record(ctx, audit.Event{Kind: audit.PasswordChanged, UserID: id, Username: u.Username})
	return nil
}

// ErrSignedOut means a signed-in user failed the current-password check so
// often that the caller must end their session: whoever holds a stolen
// session cookie gets no more than the free guesses at the password.
var ErrSignedOut = errors.New("too many wrong current passwords: the session must end")

// CheckCurrentPassword verifies a signed-in user's password again (before a
// password change, say) without touching last_login. It is throttled like a
// login (the same counters, one check at a time per username, charged before
// hashing) and every failure is audited. It returns ErrInvalidCredentials for
// a wrong password, a *ThrottledError while the username or address is
// locked or busy, and ErrSignedOut once the username's counter reaches the
// free failures, for the caller to end the session.
func (s *Service) CheckCurrentPassword(ctx context.Context, id int64, plain, addr string) error {
	u, err := s.repo.UserByID(ctx, id)
	if err != nil {
		return err
	}
	var at *attempt
	if s.throttle != nil {
		if at, err = s.throttle.begin(ctx, u.Username, addr); err != nil {
			return err
		}
	}
	reason, err := s.verifyUser(ctx, u, plain)
	if err != nil {
		s.abandon(ctx, at)
		return err
	}
	if reason == "" {
		if err := at.succeeded(ctx); err != nil {
			return err
		}
		return nil
	}
	at.failed()
	s.log.InfoContext(ctx, "current password check failed", "reason", reason, "user_id", u.ID, "addr", addr)
	s.record(ctx, audit.Event{Kind: audit.PasswordCheckFailed, UserID: u.ID, Username: u.Username, Addr: addr, Detail: reason})
	if at != nil && at.usernameFailures() >= s.throttle.policy.FreeFailuresPerUsername {
		return ErrSignedOut
	}
	return ErrInvalidCredentials
}

// abandon takes back the charges of an attempt that was never answered.
func (s *Service) abandon(ctx context.Context, at *attempt) {
	if err := at.abandoned(ctx); err != nil {
		s.log.ErrorContext(ctx, "refund login attempt", "err", err)
	}
}

// Authenticate signs a user in with a password alone: VerifyPassword then,
// at once, CompleteLogin. Its errors are theirs.
func (s *Service) Authenticate(ctx context.Context, username, plain, addr string) (*User, error) {
	pl, err := s.VerifyPassword(ctx, username, plain, addr)
	if err != nil {
		return nil, err
	}
	return s.CompleteLogin(ctx, pl)
}

// PendingLogin is a login whose password VerifyPassword accepted and that
// CompleteLogin has not finished yet: the place a second factor goes. It
// holds the throttle attempt, so the username's one in-flight slot stays
// taken until CompleteLogin or AbandonLogin ends it; every PendingLogin must
// reach one of them, in the request that made it. It carries no password:
// a hash upgrade, if the stored hash needs one, is computed by VerifyPassword.
type PendingLogin struct {
	// User is who the password proved, active, with a role inkpass knows.
	User    *User
	addr    string
	newHash string
	at      *attempt
	done    bool
}

// ErrLoginEnded is CompleteLogin or AbandonLogin called again for a
// PendingLogin that one of them has already ended.
var ErrLoginEnded = errors.New("this login has already been completed or abandoned")

// VerifyPassword is the password step of a login: it succeeds only for an
// active user whose password matches, and changes nothing the login itself
// would (no last_login, no audit of success, the throttle charge kept) until
// CompleteLogin. Unknown username, wrong password and deactivated account all
// return ErrInvalidCredentials and cost the same hashing time; the log and the
// audit say which. A *ThrottledError comes back, before any hashing, while the
// username or the address is locked, while another attempt for the username
// is running, or while the address has too many running. Every attempt is
// charged to both counters before hashing, in the write that checks their
// locks, so concurrent attempts cannot outrun the count. A context that ends
// while the attempt waits for a hashing slot takes its charges back and
// returns the context's error.
func (s *Service) VerifyPassword(ctx context.Context, username, plain, addr string) (*PendingLogin, error) {
	username = strings.TrimSpace(username)
	var at *attempt
	if s.throttle != nil {
		var err error
		if at, err = s.throttle.begin(ctx, username, addr); err != nil {
			return nil, err
		}
	}
	u, reason, err := s.verify(ctx, username, plain)
	if err != nil {
		s.abandon(ctx, at)
		return nil, err
	}
	if reason != "" {
		at.failed()
		// What was typed as a username is logged only when it names a user:
		// people type passwords into the username field.
		ev := audit.Event{Kind: audit.LoginFailed, Addr: addr, Detail: reason}
		if u != nil {
			ev.UserID, ev.Username = u.ID, u.Username
		}
		s.log.InfoContext(ctx, "login failed", "reason", reason, "user_id", ev.UserID, "addr", addr)
		s.record(ctx, ev)
		if u != nil && !u.Active {
			// Deactivated behind inkpass's back (the studio's app): end what
			// the user still holds, so re-activation starts clean.
			if err := s.repo.RevokeInactiveUser(ctx, u.ID); err != nil {
				s.log.ErrorContext(ctx, "revoke inactive user", "user_id", u.ID, "err", err)
			}
		}
		return nil, ErrInvalidCredentials
	}

	pl := &PendingLogin{User: u, addr: addr, at: at}
	if s.hasher.NeedsRehash(u.PasswordHash) {
		// Only here is the password at hand; CompleteLogin stores the
		// result in the transaction that sets last_login.
		if h, err := s.hasher.Hash(ctx, plain); err == nil {
			pl.newHash = h
		} else {
			// The login itself is good; the upgrade can wait for the next one.
			s.log.WarnContext(ctx, "rehash failed", "user_id", u.ID, "err", err)
		}
	}
	return pl, nil
}

// CompleteLogin finishes a login whose every step has passed: it records
// last_login (and the upgraded hash, in the same transaction), clears the
// username's failure counter and takes back the address's charge (the
// throttle's success), and audits login_succeeded. When recording fails the
// attempt's charges are taken back and the error returned. It returns the user
// as the login left it.
func (s *Service) CompleteLogin(ctx context.Context, pl *PendingLogin) (*User, error) {
	return s.completeLogin(ctx, pl, true)
}

func (s *Service) completeLogin(ctx context.Context, pl *PendingLogin, done bool) (*User, error) {
	if pl == nil || pl.done {
		return nil, ErrLoginEnded
	}
	pl.done = true
	u, at := pl.User, pl.at
	now := s.now().UTC()
	if err := s.repo.RecordLogin(ctx, u.ID, now, u.PasswordHash, pl.newHash); err != nil {
		if errors.Is(err, ErrLoginStale) {
			// The password was changed, or the user deactivated, while
			// this login was hashing: the password it proved is no longer
			// the account's, so the login fails like a wrong one.
			at.failed()
			s.log.InfoContext(ctx, "login failed", "reason", "password changed or user deactivated during sign-in", "user_id", u.ID, "addr", pl.addr)
			s.record(ctx, audit.Event{Kind: audit.LoginFailed, UserID: u.ID, Username: u.Username, Addr: pl.addr, Detail: "password changed or user deactivated during sign-in"})
			return nil, ErrInvalidCredentials
		}
		s.abandon(ctx, at)
		return nil, fmt.Errorf("record login of user %d: %w", u.ID, err)
	}
	if err := at.succeeded(ctx); err != nil {
		return nil, err
	}
	if pl.newHash != "" {
		u.PasswordHash = pl.newHash
		s.log.InfoContext(ctx, "password hash upgraded", "user_id", u.ID)
	}
	if done {
		s.record(ctx, audit.Event{Kind: audit.LoginSucceeded, UserID: u.ID, Username: u.Username, Addr: pl.addr})
	}
	u.LastLogin = &now
	return u, nil
}

// PasswordVerified ends the password step of a login that a second factor
// is to complete: the throttle attempt is settled as a success (the
// username's counter cleared, the address's charge refunded: the password
// was right, and a PendingLogin cannot wait across HTTP requests for the
// factor), the upgraded hash is stored and last_login recorded as
// CompleteLogin does, but login_succeeded is not audited: the sign-in is
// not done. The second factor has its own counter (mfa.ScopeTOTP), which no
// password clears, so a stolen password does not reset the guessing of
// codes. The caller records what the password proved on the pending
// request, server-side, and audits the success when the factor is given.
func (s *Service) PasswordVerified(ctx context.Context, pl *PendingLogin) (*User, error) {
	return s.completeLogin(ctx, pl, false)
}

// AbandonLogin ends a PendingLogin that will not be completed (its request
// failed between the steps): the attempt's charges are taken back and the
// username's in-flight slot is freed, as for an attempt whose context ended;
// nothing is recorded as a login.
func (s *Service) AbandonLogin(ctx context.Context, pl *PendingLogin) error {
	if pl == nil || pl.done {
		return ErrLoginEnded
	}
	pl.done = true
	if err := pl.at.abandoned(ctx); err != nil {
		return fmt.Errorf("abandon login of user %d: %w", pl.User.ID, err)
	}
	return nil
}

// verify returns the user and an empty reason on success, or a reason for the
// log. Every path spends one full verification, so timing tells nothing.
func (s *Service) verify(ctx context.Context, username, plain string) (*User, string, error) {
	if username == "" || len(plain) > MaxPasswordBytes {
		s.hasher.VerifyDummy(ctx, plain)
		return nil, "malformed credentials", ctx.Err()
	}
	u, err := s.repo.UserByUsername(ctx, username)
	if errors.Is(err, ErrNotFound) {
		s.hasher.VerifyDummy(ctx, plain)
		return nil, "unknown username", ctx.Err()
	}
	if err != nil {
		return nil, "", fmt.Errorf("authenticate: %w", err)
	}
	reason, err := s.verifyUser(ctx, u, plain)
	if err != nil {
		return nil, "", err
	}
	return u, reason, nil
}

// verifyUser checks plain against u's stored hash: an empty reason when it
// matches and u is active. A stored hash the hasher refuses (malformed, or
// parameters so costly that one row could stall every sign-in) is not
// computed: it gets the dummy verification instead, so it answers like a
// wrong password in the same time, and the reason names the refusal for the
// log and the audit (the hasher's errors never quote the hash).
func (s *Service) verifyUser(ctx context.Context, u *User, plain string) (string, error) {
	if len(plain) > MaxPasswordBytes {
		s.hasher.VerifyDummy(ctx, plain)
		return "malformed credentials", ctx.Err()
	}
	ok, err := s.hasher.Verify(ctx, plain, u.PasswordHash)
	switch {
	case ctx.Err() != nil:
		return "", ctx.Err()
	case err != nil:
		s.log.ErrorContext(ctx, "stored password hash unusable", "user_id", u.ID, "err", err)
		s.hasher.VerifyDummy(ctx, plain)
		return "unusable stored hash: " + err.Error(), ctx.Err()
	case !ok:
		return "wrong password", nil
	case !u.Active:
		return "account deactivated", nil
	case !u.Role.Known():
		return "role not recognised", nil
	}
	return "", nil
}
