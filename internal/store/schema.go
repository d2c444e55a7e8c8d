package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// querier is what schema reading needs: a *sql.DB, *sql.Conn or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// SchemaMismatchError says how an existing table differs from the documented
// schema; inkpass refuses to start on such a database rather than guess.
type SchemaMismatchError struct {
	Table       string
	Differences []string
}

func (e *SchemaMismatchError) Error() string {
	return fmt.Sprintf("table %s does not match the documented schema (SCHEMA.md); nothing was changed:\n  - %s",
		e.Table, strings.Join(e.Differences, "\n  - "))
}

type column struct {
	name    string
	typ     string
	notNull bool
	dflt    sql.NullString
	pk      int
}

type index struct {
	name    string
	unique  bool
	origin  string // c: CREATE INDEX, u: UNIQUE constraint, pk: primary key
	partial bool
	columns []string
}

type foreignKey struct {
	table, from, to string
}

// tableSchema is what PRAGMA table_info, index_list and foreign_key_list say
// about one table: the parts that decide whether inkpass's SQL fits it.
type tableSchema struct {
	columns []column
	indexes []index
	fks     []foreignKey
}

func (s *tableSchema) column(name string) (column, bool) {
	for _, c := range s.columns {
		if strings.EqualFold(c.name, name) {
			return c, true
		}
	}
	return column{}, false
}

func readTableSchema(ctx context.Context, q querier, table string) (*tableSchema, error) {
	s := &tableSchema{}
	rows, err := q.QueryContext(ctx, `SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return nil, fmt.Errorf("read schema of %s: %w", table, err)
	}
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ, &c.notNull, &c.dflt, &c.pk); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read schema of %s: %w", table, err)
		}
		s.columns = append(s.columns, c)
	}
	rows.Close()

	rows, err = q.QueryContext(ctx, `SELECT name, "unique", origin, partial FROM pragma_index_list(?)`, table)
	if err != nil {
		return nil, fmt.Errorf("read indexes of %s: %w", table, err)
	}
	for rows.Next() {
		var ix index
		if err := rows.Scan(&ix.name, &ix.unique, &ix.origin, &ix.partial); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read indexes of %s: %w", table, err)
		}
		s.indexes = append(s.indexes, ix)
	}
	rows.Close()
	for i := range s.indexes {
		rows, err := q.QueryContext(ctx, `SELECT name FROM pragma_index_info(?) ORDER BY seqno`, s.indexes[i].name)
		if err != nil {
			return nil, fmt.Errorf("read index %s: %w", s.indexes[i].name, err)
		}
		for rows.Next() {
			var col sql.NullString
			if err := rows.Scan(&col); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read index %s: %w", s.indexes[i].name, err)
			}
			s.indexes[i].columns = append(s.indexes[i].columns, col.String)
		}
		rows.Close()
	}

	rows, err = q.QueryContext(ctx, `SELECT "table", "from", COALESCE("to", '') FROM pragma_foreign_key_list(?)`, table)
	if err != nil {
		return nil, fmt.Errorf("read foreign keys of %s: %w", table, err)
	}
	for rows.Next() {
		var fk foreignKey
		if err := rows.Scan(&fk.table, &fk.from, &fk.to); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read foreign keys of %s: %w", table, err)
		}
		s.fks = append(s.fks, fk)
	}
	rows.Close()
	return s, rows.Err()
}

// diff lists, in words an operator can act on, how got falls short of s.
// Extra indexes are allowed (SCHEMA.md allows a conditional unique index on
// email); extra columns are allowed unless inkpass's inserts would fail on them.
func (s *tableSchema) diff(got *tableSchema) []string {
	var out []string
	if len(got.columns) == 0 {
		return []string{"table is missing"}
	}
	for _, w := range s.columns {
		g, ok := got.column(w.name)
		if !ok {
			out = append(out, fmt.Sprintf("column %s is missing", w.name))
			continue
		}
		if !strings.EqualFold(g.typ, w.typ) {
			out = append(out, fmt.Sprintf("column %s has type %s, documented %s", w.name, g.typ, w.typ))
		}
		if g.notNull != w.notNull {
			out = append(out, fmt.Sprintf("column %s NOT NULL is %v, documented %v", w.name, g.notNull, w.notNull))
		}
		if g.dflt != w.dflt && !strings.EqualFold(g.dflt.String, w.dflt.String) {
			out = append(out, fmt.Sprintf("column %s default is %s, documented %s", w.name, sqlText(g.dflt), sqlText(w.dflt)))
		}
		if g.pk != w.pk {
			out = append(out, fmt.Sprintf("column %s primary key position is %d, documented %d", w.name, g.pk, w.pk))
		}
	}
	for _, g := range got.columns {
		if _, ok := s.column(g.name); !ok && g.notNull && !g.dflt.Valid && g.pk == 0 {
			out = append(out, fmt.Sprintf("extra column %s is NOT NULL without a default, so inkpass cannot insert users", g.name))
		}
	}
	for _, w := range s.indexes {
		if !slices.ContainsFunc(got.indexes, w.matches) {
			if w.origin == "c" {
				out = append(out, fmt.Sprintf("index %s (%s%s) is missing or differs", w.name, uniqueWord(w.unique), strings.Join(w.columns, ", ")))
			} else {
				out = append(out, fmt.Sprintf("UNIQUE constraint on (%s) is missing", strings.Join(w.columns, ", ")))
			}
		}
	}
	for _, w := range s.fks {
		if !slices.Contains(got.fks, w) {
			out = append(out, fmt.Sprintf("foreign key %s -> %s(%s) is missing", w.from, w.table, w.to))
		}
	}
	return out
}

// matches compares indexes by what they enforce; SQLite names the indexes behind
// UNIQUE constraints itself, so only named indexes must match by name.
func (w index) matches(g index) bool {
	if w.origin == "c" && g.name != w.name {
		return false
	}
	return g.origin == w.origin && g.unique == w.unique && g.partial == w.partial && slices.Equal(g.columns, w.columns)
}

func uniqueWord(u bool) string {
	if u {
		return "UNIQUE on "
	}
	return "on "
}

func sqlText(s sql.NullString) string {
	if !s.Valid {
		return "none"
	}
	return s.String
}

var documented struct {
	once   sync.Once
	schema *tableSchema
	err    error
}

// documentedUsersSchema is the users table as SCHEMA.md's DDL (migration 0001)
// creates it, read back from a private in-memory database. Comparing against
// SQLite's own reading of the DDL, rather than a hand-written list, means the
// check cannot drift from the documentation.
func documentedUsersSchema(ctx context.Context, ddl string) (*tableSchema, error) {
	documented.once.Do(func() {
		mem, err := sql.Open("sqlite3", "file:inkpass-reference?mode=memory")
		if err != nil {
			documented.err = fmt.Errorf("reference schema: %w", err)
			return
		}
		defer mem.Close()
		mem.SetMaxOpenConns(1)
		if _, err := mem.ExecContext(ctx, ddl); err != nil {
			documented.err = fmt.Errorf("reference schema: %w", err)
			return
		}
		documented.schema, documented.err = readTableSchema(ctx, mem, "users")
	})
	return documented.schema, documented.err
}
