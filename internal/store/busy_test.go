package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// holdWriteLock opens a second connection on path, the way the studio's
// Python app does, and takes the write lock with BEGIN IMMEDIATE. The
// returned func releases it (idempotent).
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	other, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatalf("BEGIN IMMEDIATE on a second connection: %v", err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			if _, err := conn.ExecContext(context.Background(), `ROLLBACK`); err != nil {
				t.Errorf("release the write lock: %v", err)
			}
			conn.Close()
		})
	}
	t.Cleanup(release)
	return release
}

func openBusyTest(t *testing.T, budget time.Duration) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "busy.db")
	db, err := Open(context.Background(), path, Options{BusyTimeout: 20 * time.Millisecond, WriteBudget: budget})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func countMeta(t *testing.T, db *DB, like string) int {
	t.Helper()
	var n int
	if err := db.read.QueryRowContext(context.Background(), `SELECT count(*) FROM inkpass_meta WHERE key LIKE ?`, like).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWriter_LockHeldPastTheBudget: another process keeps the write lock for
// longer than the write budget. The write must fail with ErrBusy (with a
// Retry-After hint), write nothing, and the next write after the release must
// succeed.
func TestWriter_LockHeldPastTheBudget(t *testing.T) {
	ctx := context.Background()
	db, path := openBusyTest(t, 150*time.Millisecond)
	release := holdWriteLock(t, path)

	_, err := db.exec(ctx, `INSERT INTO inkpass_meta (key, value) VALUES ('busy-1', 'v')`)
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("write while another process holds the lock = %v, want ErrBusy", err)
	}
	var ra interface{ RetryAfter() time.Duration }
	if !errors.As(err, &ra) || ra.RetryAfter() <= 0 {
		t.Errorf("busy error %v carries no RetryAfter", err)
	}
	if strings.Contains(strings.ToLower(err.Error()), "insert") {
		t.Errorf("busy error leaks SQL: %v", err)
	}
	release()
	if _, err := db.exec(ctx, `INSERT INTO inkpass_meta (key, value) VALUES ('busy-2', 'v')`); err != nil {
		t.Fatalf("write after the lock was released: %v", err)
	}
	if got := countMeta(t, db, "busy-%"); got != 1 {
		t.Errorf("rows = %d, want only the write made after the release", got)
	}
}

// TestWriter_LockHeldShorterThanTheBudget: writes that arrive while another
// process holds the lock wait and all succeed once it is released, though
// each attempt's busy timeout (20 ms) ran out many times meanwhile.
func TestWriter_LockHeldShorterThanTheBudget(t *testing.T) {
	ctx := context.Background()
	db, path := openBusyTest(t, time.Minute)
	release := holdWriteLock(t, path)

	const n = 5
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := db.exec(ctx, `INSERT INTO inkpass_meta (key, value) VALUES (?, 'v')`, fmt.Sprintf("wait-%d", i))
			errs <- err
		}()
	}
	// Release only once the writer has met the lock and retried: the writes
	// were then really waiting for it. Bounded in count, not in time.
	for i := 0; db.writeStats.busyRetries.Load() < 3; i++ {
		if i == 10000 {
			t.Fatal("the writer never retried a locked database")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-errs:
		t.Fatalf("a write finished while the lock was still held: %v", err)
	default:
	}
	release()
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("write waiting for the lock: %v", err)
		}
	}
	if got := countMeta(t, db, "wait-%"); got != n {
		t.Errorf("rows = %d, want %d", got, n)
	}
}
