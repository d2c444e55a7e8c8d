package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestDB_PruneInBatches fills tables with many expired rows, interleaved with
// live ones, and prunes with a batch of 1000: Prune must take many
// transactions, delete every expired row and no live one, on rowid tables and
// on WITHOUT ROWID ones (one- and two-column keys), and a write sent between
// two batches must complete while Prune still has rows to delete.
func TestDB_PruneInBatches(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "prune.db"), Options{PruneBatch: 1000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := db.now().Unix()
	const expired = 20000
	// One transaction for the whole fill: every 10th row is live.
	if _, err := db.write.ExecContext(ctx, `
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
		INSERT INTO inkpass_auth_requests (id_hash, browser_hash, data, expires_at)
		SELECT randomblob(16), x'00', '{}', CASE WHEN i % 10 = 0 THEN ?2 + 3600 ELSE ?2 - 60 END FROM n`,
		expired*10/9, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, `
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
		INSERT INTO inkpass_revoked_grants (grant_id, revoked_at, reason)
		SELECT printf('g%05d', i), CASE WHEN i % 3 = 0 THEN ?1 ELSE 0 END, 'test' FROM n`, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, `
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
		INSERT INTO inkpass_login_throttle (scope, key, failures, last_failure_at, locked_until)
		SELECT CASE WHEN i % 2 = 0 THEN 'address' ELSE 'username' END, printf('k%05d', i), 1,
			CASE WHEN i % 5 = 0 THEN ?1 ELSE 0 END, 0 FROM n`, now); err != nil {
		t.Fatal(err)
	}
	count := func(q string) int {
		t.Helper()
		var n int
		if err := db.read.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := count(`SELECT count(*) FROM inkpass_auth_requests WHERE expires_at < unixepoch()`); got < expired {
		t.Fatalf("fill: %d expired auth requests, want %d", got, expired)
	}

	// Between the 3rd and the 4th batch, another writer writes; it must get
	// through while Prune is still at work.
	batches, wroteAt := 0, -1
	db.afterPruneBatch = func() {
		batches++
		if batches != 3 {
			return
		}
		done := make(chan error, 1)
		go func() {
			_, err := db.exec(ctx, `INSERT INTO inkpass_meta (key, value) VALUES ('during-prune', 'v')`)
			done <- err
		}()
		if err := <-done; err != nil {
			t.Errorf("write during prune: %v", err)
		}
		wroteAt = count(`SELECT count(*) FROM inkpass_auth_requests WHERE expires_at < unixepoch()`)
	}
	txBefore, _ := db.WriteStats()
	r, err := db.Prune(ctx, 30*24*time.Hour, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	txAfter, _ := db.WriteStats()
	if r.AuthRequests != expired || r.Grants != 2000 || r.Throttle != 2000 {
		t.Errorf("Prune = %+v, want 20000 auth requests, 2000 grants and 2000 throttle entries", r)
	}
	if got := count(`SELECT count(*) FROM inkpass_auth_requests`); got != expired/9 {
		t.Errorf("auth requests left = %d, want the %d live ones", got, expired/9)
	}
	if got := count(`SELECT count(*) FROM inkpass_revoked_grants`); got != 1000 {
		t.Errorf("revoked grants left = %d, want the 1000 recent ones", got)
	}
	if got := count(`SELECT count(*) FROM inkpass_login_throttle`); got != 500 {
		t.Errorf("throttle entries left = %d, want the 500 recent ones", got)
	}
	// 20 + 2 + 2 full batches, plus one closing batch per table.
	if txs := txAfter - txBefore; txs < 24 {
		t.Errorf("Prune took %d transactions, want at least 24 for batches of 1000", txs)
	}
	if wroteAt <= 0 {
		t.Errorf("the concurrent write finished with %d expired rows left, want it to finish while Prune still had rows to delete", wroteAt)
	}
	if got := count(`SELECT count(*) FROM inkpass_meta WHERE key = 'during-prune'`); got != 1 {
		t.Errorf("the write made during Prune is missing")
	}
}
