package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/inkpass/inkpass/internal/config"
)

// TestMigrateToPassword: a --password-file the operator names wins over
// INKPASS_DATABASE_PASSWORD (as its help says), only its first line counts,
// and without it the environment's password is used.
func TestMigrateToPassword(t *testing.T) {
	env := func(k string) string {
		if k == config.EnvDatabasePassword {
			return "from-env"
		}
		return ""
	}
	pwFile := filepath.Join(t.TempDir(), "db.pw")
	if err := os.WriteFile(pwFile, []byte("from-file\r\nsecond line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if pw, err := migrateToPassword(env, pwFile); err != nil || pw != "from-file" {
		t.Errorf("with --password-file and the variable: %q, %v; want from-file", pw, err)
	}
	if pw, err := migrateToPassword(env, ""); err != nil || pw != "from-env" {
		t.Errorf("with the variable only: %q, %v; want from-env", pw, err)
	}
	if _, err := migrateToPassword(env, filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing --password-file was not an error")
	}
}
