package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/store/storetest"
)

// The SQLite store passes the conformance suite on a database it created
// and on an adopted copy of the studio's own file.
func TestConformance_FreshDatabase(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) storetest.Backend {
		return backend(t, filepath.Join(t.TempDir(), "inkpass.db"), now)
	})
}

func TestConformance_AdoptedDatabase(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) storetest.Backend {
		return backend(t, newFixtureDB(t), now)
	})
}

func backend(t *testing.T, path string, now func() time.Time) storetest.Backend {
	t.Helper()
	db := mustOpen(t, path, store.Options{Now: now})
	clients, err := db.Clients(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// A second handle with caches of its own, as a second process has.
	other, err := db.Clients(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return storetest.Backend{
		Users: db, Throttle: db, Finder: db, Clients: clients, OtherClients: other,
		Tokens: db.Tokens(), Store: db, Accounts: db, Audit: db, Outbox: db, Mail: db, Links: db, SessionAdmin: db, Console: db,
		StudioDeactivate: func(t *testing.T, id int64) {
			// What the studio's Python app does: one UPDATE, nothing revoked.
			raw := rawDB(t, path)
			if _, err := raw.ExecContext(context.Background(), `UPDATE users SET is_active = 0 WHERE id = ?`, id); err != nil {
				t.Fatalf("studio deactivation: %v", err)
			}
		},
	}
}
