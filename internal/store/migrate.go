package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"

	"github.com/inkpass/inkpass/migrations"
)

// migration is one numbered file of migrations/.
type migration struct {
	version int
	name    string
	sql     string
}

var migrationName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// loadMigrations reads SQLite's embedded files in version order.
func loadMigrations() ([]migration, error) { return loadMigrationsFrom(".") }

// loadMigrationsFrom reads the embedded files of one folder (".", or
// "postgres") in version order.
func loadMigrationsFrom(dir string) ([]migration, error) {
	entries, err := fs.ReadDir(migrations.FS, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		body, err := fs.ReadFile(migrations.FS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		v, _ := strconv.Atoi(m[1])
		ms = append(ms, migration{version: v, name: m[2], sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migrations: expected version %04d, found %04d_%s", i+1, m.version, m.name)
		}
	}
	return ms, nil
}

// usersMigration is the migration that creates the studio's own tables. On an
// adopted database it is recorded as applied without running.
const usersMigration = 1

// migrate brings the database up to date in one transaction: either every
// pending migration is applied and recorded, or nothing changes.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	want, err := documentedUsersSchema(ctx, ms[usersMigration-1].sql)
	if err != nil {
		return err
	}
	return db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS inkpass_migrations (
			version INTEGER PRIMARY KEY,
			name TEXT NOT NULL,
			applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP)`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS inkpass_meta (
			key TEXT PRIMARY KEY,
			value TEXT NOT NULL)`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		applied := map[int]bool{}
		rows, err := tx.QueryContext(ctx, `SELECT version FROM inkpass_migrations`)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return fmt.Errorf("migrate: %w", err)
			}
			applied[v] = true
		}
		rows.Close()

		if !applied[usersMigration] {
			adopt, err := db.adoptionNeeded(ctx, tx)
			if err != nil {
				return err
			}
			if adopt {
				if err := checkAdoptable(ctx, tx, want); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO inkpass_meta (key, value) VALUES ('adopted', '1')`); err != nil {
					return fmt.Errorf("migrate: %w", err)
				}
				if err := record(ctx, tx, ms[usersMigration-1]); err != nil {
					return err
				}
				applied[usersMigration] = true
			}
		}
		for _, m := range ms {
			if applied[m.version] {
				continue
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("apply migration %04d_%s: %w", m.version, m.name, err)
			}
			if err := record(ctx, tx, m); err != nil {
				return err
			}
		}

		// Check on every start, not only at adoption: the studio's app shares
		// this file and could have altered the table since.
		got, err := readTableSchema(ctx, tx, "users")
		if err != nil {
			return err
		}
		if diffs := want.diff(got); len(diffs) > 0 {
			return &SchemaMismatchError{Table: "users", Differences: diffs}
		}
		var adopted string
		err = tx.QueryRowContext(ctx, `SELECT value FROM inkpass_meta WHERE key = 'adopted'`).Scan(&adopted)
		if err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("migrate: %w", err)
		}
		db.adopted = adopted == "1"
		artists, err := readTableSchema(ctx, tx, "artists")
		if err != nil {
			return err
		}
		_, db.artistName = artists.column("name")
		db.userSelect = userSelect(db.artistName, true)
		return nil
	})
}

func record(ctx context.Context, tx *sql.Tx, m migration) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO inkpass_migrations (version, name) VALUES (?, ?)`, m.version, m.name); err != nil {
		return fmt.Errorf("record migration %04d_%s: %w", m.version, m.name, err)
	}
	return nil
}

// adoptionNeeded is true when the studio's users table is already there.
func (db *DB) adoptionNeeded(ctx context.Context, tx *sql.Tx) (bool, error) {
	users, err := tableExists(ctx, tx, "users")
	if err != nil {
		return false, err
	}
	artists, err := tableExists(ctx, tx, "artists")
	if err != nil {
		return false, err
	}
	if !users && artists {
		return false, &SchemaMismatchError{Table: "users", Differences: []string{"table users is missing, but table artists exists: this is not a database inkpass can create or adopt"}}
	}
	return users, nil
}

// checkAdoptable refuses a studio database whose users table differs from the
// documented schema, or whose artists table has no id key to point at.
func checkAdoptable(ctx context.Context, tx *sql.Tx, want *tableSchema) error {
	got, err := readTableSchema(ctx, tx, "users")
	if err != nil {
		return err
	}
	if diffs := want.diff(got); len(diffs) > 0 {
		return &SchemaMismatchError{Table: "users", Differences: diffs}
	}
	ok, err := tableExists(ctx, tx, "artists")
	if err != nil {
		return err
	}
	if !ok {
		return &SchemaMismatchError{Table: "artists", Differences: []string{"table artists is missing (users.artist_id references it)"}}
	}
	artists, err := readTableSchema(ctx, tx, "artists")
	if err != nil {
		return err
	}
	if c, ok := artists.column("id"); !ok || c.pk != 1 {
		return &SchemaMismatchError{Table: "artists", Differences: []string{"column id is missing or is not the primary key"}}
	}
	return nil
}

func tableExists(ctx context.Context, q querier, name string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, name).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look for table %s: %w", name, err)
	}
	return n > 0, nil
}
