package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkpass/inkpass/internal/store/postgres"
	"github.com/inkpass/inkpass/internal/testsupport/pgtest"
)

// check validates a PostgreSQL database's users table as it does a SQLite
// file's, with the password from the environment or a file and never in
// what it prints.
func TestCheck_PostgreSQL(t *testing.T) {
	t.Run("an empty database is reachable and has no users table yet", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		c := newCLI(t, dsn, "")
		c.env["INKPASS_DATABASE_PASSWORD"] = "env-secret-771"
		out := c.ok(t, "", "check")
		if !strings.Contains(out, "reachable (PostgreSQL ") || !strings.Contains(out, "no users table") {
			t.Errorf("check said %q", out)
		}
		if strings.Contains(out, "env-secret-771") {
			t.Errorf("check printed the password: %q", out)
		}
	})
	t.Run("the documented table matches", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		pgtest.Exec(t, dsn, postgres.UsersDDL)
		c := newCLI(t, dsn, "database_password_file: db.pw\n")
		if err := os.WriteFile(filepath.Join(c.dir, "db.pw"), []byte("file-secret-772\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := c.run(t, nil, "check")
		if code != 0 || !strings.Contains(out, "users in schema public matches SCHEMA.md") {
			t.Errorf("check: exit %d, stdout %q, stderr %q", code, out, errOut)
		}
		if strings.Contains(out+errOut, "file-secret-772") {
			t.Errorf("check printed the password")
		}
	})
	t.Run("a differing table is refused by name", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		pgtest.Exec(t, dsn, postgres.UsersDDL, `ALTER TABLE users DROP COLUMN phone`)
		c := newCLI(t, dsn, "")
		code, _, errOut := c.run(t, nil, "check")
		if code != 1 || !strings.Contains(errOut, "column phone is missing") || strings.Count(errOut, "\n") != 1 {
			t.Errorf("check: exit %d, stderr %q; want 1 and one line naming the missing column", code, errOut)
		}
	})
	t.Run("an unreachable server is one line without the password", func(t *testing.T) {
		c := newCLI(t, "postgres://studio:url-secret-773@127.0.0.1:1/studio?sslmode=disable", "")
		code, _, errOut := c.run(t, nil, "check")
		if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "connect to postgres://studio:xxxxx@127.0.0.1:1/studio") {
			t.Errorf("check: exit %d, stderr %q; want 1 and one line naming the redacted URL", code, errOut)
		}
		if strings.Contains(errOut, "url-secret-773") {
			t.Errorf("check printed the password: %q", errOut)
		}
	})
	t.Run("serve on an unreachable server exits with one line without the password", func(t *testing.T) {
		c := newCLI(t, "postgres://studio:url-secret-774@127.0.0.1:1/studio", "")
		code, _, errOut := c.run(t, nil, "serve")
		if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "open database postgres://studio:xxxxx@127.0.0.1:1/studio") {
			t.Errorf("serve: exit %d, stderr %q", code, errOut)
		}
		if strings.Contains(errOut, "url-secret-774") {
			t.Errorf("serve printed the password: %q", errOut)
		}
	})
}
