package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/inkpass/inkpass/internal/store/postgres"
)

// CopyToPostgres copies this SQLite database into the empty PostgreSQL
// database at dsn (inkpass migrate-to). The source is read in one read
// transaction, so a running server may keep writing and the copy is one
// point in time; the target is written in one transaction, verified (rows
// and a checksum per table) inside it, and committed only when every table
// matches: any failure leaves the target without a row of the copy.
//
// Values are converted to the PostgreSQL column types (the studio's
// DATETIME text to TIMESTAMP, DATE text to DATE, is_active 0/1 to
// BOOLEAN); a value PostgreSQL cannot hold is an OddValue, and the copy is
// refused, before anything is written, unless opts.ForceOdd maps it the way
// inkpass reads it (scanUser).
func (db *DB) CopyToPostgres(ctx context.Context, dsn, password string, opts CopyOptions) (*CopyReport, error) {
	if db.pg {
		return nil, errors.New("the source database is already PostgreSQL")
	}
	where := postgres.Redacted(dsn)
	// Creates the schema (in its own transaction: tables, no rows but the
	// ones the migrations seed), as a first serve would.
	target, err := OpenPostgres(ctx, dsn, password, Options{Logger: db.log})
	if err != nil {
		return nil, err
	}
	target.Close()
	cfg, err := postgres.ConnConfig(dsn, password)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %s", where, pgReason(err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin on %s: %s", where, pgReason(err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// The migration lock: a server started on the target meanwhile waits
	// until the copy is committed or rolled back, and so does a second copy.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, pgMigrationLock); err != nil {
		return nil, fmt.Errorf("lock %s: %s", where, pgReason(err))
	}
	tables, err := pgCopyTables(ctx, tx)
	if err != nil {
		return nil, err
	}
	if err := pgCheckEmpty(ctx, tx, tables); err != nil {
		return nil, err
	}

	sconn, err := db.read.DB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", db.path, err)
	}
	defer sconn.Close()
	stx, err := sconn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", db.path, err)
	}
	defer stx.Rollback()
	c := &copier{src: stx, opts: opts, report: &CopyReport{}, artists: map[int64]bool{}}
	// The first read starts the snapshot every later read sees.
	srcTables, err := c.sqliteTables(ctx)
	if err != nil {
		return nil, err
	}
	if copySnapshotTaken != nil {
		copySnapshotTaken()
	}
	for _, t := range tables {
		if !srcTables[t.name] {
			return nil, fmt.Errorf("the SQLite database has no table %s: run inkpass migrate on it first", t.name)
		}
		if err := c.plan(ctx, t); err != nil {
			return nil, err
		}
		delete(srcTables, t.name)
	}
	for name := range srcTables {
		switch {
		case name == "inkpass_migrations" || strings.HasPrefix(name, "sqlite_"):
		case strings.HasPrefix(name, "inkpass_"):
			// inkpass's own state with nowhere to go: refuse rather than
			// leave it behind.
			return nil, fmt.Errorf("the SQLite table %s has no PostgreSQL counterpart in this inkpass version: nothing was copied", name)
		default:
			c.report.SkippedTables = append(c.report.SkippedTables, name)
		}
	}
	slices.Sort(c.report.SkippedTables)
	if opts.SigningKeys != nil {
		var n int
		if err := stx.QueryRowContext(ctx, `SELECT count(*) FROM inkpass_signing_keys`).Scan(&n); err != nil {
			return nil, fmt.Errorf("count signing keys: %w", err)
		}
		if n > 0 {
			return nil, fmt.Errorf("the SQLite database holds %d signing keys besides the keys folder's: set keys.store to the one in use (inkpass check says which) and run migrate-to again", n)
		}
	}

	// Pass 1: every value converted, nothing written, so that all odd
	// values are listed at once.
	for _, t := range tables {
		if err := c.scan(ctx, t, nil); err != nil {
			return nil, err
		}
	}
	if refused := c.report.refused(); len(refused) > 0 {
		return c.report, &OddValuesError{Odd: refused}
	}

	// Pass 2: the copy.
	for _, t := range tables {
		if seeded[t.name] {
			if _, err := tx.Exec(ctx, `DELETE FROM `+pgx.Identifier{t.name}.Sanitize()); err != nil {
				return nil, fmt.Errorf("clear %s: %s", t.name, pgReason(err))
			}
		}
	}
	c.report.Odd = nil // pass 2 finds the same ones again
	for _, t := range tables {
		if err := c.scan(ctx, t, tx); err != nil {
			return c.report, err
		}
	}
	for _, t := range tables {
		for _, col := range t.cols {
			if !col.serial {
				continue
			}
			q := fmt.Sprintf(`SELECT setval(pg_get_serial_sequence($1, $2), coalesce((SELECT max(%s) FROM %s), 0) + 1, false)`,
				pgx.Identifier{col.name}.Sanitize(), pgx.Identifier{t.name}.Sanitize())
			if _, err := tx.Exec(ctx, q, t.name, col.name); err != nil {
				return c.report, fmt.Errorf("reset the sequence of %s.%s: %s", t.name, col.name, pgReason(err))
			}
			c.report.Sequences++
		}
	}

	// Verify inside the transaction: a difference rolls everything back.
	mismatch := false
	for i, t := range tables {
		n, sum, err := pgTableSum(ctx, tx, t)
		if err != nil {
			return c.report, err
		}
		tc := &c.report.Tables[i]
		tc.Target, tc.TargetSum = n, sum
		if tc.Target != tc.Source || tc.TargetSum != tc.SourceSum {
			mismatch = true
		}
	}
	if mismatch {
		return c.report, errors.New("the copy differs from the source (see the table above): nothing was kept")
	}
	if err := tx.Commit(ctx); err != nil {
		return c.report, fmt.Errorf("commit on %s: %s", where, pgReason(err))
	}
	return c.report, nil
}

// copySnapshotTaken, when set (by a test), runs once the source's read
// transaction has its snapshot.
var copySnapshotTaken func()

// CopyOptions tune CopyToPostgres.
type CopyOptions struct {
	// ForceOdd maps the users table's odd values the way inkpass reads
	// them instead of refusing the copy: is_active other than 0 or 1 is
	// false (inactive); a birthdate or last_login that is no date is NULL;
	// an artist_id that is no integer, or names no artist, is NULL.
	ForceOdd bool
	// SigningKeys, when not nil, are the rows of inkpass_signing_keys
	// instead of the SQLite table's: the keys folder's keys, sealed under
	// the key-encryption key (keys.store: folder).
	SigningKeys []SealedKey
}

// SealedKey is one signing key as inkpass_signing_keys holds it.
type SealedKey struct {
	KID, Alg  string
	Sealed    []byte
	CreatedAt time.Time
	RetiredAt *time.Time
}

// CopyReport is what CopyToPostgres did, table by table.
type CopyReport struct {
	Tables []TableCopy
	// Odd lists values PostgreSQL cannot hold as they are; Mapped says
	// what ForceOdd made of each ("" when it cannot map it).
	Odd []OddValue
	// SkippedColumns are columns of the SQLite tables that the PostgreSQL
	// tables lack ("artists.specialty: 3 values"): their values are not
	// copied.
	SkippedColumns []string
	// SkippedTables are SQLite tables that are not inkpass's or the
	// studio's users and artists (not copied).
	SkippedTables []string
	Sequences     int
}

func (r *CopyReport) refused() []OddValue {
	var out []OddValue
	for _, o := range r.Odd {
		if !o.forced {
			out = append(out, o)
		}
	}
	return out
}

// TableCopy is one table's rows and checksum on each side. The checksum is
// SHA-256 over the rows in primary-key order, each value as text
// (booleans 0/1, times YYYY-MM-DD HH:MM:SS[.ffffff] UTC, dates
// YYYY-MM-DD, bytes as hex, NULL apart from every text).
type TableCopy struct {
	Table                string
	Source, Target       int64
	SourceSum, TargetSum string
}

// OddValue is one value of the source that PostgreSQL cannot hold as it is.
type OddValue struct {
	Table, Row, Column, Problem string
	// Mapped is what ForceOdd stores instead ("" when nothing may).
	Mapped string
	forced bool
}

func (o OddValue) String() string {
	s := fmt.Sprintf("%s %s, %s: %s", o.Table, o.Row, o.Column, o.Problem)
	if o.Mapped != "" {
		s += " (--force-odd: " + o.Mapped + ")"
	}
	return s
}

// OddValuesError refuses a copy over values PostgreSQL cannot hold.
type OddValuesError struct{ Odd []OddValue }

func (e *OddValuesError) Error() string {
	forcible := 0
	for _, o := range e.Odd {
		if o.Mapped != "" {
			forcible++
		}
	}
	msg := fmt.Sprintf("%d values PostgreSQL cannot hold as they are (listed above): nothing was copied", len(e.Odd))
	switch {
	case forcible == len(e.Odd):
		msg += "; fix them in the SQLite database, or pass --force-odd to store them as inkpass reads them"
	case forcible > 0:
		msg += "; fix them in the SQLite database (--force-odd maps only some of them)"
	default:
		msg += "; fix them in the SQLite database"
	}
	return msg
}

// NotEmptyError refuses a target that already holds inkpass's or the
// studio's rows.
type NotEmptyError struct{ Tables []string }

func (e *NotEmptyError) Error() string {
	return "the PostgreSQL database is not empty (" + strings.Join(e.Tables, ", ") + "): migrate-to copies into an empty database only; nothing was copied"
}

// seeded are the tables the PostgreSQL migrations give a row of their own
// (the client generation counter, the default branding row); the copy
// replaces it with the source's, and inkpass_meta's 'adopted' (written when
// inkpass adopted an existing users table there) with the source's meta,
// which says whether the install adopted the studio's database.
var seeded = map[string]bool{"inkpass_client_generation": true, "inkpass_branding": true, "inkpass_meta": true}

// notEmptyWhere counts, per seeded table, the rows that are not the seed.
var notEmptyWhere = map[string]string{
	"inkpass_client_generation": "false",
	"inkpass_branding":          "version <> 0 OR logo_version <> 0",
	"inkpass_meta":              "key <> 'adopted'",
}

// colKind is how a value is converted and written as text for the checksum.
type colKind int

const (
	kindInt colKind = iota
	kindBool
	kindText
	kindBytes
	kindTimestamp
	kindDate
)

type pgColumn struct {
	name     string
	kind     colKind
	bits     int // 32 or 64 for kindInt
	maxLen   int // VARCHAR(n); 0 for none
	nullable bool
	serial   bool
	// expr is the SQLite expression that reads it: the column itself
	// wrapped in likely(), which has no declared type, so that the driver
	// converts nothing (it would turn a DATETIME into a time.Time and a
	// BOOLEAN 2 into true); or SQLite's implicit rowid.
	expr string
}

type pgTable struct {
	name string
	cols []pgColumn // the columns both sides have, in PostgreSQL's order
	all  []pgColumn // every PostgreSQL column
	pk   []string
}

// pgCopyTables lists the tables to copy: the studio's artists and users and
// every inkpass_* table but inkpass_migrations, parents before children.
func pgCopyTables(ctx context.Context, tx pgx.Tx) ([]*pgTable, error) {
	rows, err := tx.Query(ctx, `SELECT c.table_name, c.column_name, c.data_type, coalesce(c.character_maximum_length, 0),
		c.is_nullable = 'YES', coalesce(c.column_default LIKE 'nextval(%', false)
		FROM information_schema.columns c JOIN information_schema.tables t
		  ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
		WHERE c.table_schema = current_schema()
		  AND (c.table_name IN ('users', 'artists') OR (c.table_name LIKE 'inkpass\_%' AND c.table_name <> 'inkpass_migrations'))
		ORDER BY c.table_name, c.ordinal_position`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %s", pgReason(err))
	}
	byName := map[string]*pgTable{}
	var names []string
	for rows.Next() {
		var table, name, typ string
		var maxLen int32
		var col pgColumn
		if err := rows.Scan(&table, &name, &typ, &maxLen, &col.nullable, &col.serial); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list tables: %w", err)
		}
		col.name, col.maxLen = name, int(maxLen)
		switch typ {
		case "integer", "smallint":
			col.kind, col.bits = kindInt, 32
		case "bigint":
			col.kind, col.bits = kindInt, 64
		case "boolean":
			col.kind = kindBool
		case "text", "character varying":
			col.kind = kindText
		case "bytea":
			col.kind = kindBytes
		case "timestamp without time zone":
			col.kind = kindTimestamp
		case "date":
			col.kind = kindDate
		default:
			rows.Close()
			return nil, fmt.Errorf("column %s.%s is %s: migrate-to does not copy that type", table, name, typ)
		}
		t := byName[table]
		if t == nil {
			t = &pgTable{name: table}
			byName[table] = t
			names = append(names, table)
		}
		t.all = append(t.all, col)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	for _, t := range byName {
		rows, err := tx.Query(ctx, `SELECT a.attname FROM pg_index i
			JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
			WHERE i.indrelid = $1::regclass AND i.indisprimary
			ORDER BY array_position(i.indkey::int2[], a.attnum)`, pgx.Identifier{t.name}.Sanitize())
		if err != nil {
			return nil, fmt.Errorf("primary key of %s: %s", t.name, pgReason(err))
		}
		if t.pk, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return nil, fmt.Errorf("primary key of %s: %w", t.name, err)
		}
		if len(t.pk) == 0 {
			return nil, fmt.Errorf("table %s has no primary key: migrate-to cannot verify it", t.name)
		}
	}
	rows, err = tx.Query(ctx, `SELECT child.relname, parent.relname FROM pg_constraint k
		JOIN pg_class child ON child.oid = k.conrelid JOIN pg_class parent ON parent.oid = k.confrelid
		JOIN pg_namespace n ON n.oid = k.connamespace
		WHERE k.contype = 'f' AND n.nspname = current_schema()`)
	if err != nil {
		return nil, fmt.Errorf("list foreign keys: %s", pgReason(err))
	}
	parents := map[string][]string{}
	for rows.Next() {
		var child, parent string
		if err := rows.Scan(&child, &parent); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list foreign keys: %w", err)
		}
		if child != parent {
			parents[child] = append(parents[child], parent)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list foreign keys: %w", err)
	}
	// Parents first; among equals by name, except that the client
	// generation counter comes after inkpass_clients, whose trigger bumps
	// it (the copy must end with the source's value).
	rank := func(n string) string {
		switch n {
		case "artists":
			return "0"
		case "users":
			return "1"
		case "inkpass_client_generation":
			return "~"
		}
		return "2" + n
	}
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(rank(a), rank(b)) })
	var out []*pgTable
	done := map[string]bool{}
	for len(out) < len(names) {
		progressed := false
		for _, n := range names {
			if done[n] {
				continue
			}
			ready := true
			for _, p := range parents[n] {
				if _, ours := byName[p]; ours && !done[p] {
					ready = false
				}
			}
			if ready {
				done[n] = true
				out = append(out, byName[n])
				progressed = true
				break
			}
		}
		if !progressed {
			return nil, errors.New("the tables' foreign keys form a cycle: migrate-to cannot order them")
		}
	}
	return out, nil
}

// pgCheckEmpty refuses a target holding rows beyond the migrations' seeds.
func pgCheckEmpty(ctx context.Context, tx pgx.Tx, tables []*pgTable) error {
	var full []string
	for _, t := range tables {
		cond := "true"
		if w, ok := notEmptyWhere[t.name]; ok {
			cond = w
		}
		var n int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{t.name}.Sanitize()+` WHERE `+cond).Scan(&n); err != nil {
			return fmt.Errorf("count %s: %s", t.name, pgReason(err))
		}
		if n > 0 {
			full = append(full, fmt.Sprintf("%s has %d rows", t.name, n))
		}
	}
	if len(full) > 0 {
		return &NotEmptyError{Tables: full}
	}
	return nil
}

// copier reads the SQLite side of one copy.
type copier struct {
	src    *sql.Tx
	opts   CopyOptions
	report *CopyReport
	// artists are the artist ids, for users.artist_id (SQLite does not
	// check it unless the writer turned foreign keys on; PostgreSQL does).
	artists map[int64]bool
}

func (c *copier) sqliteTables(ctx context.Context) (map[string]bool, error) {
	rows, err := c.src.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		return nil, fmt.Errorf("list SQLite tables: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out[n] = true
	}
	return out, rows.Err()
}

// plan matches t's columns with the SQLite table's by name.
func (c *copier) plan(ctx context.Context, t *pgTable) error {
	rows, err := c.src.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, t.name)
	if err != nil {
		return fmt.Errorf("columns of %s: %w", t.name, err)
	}
	have := map[string]bool{}
	var order []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		have[n] = true
		order = append(order, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	pgHas := map[string]bool{}
	for _, col := range t.all {
		pgHas[col.name] = true
		switch {
		case have[col.name]:
			col.expr = "likely(" + quoteSQLite(col.name) + ")"
		case col.name == "rowid":
			col.expr = "rowid" // SQLite's implicit one
		default:
			continue // PostgreSQL's default fills it
		}
		t.cols = append(t.cols, col)
	}
	for _, k := range t.pk {
		if !have[k] {
			return fmt.Errorf("the SQLite table %s has no column %s (its primary key on PostgreSQL)", t.name, k)
		}
	}
	for _, n := range order {
		if pgHas[n] {
			continue
		}
		var values int64
		if err := c.src.QueryRowContext(ctx, `SELECT count(`+quoteSQLite(n)+`) FROM `+quoteSQLite(t.name)).Scan(&values); err != nil {
			return fmt.Errorf("count %s.%s: %w", t.name, n, err)
		}
		c.report.SkippedColumns = append(c.report.SkippedColumns, fmt.Sprintf("%s.%s: %d values", t.name, n, values))
	}
	return nil
}

func quoteSQLite(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// scan reads t's rows in primary-key order and converts them; with tx it
// also copies them (COPY) and records the table's count and checksum.
func (c *copier) scan(ctx context.Context, t *pgTable, tx pgx.Tx) error {
	src, err := c.rows(ctx, t)
	if err != nil {
		return err
	}
	defer src.close()
	rs := &rowSource{c: c, t: t, src: src, sum: sha256.New()}
	if tx == nil {
		for rs.Next() {
		}
		return rs.Err()
	}
	names := make([]string, len(t.cols))
	for i, col := range t.cols {
		names[i] = col.name
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, names, rs)
	if rs.err != nil {
		return rs.err
	}
	if err != nil {
		return fmt.Errorf("copy %s: %s", t.name, pgDetail(err))
	}
	if n != rs.n {
		return fmt.Errorf("copy %s: %d rows sent, %d written", t.name, rs.n, n)
	}
	c.report.Tables = append(c.report.Tables, TableCopy{Table: t.name, Source: rs.n, SourceSum: hex.EncodeToString(rs.sum.Sum(nil))})
	return nil
}

// pgDetail is a PostgreSQL error with, for a foreign key, its detail (which
// key names no row), for a copy that fails half-way. Other details are left
// out: a CHECK or NOT NULL violation's is "Failing row contains (...)", every
// value of the row, password hashes and sealed keys included, and a unique
// violation's quotes the key, which may be a hash or an address.
func pgDetail(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Detail != "" && pe.Code == "23503" {
		return fmt.Sprintf("%s: %s (SQLSTATE %s)", pe.Message, pe.Detail, pe.Code)
	}
	return pgReason(err)
}

// rawRows yields a table's rows as the SQLite driver returns them.
type rawRows interface {
	next() bool
	values() []any
	err() error
	close()
}

func (c *copier) rows(ctx context.Context, t *pgTable) (rawRows, error) {
	if t.name == "inkpass_signing_keys" && c.opts.SigningKeys != nil {
		return newKeyRows(t, c.opts.SigningKeys), nil
	}
	exprs := make([]string, len(t.cols))
	for i, col := range t.cols {
		exprs[i] = col.expr
	}
	order := make([]string, len(t.pk))
	for i, k := range t.pk {
		order[i] = quoteSQLite(k)
	}
	rows, err := c.src.QueryContext(ctx, `SELECT `+strings.Join(exprs, ", ")+` FROM `+quoteSQLite(t.name)+` ORDER BY `+strings.Join(order, ", "))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.name, err)
	}
	return &sqlRows{rows: rows, vals: make([]any, len(t.cols))}, nil
}

type sqlRows struct {
	rows    *sql.Rows
	vals    []any
	scanErr error
}

func (r *sqlRows) next() bool {
	if !r.rows.Next() {
		return false
	}
	ptrs := make([]any, len(r.vals))
	for i := range r.vals {
		ptrs[i] = &r.vals[i]
	}
	if err := r.rows.Scan(ptrs...); err != nil {
		r.scanErr = err
		r.rows.Close()
		return false
	}
	return true
}
func (r *sqlRows) values() []any { return r.vals }
func (r *sqlRows) err() error {
	if r.scanErr != nil {
		return r.scanErr
	}
	return r.rows.Err()
}
func (r *sqlRows) close() { r.rows.Close() }

// keyRows yields the folder's sealed keys as inkpass_signing_keys rows.
type keyRows struct {
	t    *pgTable
	keys []SealedKey
	i    int
	vals []any
}

func newKeyRows(t *pgTable, ks []SealedKey) *keyRows {
	ks = slices.Clone(ks)
	slices.SortFunc(ks, func(a, b SealedKey) int { return strings.Compare(a.KID, b.KID) })
	return &keyRows{t: t, keys: ks, i: -1}
}

func (r *keyRows) next() bool {
	r.i++
	if r.i >= len(r.keys) {
		return false
	}
	k := r.keys[r.i]
	r.vals = make([]any, len(r.t.cols))
	for i, col := range r.t.cols {
		switch col.name {
		case "kid":
			r.vals[i] = k.KID
		case "alg":
			r.vals[i] = k.Alg
		case "private_key":
			r.vals[i] = k.Sealed
		case "created_at":
			r.vals[i] = k.CreatedAt.UTC().Format(time.RFC3339Nano)
		case "retired_at":
			if k.RetiredAt != nil {
				r.vals[i] = k.RetiredAt.UTC().Format(time.RFC3339Nano)
			}
		}
	}
	return true
}
func (r *keyRows) values() []any { return r.vals }
func (r *keyRows) err() error    { return nil }
func (r *keyRows) close()        {}

// rowSource converts rows for COPY (pgx.CopyFromSource) and sums them.
type rowSource struct {
	c    *copier
	t    *pgTable
	src  rawRows
	sum  hash.Hash
	out  []any
	n    int64
	err  error
	done bool
}

func (s *rowSource) Next() bool {
	if s.done {
		return false
	}
	for s.src.next() {
		row, ok := s.c.convert(s.t, s.src.values())
		if !ok {
			continue // odd and refused: listed, and pass 1 stops the copy
		}
		s.out = row
		s.n++
		s.sum.Write(rowText(s.t.cols, row))
		return true
	}
	s.done = true
	if err := s.src.err(); err != nil {
		s.err = fmt.Errorf("read %s: %w", s.t.name, err)
	}
	return false
}

func (s *rowSource) Values() ([]any, error) { return s.out, nil }
func (s *rowSource) Err() error             { return s.err }

// convert turns one SQLite row into PostgreSQL values; ok is false when a
// value is odd and may not be mapped.
func (c *copier) convert(t *pgTable, raw []any) ([]any, bool) {
	out := make([]any, len(raw))
	ok := true
	var key string
	rowKey := func() string {
		if key == "" {
			var parts []string
			for _, k := range t.pk {
				for i, col := range t.cols {
					if col.name == k {
						parts = append(parts, fmt.Sprintf("%s=%s", k, shortValue(raw[i])))
					}
				}
			}
			key = strings.Join(parts, ",")
		}
		return key
	}
	for i, col := range t.cols {
		v, problem := convertValue(col, raw[i])
		if problem == "" && t.name == "users" && col.name == "artist_id" && v != nil && !c.artists[v.(int64)] {
			problem = fmt.Sprintf("%d names no artist", v.(int64))
		}
		if problem == "" {
			out[i] = v
			continue
		}
		odd := OddValue{Table: t.name, Row: rowKey(), Column: col.name, Problem: problem}
		if t.name == "users" {
			switch col.name {
			case "is_active":
				odd.Mapped, v = "false (inactive), as inkpass reads it", false
			case "birthdate", "last_login", "artist_id":
				odd.Mapped, v = "NULL (empty), as inkpass reads it", nil
			}
		}
		odd.forced = c.opts.ForceOdd && odd.Mapped != ""
		c.report.Odd = append(c.report.Odd, odd)
		if !odd.forced {
			ok = false
		}
		out[i] = v
	}
	if ok && t.name == "artists" {
		for i, col := range t.cols {
			if col.name == "id" {
				if id, isInt := out[i].(int64); isInt {
					c.artists[id] = true
				}
			}
		}
	}
	return out, ok
}

// shortValue shows a value in a report line: short, and never the bytes of
// a blob (a hash, a sealed key).
func shortValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return fmt.Sprintf("(%d bytes)", len(v))
	case string:
		if utf8.RuneCountInString(v) > 40 {
			return fmt.Sprintf("(text of %d characters)", utf8.RuneCountInString(v))
		}
		return strconv.Quote(v)
	default:
		return fmt.Sprint(v)
	}
}

// convertValue converts one SQLite value (int64, float64, string, []byte or
// nil) to col's type; problem says why it cannot.
func convertValue(col pgColumn, v any) (any, string) {
	if v == nil {
		if !col.nullable {
			return nil, "is NULL in a NOT NULL column"
		}
		return nil, ""
	}
	switch col.kind {
	case kindInt:
		n, isInt := v.(int64)
		if !isInt {
			return nil, fmt.Sprintf("%s is not an integer", shortValue(v))
		}
		if col.bits == 32 && (n < math.MinInt32 || n > math.MaxInt32) {
			return nil, fmt.Sprintf("%d does not fit a PostgreSQL INTEGER", n)
		}
		return n, ""
	case kindBool:
		if n, isInt := v.(int64); isInt && (n == 0 || n == 1) {
			return n == 1, ""
		}
		return nil, fmt.Sprintf("%s is not 0 or 1", shortValue(v))
	case kindText:
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case []byte:
			s = string(v)
		case int64:
			s = strconv.FormatInt(v, 10)
		default:
			return nil, fmt.Sprintf("%s is not text", shortValue(v))
		}
		if !utf8.ValidString(s) {
			return nil, "is not valid UTF-8"
		}
		if strings.ContainsRune(s, 0) {
			return nil, "holds a NUL character, which PostgreSQL text cannot"
		}
		if col.maxLen > 0 && utf8.RuneCountInString(s) > col.maxLen {
			return nil, fmt.Sprintf("has %d characters, more than the column's %d", utf8.RuneCountInString(s), col.maxLen)
		}
		return s, ""
	case kindBytes:
		switch v := v.(type) {
		case []byte:
			return v, ""
		case string:
			return []byte(v), ""
		}
		return nil, fmt.Sprintf("%s is not bytes", shortValue(v))
	case kindTimestamp:
		s, isText := v.(string)
		if !isText {
			return nil, fmt.Sprintf("%s is not a date and time", shortValue(v))
		}
		t, ok := parseStoredTime(s)
		if !ok {
			return nil, fmt.Sprintf("%s is not a date and time", shortValue(v))
		}
		if t.Nanosecond()%1000 != 0 {
			return nil, fmt.Sprintf("%s is finer than the microseconds PostgreSQL keeps", shortValue(v))
		}
		return t, ""
	case kindDate:
		s, isText := v.(string)
		if !isText {
			return nil, fmt.Sprintf("%s is not a date written YYYY-MM-DD", shortValue(v))
		}
		d, ok := parseStoredDate(s)
		if !ok {
			return nil, fmt.Sprintf("%s is not a date written YYYY-MM-DD", shortValue(v))
		}
		t, _ := time.Parse(time.DateOnly, d)
		return t, ""
	}
	return nil, "has a type migrate-to does not copy"
}

// rowText is one row as the checksum reads it: each value as text, length
// first, so that no two rows read the same.
func rowText(cols []pgColumn, row []any) []byte {
	var b []byte
	for i, v := range row {
		if v == nil {
			b = append(b, "N;"...)
			continue
		}
		s := valueText(cols[i].kind, v)
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
		b = append(b, ';')
	}
	return append(b, '\n')
}

func valueText(kind colKind, v any) string {
	switch v := v.(type) {
	case bool:
		if v {
			return "1"
		}
		return "0"
	case int16:
		return strconv.FormatInt(int64(v), 10)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case int64:
		return strconv.FormatInt(v, 10)
	case time.Time:
		if kind == kindDate {
			return v.Format(time.DateOnly)
		}
		return v.UTC().Format("2006-01-02 15:04:05.999999")
	case []byte:
		return hex.EncodeToString(v)
	case string:
		return v
	}
	return fmt.Sprintf("%T:%v", v, v)
}

// pgTableSum counts and sums t as the target holds it, in primary-key
// order (text keys in byte order, as SQLite compares them).
func pgTableSum(ctx context.Context, tx pgx.Tx, t *pgTable) (int64, string, error) {
	sel := make([]string, len(t.cols))
	for i, col := range t.cols {
		sel[i] = pgx.Identifier{col.name}.Sanitize()
	}
	order := make([]string, len(t.pk))
	for i, k := range t.pk {
		order[i] = pgx.Identifier{k}.Sanitize()
		for _, col := range t.cols {
			if col.name == k && col.kind == kindText {
				order[i] += ` COLLATE "C"`
			}
		}
	}
	rows, err := tx.Query(ctx, `SELECT `+strings.Join(sel, ", ")+` FROM `+pgx.Identifier{t.name}.Sanitize()+` ORDER BY `+strings.Join(order, ", "))
	if err != nil {
		return 0, "", fmt.Errorf("verify %s: %s", t.name, pgReason(err))
	}
	defer rows.Close()
	h := sha256.New()
	var n int64
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return 0, "", fmt.Errorf("verify %s: %w", t.name, err)
		}
		for i, v := range vals {
			if tm, isTime := v.(time.Time); isTime {
				vals[i] = tm.UTC()
			}
		}
		h.Write(rowText(t.cols, vals))
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, "", fmt.Errorf("verify %s: %s", t.name, pgReason(err))
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
