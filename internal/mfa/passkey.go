package mfa

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

// Passkeys and security keys (WebAuthn Level 3) as a second factor. A
// passkey is a factor of KindWebAuthn whose stored secret is the library's
// credential record as JSON (public data: id, public key, sign counter,
// AAGUID, transports, flags). A ceremony's challenge is kept server-side
// (PasskeyStore.SaveCeremony) for one browser, one purpose and one user,
// for CeremonyTTL, and taken once.

// PasskeyStore is what passkeys need of the store beyond factors.
type PasskeyStore interface {
	// CreatePasskey stores a confirmed factor whose secret is credential
	// and forgets the user's remembered devices.
	CreatePasskey(ctx context.Context, f Factor, credential []byte) (int64, error)
	// UpdatePasskey replaces the credential record of factor id, and sets
	// its last use, only while the record is still old; false otherwise.
	UpdatePasskey(ctx context.Context, userID, id int64, old, credential []byte, now time.Time) (bool, error)
	// SaveCeremony keeps a ceremony's data for a browser and purpose
	// (replacing the one before), for userID, until expires.
	SaveCeremony(ctx context.Context, browserHash, purposeHash []byte, userID int64, data []byte, now, expires time.Time) error
	// TakeCeremony deletes the ceremony and returns its data when it was
	// still live and of userID; ok false otherwise.
	TakeCeremony(ctx context.Context, browserHash, purposeHash []byte, userID int64, now time.Time) (data []byte, ok bool, err error)
}

// CeremonyTTL is how long a WebAuthn challenge may be answered.
const CeremonyTTL = 5 * time.Minute

// Authentication methods (RFC 8176 §2) a passkey sign-in records.
const (
	// MethodHWK: proof of a hardware-bound key, one that cannot leave its
	// authenticator (the credential is not backup eligible: a security
	// key, a platform authenticator without sync).
	MethodHWK = "hwk"
	// MethodSWK: proof of a software-secured key, one the authenticator may
	// copy elsewhere (backup eligible: a synced passkey).
	MethodSWK = "swk"
)

// Errors of passkeys.
var (
	// ErrNoPasskeys: passkeys are off (no usable relying party id).
	ErrNoPasskeys = errors.New("passkeys are not available")
	// ErrBadPasskey: the ceremony's answer failed (a wrong signature, a
	// stale or unknown challenge, a credential not the user's).
	ErrBadPasskey = errors.New("the passkey could not be verified")
	// ErrCloneWarning: the credential's sign counter did not advance: two
	// copies of its private key may exist (WebAuthn §6.1.1). Refused.
	ErrCloneWarning = errors.New("the passkey's sign counter went backwards")
)

// newWebAuthn is the relying party of the issuer: its host is the RP id
// and its origin the one origin allowed.
func newWebAuthn(name, issuer string) (*webauthn.WebAuthn, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("issuer %q is not a URL", issuer)
	}
	host := u.Hostname()
	if net.ParseIP(host) != nil {
		// WebAuthn relying party ids are domains (§5.1.4.1): browsers
		// refuse an IP address.
		return nil, fmt.Errorf("issuer host %s is an IP address", host)
	}
	return webauthn.New(&webauthn.Config{RPID: host, RPDisplayName: name,
		RPOrigins: []string{u.Scheme + "://" + u.Host}})
}

// PasskeysEnabled reports whether passkeys can be used here.
func (s *Service) PasskeysEnabled() bool { return s.passkeys != nil }

// waUser is a user as the library sees it.
type waUser struct {
	u     *user.User
	creds []webauthn.Credential
	ids   []int64  // factor id of creds[i]
	raw   [][]byte // stored record of creds[i]
}

// WebAuthnID is the user handle: the user id, 8 bytes, no personal data.
func (w *waUser) WebAuthnID() []byte                         { return userHandle(w.u.ID) }
func (w *waUser) WebAuthnName() string                       { return w.u.Username }
func (w *waUser) WebAuthnDisplayName() string                { return w.u.Username }
func (w *waUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }

func userHandle(id int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(id)) }

// passkeyUser loads u's confirmed passkeys.
func (s *Service) passkeyUser(ctx context.Context, u *user.User) (*waUser, error) {
	all, err := s.Factors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	w := &waUser{u: u}
	for _, f := range all {
		if f.Kind != KindWebAuthn {
			continue
		}
		raw, _, err := s.store.FactorSecret(ctx, u.ID, f.ID)
		if err != nil {
			return nil, err
		}
		var c webauthn.Credential
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("read passkey %d: %w", f.ID, err)
		}
		w.creds, w.ids, w.raw = append(w.creds, c), append(w.ids, f.ID), append(w.raw, raw)
	}
	return w, nil
}

// HasPasskey reports whether u has a passkey (and passkeys are on).
func (s *Service) HasPasskey(ctx context.Context, u *user.User) (bool, error) {
	if s.passkeys == nil {
		return false, nil
	}
	w, err := s.passkeyUser(ctx, u)
	return w != nil && len(w.creds) > 0, err
}

// Purposes of a ceremony (hashed with the request id for a sign-in).
func enrolPurpose() []byte             { return session.Hash("webauthn-enrol") }
func loginPurpose(reqID string) []byte { return session.Hash("webauthn-login:" + reqID) }

func (s *Service) saveCeremony(ctx context.Context, browserHash, purpose []byte, userID int64, sd *webauthn.SessionData) error {
	data, err := json.Marshal(sd)
	if err != nil {
		return fmt.Errorf("encode ceremony: %w", err)
	}
	now := s.opts.Now()
	return s.store.SaveCeremony(ctx, browserHash, purpose, userID, data, now, now.Add(CeremonyTTL))
}

func (s *Service) takeCeremony(ctx context.Context, browserHash, purpose []byte, userID int64) (*webauthn.SessionData, error) {
	data, ok, err := s.store.TakeCeremony(ctx, browserHash, purpose, userID, s.opts.Now())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrBadPasskey
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(data, &sd); err != nil {
		return nil, fmt.Errorf("decode ceremony: %w", err)
	}
	return &sd, nil
}

// BeginPasskeyEnrolment starts adding a passkey for u in this browser and
// returns the options for navigator.credentials.create, as JSON. The
// user's passkeys are excluded (one authenticator, one passkey), a
// discoverable credential is preferred (the passwordless sign-in to come)
// and user verification preferred.
func (s *Service) BeginPasskeyEnrolment(ctx context.Context, u *user.User, browserHash []byte) ([]byte, error) {
	if s.passkeys == nil {
		return nil, ErrNoPasskeys
	}
	w, err := s.passkeyUser(ctx, u)
	if err != nil {
		return nil, err
	}
	var exclude []protocol.CredentialDescriptor
	for _, c := range w.creds {
		exclude = append(exclude, c.Descriptor())
	}
	creation, sd, err := s.passkeys.BeginRegistration(w,
		webauthn.WithExclusions(exclude),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementPreferred, UserVerification: protocol.VerificationPreferred}))
	if err != nil {
		return nil, fmt.Errorf("begin passkey registration: %w", err)
	}
	if err := s.saveCeremony(ctx, browserHash, enrolPurpose(), u.ID, sd); err != nil {
		return nil, err
	}
	return json.Marshal(creation.Response)
}

// FinishPasskeyEnrolment checks the browser's answer (the JSON of the
// PublicKeyCredential) to the enrolment begun in this browser and stores
// the passkey as name. When u had no recovery codes, ten are made and
// returned, as for an authenticator app.
func (s *Service) FinishPasskeyEnrolment(ctx context.Context, u *user.User, browserHash []byte, name string, response []byte, addr string) ([]string, error) {
	if s.passkeys == nil {
		return nil, ErrNoPasskeys
	}
	sd, err := s.takeCeremony(ctx, browserHash, enrolPurpose(), u.ID)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		s.passkeyFailed(ctx, u, addr, "enrolment answer unreadable", err)
		return nil, ErrBadPasskey
	}
	w, err := s.passkeyUser(ctx, u)
	if err != nil {
		return nil, err
	}
	cred, err := s.passkeys.CreateCredential(w, *sd, parsed)
	if err != nil {
		s.passkeyFailed(ctx, u, addr, "enrolment refused", err)
		return nil, ErrBadPasskey
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return nil, fmt.Errorf("encode passkey: %w", err)
	}
	if name = cleanName(name); name == "" {
		name = "Passkey"
	}
	f := Factor{UserID: u.ID, Kind: KindWebAuthn, Name: name, CreatedAt: s.opts.Now()}
	if _, err := s.store.CreatePasskey(ctx, f, raw); err != nil {
		return nil, err
	}
	s.record(ctx, audit.Event{Kind: AuditEnrolled, UserID: u.ID, Username: u.Username, Addr: addr, Detail: KindWebAuthn + " " + passkeyMethod(cred)})
	left, used, err := s.store.RecoveryCodesLeft(ctx, u.ID)
	if err != nil || left+used > 0 {
		return nil, err
	}
	return s.RegenerateRecoveryCodes(ctx, u, addr)
}

// BeginPasskeySignIn starts the second factor's ceremony for u in this
// browser and request (reqID "" for a sign-in at inkpass itself) and
// returns the options for navigator.credentials.get, as JSON; nil when u
// has no passkey.
func (s *Service) BeginPasskeySignIn(ctx context.Context, u *user.User, browserHash []byte, reqID string) ([]byte, error) {
	if s.passkeys == nil {
		return nil, nil
	}
	w, err := s.passkeyUser(ctx, u)
	if err != nil || len(w.creds) == 0 {
		return nil, err
	}
	assertion, sd, err := s.passkeys.BeginLogin(w, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, fmt.Errorf("begin passkey login: %w", err)
	}
	if err := s.saveCeremony(ctx, browserHash, loginPurpose(reqID), u.ID, sd); err != nil {
		return nil, err
	}
	return json.Marshal(assertion.Response)
}

// VerifyPasskey checks the browser's answer to the ceremony begun for this
// browser and request, under u's code throttle (a failure counts as a
// wrong code). The new sign counter is stored; a counter that did not
// advance (CloneWarning) is refused and audited. It returns the RFC 8176
// method of the key (MethodHWK or MethodSWK).
func (s *Service) VerifyPasskey(ctx context.Context, u *user.User, browserHash []byte, reqID string, response []byte, addr string) (string, error) {
	if s.passkeys == nil {
		return "", ErrNoPasskeys
	}
	var method string
	var clone bool
	err := s.checkCode(ctx, u, addr, func(now time.Time) (bool, error) {
		sd, err := s.takeCeremony(ctx, browserHash, loginPurpose(reqID), u.ID)
		if errors.Is(err, ErrBadPasskey) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
		if err != nil {
			s.opts.Logger.InfoContext(ctx, "passkey answer unreadable", "user_id", u.ID, "err", err)
			return false, nil
		}
		w, err := s.passkeyUser(ctx, u)
		if err != nil {
			return false, err
		}
		cred, err := s.passkeys.ValidateLogin(w, *sd, parsed)
		if err != nil {
			s.opts.Logger.InfoContext(ctx, "passkey refused", "user_id", u.ID, "err", err)
			return false, nil
		}
		if cred.Authenticator.CloneWarning {
			clone = true
			s.record(ctx, audit.Event{Kind: AuditFailed, UserID: u.ID, Username: u.Username, Addr: addr,
				Detail: "webauthn clone warning: sign counter did not advance"})
			s.opts.Logger.WarnContext(ctx, "passkey sign counter did not advance: possible clone", "user_id", u.ID)
			return false, nil
		}
		i := slices.IndexFunc(w.creds, func(c webauthn.Credential) bool { return bytes.Equal(c.ID, cred.ID) })
		if i < 0 {
			return false, nil
		}
		raw, err := json.Marshal(cred)
		if err != nil {
			return false, fmt.Errorf("encode passkey: %w", err)
		}
		method = passkeyMethod(cred)
		return s.store.UpdatePasskey(ctx, u.ID, w.ids[i], w.raw[i], raw, now)
	})
	if clone && errors.Is(err, ErrInvalidCode) {
		return "", ErrCloneWarning
	}
	if errors.Is(err, ErrInvalidCode) {
		return "", ErrBadPasskey
	}
	if err != nil {
		return "", err
	}
	s.record(ctx, audit.Event{Kind: AuditSucceeded, UserID: u.ID, Username: u.Username, Addr: addr, Detail: KindWebAuthn + " " + method})
	return method, nil
}

// passkeyMethod is hwk for a key that cannot be backed up (WebAuthn
// backup eligibility, BE, clear: a security key, a device-bound
// passkey) and swk for one that can (a synced passkey): RFC 8176 "hwk" is
// proof of a hardware-secured key, which a synced key is not.
func passkeyMethod(c *webauthn.Credential) string {
	if c.Flags.BackupEligible {
		return MethodSWK
	}
	return MethodHWK
}

func (s *Service) passkeyFailed(ctx context.Context, u *user.User, addr, what string, err error) {
	s.opts.Logger.InfoContext(ctx, "passkey "+what, "user_id", u.ID, "err", err)
	s.record(ctx, audit.Event{Kind: AuditFailed, UserID: u.ID, Username: u.Username, Addr: addr, Detail: "webauthn " + what})
}

// Passwordless sign-in: a discoverable credential (a passkey that names its
// user) with user verification (the authenticator checked a PIN or a
// fingerprint) stands for both factors: something the user has and
// something they know or are. User verification is required in the
// options and checked again on the answer: a passkey that only proves
// presence signs nobody in without the password.

func passwordlessPurpose(reqID string) []byte {
	return session.Hash("webauthn-passwordless:" + reqID)
}

// BeginPasswordless starts a username-less ceremony for this browser and
// request and returns the options for navigator.credentials.get, as JSON;
// nil when passkeys are off.
func (s *Service) BeginPasswordless(ctx context.Context, browserHash []byte, reqID string) ([]byte, error) {
	if s.passkeys == nil {
		return nil, nil
	}
	assertion, sd, err := s.passkeys.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("begin passwordless login: %w", err)
	}
	// No user yet: the answer names one.
	if err := s.saveCeremony(ctx, browserHash, passwordlessPurpose(reqID), 0, sd); err != nil {
		return nil, err
	}
	return json.Marshal(assertion.Response)
}

// PasswordlessSignIn checks the answer to the ceremony begun for this
// browser and request and returns whose passkey it was and its RFC 8176
// method (MethodHWK or MethodSWK). The counter is handled as in
// VerifyPasskey. The caller checks that the user is active.
func (s *Service) PasswordlessSignIn(ctx context.Context, browserHash []byte, reqID string, response []byte, addr string) (int64, string, error) {
	if s.passkeys == nil {
		return 0, "", ErrNoPasskeys
	}
	sd, err := s.takeCeremony(ctx, browserHash, passwordlessPurpose(reqID), 0)
	if err != nil {
		return 0, "", err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		s.opts.Logger.InfoContext(ctx, "passkey answer unreadable", "err", err)
		return 0, "", ErrBadPasskey
	}
	var w *waUser
	find := func(_, handle []byte) (webauthn.User, error) {
		if len(handle) != 8 {
			return nil, errors.New("not an inkpass user handle")
		}
		id := int64(binary.BigEndian.Uint64(handle))
		found, err := s.passkeyUser(ctx, &user.User{ID: id})
		if err != nil {
			return nil, err
		}
		if len(found.creds) == 0 {
			return nil, errors.New("no passkeys")
		}
		w = found
		return w, nil
	}
	_, cred, err := s.passkeys.ValidatePasskeyLogin(find, *sd, parsed)
	if err != nil {
		s.opts.Logger.InfoContext(ctx, "passkey refused", "err", err)
		if w != nil {
			s.record(ctx, audit.Event{Kind: AuditFailed, UserID: w.u.ID, Addr: addr, Detail: "webauthn passwordless refused"})
		}
		return 0, "", ErrBadPasskey
	}
	uid := w.u.ID
	// ValidatePasskeyLogin has refused an answer without UV already (the
	// ceremony required it); this is a second check, not a path of its own.
	if !parsed.Response.AuthenticatorData.Flags.HasUserVerified() {
		s.record(ctx, audit.Event{Kind: AuditFailed, UserID: uid, Addr: addr, Detail: "webauthn passwordless without user verification"})
		return 0, "", ErrBadPasskey
	}
	if cred.Authenticator.CloneWarning {
		s.record(ctx, audit.Event{Kind: AuditFailed, UserID: uid, Addr: addr, Detail: "webauthn clone warning: sign counter did not advance"})
		s.opts.Logger.WarnContext(ctx, "passkey sign counter did not advance: possible clone", "user_id", uid)
		return 0, "", ErrCloneWarning
	}
	i := slices.IndexFunc(w.creds, func(c webauthn.Credential) bool { return bytes.Equal(c.ID, cred.ID) })
	if i < 0 {
		return 0, "", ErrBadPasskey
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return 0, "", fmt.Errorf("encode passkey: %w", err)
	}
	ok, err := s.store.UpdatePasskey(ctx, uid, w.ids[i], w.raw[i], raw, s.opts.Now())
	if err != nil {
		return 0, "", err
	}
	if !ok {
		return 0, "", ErrBadPasskey
	}
	method := passkeyMethod(cred)
	s.record(ctx, audit.Event{Kind: AuditSucceeded, UserID: uid, Addr: addr, Detail: KindWebAuthn + " passwordless " + method})
	return uid, method, nil
}
