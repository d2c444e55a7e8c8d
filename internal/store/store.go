package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

// DB is inkpass's database. Writes go through a single connection, so SQLite
// never has two writers racing for its lock ("database is locked" is a symptom
// of that race); reads use a small pool, which WAL lets run beside the writer.
type DB struct {
	path string
	// pg is true on PostgreSQL (pgopen.go): one pool serves reads and
	// writes, and write transactions are serializable and retried.
	pg    bool
	write *sql.DB
	read  readPool
	now   func() time.Time

	// adopted is true when inkpass found the studio's users table already there.
	adopted bool
	// artistName is true when the artists table has a name column.
	artistName bool
	userSelect string

	// log reports odd values in the users table, once per user and column
	// (oddSeen), see noteOddities, and what the store does on its own (a WAL
	// checkpoint on a full disk).
	log     *slog.Logger
	oddSeen sync.Map

	// Group commit (writer.go); nil until Open has migrated.
	jobs       chan *writeJob
	quit       chan struct{}
	writerDone chan struct{}
	stopOnce   sync.Once
	writeStats writeStats
	// writeBudget is how long a batch retries a database another process
	// keeps locked (writer.go).
	writeBudget time.Duration
	pruneBatch  int
	// outboxWake tells this process's back-channel worker that a logout
	// notice was queued (backchannel.go).
	outboxOnce sync.Once
	outboxWake chan struct{}
	// mailWake tells this process's mail worker that a message was queued
	// (mail.go).
	mailOnce sync.Once
	mailWake chan struct{}
	// afterPruneBatch, when set (by tests), runs between two of Prune's
	// transactions.
	afterPruneBatch func()
	health          writeHealth
	// watch tells Clients when its caches are provably current
	// (walwatch.go).
	watch changeWatch
}

// Default waits for a database another process holds.
const (
	DefaultBusyTimeout = 5 * time.Second
	DefaultWriteBudget = 10 * time.Second
)

// Options configure Open.
type Options struct {
	// BusyTimeout is how long one attempt waits inside SQLite for another
	// process (the studio's Python app, a backup) to release the database;
	// DefaultBusyTimeout when zero.
	BusyTimeout time.Duration
	// WriteBudget is how long a write keeps retrying a database that stays
	// locked, counting every attempt, before it fails with ErrBusy;
	// DefaultWriteBudget when zero.
	WriteBudget time.Duration
	// PruneBatch is how many rows one of Prune's transactions deletes at
	// most; DefaultPruneBatch when zero.
	PruneBatch int
	// Now is the clock; tests inject one.
	Now func() time.Time
	// Logger receives warnings about odd values in the users table and what
	// the store does on its own (a WAL checkpoint on a full disk); nil
	// discards them.
	Logger *slog.Logger
}

// withDefaults fills in the zero fields of o, for Open and OpenPostgres.
func (o Options) withDefaults() Options {
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	if o.WriteBudget <= 0 {
		o.WriteBudget = DefaultWriteBudget
	}
	if o.PruneBatch <= 0 {
		o.PruneBatch = DefaultPruneBatch
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Open opens (creating if needed) the SQLite file at path, applies the pending
// migrations, and checks the users table against the documented schema. On an
// existing studio database whose users table differs, it returns a
// *SchemaMismatchError and changes nothing.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	opts = opts.withDefaults()
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("open database %s: %w", path, err)
		}
	}
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db := &DB{path: path, now: opts.Now, writeBudget: opts.WriteBudget, pruneBatch: opts.PruneBatch, log: opts.Logger}
	var err error
	if db.write, err = openPool(path, opts.BusyTimeout, true); err != nil {
		return nil, err
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxLifetime(0)
	if err := db.migrate(ctx); err != nil {
		db.write.Close()
		return nil, err
	}
	// WAL is switched on only once the schema check has passed: the switch
	// rewrites the file header, and a refused database must be left as it was.
	var mode string
	if err := db.write.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("open database %s: switch to WAL: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		db.write.Close()
		return nil, fmt.Errorf("open database %s: journal_mode is %q, want wal", path, mode)
	}
	if db.read.DB, err = openPool(path, opts.BusyTimeout, false); err != nil {
		db.write.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0)*2)
	db.read.SetMaxOpenConns(n)
	db.read.SetMaxIdleConns(n)
	db.watch.open(path)
	db.startWriter()
	return db, nil
}

// createPrivate creates the database file with mode 0600 when there is none:
// it is the studio's user list. SQLite gives the -wal and -shm files it
// creates later the database file's mode, so they are private too. An existing
// file keeps its mode: the studio's Python app may run as another user and
// need its group access to the file it adopted.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

func openPool(path string, busy time.Duration, writer bool) (*sql.DB, error) {
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busy.Milliseconds()))
	q.Set("_foreign_keys", "on")
	if !writer {
		// The writer switches to WAL itself, after the schema check (see Open).
		q.Set("_journal_mode", "WAL")
	}
	// NORMAL is durable across application crashes in WAL mode; a power cut
	// may lose the last transactions but never corrupts the file.
	q.Set("_synchronous", "NORMAL")
	q.Set("_stmt_cache_size", "64")
	if writer {
		// Take the write lock at BEGIN, so a transaction that reads then
		// writes cannot fail half-way on a lock upgrade.
		q.Set("_txlock", "immediate")
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	pool, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := pool.Ping(); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return pool, nil
}

// Close closes both pools; in WAL mode the last close checkpoints the log.
func (db *DB) Close() error {
	db.stopWriter()
	db.watch.close()
	var errs []error
	if db.read.DB != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil && !db.pg { // on PostgreSQL write is the read pool
		errs = append(errs, db.write.Close())
	}
	// Only now: closing the -shm descriptor earlier would drop the POSIX
	// locks SQLite's connections hold on it (walwatch_unix.go).
	db.watch.releaseFile()
	return errors.Join(errs...)
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Adopted reports whether the users table was the studio's, found in place.
func (db *DB) Adopted() bool { return db.adopted }

// Ping checks that the database answers; readiness probes use it.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// inTx runs fn in a write transaction: committed when fn returns nil, rolled
// back otherwise, so no half-written row is ever left behind. An error wrapped
// by errCommitThen commits first (a revocation must stick even though the
// request fails). Once Open has finished, transactions go through the group
// committer (writer.go), which gives each one a savepoint of its own. fn may
// run more than once when another process holds the database's lock, so it
// must only write through tx and assign its results; after the write budget
// inTx returns an error wrapping ErrBusy, and nothing of fn's was kept.
func (db *DB) inTx(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if db.pg {
		return db.inTxPostgres(ctx, fn)
	}
	if db.jobs == nil {
		return db.inTxDirect(ctx, fn)
	}
	j := &writeJob{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.jobs <- j:
	case <-ctx.Done():
		return ctx.Err()
	case <-db.quit:
		return errClosed
	}
	return <-j.done
}

func (db *DB) inTxDirect(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return db.inTxOnce(ctx, nil, fn)
}

// inTxOnce runs fn in one transaction with opts.
func (db *DB) inTxOnce(ctx context.Context, opts *sql.TxOptions, fn func(ctx context.Context, tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(short(ctx), tx); err != nil {
		var keep commitThen
		if errors.As(err, &keep) {
			if cerr := tx.Commit(); cerr != nil {
				return fmt.Errorf("commit: %w", cerr)
			}
			return keep.err
		}
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// short takes the cancellation out of ctx for statements that take
// microseconds. Watching a cancellable context costs more than such a
// statement: database/sql starts a goroutine per query to watch it, and
// go-sqlite3 runs each exec on a goroutine of its own. Stopping one early
// would save nothing, and waits are bounded by the busy timeout anyway.
func short(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// readPool is the read connections; its queries are all short.
type readPool struct{ *sql.DB }

func (p readPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.DB.QueryRowContext(short(ctx), query, args...)
}

func (p readPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return p.DB.QueryContext(short(ctx), query, args...)
}

// isUnique reports a UNIQUE or PRIMARY KEY constraint failure.
func isUnique(err error) bool {
	if pgUnique(err) {
		return true
	}
	var se sqlite3.Error
	return errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
}

// isForeignKey reports a FOREIGN KEY constraint failure.
func isForeignKey(err error) bool {
	if pgForeignKey(err) {
		return true
	}
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintForeignKey
}

// sqliteTime is how SQLite's CURRENT_TIMESTAMP and the studio's SQLAlchemy app
// write DATETIME columns: UTC, no zone suffix.
const sqliteTime = "2006-01-02 15:04:05"

func formatTime(t time.Time) string { return t.UTC().Format(sqliteTime) }

// timeLayouts are the forms DATETIME values take in studio databases, the
// most common first: SQLite's CURRENT_TIMESTAMP and SQLAlchemy write the
// first (SQLAlchemy with microseconds, which time.Parse accepts after the
// seconds), the Go driver the second when handed a time.Time. A date alone is
// midnight UTC.
var timeLayouts = []string{sqliteTime, "2006-01-02 15:04:05Z07:00", time.RFC3339Nano, "2006-01-02T15:04:05", time.DateOnly}

// parseStoredTime reads a DATETIME column's text (selected with CAST(... AS
// TEXT), so that the driver converts nothing). ok is false for text in none of
// timeLayouts: the caller treats the value as absent and reports it.
func parseStoredTime(s string) (t time.Time, ok bool) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// parseStoredDate reads a DATE column's text as YYYY-MM-DD. Only a real
// calendar date passes (1990-02-30 does not), written as a date or as a
// date and time; a bare number (1990, 19900102) is no date, even though the
// driver would have read it as Unix seconds.
func parseStoredDate(s string) (string, bool) {
	if len(s) < len(time.DateOnly) {
		return "", false
	}
	if _, err := time.Parse(time.DateOnly, s[:len(time.DateOnly)]); err != nil {
		return "", false
	}
	if len(s) > len(time.DateOnly) {
		if _, ok := parseStoredTime(s); !ok {
			return "", false
		}
	}
	return s[:len(time.DateOnly)], true
}

// nullIfEmpty writes an empty optional field as NULL, the way the studio app does.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
