package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/inkpass/inkpass/internal/store"
)

func assertShape(t *testing.T, got, want tableShape) {
	t.Helper()
	if !reflect.DeepEqual(got.Columns, want.Columns) {
		t.Errorf("PRAGMA table_info(users):\n got  %q\n want %q", got.Columns, want.Columns)
	}
	if !reflect.DeepEqual(got.Indexes, want.Indexes) {
		t.Errorf("PRAGMA index_list(users):\n got  %q\n want %q", got.Indexes, want.Indexes)
	}
	if !reflect.DeepEqual(got.IndexCols, want.IndexCols) {
		t.Errorf("PRAGMA index_info of users' indexes:\n got  %q\n want %q", got.IndexCols, want.IndexCols)
	}
	if !reflect.DeepEqual(got.ForeignKeys, want.ForeignKeys) {
		t.Errorf("PRAGMA foreign_key_list(users):\n got  %q\n want %q", got.ForeignKeys, want.ForeignKeys)
	}
}

func TestOpen_FreshDatabase(t *testing.T) {
	want := documentedShape(t)
	// Guard the guard: the reference must really hold what SCHEMA.md says.
	if len(want.Columns) != 13 || len(want.Indexes) != 5 || len(want.ForeignKeys) != 1 {
		t.Fatalf("documented users table read as %d columns, %d indexes, %d foreign keys; want 13, 5 (4 named + UNIQUE), 1",
			len(want.Columns), len(want.Indexes), len(want.ForeignKeys))
	}

	path := filepath.Join(t.TempDir(), "sub", "inkpass.db")
	db := mustOpen(t, path, store.Options{})
	if db.Adopted() {
		t.Error("a new database reports Adopted() = true")
	}
	raw := rawDB(t, path)

	t.Run("users matches the documented DDL column for column and index for index", func(t *testing.T) {
		assertShape(t, readShape(t, raw, "users"), want)
	})

	t.Run("artists has an integer primary key id and a name", func(t *testing.T) {
		cols := queryStrings(t, raw, `SELECT name, type, pk FROM pragma_table_info('artists') ORDER BY cid`)
		var names []string
		for _, c := range cols {
			names = append(names, c[0])
			if c[0] == "id" && (c[1] != "INTEGER" || c[2] != "1") {
				t.Errorf("artists.id is %s pk=%s, want INTEGER pk=1", c[1], c[2])
			}
		}
		if !slices.Contains(names, "id") || !slices.Contains(names, "name") {
			t.Errorf("artists columns = %v, want id and name among them", names)
		}
	})

	t.Run("the file is private to its owner", func(t *testing.T) {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("database file mode = %v, want 0600", perm)
		}
	})

	t.Run("the database is in WAL mode", func(t *testing.T) {
		// journal_mode=WAL is stored in the file, so any connection sees it.
		if mode := queryStrings(t, raw, `PRAGMA journal_mode`); mode[0][0] != "wal" {
			t.Errorf("journal_mode = %s, want wal", mode[0][0])
		}
	})
}

func TestOpen_AdoptsStudioDatabase(t *testing.T) {
	want := documentedShape(t)
	path := newFixtureDB(t)

	before := rawDB(t, path)
	usersBefore := dumpTable(t, before, "users")
	artistsBefore := dumpTable(t, before, "artists")
	schemaBefore := schemaDump(t, before)
	before.Close()
	if len(usersBefore) != 5 || len(artistsBefore) != 3 {
		t.Fatalf("fixture holds %d users and %d artists, want 5 and 3", len(usersBefore), len(artistsBefore))
	}

	db := mustOpen(t, path, store.Options{})
	if !db.Adopted() {
		t.Error("the studio's database reports Adopted() = false")
	}
	raw := rawDB(t, path)

	t.Run("users still matches the documented DDL", func(t *testing.T) {
		assertShape(t, readShape(t, raw, "users"), want)
	})

	t.Run("every users and artists row is byte-for-byte unchanged", func(t *testing.T) {
		if got := dumpTable(t, raw, "users"); !reflect.DeepEqual(got, usersBefore) {
			t.Errorf("users rows changed:\n got  %q\n want %q", got, usersBefore)
		}
		if got := dumpTable(t, raw, "artists"); !reflect.DeepEqual(got, artistsBefore) {
			t.Errorf("artists rows changed:\n got  %q\n want %q", got, artistsBefore)
		}
	})

	t.Run("the DDL text of users, artists and their indexes is unchanged", func(t *testing.T) {
		after := schemaDump(t, raw)
		for _, row := range schemaBefore {
			if !slices.ContainsFunc(after, func(r []string) bool { return slices.Equal(r, row) }) {
				t.Errorf("sqlite_schema entry changed or removed: %q", row)
			}
		}
	})

	t.Run("inkpass only added tables of its own", func(t *testing.T) {
		after := schemaDump(t, raw)
		var added []string
		for _, row := range after {
			if slices.ContainsFunc(schemaBefore, func(r []string) bool { return slices.Equal(r, row) }) {
				continue
			}
			added = append(added, row[1])
			if !strings.HasPrefix(row[2], "inkpass_") {
				t.Errorf("inkpass added %s %s on table %s, want only inkpass_* tables", row[0], row[1], row[2])
			}
		}
		if !slices.Contains(added, "inkpass_migrations") {
			t.Errorf("added objects = %v, want inkpass_migrations among them", added)
		}
	})
}

func TestOpen_Twice(t *testing.T) {
	for _, tc := range []struct {
		name string
		path func(t *testing.T) string
	}{
		{"a fresh database is not migrated again", func(t *testing.T) string { return filepath.Join(t.TempDir(), "inkpass.db") }},
		{"an adopted database is not migrated again", newFixtureDB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			path := tc.path(t)
			db, err := store.Open(ctx, path, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			adopted := db.Adopted()
			db.Close()
			raw := rawDB(t, path)
			migrations := queryStrings(t, raw, `SELECT version, name, quote(applied_at) FROM inkpass_migrations ORDER BY version`)
			if len(migrations) == 0 {
				t.Fatal("no migrations recorded")
			}
			schema := schemaDump(t, raw)
			users := dumpTable(t, raw, "users")

			db2 := mustOpen(t, path, store.Options{})
			if db2.Adopted() != adopted {
				t.Errorf("Adopted() = %v on the second open, %v on the first", db2.Adopted(), adopted)
			}
			if got := queryStrings(t, raw, `SELECT version, name, quote(applied_at) FROM inkpass_migrations ORDER BY version`); !reflect.DeepEqual(got, migrations) {
				t.Errorf("inkpass_migrations after second open = %q, want %q", got, migrations)
			}
			if got := schemaDump(t, raw); !reflect.DeepEqual(got, schema) {
				t.Errorf("schema changed on second open:\n got  %q\n want %q", got, schema)
			}
			if got := dumpTable(t, raw, "users"); !reflect.DeepEqual(got, users) {
				t.Errorf("users rows changed on second open")
			}
		})
	}
}

// artistsDDL is a studio-style artists table for the mismatch cases.
const artistsDDL = `CREATE TABLE artists (id INTEGER PRIMARY KEY, name VARCHAR(120) NOT NULL);
INSERT INTO artists (id, name) VALUES (1, 'Luna Martinez');
`

// edit applies one textual change to the documented DDL, and fails the test if
// the text to change is not there exactly once (so a change to SCHEMA.md
// cannot quietly turn a case into a no-op).
func edit(t *testing.T, ddl, old, new string) string {
	t.Helper()
	if n := strings.Count(ddl, old); n != 1 {
		t.Fatalf("%q occurs %d times in the DDL, want 1", old, n)
	}
	return strings.Replace(ddl, old, new, 1)
}

func TestOpen_RefusesMismatchedSchema(t *testing.T) {
	const oneUser = "INSERT INTO users (id, username, password_hash, role) VALUES (1, 'admin', 'x', 'admin');\n"
	for _, tc := range []struct {
		name  string
		build func(t *testing.T) string
		// wantAll are substrings the error must name.
		wantAll []string
	}{
		{
			name: "users without the phone column is refused, naming phone",
			build: func(t *testing.T) string {
				return artistsDDL + edit(t, documentedDDL, "    phone VARCHAR(32),\n", "") + oneUser
			},
			wantAll: []string{"phone", "missing"},
		},
		{
			name: "a birthdate of type TEXT instead of DATE is refused, naming both types",
			build: func(t *testing.T) string {
				return artistsDDL + edit(t, documentedDDL, "birthdate DATE", "birthdate TEXT") + oneUser
			},
			wantAll: []string{"birthdate", "TEXT", "DATE"},
		},
		{
			name: "username without NOT NULL is refused",
			build: func(t *testing.T) string {
				return artistsDDL + edit(t, documentedDDL, "VARCHAR(64) NOT NULL UNIQUE", "VARCHAR(64) UNIQUE") + oneUser
			},
			wantAll: []string{"username", "NOT NULL"},
		},
		{
			name: "is_active without its default is refused",
			build: func(t *testing.T) string {
				return artistsDDL + edit(t, documentedDDL, "NOT NULL DEFAULT 1", "NOT NULL") +
					"INSERT INTO users (id, username, password_hash, role, is_active) VALUES (1, 'admin', 'x', 'admin', 1);\n"
			},
			wantAll: []string{"is_active", "default"},
		},
		{
			name: "a missing ix_users_role index is refused, naming it",
			build: func(t *testing.T) string {
				return artistsDDL + edit(t, documentedDDL, "CREATE INDEX ix_users_role ON users(role);\n", "") + oneUser
			},
			wantAll: []string{"ix_users_role"},
		},
		{
			name: "ix_users_email on another column is refused, naming it",
			build: func(t *testing.T) string {
				return artistsDDL + edit(t, documentedDDL, "ix_users_email ON users(email)", "ix_users_email ON users(phone)") + oneUser
			},
			wantAll: []string{"ix_users_email"},
		},
		{
			name: "a missing foreign key to artists is refused, naming it",
			build: func(t *testing.T) string {
				return artistsDDL + edit(t, documentedDDL, ",\n\n    FOREIGN KEY (artist_id) REFERENCES artists(id)", "") + oneUser
			},
			wantAll: []string{"foreign key", "artist_id", "artists"},
		},
		{
			name:    "a missing artists table is refused, naming it",
			build:   func(t *testing.T) string { return documentedDDL + oneUser },
			wantAll: []string{"artists", "missing"},
		},
		{
			name: "an extra NOT NULL column without a default is refused, naming it",
			build: func(t *testing.T) string {
				return artistsDDL + edit(t, documentedDDL, "    last_login DATETIME,\n", "    last_login DATETIME,\n    pin TEXT NOT NULL,\n")
			},
			wantAll: []string{"pin"},
		},
		{
			name:    "artists without users is refused",
			build:   func(t *testing.T) string { return artistsDDL },
			wantAll: []string{"users", "missing"},
		},
		{
			name: "two differences at once are both named",
			build: func(t *testing.T) string {
				ddl := edit(t, documentedDDL, "    phone VARCHAR(32),\n", "")
				return artistsDDL + edit(t, ddl, "CREATE INDEX ix_users_instagram ON users(instagram);\n", "") + oneUser
			},
			wantAll: []string{"phone", "ix_users_instagram"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "studio.db")
			execSQLFile(t, path, tc.build(t))
			sum := fileSum(t, path)
			raw := rawDB(t, path)
			schema := schemaDump(t, raw)
			raw.Close()

			db, err := store.Open(context.Background(), path, store.Options{})
			if err == nil {
				db.Close()
				t.Fatal("store.Open accepted the database, want a refusal")
			}
			var mismatch *store.SchemaMismatchError
			if !errors.As(err, &mismatch) {
				t.Errorf("error %v is %T, want *store.SchemaMismatchError", err, err)
			}
			for _, w := range tc.wantAll {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			if got := fileSum(t, path); got != sum {
				t.Error("the database file's bytes changed although Open refused it")
			}
			if got := schemaDump(t, rawDB(t, path)); !reflect.DeepEqual(got, schema) {
				t.Errorf("schema changed although Open refused it:\n got  %q\n want %q", got, schema)
			}
			for _, suffix := range []string{"-wal", "-journal"} {
				if fi, err := os.Stat(path + suffix); err == nil && fi.Size() > 0 {
					t.Errorf("Open left a non-empty %s file beside the refused database", suffix)
				}
			}
		})
	}
}

func TestOpen_AcceptsCompatibleVariations(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(t *testing.T) string
	}{
		{
			name: "an extra nullable column is accepted and left alone",
			build: func(t *testing.T) string {
				return artistsDDL + edit(t, documentedDDL, "    last_login DATETIME,\n", "    last_login DATETIME,\n    nickname VARCHAR(40),\n")
			},
		},
		{
			name: "an extra NOT NULL column with a default is accepted",
			build: func(t *testing.T) string {
				return artistsDDL + edit(t, documentedDDL, "    last_login DATETIME,\n", "    last_login DATETIME,\n    theme TEXT NOT NULL DEFAULT 'dark',\n")
			},
		},
		{
			name: "the conditional unique email index SCHEMA.md allows is accepted",
			build: func(t *testing.T) string {
				return artistsDDL + documentedDDL + "CREATE UNIQUE INDEX ux_users_email ON users(email) WHERE email IS NOT NULL;\n"
			},
		},
		{
			name: "an artists table without a name column is accepted",
			build: func(t *testing.T) string {
				return "CREATE TABLE artists (id INTEGER PRIMARY KEY, handle TEXT);\n" + documentedDDL
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "studio.db")
			execSQLFile(t, path, tc.build(t))
			raw := rawDB(t, path)
			usersDDL := queryStrings(t, raw, `SELECT sql FROM sqlite_schema WHERE name = 'users'`)
			db := mustOpen(t, path, store.Options{})
			if !db.Adopted() {
				t.Error("Adopted() = false, want true")
			}
			if got := queryStrings(t, raw, `SELECT sql FROM sqlite_schema WHERE name = 'users'`); !reflect.DeepEqual(got, usersDDL) {
				t.Errorf("users DDL changed: got %q, want %q", got, usersDDL)
			}
		})
	}
}

func TestOpen_ChecksTheSchemaOnEveryStart(t *testing.T) {
	// The studio's app shares the file and may alter users after adoption;
	// the next start must notice rather than run on a table it does not know.
	path := newFixtureDB(t)
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	execSQLFile(t, path, `DROP INDEX ix_users_email;`)
	raw := rawDB(t, path)
	schema := schemaDump(t, raw)

	db, err = store.Open(context.Background(), path, store.Options{})
	if err == nil {
		db.Close()
		t.Fatal("store.Open accepted users without ix_users_email")
	}
	var mismatch *store.SchemaMismatchError
	if !errors.As(err, &mismatch) || !strings.Contains(err.Error(), "ix_users_email") {
		t.Errorf("err = %v, want a SchemaMismatchError naming ix_users_email", err)
	}
	if got := schemaDump(t, raw); !reflect.DeepEqual(got, schema) {
		t.Error("the refused open changed the schema")
	}
}
