package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
)

// TestWriter_JobsInOneBatchKeepTheirOwnOutcome runs three jobs in one group
// commit: one that succeeds, one that fails after writing, one that fails but
// asks to keep its writes. Each caller must see what it would have seen alone.
func TestWriter_JobsInOneBatchKeepTheirOwnOutcome(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "w.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	insert := func(key string) func(context.Context, *sql.Tx) error {
		return func(_ context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO inkpass_meta (key, value) VALUES (?, 'v')`, key)
			return err
		}
	}
	boom := errors.New("boom")
	jobs := []*writeJob{
		{ctx: ctx, fn: insert("kept"), done: make(chan error, 1)},
		{ctx: ctx, fn: func(ctx context.Context, tx *sql.Tx) error { insert("rolled-back")(ctx, tx); return boom }, done: make(chan error, 1)},
		{ctx: ctx, fn: func(ctx context.Context, tx *sql.Tx) error {
			insert("kept-despite-error")(ctx, tx)
			return errCommitThen(boom)
		}, done: make(chan error, 1)},
		{ctx: ctx, fn: insert("kept"), done: make(chan error, 1)}, // a UNIQUE violation of job 0's row
	}
	db.runBatch(jobs)
	want := []func(error) bool{
		func(err error) bool { return err == nil },
		func(err error) bool { return errors.Is(err, boom) },
		func(err error) bool { return errors.Is(err, boom) },
		func(err error) bool { return isUnique(err) },
	}
	for i, j := range jobs {
		if err := <-j.done; !want[i](err) {
			t.Errorf("job %d: err = %v", i, err)
		}
	}
	for key, present := range map[string]bool{"kept": true, "rolled-back": false, "kept-despite-error": true} {
		var n int
		if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM inkpass_meta WHERE key = ?`, key).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if (n == 1) != present {
			t.Errorf("row %q present = %v, want %v", key, n == 1, present)
		}
	}
}

// TestWriter_ConcurrentWritesAllLand sends many transactions at once through
// the group committer and checks every one committed.
func TestWriter_ConcurrentWritesAllLand(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "w.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	const n = 200
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, err := db.exec(ctx, `INSERT INTO inkpass_meta (key, value) VALUES (?, 'v')`, "k"+string(rune('A'+i%26))+string(rune('a'+i/26))); err != nil {
				t.Errorf("exec %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	var got int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM inkpass_meta WHERE key LIKE 'k%'`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Errorf("rows = %d, want %d", got, n)
	}
	// Every write is counted once, and 200 writes at once share commits:
	// while one transaction runs, the next writers queue for the one after.
	txs, jobs := db.WriteStats()
	if jobs != n {
		t.Errorf("WriteStats jobs = %d, want %d", jobs, n)
	}
	if txs < 1 || txs >= n {
		t.Errorf("WriteStats transactions = %d for %d concurrent writes, want fewer transactions than writes", txs, n)
	}
	db.Close()
	if _, err := db.exec(ctx, `INSERT INTO inkpass_meta (key, value) VALUES ('late', 'v')`); !errors.Is(err, errClosed) {
		t.Errorf("a write after Close = %v, want errClosed", err)
	}
}
