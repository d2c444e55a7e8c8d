package mfa_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/inkpass/inkpass/internal/mfa"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/user"
)

type fixture struct {
	ctx  context.Context
	db   *store.DB
	path string
	svc  *mfa.Service
	now  time.Time
	u    *user.User
	key  string // keys/mfa.key
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{ctx: t.Context(), path: filepath.Join(dir, "inkpass.db"), now: time.Unix(1_800_000_000, 0), key: filepath.Join(dir, "keys", "mfa.key")}
	db, err := store.Open(f.ctx, f.path, store.Options{Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
	key, err := mfa.LoadOrCreateKey(f.key)
	if err != nil {
		t.Fatalf("LoadOrCreateKey: %v", err)
	}
	sealer, err := mfa.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = mfa.NewService(db, db, sealer, mfa.Options{Now: func() time.Time { return f.now }, Audit: db,
		Throttle: user.ThrottlePolicy{FreeFailuresPerUsername: 3}})
	f.u = &user.User{Username: "mira", PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c3VpdGU$c3RvcmV0ZXN0", Role: user.Role("artist"), Active: true}
	if f.u.ID, err = db.CreateUser(f.ctx, f.u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return f
}

// enrol makes and confirms a TOTP factor and returns its key and the
// recovery codes.
func (f *fixture) enrol(t *testing.T) ([]byte, []string) {
	t.Helper()
	e, err := f.svc.BeginTOTP(f.ctx, f.u)
	if err != nil {
		t.Fatalf("BeginTOTP: %v", err)
	}
	if !strings.HasPrefix(e.QR, "data:image/png;base64,") || !strings.HasPrefix(e.URI, "otpauth://totp/") {
		t.Fatalf("enrolment QR %.30q, URI %q", e.QR, e.URI)
	}
	key, err := mfa.ParseSecretText(e.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := f.svc.HasFactor(f.ctx, f.u.ID); got {
		t.Fatal("an unconfirmed factor counts as a factor")
	}
	codes, err := f.svc.ConfirmTOTP(f.ctx, f.u, e.FactorID, "Phone", mfa.Code(key, f.now), "")
	if err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	if len(codes) != mfa.RecoveryCodeCount {
		t.Fatalf("got %d recovery codes, want %d", len(codes), mfa.RecoveryCodeCount)
	}
	return key, codes
}

func TestTOTPSingleUseAndDrift(t *testing.T) {
	f := newFixture(t)
	key, _ := f.enrol(t)
	// The enrolment used this step's code.
	if _, err := f.svc.Verify(f.ctx, f.u, mfa.Code(key, f.now), ""); !errors.Is(err, mfa.ErrInvalidCode) {
		t.Fatalf("replayed enrolment code: err = %v, want ErrInvalidCode", err)
	}
	f.now = f.now.Add(mfa.Period)
	code := mfa.Code(key, f.now.Add(mfa.Period)) // a phone one step ahead
	if _, err := f.svc.Verify(f.ctx, f.u, code, ""); err != nil {
		t.Fatalf("code one step ahead: %v", err)
	}
	if _, err := f.svc.Verify(f.ctx, f.u, code, ""); !errors.Is(err, mfa.ErrInvalidCode) {
		t.Fatalf("the same code again: err = %v, want ErrInvalidCode", err)
	}
	f.now = f.now.Add(10 * mfa.Period)
	if _, err := f.svc.Verify(f.ctx, f.u, mfa.Code(key, f.now.Add(-2*mfa.Period)), ""); !errors.Is(err, mfa.ErrInvalidCode) {
		t.Fatalf("code two steps old: err = %v, want ErrInvalidCode", err)
	}
	fs, _ := f.svc.Factors(f.ctx, f.u.ID)
	if len(fs) != 1 || fs[0].Name != "Phone" || fs[0].LastUsedAt == nil {
		t.Fatalf("factors = %+v, want one named Phone with a last use", fs)
	}
}

func TestCodeThrottle(t *testing.T) {
	f := newFixture(t)
	key, _ := f.enrol(t)
	f.now = f.now.Add(time.Minute)
	var throttled *user.ThrottledError
	wrong := 0
	for i := range 10 {
		_, err := f.svc.Verify(f.ctx, f.u, "000000", "")
		if errors.As(err, &throttled) {
			break
		}
		if !errors.Is(err, mfa.ErrInvalidCode) {
			t.Fatalf("attempt %d: %v", i, err)
		}
		wrong++
	}
	if throttled == nil || wrong > 4 {
		t.Fatalf("after %d wrong codes no lock (free failures 3)", wrong)
	}
	// While locked even the right code is refused, before it is checked.
	if _, err := f.svc.Verify(f.ctx, f.u, mfa.Code(key, f.now), ""); !errors.As(err, &throttled) {
		t.Fatalf("right code while locked: err = %v, want ThrottledError", err)
	}
	f.now = f.now.Add(throttled.RetryAfter + time.Second)
	if _, err := f.svc.Verify(f.ctx, f.u, mfa.Code(key, f.now), ""); err != nil {
		t.Fatalf("right code after the lock: %v", err)
	}
	var failed int
	raw := rawOpen(t, f.path)
	raw.QueryRow(`SELECT COUNT(*) FROM inkpass_audit WHERE kind = ? AND user_id = ?`, string(mfa.AuditFailed), f.u.ID).Scan(&failed)
	if failed < wrong {
		t.Errorf("%d mfa_failed audit events, want at least %d", failed, wrong)
	}
}

func TestRecoveryCodesSingleUse(t *testing.T) {
	f := newFixture(t)
	_, codes := f.enrol(t)
	rec, err := f.svc.Verify(f.ctx, f.u, strings.ToUpper(codes[3]), "")
	if err != nil || !rec {
		t.Fatalf("recovery code: recovery %v, err %v", rec, err)
	}
	if _, err := f.svc.Verify(f.ctx, f.u, codes[3], ""); !errors.Is(err, mfa.ErrInvalidCode) {
		t.Fatalf("recovery code again: err = %v, want ErrInvalidCode", err)
	}
	left, used, _ := f.svc.RecoveryCodesLeft(f.ctx, f.u.ID)
	if left != 9 || used != 1 {
		t.Fatalf("left %d used %d, want 9 and 1", left, used)
	}
	fresh, err := f.svc.RegenerateRecoveryCodes(f.ctx, f.u, "")
	if err != nil || len(fresh) != 10 {
		t.Fatalf("RegenerateRecoveryCodes: %d, %v", len(fresh), err)
	}
	if _, err := f.svc.Verify(f.ctx, f.u, codes[4], ""); !errors.Is(err, mfa.ErrInvalidCode) {
		t.Fatalf("an old recovery code after regeneration: err = %v, want ErrInvalidCode", err)
	}
	raw := rawOpen(t, f.path)
	for _, c := range fresh {
		var n int
		raw.QueryRow(`SELECT COUNT(*) FROM inkpass_mfa_recovery_codes WHERE instr(lower(hex(code_hash)), lower(hex(?))) > 0`, c).Scan(&n)
		if n != 0 {
			t.Fatal("a recovery code is stored as is")
		}
	}
}

// TestSecretSealedAtRest: the database holds neither the key nor its text,
// the key file is 0600, and a sealed secret does not open for another user.
func TestSecretSealedAtRest(t *testing.T) {
	f := newFixture(t)
	key, _ := f.enrol(t)
	raw := rawOpen(t, f.path)
	var sealed []byte
	if err := raw.QueryRow(`SELECT secret FROM inkpass_mfa_factors WHERE user_id = ?`, f.u.ID).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(mfa.SecretText(key), " ", "")
	if bytes.Contains(sealed, key) || bytes.Contains(sealed, []byte(text)) {
		t.Fatal("the factor's secret is stored in plain")
	}
	dump, _ := os.ReadFile(f.path)
	if bytes.Contains(dump, key) || bytes.Contains(dump, []byte(text)) {
		t.Fatal("the database file holds the secret in plain")
	}
	st, err := os.Stat(f.key)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	k, _ := mfa.LoadOrCreateKey(f.key)
	s, _ := mfa.NewSealer(k)
	if _, err := s.Open(sealed, []byte("inkpass-mfa-user:999")); err == nil {
		t.Fatal("a sealed secret opened for another user")
	}
	again, _ := mfa.LoadOrCreateKey(f.key)
	if !bytes.Equal(k, again) {
		t.Fatal("LoadOrCreateKey made a new key over an existing one")
	}
}

func TestResetRemovesFactors(t *testing.T) {
	f := newFixture(t)
	f.enrol(t)
	n, err := f.svc.Reset(f.ctx, f.u, "test")
	if err != nil || n != 1 {
		t.Fatalf("Reset = %d, %v; want 1", n, err)
	}
	if has, _ := f.svc.HasFactor(f.ctx, f.u.ID); has {
		t.Fatal("a factor is left after Reset")
	}
	if left, _, _ := f.svc.RecoveryCodesLeft(f.ctx, f.u.ID); left != 0 {
		t.Fatalf("%d recovery codes left after Reset", left)
	}
}

func rawOpen(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
