package store_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/store/storetest"
	"github.com/inkpass/inkpass/internal/testsupport/pgtest"
)

// TestMain stops the PostgreSQL server the PostgreSQL tests start, if any.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// The same store on PostgreSQL passes the same conformance suite, on a
// database it created and on one whose users table the studio's SQLAlchemy
// app created.
func TestConformance_PostgreSQL(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) storetest.Backend {
		return pgBackend(t, pgtest.NewDatabase(t), now)
	})
}

func openPG(t *testing.T, dsn string, opts store.Options) *store.DB {
	t.Helper()
	db, err := store.OpenPostgres(context.Background(), dsn, "", opts)
	if err != nil {
		t.Fatalf("store.OpenPostgres: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return db
}

func pgBackend(t *testing.T, dsn string, now func() time.Time) storetest.Backend {
	t.Helper()
	db := openPG(t, dsn, store.Options{Now: now})
	clients, err := db.Clients(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// A second server on the same database, with caches of its own.
	other, err := openPG(t, dsn, store.Options{Now: now}).Clients(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return storetest.Backend{
		Users: db, Throttle: db, Finder: db, Clients: clients, OtherClients: other,
		Tokens: db.Tokens(), Store: db, Accounts: db, Audit: db, Outbox: db, Mail: db, Links: db, SessionAdmin: db, Console: db,
		StudioDeactivate: func(t *testing.T, id int64) {
			pgtest.Exec(t, dsn, `UPDATE users SET is_active = false WHERE id = `+strconv.FormatInt(id, 10))
		},
	}
}
