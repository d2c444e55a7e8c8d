package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"

	"github.com/inkpass/inkpass/internal/user"
)

// Report is what Inspect found, without changing anything.
type Report struct {
	Exists      bool
	Adopted     bool
	Applied     int
	Pending     []string
	Differences []string // how users differs from SCHEMA.md; empty when it matches
	// Oddities are the values in users that serve reads as absent (or, for
	// is_active, as inactive; for role, as refusing sign-in), by user id.
	Oddities []UserOddity
}

// UserOddity is one odd value of one user; see user.Oddity.
type UserOddity struct {
	UserID   int64
	Username string
	user.Oddity
}

// Inspect reads the database at path read-only: whether it exists, which
// migrations are pending, and whether users matches the documented schema.
func Inspect(ctx context.Context, path string) (*Report, error) {
	r := &Report{}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		ms, err := loadMigrations()
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			r.Pending = append(r.Pending, fmt.Sprintf("%04d_%s", m.version, m.name))
		}
		return r, nil
	}
	r.Exists = true
	pool, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", path, err)
	}
	defer pool.Close()
	ms, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	applied := map[int]bool{}
	if ok, err := tableExists(ctx, pool, "inkpass_migrations"); err != nil {
		return nil, err
	} else if ok {
		rows, err := pool.QueryContext(ctx, `SELECT version FROM inkpass_migrations`)
		if err != nil {
			return nil, fmt.Errorf("inspect %s: %w", path, err)
		}
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return nil, fmt.Errorf("inspect %s: %w", path, err)
			}
			applied[v] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("inspect %s: %w", path, err)
		}
		var v string
		if err := pool.QueryRowContext(ctx, `SELECT value FROM inkpass_meta WHERE key = 'adopted'`).Scan(&v); err == nil {
			r.Adopted = v == "1"
		}
	}
	users, err := tableExists(ctx, pool, "users")
	if err != nil {
		return nil, err
	}
	if users && !applied[usersMigration] {
		r.Adopted = true
	}
	for _, m := range ms {
		if applied[m.version] || (m.version == usersMigration && users) {
			r.Applied++
			continue
		}
		r.Pending = append(r.Pending, fmt.Sprintf("%04d_%s", m.version, m.name))
	}
	if users {
		want, err := documentedUsersSchema(ctx, ms[usersMigration-1].sql)
		if err != nil {
			return nil, err
		}
		got, err := readTableSchema(ctx, pool, "users")
		if err != nil {
			return nil, err
		}
		r.Differences = want.diff(got)
		if len(r.Differences) == 0 {
			if r.Oddities, err = userOddities(ctx, pool); err != nil {
				return nil, fmt.Errorf("inspect %s: %w", path, err)
			}
		}
	}
	return r, nil
}

// userOddities reads every user the way serve does (scanUser) and lists what
// it could not read, so that check reports exactly what serve would log.
func userOddities(ctx context.Context, pool *sql.DB) ([]UserOddity, error) {
	rows, err := pool.QueryContext(ctx, userSelect(false, false)+" ORDER BY u.id")
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	defer rows.Close()
	var out []UserOddity
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("read users: %w", err)
		}
		for _, o := range u.Oddities {
			out = append(out, UserOddity{UserID: u.ID, Username: u.Username, Oddity: o})
		}
	}
	return out, rows.Err()
}
