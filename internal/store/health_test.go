package store

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDB_WriteReady: readiness follows whether writes work, with the reason
// when they do not, and comes back by itself.
func TestDB_WriteReady(t *testing.T) {
	ctx := context.Background()

	t.Run("a fresh database is ready, by a heartbeat write", func(t *testing.T) {
		db, _ := openBusyTest(t, 100*time.Millisecond)
		if err := db.WriteReady(ctx); err != nil {
			t.Fatalf("WriteReady = %v", err)
		}
		if n := countMeta(t, db, "heartbeat"); n != 1 {
			t.Errorf("heartbeat rows = %d, want 1", n)
		}
	})

	t.Run("a lock held past the write budget makes it not ready, with the reason", func(t *testing.T) {
		db, path := openBusyTest(t, 100*time.Millisecond)
		release := holdWriteLock(t, path)
		if _, err := db.exec(ctx, `INSERT INTO inkpass_meta (key, value) VALUES ('x', 'v')`); err == nil {
			t.Fatal("write succeeded under another process's lock")
		}
		err := db.WriteReady(ctx)
		if err == nil || !strings.Contains(err.Error(), "database write failed") || !strings.Contains(err.Error(), "busy") {
			t.Fatalf("WriteReady = %v, want a failed write because the database is busy", err)
		}
		release()
		if _, err := db.exec(ctx, `INSERT INTO inkpass_meta (key, value) VALUES ('x', 'v')`); err != nil {
			t.Fatal(err)
		}
		if err := db.WriteReady(ctx); err != nil {
			t.Errorf("WriteReady after the release and a write = %v", err)
		}
	})

	t.Run("a full disk makes it not ready, tries a WAL checkpoint, and recovers when space returns", func(t *testing.T) {
		var logs bytes.Buffer
		db, err := Open(ctx, filepath.Join(t.TempDir(), "full.db"), Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		// The writer's one connection may not grow the file: to SQLite this
		// is the same SQLITE_FULL as a full disk.
		var pages int
		if err := db.write.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
			t.Fatal(err)
		}
		if _, err := db.write.ExecContext(ctx, `PRAGMA max_page_count = `+itoa(pages)); err != nil {
			t.Fatal(err)
		}
		_, err = db.exec(ctx, `INSERT INTO inkpass_meta (key, value) VALUES ('big', hex(randomblob(65536)))`)
		if !isFull(err) {
			t.Fatalf("write on a full database = %v, want SQLITE_FULL", err)
		}
		// The HTTP layers answer 503 + Retry-After for what passes by itself.
		var passes interface{ RetryAfter() time.Duration }
		if !errors.Is(err, ErrFull) || !errors.As(err, &passes) || passes.RetryAfter() <= 0 {
			t.Fatalf("write on a full database = %v, want ErrFull with a RetryAfter", err)
		}
		err = db.WriteReady(ctx)
		if err == nil || !strings.Contains(err.Error(), "database or disk is full") || !strings.Contains(err.Error(), "checkpoint") {
			t.Fatalf("WriteReady = %v, want the full disk and the checkpoint tried", err)
		}
		if !strings.Contains(logs.String(), "checkpoint") {
			t.Errorf("the log does not mention the checkpoint:\n%s", logs.String())
		}
		if _, err := db.write.ExecContext(ctx, `PRAGMA max_page_count = 1073741823`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.exec(ctx, `INSERT INTO inkpass_meta (key, value) VALUES ('big', hex(randomblob(65536)))`); err != nil {
			t.Fatalf("write once space returned: %v", err)
		}
		if err := db.WriteReady(ctx); err != nil {
			t.Errorf("WriteReady once space returned = %v", err)
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
