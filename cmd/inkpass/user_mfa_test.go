package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/mfa"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/store"
)

// TestUserMFAResetCommand: "inkpass user mfa reset" removes the factors and
// recovery codes, ends the user's sessions, and is audited.
func TestUserMFAResetCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbPath := fixtureDB(t, dir)
	c := newCLI(t, dbPath, "")
	c.ok(t, "", "migrate")

	ctx := t.Context()
	db, err := store.Open(ctx, dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key, err := mfa.LoadOrCreateKey(filepath.Join(c.dir, "keys", "mfa.key"))
	if err != nil {
		t.Fatal(err)
	}
	sealer, _ := mfa.NewSealer(key)
	svc := mfa.NewService(db, db, sealer, mfa.Options{Audit: db})
	u, err := db.UserByUsername(ctx, "luna_artist")
	if err != nil {
		t.Fatal(err)
	}
	e, err := svc.BeginTOTP(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := mfa.ParseSecretText(e.Secret)
	if _, err := svc.ConfirmTOTP(ctx, u, e.FactorID, "Phone", mfa.Code(secret, time.Now()), ""); err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	now := time.Now()
	if err := db.CreateSession(ctx, session.Hash("cookie"), session.Session{SID: "sid-1", UserID: u.ID, AuthTime: now,
		AMR: []string{"pwd", "otp", "mfa"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	if out := c.ok(t, "", "user", "mfa", "list", "luna_artist"); !strings.Contains(out, "Phone") || !strings.Contains(out, "1 factor(s), recovery codes: 10 left") {
		t.Fatalf("user mfa list printed:\n%s", out)
	}
	if out := c.ok(t, "", "user", "mfa", "reset", "luna_artist"); !strings.Contains(out, "removed 1 second factor") {
		t.Fatalf("user mfa reset printed %q", out)
	}
	if out := c.ok(t, "", "user", "mfa", "list", "luna_artist"); !strings.Contains(out, "0 factor(s), recovery codes: 0 left") {
		t.Fatalf("after reset, user mfa list printed:\n%s", out)
	}

	raw, err := sql.Open("sqlite3", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var live, audited int
	raw.QueryRow(`SELECT COUNT(*) FROM inkpass_sessions WHERE user_id = ? AND revoked_at IS NULL`, u.ID).Scan(&live)
	raw.QueryRow(`SELECT COUNT(*) FROM inkpass_audit WHERE kind = 'mfa_reset' AND user_id = ?`, u.ID).Scan(&audited)
	if live != 0 || audited != 1 {
		t.Fatalf("after reset: %d live sessions, %d mfa_reset events; want 0 and 1", live, audited)
	}
}

// TestClientRequireMFAFlag: --require-mfa is stored and shown, and update can
// take it back.
func TestClientRequireMFAFlag(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "inkpass.db", "")
	got := jsonObject(t, c.ok(t, "", "client", "add", "--id", "vault", "--redirect-uri", "https://vault.example/cb", "--require-mfa", "--json"))
	if got["require_mfa"] != true {
		t.Fatalf("client add --require-mfa: require_mfa = %v", got["require_mfa"])
	}
	if out := c.ok(t, "", "client", "show", "vault"); !strings.Contains(out, "require_mfa") || !strings.Contains(out, "true") {
		t.Errorf("client show does not say require_mfa true:\n%s", out)
	}
	got = jsonObject(t, c.ok(t, "", "client", "update", "vault", "--require-mfa=false", "--json"))
	if got["require_mfa"] != false {
		t.Fatalf("client update --require-mfa=false: require_mfa = %v", got["require_mfa"])
	}
}
