package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/store"
)

// TestDB_PrunedOnWrite: the tables Prune does not walk are pruned by their
// own writes instead: each write first deletes the rows that have expired (or
// whose lock and window have passed), so a table holds only what can still
// matter, however long the server runs. Each case writes one row that will
// expire, moves past its end, writes another and counts what is left.
func TestDB_PrunedOnWrite(t *testing.T) {
	ctx := context.Background()
	start := time.Unix(1_800_000_000, 0)
	later := start.Add(time.Hour)
	never := func(int) time.Duration { return 0 }
	for _, tc := range []struct {
		table string
		write func(db *store.DB, key []byte, at time.Time) error
	}{
		{"inkpass_mfa_pending", func(db *store.DB, key []byte, at time.Time) error {
			return db.SavePending(ctx, key, key, 1, at, at.Add(5*time.Minute))
		}},
		{"inkpass_mfa_devices", func(db *store.DB, key []byte, at time.Time) error {
			return db.RememberDevice(ctx, key, 1, at, at.Add(5*time.Minute))
		}},
		{"inkpass_webauthn_ceremonies", func(db *store.DB, key []byte, at time.Time) error {
			return db.SaveCeremony(ctx, key, key, 1, []byte("{}"), at, at.Add(5*time.Minute))
		}},
		{"inkpass_client_throttle", func(db *store.DB, key []byte, at time.Time) error {
			// An unknown client: only the address is charged, one row.
			return db.RecordClientFailure(ctx, "", string(key), at, 10*time.Minute, never, never)
		}},
	} {
		t.Run(tc.table, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "inkpass.db")
			db := mustOpen(t, path, store.Options{Now: func() time.Time { return start }})
			if err := tc.write(db, []byte("first"), start); err != nil {
				t.Fatal(err)
			}
			if err := tc.write(db, []byte("second"), later); err != nil {
				t.Fatal(err)
			}
			rows := queryStrings(t, rawDB(t, path), `SELECT count(*) FROM `+tc.table)
			if rows[0][0] != "1" {
				t.Errorf("%s holds %s rows after a write past the first row's end, want 1: the expired row was kept", tc.table, rows[0][0])
			}
		})
	}
}
