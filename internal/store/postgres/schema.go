package postgres

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/inkpass/inkpass/migrations"
)

// The studio's users table on PostgreSQL is what SQLAlchemy creates for the
// documented model (SCHEMA.md): Integer primary key as SERIAL, String(n) as
// VARCHAR(n), Boolean as BOOLEAN, Date as DATE, DateTime as TIMESTAMP WITHOUT
// TIME ZONE, the username index unique. SQLAlchemy's Python-side defaults
// (default=True, default=datetime.utcnow) leave no default in the database,
// while the documented DDL has DEFAULT 1 and DEFAULT CURRENT_TIMESTAMP: both
// are accepted, because inkpass always writes is_active and created_at
// itself.
//
// This is the one place that says what "matches SCHEMA.md" means on
// PostgreSQL; UsersDDL creates exactly it on a fresh database.

// wantColumn is one documented column as information_schema describes it.
type wantColumn struct {
	name    string
	typ     string // information_schema.columns.data_type
	length  int    // character_maximum_length; 0 when none
	notNull bool
	// defaults are the accepted column_default values, lower-cased; an
	// empty list means the column must have no default. "" in the list
	// accepts no default too.
	defaults []string
}

var usersColumns = []wantColumn{
	{name: "id", typ: "integer", notNull: true, defaults: []string{"nextval('users_id_seq'::regclass)", "identity"}},
	{name: "username", typ: "character varying", length: 64, notNull: true},
	{name: "password_hash", typ: "character varying", length: 255, notNull: true},
	{name: "role", typ: "character varying", length: 16, notNull: true},
	{name: "artist_id", typ: "integer"},
	{name: "is_active", typ: "boolean", notNull: true, defaults: []string{"", "true"}},
	{name: "name", typ: "character varying", length: 120},
	{name: "birthdate", typ: "date"},
	{name: "email", typ: "character varying", length: 120},
	{name: "phone", typ: "character varying", length: 32},
	{name: "instagram", typ: "character varying", length: 64},
	{name: "created_at", typ: "timestamp without time zone", notNull: true, defaults: []string{"", "current_timestamp", "now()", "localtimestamp"}},
	{name: "last_login", typ: "timestamp without time zone"},
}

// wantIndex is one documented index: by name, as SQLAlchemy names them.
type wantIndex struct {
	name    string
	unique  bool
	columns []string
}

var usersIndexes = []wantIndex{
	{name: "ix_users_username", unique: true, columns: []string{"username"}},
	{name: "ix_users_role", columns: []string{"role"}},
	{name: "ix_users_email", columns: []string{"email"}},
	{name: "ix_users_instagram", columns: []string{"instagram"}},
}

// UsersDDL creates the documented users table, and the minimal artists table
// its foreign key needs, on a fresh PostgreSQL database, exactly as the
// comparison below expects: it is migrations/postgres/0001_users.sql, the
// file the store runs. An adopted database already has both and is never
// altered.
var UsersDDL = func() string {
	b, err := fs.ReadFile(migrations.FS, "postgres/0001_users.sql")
	if err != nil {
		panic("postgres: the embedded users migration is missing: " + err.Error())
	}
	return string(b)
}()

type gotColumn struct {
	name, typ string
	length    int
	notNull   bool
	dflt      string // "" when none; "identity" for an identity column
}

type gotIndex struct {
	name    string
	unique  bool
	partial bool
	columns []string
}

// UsersDifferences lists, in words an operator can act on, how the users
// table in schema differs from the documented one; empty when it matches.
// A missing table is one difference.
func UsersDifferences(ctx context.Context, conn *pgx.Conn, schema string) ([]string, error) {
	cols, err := readColumns(ctx, conn, schema, "users")
	if err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return []string{"table is missing"}, nil
	}
	var out []string
	byName := map[string]gotColumn{}
	for _, c := range cols {
		byName[c.name] = c
	}
	for _, w := range usersColumns {
		g, ok := byName[w.name]
		if !ok {
			out = append(out, fmt.Sprintf("column %s is missing", w.name))
			continue
		}
		if g.typ != w.typ || g.length != w.length {
			out = append(out, fmt.Sprintf("column %s has type %s, documented %s", w.name, typeText(g.typ, g.length), typeText(w.typ, w.length)))
		}
		if g.notNull != w.notNull {
			out = append(out, fmt.Sprintf("column %s NOT NULL is %v, documented %v", w.name, g.notNull, w.notNull))
		}
		if !defaultAccepted(w, g.dflt) {
			out = append(out, fmt.Sprintf("column %s default is %s, documented %s", w.name, orNone(g.dflt), orNone(strings.Join(slices.DeleteFunc(slices.Clone(w.defaults), func(s string) bool { return s == "" }), " or "))))
		}
	}
	documented := map[string]bool{}
	for _, w := range usersColumns {
		documented[w.name] = true
	}
	for _, g := range cols {
		if !documented[g.name] && g.notNull && g.dflt == "" {
			out = append(out, fmt.Sprintf("extra column %s is NOT NULL without a default, so inkpass cannot insert users", g.name))
		}
	}
	if pk, err := primaryKey(ctx, conn, schema, "users"); err != nil {
		return nil, err
	} else if !slices.Equal(pk, []string{"id"}) {
		out = append(out, fmt.Sprintf("primary key is (%s), documented (id)", strings.Join(pk, ", ")))
	}
	idx, err := readIndexes(ctx, conn, schema, "users")
	if err != nil {
		return nil, err
	}
	for _, w := range usersIndexes {
		if !slices.ContainsFunc(idx, func(g gotIndex) bool {
			return g.name == w.name && g.unique == w.unique && !g.partial && slices.Equal(g.columns, w.columns)
		}) {
			out = append(out, fmt.Sprintf("index %s (%s%s) is missing or differs", w.name, uniqueWord(w.unique), strings.Join(w.columns, ", ")))
		}
	}
	ok, err := hasForeignKey(ctx, conn, schema, "users", "artist_id", "artists", "id")
	if err != nil {
		return nil, err
	}
	if !ok {
		out = append(out, "foreign key artist_id -> artists(id) is missing")
	}
	return out, nil
}

func defaultAccepted(w wantColumn, got string) bool {
	if len(w.defaults) == 0 {
		return got == ""
	}
	return slices.Contains(w.defaults, strings.ToLower(got))
}

func readColumns(ctx context.Context, conn *pgx.Conn, schema, table string) ([]gotColumn, error) {
	rows, err := conn.Query(ctx, `
		SELECT column_name, data_type, COALESCE(character_maximum_length, 0), is_nullable = 'NO',
		       CASE WHEN is_identity = 'YES' THEN 'identity' ELSE COALESCE(column_default, '') END
		FROM information_schema.columns
		WHERE table_schema = $1 AND table_name = $2
		ORDER BY ordinal_position`, schema, table)
	if err != nil {
		return nil, fmt.Errorf("read schema of %s.%s: %w", schema, table, err)
	}
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (gotColumn, error) {
		var c gotColumn
		err := r.Scan(&c.name, &c.typ, &c.length, &c.notNull, &c.dflt)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("read schema of %s.%s: %w", schema, table, err)
	}
	return cols, nil
}

func primaryKey(ctx context.Context, conn *pgx.Conn, schema, table string) ([]string, error) {
	rows, err := conn.Query(ctx, `
		SELECT a.attname
		FROM pg_index i
		JOIN pg_class t ON t.oid = i.indrelid
		JOIN pg_namespace n ON n.oid = t.relnamespace
		JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
		JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
		WHERE n.nspname = $1 AND t.relname = $2 AND i.indisprimary
		ORDER BY k.ord`, schema, table)
	if err != nil {
		return nil, fmt.Errorf("read primary key of %s.%s: %w", schema, table, err)
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read primary key of %s.%s: %w", schema, table, err)
	}
	return cols, nil
}

func readIndexes(ctx context.Context, conn *pgx.Conn, schema, table string) ([]gotIndex, error) {
	rows, err := conn.Query(ctx, `
		SELECT ic.relname, i.indisunique, i.indpred IS NOT NULL,
		       ARRAY(SELECT COALESCE(a.attname, '(expression)')
		             FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
		             LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum > 0
		             ORDER BY k.ord)
		FROM pg_index i
		JOIN pg_class t ON t.oid = i.indrelid
		JOIN pg_class ic ON ic.oid = i.indexrelid
		JOIN pg_namespace n ON n.oid = t.relnamespace
		WHERE n.nspname = $1 AND t.relname = $2 AND NOT i.indisprimary`, schema, table)
	if err != nil {
		return nil, fmt.Errorf("read indexes of %s.%s: %w", schema, table, err)
	}
	idx, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (gotIndex, error) {
		var g gotIndex
		err := r.Scan(&g.name, &g.unique, &g.partial, &g.columns)
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("read indexes of %s.%s: %w", schema, table, err)
	}
	return idx, nil
}

func hasForeignKey(ctx context.Context, conn *pgx.Conn, schema, table, column, refTable, refColumn string) (bool, error) {
	var n int
	err := conn.QueryRow(ctx, `
		SELECT count(*)
		FROM pg_constraint c
		JOIN pg_class t ON t.oid = c.conrelid
		JOIN pg_namespace n ON n.oid = t.relnamespace
		JOIN pg_class rt ON rt.oid = c.confrelid
		JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = c.conkey[1]
		JOIN pg_attribute ra ON ra.attrelid = rt.oid AND ra.attnum = c.confkey[1]
		WHERE c.contype = 'f' AND n.nspname = $1 AND t.relname = $2
		  AND array_length(c.conkey, 1) = 1 AND a.attname = $3 AND rt.relname = $4 AND ra.attname = $5`,
		schema, table, column, refTable, refColumn).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read foreign keys of %s.%s: %w", schema, table, err)
	}
	return n > 0, nil
}

func typeText(typ string, length int) string {
	if length > 0 {
		return fmt.Sprintf("%s(%d)", typ, length)
	}
	return typ
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func uniqueWord(u bool) string {
	if u {
		return "UNIQUE on "
	}
	return "on "
}
