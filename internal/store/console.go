package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/console"
	"github.com/inkpass/inkpass/internal/user"
)

var (
	_ console.Store           = (*DB)(nil)
	_ console.SessionRecorder = (*DB)(nil)
)

// ReauthenticateSession records a new authentication on the live session
// sid: auth_time and amr are replaced (a re-authentication before a
// sensitive console action). An ended, expired or unknown session is
// an error: it is never revived.
func (db *DB) ReauthenticateSession(ctx context.Context, sid string, at time.Time, amr []string) error {
	methods, err := encodeAMR(amr)
	if err != nil {
		return fmt.Errorf("reauthenticate session: %w", err)
	}
	n, err := db.exec(ctx, `UPDATE inkpass_sessions SET auth_time = ?, amr = ?
		WHERE sid = ? AND revoked_at IS NULL AND expires_at > ?`, at.Unix(), methods, sid, db.now().Unix())
	if err != nil {
		return fmt.Errorf("reauthenticate session: %w", err)
	}
	if n == 0 {
		return errors.New("reauthenticate session: the session has ended")
	}
	return nil
}

// ConsoleCounts counts the dashboard's numbers in one read transaction.
func (db *DB) ConsoleCounts(ctx context.Context, since time.Time) (console.Counts, error) {
	c := console.Counts{ActiveByRole: map[user.Role]int{}}
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return c, fmt.Errorf("console counts: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT coalesce(u.role, ''), `+activeSQL("u")+`, count(*) FROM users u GROUP BY 1, 2`)
	if err != nil {
		return c, fmt.Errorf("console counts: %w", err)
	}
	for rows.Next() {
		var role string
		var active bool
		var n int
		if err := rows.Scan(&role, &active, &n); err != nil {
			rows.Close()
			return c, fmt.Errorf("console counts: %w", err)
		}
		if active {
			c.ActiveByRole[user.Role(role)] += n
		} else {
			c.Inactive += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("console counts: %w", err)
	}
	err = tx.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM inkpass_clients WHERE enabled = 1),
		(SELECT count(*) FROM inkpass_audit WHERE kind = ? AND at >= ?),
		(SELECT count(*) FROM inkpass_audit WHERE kind = ? AND at >= ?)`,
		string(audit.LoginSucceeded), since.Unix(), string(audit.LoginFailed), since.Unix()).
		Scan(&c.ActiveApps, &c.SignInsToday, &c.FailuresToday)
	if err != nil {
		return c, fmt.Errorf("console counts: %w", err)
	}
	return c, nil
}

// SearchPeople lists the users matching q, ordered by id. The text is
// matched with instr on lower-cased columns, so % and _ in it are plain
// characters.
func (db *DB) SearchPeople(ctx context.Context, q console.PeopleQuery) ([]console.Person, error) {
	var where []string
	var args []any
	if t := strings.ToLower(strings.TrimSpace(q.Text)); t != "" {
		t = strings.TrimPrefix(t, "@")
		var ors []string
		for _, col := range []string{"u.username", "u.name", "u.email", "u.instagram"} {
			ors = append(ors, "instr(lower(coalesce("+col+", '')), ?) > 0")
			args = append(args, t)
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	if q.Role != "" {
		where = append(where, "u.role = ?")
		args = append(args, string(q.Role))
	}
	if q.Active != nil {
		where = append(where, activeSQL("u")+" = ?")
		args = append(args, *q.Active)
	}
	hasFactor := `EXISTS (SELECT 1 FROM inkpass_mfa_factors f WHERE f.user_id = u.id AND f.confirmed = 1)`
	if q.HasFactor != nil {
		where = append(where, hasFactor+" = ?")
		args = append(args, *q.HasFactor)
	}
	query := db.userSelect
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := db.read.QueryContext(ctx, query+" ORDER BY u.id", args...)
	if err != nil {
		return nil, fmt.Errorf("search people: %w", err)
	}
	var out []console.Person
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("search people: %w", err)
		}
		out = append(out, console.Person{User: u})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search people: %w", err)
	}
	// Who has a factor: one more query rather than a column scanUser does
	// not read.
	with := map[int64]bool{}
	frows, err := db.read.QueryContext(ctx, `SELECT DISTINCT user_id FROM inkpass_mfa_factors WHERE confirmed = 1`)
	if err != nil {
		return nil, fmt.Errorf("search people: %w", err)
	}
	defer frows.Close()
	for frows.Next() {
		var id int64
		if err := frows.Scan(&id); err != nil {
			return nil, fmt.Errorf("search people: %w", err)
		}
		with[id] = true
	}
	for i := range out {
		out[i].HasFactor = with[out[i].ID]
	}
	return out, frows.Err()
}

// ArtistsHaveNames reports whether the studio's artists table has a name
// column.
func (db *DB) ArtistsHaveNames() bool { return db.artistName }

// RenameArtist sets an artist record's name.
func (db *DB) RenameArtist(ctx context.Context, id int64, name string) error {
	if !db.artistName {
		return fmt.Errorf("rename artist: the artists table has no name column; rename artists in the studio's app")
	}
	if !db.fitsID(id) {
		return user.ErrArtistNotFound
	}
	n, err := db.exec(ctx, `UPDATE artists SET name = ? WHERE id = ?`, name, id)
	if err != nil {
		return fmt.Errorf("rename artist %d: %w", id, err)
	}
	if n == 0 {
		return user.ErrArtistNotFound
	}
	return nil
}
