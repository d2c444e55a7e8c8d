package store_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/inkpass/inkpass/internal/store"
)

// TestOpen_FileMode: adopting the studio's file keeps its mode (the studio's
// Python app may run as another user and need to read and write it), and a
// database inkpass creates is private, its -wal and -shm files included.
func TestOpen_FileMode(t *testing.T) {
	mode := func(t *testing.T, path string) os.FileMode {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatalf("stat %s: %v", path, err)
		}
		return fi.Mode().Perm()
	}
	t.Run("an adopted file keeps its mode, and its -wal and -shm follow it", func(t *testing.T) {
		path := newFixtureDB(t)
		if err := os.Chmod(path, 0o664); err != nil {
			t.Fatal(err)
		}
		db := mustOpen(t, path, store.Options{})
		if err := db.Ping(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := mode(t, path); got != 0o664 {
			t.Errorf("studio database mode after Open = %#o, want %#o as it was", got, 0o664)
		}
		for _, side := range []string{"-wal", "-shm"} {
			// SQLite gives them the database file's mode, umask aside.
			if got := mode(t, path+side); got != 0o664 {
				t.Errorf("%s mode = %#o, want %#o like the database", side, got, 0o664)
			}
		}
	})
	t.Run("a database inkpass creates is 0600, and so are its -wal and -shm", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "inkpass.db")
		mustOpen(t, path, store.Options{})
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			if got := mode(t, p); got != 0o600 {
				t.Errorf("%s mode = %#o, want 0600", filepath.Base(p), got)
			}
		}
	})
}
