package mfa_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/inkpass/inkpass/internal/mfa"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

const (
	pkIssuer = "https://id.studio.example"
	pkRPID   = "id.studio.example"
)

// softKey is an authenticator in software (WebAuthn §6.1 authenticator
// data, §8.7 "none" attestation, ES256): what a security key or a phone
// answers, made here so the tests need no browser.
type softKey struct {
	t      *testing.T
	priv   *ecdsa.PrivateKey
	id     []byte
	backup bool // backup eligible (a synced passkey)
	noUV   bool // answers without user verification (presence only)
	handle []byte
}

func newSoftKey(t *testing.T, backup bool) *softKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	return &softKey{t: t, priv: priv, id: id, backup: backup}
}

var b64 = base64.RawURLEncoding

func (k *softKey) authData(counter uint32, attested bool) []byte {
	rp := sha256.Sum256([]byte(pkRPID))
	flags := byte(0x01 | 0x04) // UP, UV
	if k.noUV && !attested {
		flags &^= 0x04
	}
	if k.backup {
		flags |= 0x08
	}
	if attested {
		flags |= 0x40
	}
	out := append(rp[:], flags)
	out = binary.BigEndian.AppendUint32(out, counter)
	if attested {
		out = append(out, make([]byte, 16)...) // AAGUID
		out = binary.BigEndian.AppendUint16(out, uint16(len(k.id)))
		out = append(out, k.id...)
		pub, err := k.priv.PublicKey.Bytes() // 0x04 || x || y
		if err != nil {
			k.t.Fatal(err)
		}
		cose, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: pub[1:33], -3: pub[33:]})
		if err != nil {
			k.t.Fatal(err)
		}
		out = append(out, cose...)
	}
	return out
}

func clientData(t *testing.T, typ string, options []byte, origin string) []byte {
	t.Helper()
	var o struct {
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal(options, &o); err != nil || o.Challenge == "" {
		t.Fatalf("options %s: no challenge (%v)", options, err)
	}
	cd, _ := json.Marshal(map[string]any{"type": typ, "challenge": o.Challenge, "origin": origin, "crossOrigin": false})
	return cd
}

// create answers navigator.credentials.create with options.
func (k *softKey) create(options []byte) []byte {
	cd := clientData(k.t, "webauthn.create", options, pkIssuer)
	var o struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	json.Unmarshal(options, &o)
	k.handle, _ = b64.DecodeString(o.User.ID)
	att, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": k.authData(0, true)})
	if err != nil {
		k.t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response":               map[string]any{"clientDataJSON": b64.EncodeToString(cd), "attestationObject": b64.EncodeToString(att), "transports": []string{"usb"}},
		"clientExtensionResults": map[string]any{}})
	return out
}

// get answers navigator.credentials.get with options, its sign counter at
// counter, from origin.
func (k *softKey) get(options []byte, counter uint32, origin string) []byte {
	cd := clientData(k.t, "webauthn.get", options, origin)
	ad := k.authData(counter, false)
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
	if err != nil {
		k.t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(cd), "authenticatorData": b64.EncodeToString(ad),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(k.handle)},
		"clientExtensionResults": map[string]any{}})
	return out
}

// passkeyService is the fixture's service with passkeys on for pkIssuer.
func (f *fixture) passkeyService() *mfa.Service {
	return mfa.NewService(f.db, f.db, nil, mfa.Options{Now: func() time.Time { return f.now }, Audit: f.db,
		Throttle: user.ThrottlePolicy{FreeFailuresPerUsername: 20}, WebAuthnOrigin: pkIssuer})
}

// enrolPasskey adds k for the fixture's user in browser and returns the
// recovery codes.
func (f *fixture) enrolPasskey(t *testing.T, svc *mfa.Service, k *softKey, browser []byte) []string {
	t.Helper()
	opts, err := svc.BeginPasskeyEnrolment(f.ctx, f.u, browser)
	if err != nil {
		t.Fatalf("BeginPasskeyEnrolment: %v", err)
	}
	codes, err := svc.FinishPasskeyEnrolment(f.ctx, f.u, browser, "Blue key", k.create(opts), "")
	if err != nil {
		t.Fatalf("FinishPasskeyEnrolment: %v", err)
	}
	return codes
}

// storedCounter reads the sign counter of the user's only passkey.
func (f *fixture) storedCounter(t *testing.T) uint32 {
	t.Helper()
	var raw []byte
	if err := rawOpen(t, f.path).QueryRow(`SELECT secret FROM inkpass_mfa_factors WHERE user_id = ? AND kind = ?`, f.u.ID, mfa.KindWebAuthn).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var c struct {
		Authenticator struct {
			SignCount uint32 `json:"signCount"`
		} `json:"authenticator"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c.Authenticator.SignCount
}

// TestPasskey_EnrolAndSignIn: a passkey is stored confirmed with its
// record, brings the first recovery codes, and signs in as hwk; its sign
// counter is stored; a replayed answer (the challenge is single-use) and
// a counter that does not advance (a possible clone) are refused, the
// latter audited and leaving the stored counter alone.
func TestPasskey_EnrolAndSignIn(t *testing.T) {
	f := newFixture(t)
	svc := f.passkeyService()
	browser := session.Hash("browser-1")
	k := newSoftKey(t, false)

	if codes := f.enrolPasskey(t, svc, k, browser); len(codes) != mfa.RecoveryCodeCount {
		t.Fatalf("%d recovery codes with the first passkey, want %d", len(codes), mfa.RecoveryCodeCount)
	}
	fs, err := svc.Factors(f.ctx, f.u.ID)
	if err != nil || len(fs) != 1 || fs[0].Kind != mfa.KindWebAuthn || fs[0].Name != "Blue key" || fs[0].LastUsedAt != nil {
		t.Fatalf("factors = %+v (%v), want one unused webauthn factor named Blue key", fs, err)
	}

	signIn := func(counter uint32) ([]byte, string, error) {
		t.Helper()
		opts, err := svc.BeginPasskeySignIn(f.ctx, f.u, browser, "req-1")
		if err != nil || opts == nil {
			t.Fatalf("BeginPasskeySignIn: %s, %v", opts, err)
		}
		answer := k.get(opts, counter, pkIssuer)
		method, err := svc.VerifyPasskey(f.ctx, f.u, browser, "req-1", answer, "")
		return answer, method, err
	}
	answer, method, err := signIn(7)
	if err != nil || method != mfa.MethodHWK {
		t.Fatalf("sign-in: method %q, err %v; want hwk", method, err)
	}
	if got := f.storedCounter(t); got != 7 {
		t.Errorf("stored sign counter = %d, want 7", got)
	}
	if fs, _ := svc.Factors(f.ctx, f.u.ID); fs[0].LastUsedAt == nil {
		t.Error("last use not recorded")
	}
	if _, err := svc.VerifyPasskey(f.ctx, f.u, browser, "req-1", answer, ""); !errors.Is(err, mfa.ErrBadPasskey) {
		t.Errorf("replayed answer: err = %v, want ErrBadPasskey", err)
	}
	for _, counter := range []uint32{7, 3} {
		if _, _, err := signIn(counter); !errors.Is(err, mfa.ErrCloneWarning) {
			t.Errorf("counter %d after 7: err = %v, want ErrCloneWarning", counter, err)
		}
	}
	if got := f.storedCounter(t); got != 7 {
		t.Errorf("stored sign counter after a clone warning = %d, want 7", got)
	}
	var clones int
	rawOpen(t, f.path).QueryRow(`SELECT COUNT(*) FROM inkpass_audit WHERE kind = ? AND user_id = ? AND detail LIKE '%clone%'`,
		string(mfa.AuditFailed), f.u.ID).Scan(&clones)
	if clones != 2 {
		t.Errorf("%d clone warnings audited, want 2", clones)
	}
	if _, method, err := signIn(8); err != nil || method != mfa.MethodHWK {
		t.Errorf("counter 8 after 7: method %q err %v", method, err)
	}
	if got := f.storedCounter(t); got != 8 {
		t.Errorf("stored sign counter = %d, want 8", got)
	}
}

// TestPasskey_CeremonyBinding: a challenge answers only for the browser,
// request and user it was made for, from the issuer's origin, within
// CeremonyTTL.
func TestPasskey_CeremonyBinding(t *testing.T) {
	f := newFixture(t)
	svc := f.passkeyService()
	browser := session.Hash("browser-1")
	k := newSoftKey(t, true)
	f.enrolPasskey(t, svc, k, browser)

	other := &user.User{Username: "noor", PasswordHash: f.u.PasswordHash, Role: f.u.Role, Active: true}
	var err error
	if other.ID, err = f.db.CreateUser(f.ctx, other); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		verify func(opts []byte) error
	}{
		{"another browser", func(o []byte) error {
			_, err := svc.VerifyPasskey(f.ctx, f.u, session.Hash("browser-2"), "req-1", k.get(o, 1, pkIssuer), "")
			return err
		}},
		{"another request", func(o []byte) error {
			_, err := svc.VerifyPasskey(f.ctx, f.u, browser, "req-2", k.get(o, 1, pkIssuer), "")
			return err
		}},
		{"another user", func(o []byte) error {
			_, err := svc.VerifyPasskey(f.ctx, other, browser, "req-1", k.get(o, 1, pkIssuer), "")
			return err
		}},
		{"another origin", func(o []byte) error {
			_, err := svc.VerifyPasskey(f.ctx, f.u, browser, "req-1", k.get(o, 1, "https://evil.example"), "")
			return err
		}},
		{"too late", func(o []byte) error {
			f.now = f.now.Add(mfa.CeremonyTTL + time.Second)
			_, err := svc.VerifyPasskey(f.ctx, f.u, browser, "req-1", k.get(o, 1, pkIssuer), "")
			return err
		}},
	}
	for _, tc := range cases {
		opts, err := svc.BeginPasskeySignIn(f.ctx, f.u, browser, "req-1")
		if err != nil {
			t.Fatal(err)
		}
		if err := tc.verify(opts); !errors.Is(err, mfa.ErrBadPasskey) {
			t.Errorf("%s: err = %v, want ErrBadPasskey", tc.name, err)
		}
	}
	// The right answer: a backup-eligible key is swk.
	opts, err := svc.BeginPasskeySignIn(f.ctx, f.u, browser, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	if method, err := svc.VerifyPasskey(f.ctx, f.u, browser, "req-1", k.get(opts, 1, pkIssuer), ""); err != nil || method != mfa.MethodSWK {
		t.Errorf("synced passkey: method %q err %v, want swk", method, err)
	}
	// An admin's reset removes passkeys too.
	if n, err := svc.Reset(f.ctx, f.u, "test"); err != nil || n != 1 {
		t.Fatalf("Reset = %d, %v; want 1 factor removed", n, err)
	}
	if has, _ := svc.HasPasskey(f.ctx, f.u); has {
		t.Error("a passkey survived Reset")
	}
}

// TestPasskey_OffForIPIssuer: an issuer at an IP address has no passkeys
// (browsers refuse an IP address as relying party id).
func TestPasskey_OffForIPIssuer(t *testing.T) {
	f := newFixture(t)
	svc := mfa.NewService(f.db, f.db, nil, mfa.Options{WebAuthnOrigin: "http://127.0.0.1:8080"})
	if svc.PasskeysEnabled() {
		t.Fatal("passkeys on for an IP issuer")
	}
	if _, err := svc.BeginPasskeyEnrolment(f.ctx, f.u, session.Hash("b")); !errors.Is(err, mfa.ErrNoPasskeys) {
		t.Errorf("BeginPasskeyEnrolment: err = %v, want ErrNoPasskeys", err)
	}
}

// TestPasskey_Passwordless: the username-less ceremony finds the user by
// the passkey's user handle and signs them in only when the authenticator
// verified them (UV); a presence-only answer is refused and audited, and
// the counter rules hold as for the second factor.
func TestPasskey_Passwordless(t *testing.T) {
	f := newFixture(t)
	svc := f.passkeyService()
	browser := session.Hash("browser-1")
	k := newSoftKey(t, false)
	f.enrolPasskey(t, svc, k, browser)

	try := func(counter uint32) (int64, string, error) {
		t.Helper()
		opts, err := svc.BeginPasswordless(f.ctx, browser, "req-1")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(opts), "allowCredentials") || !strings.Contains(string(opts), `"userVerification":"required"`) {
			t.Fatalf("passwordless options %s: want no allowed list and UV required", opts)
		}
		return svc.PasswordlessSignIn(f.ctx, browser, "req-1", k.get(opts, counter, pkIssuer), "")
	}
	k.noUV = true
	if uid, _, err := try(1); !errors.Is(err, mfa.ErrBadPasskey) || uid != 0 {
		t.Fatalf("presence only: user %d err %v, want ErrBadPasskey", uid, err)
	}
	if got := f.storedCounter(t); got != 0 {
		t.Errorf("a refused answer moved the stored counter to %d", got)
	}
	k.noUV = false
	uid, method, err := try(2)
	if err != nil || uid != f.u.ID || method != mfa.MethodHWK {
		t.Fatalf("with UV: user %d method %q err %v, want %d hwk", uid, method, err, f.u.ID)
	}
	if _, _, err := try(2); !errors.Is(err, mfa.ErrCloneWarning) {
		t.Errorf("counter 2 again: err = %v, want ErrCloneWarning", err)
	}
	var failed int
	rawOpen(t, f.path).QueryRow(`SELECT COUNT(*) FROM inkpass_audit WHERE kind = ? AND user_id = ?`, string(mfa.AuditFailed), f.u.ID).Scan(&failed)
	if failed != 2 {
		t.Errorf("%d mfa_failed audit events, want 2 (presence only, clone warning)", failed)
	}
}
