package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/inkpass/inkpass/internal/store/postgres"
)

// PostgreSQL runs the same store over a PostgreSQL database, for more than
// one inkpass server on one database. The queries are the SQLite ones,
// rewritten on the way (pgdriver.go); what differs is underneath:
//
//   - Every write transaction runs at SERIALIZABLE isolation and is retried
//     when PostgreSQL reports a serialization failure or a deadlock. That
//     gives each transaction the outcome it would have had alone, which is
//     what SQLite's single writer gives, so the read-then-write
//     transactions of the store (a code redemption, a refresh rotation, a
//     throttle reservation) keep their guarantees across servers.
//   - There is no group commit: PostgreSQL has many writers, and a pool.
//   - Migrations come from migrations/postgres and run under an advisory
//     lock, so that replicas starting at once migrate once.

// pgMigrationLock is the advisory lock key of migrations (any constant
// unique to inkpass).
const pgMigrationLock = 0x696e6b70 // "inkp"

// pgMaxWait caps the pause between two attempts of a transaction that could
// not be serialized; the pauses start at 2 ms, double, and are jittered.
const pgMaxWait = 100 * time.Millisecond

// OpenPostgres connects to the PostgreSQL database at dsn (password, when not
// empty, replacing the URL's), applies the pending migrations and checks the
// users table against the documented schema. On a database whose users table
// differs, it returns a *SchemaMismatchError and changes nothing.
func OpenPostgres(ctx context.Context, dsn, password string, opts Options) (*DB, error) {
	opts = opts.withDefaults()
	cfg, err := postgres.ConnConfig(dsn, password)
	if err != nil {
		return nil, err
	}
	where := postgres.Redacted(dsn)
	db := &DB{path: where, pg: true, now: opts.Now, writeBudget: opts.WriteBudget, pruneBatch: opts.PruneBatch, log: opts.Logger}
	if err := db.migratePostgres(ctx, cfg); err != nil {
		return nil, err
	}
	pool := sql.OpenDB(pgConnector{base: stdlib.GetConnector(*cfg, stdlib.OptionAfterConnect(registerBoolAsInt)), rebinds: &sync.Map{}})
	pool.SetMaxOpenConns(20)
	pool.SetMaxIdleConns(10)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database %s: %s", where, pgReason(err))
	}
	db.write = pool
	db.read.DB = pool
	return db, nil
}

// migratePostgres brings the database up to date in one transaction, under
// the migration lock, on a connection of its own.
func (db *DB) migratePostgres(ctx context.Context, cfg *pgx.ConnConfig) error {
	ms, err := loadMigrationsFrom("postgres")
	if err != nil {
		return err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("open database %s: %s", db.path, pgReason(err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, pgMigrationLock); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, ddl := range []string{
		`CREATE TABLE IF NOT EXISTS inkpass_migrations (
			version INTEGER PRIMARY KEY,
			name TEXT NOT NULL,
			applied_at TIMESTAMP WITHOUT TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
		`CREATE TABLE IF NOT EXISTS inkpass_meta (
			key TEXT PRIMARY KEY,
			value TEXT NOT NULL)`,
	} {
		if _, err := tx.Exec(ctx, ddl); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	rows, err := tx.Query(ctx, `SELECT version FROM inkpass_migrations`)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	applied := map[int]bool{}
	for _, v := range versions {
		applied[int(v)] = true
	}
	users, err := pgTableExists(ctx, tx, "users")
	if err != nil {
		return err
	}
	artists, err := pgTableExists(ctx, tx, "artists")
	if err != nil {
		return err
	}
	if !applied[usersMigration] {
		switch {
		case !users && artists:
			return &SchemaMismatchError{Table: "users", Differences: []string{"table users is missing, but table artists exists: this is not a database inkpass can create or adopt"}}
		case users:
			if diffs, err := postgres.UsersDifferences(ctx, tx.Conn(), "public"); err != nil {
				return err
			} else if len(diffs) > 0 {
				return &SchemaMismatchError{Table: "users", Differences: diffs}
			}
			if !artists {
				return &SchemaMismatchError{Table: "artists", Differences: []string{"table artists is missing (users.artist_id references it)"}}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO inkpass_meta (key, value) VALUES ('adopted', '1')`); err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO inkpass_migrations (version, name) VALUES ($1, $2)`, usersMigration, ms[usersMigration-1].name); err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
			applied[usersMigration] = true
		}
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("apply migration postgres/%04d_%s: %w", m.version, m.name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO inkpass_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
			return fmt.Errorf("record migration postgres/%04d_%s: %w", m.version, m.name, err)
		}
	}
	// Check on every start, not only at adoption: the studio's app shares
	// this database and could have altered the table since.
	if diffs, err := postgres.UsersDifferences(ctx, tx.Conn(), "public"); err != nil {
		return err
	} else if len(diffs) > 0 {
		return &SchemaMismatchError{Table: "users", Differences: diffs}
	}
	var adopted string
	err = tx.QueryRow(ctx, `SELECT value FROM inkpass_meta WHERE key = 'adopted'`).Scan(&adopted)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("migrate: %w", err)
	}
	db.adopted = adopted == "1"
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'artists' AND column_name = 'name'`).Scan(&n); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	db.artistName = n > 0
	db.userSelect = userSelect(db.artistName, true)
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

func pgTableExists(ctx context.Context, tx pgx.Tx, name string) (bool, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`, name).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look for table %s: %w", name, err)
	}
	return n > 0, nil
}

// inTxPostgres runs fn in a SERIALIZABLE transaction, retried while
// PostgreSQL answers that it could not serialize it (or broke a deadlock), for
// up to the write budget, as a write on a locked SQLite database is; then it
// fails with a *BusyError (503 upstream), never as an internal error.
//
// The retries are bounded by time, not by a count: under load, transactions
// that touch different rows still collide in the serializable checks (their
// predicate locks cover shared index pages, or a whole table while it is
// small), and two servers' rotations failed ten times in a row now and then.
// The pauses are jittered so that the transactions that collided do not
// collide again in step.
func (db *DB) inTxPostgres(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	start := time.Now()
	wait := 2 * time.Millisecond
	for {
		err := db.inTxOnce(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable}, fn)
		if err == nil || !pgRetryable(err) {
			return err
		}
		// Between half the pause and the whole of it.
		pause := wait/2 + rand.N(wait/2+1)
		if time.Since(start)+pause > db.writeBudget {
			return &BusyError{Waited: time.Since(start), cause: err}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		wait = min(2*wait, pgMaxWait)
	}
}

// pgRetryable reports a serialization failure or deadlock: the transaction
// did nothing and may run again.
func pgRetryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// pgReason is a connection error in one line without the password.
func pgReason(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return ce.Unwrap().Error()
	}
	return strings.TrimSpace(err.Error())
}

// pgUnique and pgForeignKey classify constraint failures as isUnique and
// isForeignKey do for SQLite.
func pgUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

func pgForeignKey(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}

// pgWriteReady is WriteReady on PostgreSQL: the pool reaches the server and
// the server takes writes (a standby in recovery does not; after a
// fail-over the pool's connections may still point at it).
func (db *DB) pgWriteReady(ctx context.Context) error {
	var recovering bool
	if err := db.read.DB.QueryRowContext(ctx, `SELECT pg_is_in_recovery()`).Scan(&recovering); err != nil {
		return fmt.Errorf("database unreachable: %s", pgReason(err))
	}
	if recovering {
		return errors.New("database is a read-only standby (in recovery): writes would fail")
	}
	return nil
}

// pgPruneLock is the advisory lock key of Prune: one replica prunes at a
// time, the others skip their turn.
const pgPruneLock = pgMigrationLock + 1

// OnlyOnce runs fn unless another server holds the lock named by key (a
// PostgreSQL advisory lock, held by one connection while fn runs); it
// reports whether fn ran. On SQLite, where one server owns the file, fn
// always runs. Background work (pruning) goes through it, so that replicas
// do not all do it at once.
func (db *DB) OnlyOnce(ctx context.Context, key int64, fn func(ctx context.Context) error) (bool, error) {
	if !db.pg {
		return true, fn(ctx)
	}
	conn, err := db.read.DB.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("background lock: %w", err)
	}
	defer conn.Close()
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(?)`, key).Scan(&got); err != nil {
		return false, fmt.Errorf("background lock: %w", err)
	}
	if !got {
		return false, nil
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(?)`, key)
	return true, fn(ctx)
}

// fitsID reports whether id can be a row of the studio's tables: on
// PostgreSQL their ids are INTEGER (SERIAL, as SQLAlchemy makes them), and a
// larger number, which only a hand-typed URL or form can hold, would fail
// to encode rather than find nothing. On SQLite every int64 fits.
func (db *DB) fitsID(id int64) bool {
	return !db.pg || (id >= math.MinInt32 && id <= math.MaxInt32)
}
