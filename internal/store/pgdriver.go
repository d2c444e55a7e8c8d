package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// pgConnector wraps pgx's database/sql connector so that the store's
// queries, written once with SQLite's ? placeholders (and @name for named
// arguments), run on PostgreSQL as they are: each query is rewritten to
// PostgreSQL's $n form once, and the rewrite is cached. Everything else
// passes through to pgx.
type pgConnector struct {
	base    driver.Connector
	rebinds *sync.Map // query -> rebound query
}

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{Conn: conn, rebinds: c.rebinds}, nil
}

func (c pgConnector) Driver() driver.Driver { return c.base.Driver() }

// pgConn is one pgx connection whose queries are rebound.
type pgConn struct {
	driver.Conn
	rebinds *sync.Map
}

var errNoSupport = errors.New("postgres connection: driver lacks a needed interface")

func (c *pgConn) rebind(query string) string {
	if v, ok := c.rebinds.Load(query); ok {
		return v.(string)
	}
	out := rebindQuery(pgDialect(query))
	c.rebinds.Store(query, out)
	return out
}

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.Conn.Prepare(c.rebind(query))
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	p, ok := c.Conn.(driver.ConnPrepareContext)
	if !ok {
		return nil, errNoSupport
	}
	return p.PrepareContext(ctx, c.rebind(query))
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	b, ok := c.Conn.(driver.ConnBeginTx)
	if !ok {
		return nil, errNoSupport
	}
	return b.BeginTx(ctx, opts)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	query, args = c.bind(query, args)
	return q.QueryContext(ctx, query, args)
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	query, args = c.bind(query, args)
	return e.ExecContext(ctx, query, args)
}

// bind rebinds query; named arguments (sql.Named) become positional ones.
func (c *pgConn) bind(query string, args []driver.NamedValue) (string, []driver.NamedValue) {
	named := false
	for _, a := range args {
		if a.Name != "" {
			named = true
			break
		}
	}
	if !named {
		return c.rebind(query), args
	}
	pos := make(map[string]int, len(args))
	out := make([]driver.NamedValue, len(args))
	for i, a := range args {
		pos[a.Name] = i + 1
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: a.Value}
	}
	return rebindNamed(pgDialect(query), pos), out
}

func (c *pgConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *pgConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *pgConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// pgReplacers turn the few SQLite-only phrases of the store's queries into
// PostgreSQL's. They are matched on the query text, so each is written for
// the exact phrase the store uses; TestPgDialect pins them.
var pgReplacers = []struct {
	re   *regexp.Regexp
	with string
}{
	// userSelect's reading of columns the studio's app may fill with any
	// type: PostgreSQL enforces the declared types, so nothing is odd.
	{regexp.MustCompile(`CASE WHEN typeof\((\w+)\.artist_id\) = 'integer' THEN (\w+)\.artist_id END, typeof\(\w+\.artist_id\) NOT IN \('integer', 'null'\)`), `$1.artist_id, false`},
	{regexp.MustCompile(`coalesce\((\w+)\.is_active IN \(0, 1\), 0\)`), `true`},
	// activeSQL: is_active is a real BOOLEAN.
	{regexp.MustCompile(`coalesce\((\w+)\.is_active = 1, 0\)`), `coalesce($1.is_active, false)`},
	// Case-insensitive comparisons.
	// trim(x) and trim(x, 'chars'): UserByLogin's email, UserByUsername's name.
	{regexp.MustCompile(`trim\(([\w.]+)((?:, '[^']*')?)\) = \? COLLATE NOCASE`), `lower(btrim($1$2)) = lower(?)`},
	{regexp.MustCompile(`([\w.]+) = \? COLLATE NOCASE`), `lower($1) = lower(?)`},
	{regexp.MustCompile(`group_concat\(`), `string_agg(`},
	{regexp.MustCompile(`\binstr\(`), `strpos(`},
	// SQLite's max() of several arguments is a scalar; PostgreSQL's is
	// greatest() (GetWithLock's two locks).
	{regexp.MustCompile(`SELECT generation, max\(`), `SELECT generation, greatest(`},
}

// pgDialect rewrites a query's SQLite-only phrases for PostgreSQL.
func pgDialect(q string) string {
	for _, r := range pgReplacers {
		if r.re.MatchString(q) {
			q = r.re.ReplaceAllString(q, r.with)
		}
	}
	return q
}

// rebindQuery turns each ? placeholder into $1, $2... in order, leaving
// string literals, quoted identifiers and comments alone.
func rebindQuery(q string) string {
	n := 0
	return scanSQL(q, func(b *strings.Builder, rest string) int {
		if rest[0] != '?' {
			return 0
		}
		// ?NNN names its argument (SQLite's numbered form): keep the number.
		end := 1
		for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
			end++
		}
		b.WriteByte('$')
		if end > 1 {
			b.WriteString(rest[1:end])
			return end
		}
		n++
		b.WriteString(strconv.Itoa(n))
		return 1
	})
}

// rebindNamed turns each @name placeholder into $k, k being name's position
// in pos; a ? has no place in a query with named arguments.
func rebindNamed(q string, pos map[string]int) string {
	return scanSQL(q, func(b *strings.Builder, rest string) int {
		if rest[0] != '@' {
			return 0
		}
		end := 1
		for end < len(rest) && (rest[end] == '_' || rest[end] >= 'a' && rest[end] <= 'z' || rest[end] >= 'A' && rest[end] <= 'Z' || rest[end] >= '0' && rest[end] <= '9') {
			end++
		}
		k, ok := pos[rest[1:end]]
		if !ok {
			return 0
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(k))
		return end
	})
}

// scanSQL copies q, offering every position outside literals, quoted
// identifiers and comments to replace, which writes its replacement and
// returns how many bytes it consumed (0: none, copy the byte).
func scanSQL(q string, replace func(b *strings.Builder, rest string) int) string {
	var b strings.Builder
	b.Grow(len(q) + 8)
	for i := 0; i < len(q); {
		switch c := q[i]; {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) {
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c { // doubled quote: still inside
						j += 2
						continue
					}
					break
				}
				j++
			}
			j = min(j+1, len(q))
			b.WriteString(q[i:j])
			i = j
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			j := strings.Index(q[i+2:], "*/")
			end := len(q)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(q[i:end])
			i = end
		default:
			if n := replace(&b, q[i:]); n > 0 {
				i += n
				continue
			}
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// The store passes Go bools for inkpass's 0/1 flag columns, which SQLite
// stores as integers; PostgreSQL keeps those columns INTEGER too (so that
// the queries' "enabled = 1" stay as they are), and pgx would refuse to
// encode a bool into one. boolAsInt teaches each connection's integer types
// to take a bool as 1 or 0. A real BOOLEAN column (users.is_active) still
// gets a bool.
type boolAsInt struct{ pgtype.Codec }

func (c boolAsInt) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if _, ok := value.(bool); ok {
		next := m.PlanEncode(oid, format, int64(0))
		if next == nil {
			return nil
		}
		return boolAsIntPlan{next}
	}
	return c.Codec.PlanEncode(m, oid, format, value)
}

type boolAsIntPlan struct{ next pgtype.EncodePlan }

func (p boolAsIntPlan) Encode(value any, buf []byte) ([]byte, error) {
	var n int64
	if value.(bool) {
		n = 1
	}
	return p.next.Encode(n, buf)
}

// registerBoolAsInt installs boolAsInt on a new connection's integer types.
func registerBoolAsInt(_ context.Context, conn *pgx.Conn) error {
	m := conn.TypeMap()
	for _, name := range []string{"int2", "int4", "int8"} {
		t, ok := m.TypeForName(name)
		if !ok {
			return fmt.Errorf("postgres connection: no %s type", name)
		}
		m.RegisterType(&pgtype.Type{Name: t.Name, OID: t.OID, Codec: boolAsInt{t.Codec}})
	}
	return nil
}
