package testsupport

import (
	"database/sql"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	_ "github.com/mattn/go-sqlite3" // the driver the studio fixture is built with
)

// StudioDB builds testdata/studio-fixture.sql (the studio's users and
// artists, with the passwords its header documents) into a new SQLite file
// dir/studio.db and returns its path.
func StudioDB(t testing.TB, dir string) string {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	script, err := os.ReadFile(filepath.Join(filepath.Dir(self), "..", "..", "testdata", "studio-fixture.sql"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "studio.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(string(script)); err != nil {
		t.Fatalf("build the studio fixture: %v", err)
	}
	return path
}
