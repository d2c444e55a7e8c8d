package store_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/inkpass/inkpass/internal/store"
)

// fixtureSQL is the studio's database as its Python app leaves it. Tests read
// it from the repository, never from outside it, so a fresh clone runs them.
const fixtureSQL = "../../testdata/studio-fixture.sql"

// documentedDDL is the first DDL block of SCHEMA.md, copied verbatim. The
// schema tests execute it in a database of its own and compare SQLite's reading
// of it with what store.Open left behind, so the comparison is between two
// SQLite answers rather than against a hand-written list.
const documentedDDL = `CREATE TABLE users (
    id INTEGER PRIMARY KEY,

    -- Authentication
    username VARCHAR(64) NOT NULL UNIQUE,
    password_hash VARCHAR(255) NOT NULL,

    -- Authorization
    role VARCHAR(16) NOT NULL,
    artist_id INTEGER,
    is_active BOOLEAN NOT NULL DEFAULT 1,

    -- Personal Information
    name VARCHAR(120),
    birthdate DATE,
    email VARCHAR(120),
    phone VARCHAR(32),
    instagram VARCHAR(64),

    -- Metadata
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_login DATETIME,

    FOREIGN KEY (artist_id) REFERENCES artists(id)
);

CREATE UNIQUE INDEX ix_users_username ON users(username);
CREATE INDEX ix_users_role ON users(role);
CREATE INDEX ix_users_email ON users(email);
CREATE INDEX ix_users_instagram ON users(instagram);
`

// execSQLFile creates the SQLite file at path (if needed) and runs script on it
// through database/sql, the way `sqlite3 path < script` would.
func execSQLFile(t *testing.T, path, script string) {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer db.Close()
	if _, err := db.Exec(script); err != nil {
		t.Fatalf("run script on %s: %v", path, err)
	}
}

// newFixtureDB builds the studio fixture database in a fresh temporary folder
// and returns its path. store.Open has not touched it yet.
func newFixtureDB(t *testing.T) string {
	t.Helper()
	script, err := os.ReadFile(fixtureSQL)
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	path := filepath.Join(t.TempDir(), "studio.db")
	execSQLFile(t, path, string(script))
	return path
}

// mustOpen opens path with store.Open and closes it when the test ends.
func mustOpen(t *testing.T, path string, opts store.Options) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("store.Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return db
}

// openFresh opens a new, empty database.
func openFresh(t *testing.T) *store.DB {
	t.Helper()
	return mustOpen(t, filepath.Join(t.TempDir(), "inkpass.db"), store.Options{})
}

// openAdopted opens a copy of the studio fixture.
func openAdopted(t *testing.T) *store.DB {
	t.Helper()
	return mustOpen(t, newFixtureDB(t), store.Options{})
}

// openRewound makes a fresh database, runs script on the closed file (to put
// it back to just before a migration: delete the migration's row, undo its
// schema change, add rows of that time) and opens it again, so that the
// migration runs on those rows.
func openRewound(t *testing.T, script string) *store.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "inkpass.db")
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatalf("store.Open(%s): %v", path, err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("close store: %v", err)
	}
	execSQLFile(t, path, script)
	return mustOpen(t, path, store.Options{})
}

// rawDB is a plain database/sql handle on path, for reading what the store
// actually wrote, beside the store's own connections.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// queryStrings runs q and returns every row as strings, each value written by
// SQLite's quote(): 'text', 42, NULL, X'00'. Wrapping every column in quote()
// keeps the driver from converting DATETIME text into time.Time, so the result
// is the stored bytes, not a re-formatting of them.
func queryStrings(t *testing.T, db *sql.DB, q string, args ...any) [][]string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			if v.Valid {
				row[i] = v.String
			} else {
				row[i] = "<go-nil>"
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// dumpTable returns every row of table, ordered by id, with each column
// through quote(): byte-exact text, with the storage class visible.
func dumpTable(t *testing.T, db *sql.DB, table string) [][]string {
	t.Helper()
	var cols []string
	for _, r := range queryStrings(t, db, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table) {
		cols = append(cols, fmt.Sprintf(`quote("%s")`, r[0]))
	}
	if len(cols) == 0 {
		t.Fatalf("table %s has no columns", table)
	}
	return queryStrings(t, db, fmt.Sprintf(`SELECT %s FROM "%s" ORDER BY id`, strings.Join(cols, ", "), table))
}

// schemaDump is the whole sqlite_schema, one row per object.
func schemaDump(t *testing.T, db *sql.DB) [][]string {
	t.Helper()
	return queryStrings(t, db, `SELECT type, name, tbl_name, quote(sql) FROM sqlite_schema ORDER BY type, name`)
}

// fileSum is the SHA-256 of the file at path.
func fileSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// tableShape is what PRAGMA table_info, index_list, index_info and
// foreign_key_list say about one table, as comparable text.
type tableShape struct {
	Columns     [][]string
	Indexes     [][]string
	IndexCols   map[string][][]string
	ForeignKeys [][]string
}

func readShape(t *testing.T, db *sql.DB, table string) tableShape {
	t.Helper()
	s := tableShape{IndexCols: map[string][][]string{}}
	s.Columns = queryStrings(t, db, `SELECT cid, name, type, "notnull", quote(dflt_value), pk FROM pragma_table_info(?) ORDER BY cid`, table)
	// seq is the creation order, not part of what an index enforces.
	s.Indexes = queryStrings(t, db, `SELECT name, "unique", origin, partial FROM pragma_index_list(?) ORDER BY name`, table)
	for _, ix := range s.Indexes {
		s.IndexCols[ix[0]] = queryStrings(t, db, `SELECT seqno, cid, quote(name) FROM pragma_index_info(?) ORDER BY seqno`, ix[0])
	}
	s.ForeignKeys = queryStrings(t, db, `SELECT id, seq, "table", "from", quote("to"), on_update, on_delete, "match" FROM pragma_foreign_key_list(?) ORDER BY id, seq`, table)
	return s
}

// documentedShape is the users table as SCHEMA.md's DDL makes it, read from a
// private database of its own.
func documentedShape(t *testing.T) tableShape {
	t.Helper()
	path := filepath.Join(t.TempDir(), "documented.db")
	execSQLFile(t, path, documentedDDL)
	return readShape(t, rawDB(t, path), "users")
}
