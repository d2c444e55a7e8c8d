package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkpass/inkpass/internal/store"
)

// TestBackup copies the adopted studio database while another connection (a
// running server) holds it open, and checks the copy is whole and private.
func TestBackup(t *testing.T) {
	dir := t.TempDir()
	c := newCLI(t, fixtureDB(t, dir), "")
	live, err := store.Open(context.Background(), filepath.Join(dir, "studio.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()

	to := filepath.Join(dir, "backup.db")
	out := c.ok(t, "", "backup", "--to", to)
	if !strings.Contains(out, "integrity checked") || !strings.Contains(out, "signing keys") {
		t.Errorf("backup said %q; want the integrity check and the keys reminder", out)
	}
	fi, err := os.Stat(to)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode = %v, want 0600", fi.Mode().Perm())
	}
	copyDB, err := sql.Open("sqlite3", "file:"+to+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	var users int
	if err := copyDB.QueryRow(`SELECT count(*) FROM users`).Scan(&users); err != nil || users != 5 {
		t.Errorf("users in the backup = %d, %v; want the fixture's 5", users, err)
	}
	if code, _, errOut := c.run(t, nil, "backup", "--to", to); code != 1 || !strings.Contains(errOut, "already exists") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("backup over an existing file: exit %d, stderr %q; want 1 and one line saying it exists", code, errOut)
	}
}

// TestCheck runs check on a missing, a migrated and a mismatched database:
// it reports, and never creates or changes the file.
func TestCheck(t *testing.T) {
	t.Run("a missing database is reported, not created", func(t *testing.T) {
		c := newCLI(t, "inkpass.db", "")
		out := c.ok(t, "", "check")
		if !strings.Contains(out, "does not exist yet") || !strings.Contains(out, "serve generates") {
			t.Errorf("check said %q", out)
		}
		if _, err := os.Stat(filepath.Join(c.dir, "inkpass.db")); !os.IsNotExist(err) {
			t.Errorf("check created the database (%v)", err)
		}
	})
	t.Run("a migrated database and its keys are ok", func(t *testing.T) {
		c := newCLI(t, "inkpass.db", "")
		c.ok(t, "", "keys", "list")
		out := c.ok(t, "", "check")
		if !strings.Contains(out, "users matches SCHEMA.md") || !strings.Contains(out, "pending: none") || !strings.Contains(out, "keys        ok") {
			t.Errorf("check said %q", out)
		}
	})
	t.Run("a users table without phone is refused by name and left alone", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "studio.db")
		db, err := sql.Open("sqlite3", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`CREATE TABLE artists (id INTEGER PRIMARY KEY, name TEXT);
			CREATE TABLE users (id INTEGER PRIMARY KEY, username VARCHAR(64) NOT NULL UNIQUE, password_hash VARCHAR(255) NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		before := fileSum(t, path)
		c := newCLI(t, path, "")
		code, _, errOut := c.run(t, nil, "check")
		if code != 1 || !strings.Contains(errOut, "column phone is missing") || strings.Count(errOut, "\n") != 1 {
			t.Errorf("check: exit %d, stderr %q; want 1 and one line naming the missing column", code, errOut)
		}
		if fileSum(t, path) != before {
			t.Error("check changed the database file")
		}
	})
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}
