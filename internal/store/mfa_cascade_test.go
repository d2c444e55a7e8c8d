package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/mfa"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/user"
)

// TestMFA_FactorsGoWithTheirUser: the studio's app may delete a users row
// (with foreign keys on, as its schema declares them), and SQLite gives the
// highest id to the next user again. A factor or recovery code left behind
// would then belong to that new user: the old owner's authenticator app or
// passkey would answer for someone else's account. Deleting the user must
// delete them, as it does the user's sessions, tokens and verifications.
func TestMFA_FactorsGoWithTheirUser(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "inkpass.db")
	db := mustOpen(t, path, store.Options{})
	id, err := db.CreateUser(ctx, &user.User{Username: "gone", PasswordHash: "x", Role: user.RoleAssistant, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	if _, err := db.CreatePasskey(ctx, mfa.Factor{UserID: id, Kind: mfa.KindWebAuthn, Name: "key", CreatedAt: now}, []byte("credential")); err != nil {
		t.Fatal(err)
	}
	if err := db.ReplaceRecoveryCodes(ctx, id, [][]byte{[]byte("h1"), []byte("h2")}, now); err != nil {
		t.Fatal(err)
	}

	// The studio's app deletes the row, with its own connection.
	raw, err := rawDB(t, path).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `PRAGMA foreign_keys = ON`); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id); err != nil {
		t.Fatalf("the studio's app could not delete the user: %v", err)
	}

	again, err := db.CreateUser(ctx, &user.User{Username: "newcomer", PasswordHash: "x", Role: user.RoleAssistant, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if again != id {
		t.Logf("SQLite did not reuse id %d (got %d); the rows are checked all the same", id, again)
	}
	if fs, err := db.Factors(ctx, again); err != nil || len(fs) != 0 {
		t.Errorf("the new user %d has factors %+v (err %v), want none", again, fs, err)
	}
	if left, used, err := db.RecoveryCodesLeft(ctx, again); err != nil || left+used != 0 {
		t.Errorf("the new user %d has %d+%d recovery codes (err %v), want none", again, left, used, err)
	}
	for _, table := range []string{"inkpass_mfa_factors", "inkpass_mfa_recovery_codes"} {
		if rows := queryStrings(t, rawDB(t, path), `SELECT count(*) FROM `+table+` WHERE user_id = ?`, id); rows[0][0] != "0" {
			t.Errorf("%s keeps %s rows of the deleted user %d", table, rows[0][0], id)
		}
	}
}

// TestMigration_MFAUserCascade: on a database from before the migration, a
// live user's factor and recovery codes are kept, and those of a user already
// deleted are not copied (they would go to the next user given that id).
func TestMigration_MFAUserCascade(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "inkpass.db")
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id, err := db.CreateUser(ctx, &user.User{Username: "kept", PasswordHash: "x", Role: user.RoleAssistant, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	if _, err := db.CreatePasskey(ctx, mfa.Factor{UserID: id, Kind: mfa.KindWebAuthn, Name: "key", CreatedAt: now}, []byte("credential")); err != nil {
		t.Fatal(err)
	}
	if err := db.ReplaceRecoveryCodes(ctx, id, [][]byte{[]byte("h1"), []byte("h2")}, now); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Rows of user 999, deleted behind inkpass's back before the migration.
	execSQLFile(t, path, `
		PRAGMA foreign_keys = OFF;
		INSERT INTO inkpass_mfa_factors (user_id, kind, name, secret, confirmed, created_at) VALUES (999, 'totp', 'app', X'00', 1, 0);
		INSERT INTO inkpass_mfa_recovery_codes (user_id, code_hash, created_at) VALUES (999, X'01', 0);
		DELETE FROM inkpass_migrations WHERE name = 'mfa_user_cascade';
	`)
	db = mustOpen(t, path, store.Options{})
	if fs, err := db.Factors(ctx, id); err != nil || len(fs) != 1 || fs[0].Name != "key" {
		t.Errorf("the live user's factors after the migration = %+v, %v; want the passkey", fs, err)
	}
	if left, _, err := db.RecoveryCodesLeft(ctx, id); err != nil || left != 2 {
		t.Errorf("the live user's recovery codes after the migration = %d, %v; want 2", left, err)
	}
	for _, table := range []string{"inkpass_mfa_factors", "inkpass_mfa_recovery_codes"} {
		if rows := queryStrings(t, rawDB(t, path), `SELECT count(*) FROM `+table+` WHERE user_id = 999`); rows[0][0] != "0" {
			t.Errorf("%s keeps %s rows of the deleted user", table, rows[0][0])
		}
	}
}
