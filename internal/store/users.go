package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/user"
)

var _ user.Repository = (*DB)(nil)

// userSelect is the SELECT every user query shares; scanUser reads it.
// artist_name comes from the linked artist record when the studio's artists
// table has a name column (SCHEMA.md fixes only artists.id).
//
// The studio's app writes this table too, so no column is trusted to hold its
// declared type. The date columns are read as text: the driver would convert
// a number in a DATE column into Unix seconds (a birthdate of 1990 would
// become 1970-01-01) and fail the whole row on text it cannot parse.
// artist_id is read only when it is an integer. is_active is read once, in
// SQL, as "= 1" (see activeSQL), and the same expression filters sessions,
// listings and the admin count, so Go and SQL never disagree about a 2 or a
// 'yes'.
//
// With verifications, email_verified and phone_verified say whether
// inkpass_user_verifications holds the row's current value exactly (a
// changed value is unverified); without (a database not yet migrated, read
// by check), both are false.
func userSelect(artistName, verifications bool) string {
	name := "NULL"
	if artistName {
		name = "(SELECT a.name FROM artists a WHERE a.id = u.artist_id)"
	}
	verified := "0, 0"
	if verifications {
		verified = verifiedSQL("email", "u.email") + ", " + verifiedSQL("phone", "u.phone")
	}
	return `SELECT u.id, u.username, u.password_hash, u.role,
	CASE WHEN typeof(u.artist_id) = 'integer' THEN u.artist_id END, typeof(u.artist_id) NOT IN ('integer', 'null'),
	` + activeSQL("u") + `, coalesce(u.is_active IN (0, 1), 0), CAST(u.is_active AS TEXT),
	u.name, CAST(u.birthdate AS TEXT), u.email, u.phone, u.instagram, CAST(u.created_at AS TEXT), CAST(u.last_login AS TEXT), ` + name + `, ` + verified +
		` FROM users u`
}

// verifiedSQL is whether column, of the user u, is verified as kind.
func verifiedSQL(kind, column string) string {
	return `EXISTS (SELECT 1 FROM inkpass_user_verifications v WHERE v.user_id = u.id AND v.kind = '` + kind + `' AND v.value = ` + column + `)`
}

// activeSQL is the one reading of is_active: a user is active when the
// column is 1 (SQLAlchemy's True, SQLite's TRUE, and '1' or 1.0, which the
// column's numeric affinity stores as 1). Anything else (0, 2, 'yes', 'true',
// NULL) is inactive: an identity provider lets no one in on a value it cannot
// read. alias is the users table's alias in the query.
func activeSQL(alias string) string {
	return "coalesce(" + alias + ".is_active = 1, 0)"
}

type rowScanner interface{ Scan(dest ...any) error }

// scanUser reads one userSelect row. It fails only when the row cannot be
// read at all; a value that does not fit its column is left out of the user
// and listed in u.Oddities.
func scanUser(r rowScanner) (*user.User, error) {
	var (
		u                                  user.User
		username, hash, role               sql.NullString
		artistID                           sql.NullInt64
		artistOdd, booleanish              bool
		activeText                         sql.NullString
		name, email, phone, ig, artistName sql.NullString
		birth, created, last               sql.NullString
	)
	if err := r.Scan(&u.ID, &username, &hash, &role, &artistID, &artistOdd, &u.Active, &booleanish, &activeText,
		&name, &birth, &email, &phone, &ig, &created, &last, &artistName, &u.EmailVerified, &u.PhoneVerified); err != nil {
		return nil, err
	}
	odd := func(column, problem string) {
		u.Oddities = append(u.Oddities, user.Oddity{Column: column, Problem: problem})
	}
	u.Username, u.PasswordHash, u.Role = username.String, hash.String, user.Role(role.String)
	if trimmed := strings.TrimSpace(u.Username); trimmed != u.Username {
		// Signs in all the same (UserByUsername), but the studio's app may
		// not expect it: worth a line in check.
		odd("username", fmt.Sprintf("%q has spaces before or after it: signs in as %q", u.Username, trimmed))
	}
	if !u.Role.Known() {
		odd("role", fmt.Sprintf("%q is not one of admin, assistant, artist: sign-in refused", role.String))
	}
	if artistID.Valid {
		id := artistID.Int64
		u.ArtistID = &id
	} else if artistOdd {
		odd("artist_id", "is not an integer: read as empty")
	}
	if !booleanish {
		odd("is_active", fmt.Sprintf("%s is not 0 or 1: read as inactive", quoteNull(activeText)))
	}
	u.Name, u.Email, u.Phone, u.Instagram, u.ArtistName = name.String, email.String, phone.String, ig.String, artistName.String
	if birth.Valid {
		if d, ok := parseStoredDate(birth.String); ok {
			u.Birthdate = d
		} else {
			odd("birthdate", fmt.Sprintf("%q is not a date written YYYY-MM-DD: read as empty", birth.String))
		}
	}
	if t, ok := parseStoredTime(created.String); ok {
		u.CreatedAt = t
	} else {
		odd("created_at", fmt.Sprintf("%s is not a date and time: read as empty", quoteNull(created)))
	}
	if last.Valid {
		if t, ok := parseStoredTime(last.String); ok {
			u.LastLogin = &t
		} else {
			odd("last_login", fmt.Sprintf("%q is not a date and time: read as empty", last.String))
		}
	}
	return &u, nil
}

func quoteNull(s sql.NullString) string {
	if !s.Valid {
		return "NULL"
	}
	return strconv.Quote(s.String)
}

// noteOddities logs each odd column of u once per user and column for the
// life of the process (warn, with user_id and column; the problem quotes only
// dates, roles and is_active), so that a busy login page does not repeat it.
func (db *DB) noteOddities(ctx context.Context, u *user.User) {
	for _, o := range u.Oddities {
		if _, seen := db.oddSeen.LoadOrStore(oddKey{u.ID, o.Column}, struct{}{}); seen {
			continue
		}
		db.log.WarnContext(ctx, "odd value in the users table", "user_id", u.ID, "column", o.Column, "problem", o.Problem)
	}
}

type oddKey struct {
	id     int64
	column string
}

// CreateUser inserts u after the checks that need the database, all in one
// transaction so that two concurrent creates cannot both pass them.
func (db *DB) CreateUser(ctx context.Context, u *user.User) (int64, error) {
	var id int64
	err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if u.ArtistID != nil && !db.fitsID(*u.ArtistID) {
			return user.ErrArtistNotFound
		}
		if err := checkUnique(ctx, tx, u, 0, nil); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO users
			(username, password_hash, role, artist_id, is_active, name, birthdate, email, phone, instagram, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			u.Username, u.PasswordHash, string(u.Role), u.ArtistID, u.Active,
			nullIfEmpty(u.Name), nullIfEmpty(u.Birthdate), nullIfEmpty(u.Email), nullIfEmpty(u.Phone), nullIfEmpty(u.Instagram),
			formatTime(db.now())).Scan(&id)
		if err != nil {
			return translateUserErr(err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return id, nil
}

// checkUnique enforces, inside the caller's transaction, the rules the
// documented schema cannot: usernames unique regardless of letter case, emails
// unique among users that have one, artist_id pointing at an artist. self is
// the id of the user being updated (0 on create). cols names the columns to
// check (nil: all of them): an update checks only what it changes, so that a
// clash the studio's app left behind in another column does not block it.
func checkUnique(ctx context.Context, tx *sql.Tx, u *user.User, self int64, cols []string) error {
	checks := func(col string) bool { return cols == nil || slices.Contains(cols, col) }
	var n int
	if checks("username") {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE username = ? COLLATE NOCASE AND id != ?`, u.Username, self).Scan(&n); err != nil {
			return fmt.Errorf("check username: %w", err)
		}
		if n > 0 {
			return user.ErrUsernameTaken
		}
	}
	if u.Email != "" && checks("email") {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE email = ? COLLATE NOCASE AND id != ?`, u.Email, self).Scan(&n); err != nil {
			return fmt.Errorf("check email: %w", err)
		}
		if n > 0 {
			return user.ErrEmailTaken
		}
	}
	if u.ArtistID != nil && checks("artist_id") {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM artists WHERE id = ?`, *u.ArtistID).Scan(&n); err != nil {
			return fmt.Errorf("check artist: %w", err)
		}
		if n == 0 {
			return user.ErrArtistNotFound
		}
	}
	return nil
}

func translateUserErr(err error) error {
	switch {
	case isUnique(err):
		return user.ErrUsernameTaken
	case isForeignKey(err):
		return user.ErrArtistNotFound
	}
	return fmt.Errorf("write user: %w", err)
}

// UserByID returns user.ErrNotFound when there is no such user.
func (db *DB) UserByID(ctx context.Context, id int64) (*user.User, error) {
	if !db.fitsID(id) {
		return nil, user.ErrNotFound
	}
	u, err := scanUser(db.read.QueryRowContext(ctx, db.userSelect+` WHERE u.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, user.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get user %d: %w", id, err)
	}
	db.noteOddities(ctx, u)
	return u, nil
}

// usernameSpace is what the studio's app may have left around a username.
const usernameSpace = " \t\r\n"

// UserByUsername prefers an exact match (by the index). Failing that, it
// compares the stored usernames with their surrounding spaces trimmed (the
// studio's app may have stored " kai"), first in the same letter case, then
// in any case, so "Kai" signs in as "kai". When two rows fit equally (the
// studio's app may have left "kai" and "Kai" behind), none is found: only the
// exact one can sign in.
func (db *DB) UserByUsername(ctx context.Context, username string) (*user.User, error) {
	u, err := scanUser(db.read.QueryRowContext(ctx, db.userSelect+` WHERE u.username = ?`, username))
	if err == nil {
		db.noteOddities(ctx, u)
		return u, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("get user by username: %w", err)
	}
	rows, err := db.read.QueryContext(ctx, db.userSelect+` WHERE trim(u.username, '`+usernameSpace+`') = ? COLLATE NOCASE LIMIT 16`, username)
	if err != nil {
		return nil, fmt.Errorf("get user by username: %w", err)
	}
	defer rows.Close()
	var sameCase, anyCase []*user.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("get user by username: %w", err)
		}
		anyCase = append(anyCase, u)
		if strings.Trim(u.Username, usernameSpace) == username {
			sameCase = append(sameCase, u)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("get user by username: %w", err)
	}
	switch {
	case len(sameCase) == 1:
		u = sameCase[0]
	case len(sameCase) == 0 && len(anyCase) == 1:
		u = anyCase[0]
	default:
		return nil, user.ErrNotFound
	}
	db.noteOddities(ctx, u)
	return u, nil
}

// ListUsers returns the users matching f, ordered by id.
func (db *DB) ListUsers(ctx context.Context, f user.Filter) ([]*user.User, error) {
	var where []string
	var args []any
	if f.Role != "" {
		where = append(where, "u.role = ?")
		args = append(args, string(f.Role))
	}
	if f.Active != nil {
		where = append(where, activeSQL("u")+" = ?")
		args = append(args, *f.Active)
	}
	q := db.userSelect
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := db.read.QueryContext(ctx, q+" ORDER BY u.id", args...)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []*user.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		db.noteOddities(ctx, u)
		out = append(out, u)
	}
	return out, rows.Err()
}

// profileColumns are the columns UpdateUser may write, with how each is
// read from a user.
var profileColumns = map[string]func(u *user.User) any{
	"username":  func(u *user.User) any { return u.Username },
	"role":      func(u *user.User) any { return string(u.Role) },
	"artist_id": func(u *user.User) any { return u.ArtistID },
	"name":      func(u *user.User) any { return nullIfEmpty(u.Name) },
	"birthdate": func(u *user.User) any { return nullIfEmpty(u.Birthdate) },
	"email":     func(u *user.User) any { return nullIfEmpty(u.Email) },
	"phone":     func(u *user.User) any { return nullIfEmpty(u.Phone) },
	"instagram": func(u *user.User) any { return nullIfEmpty(u.Instagram) },
}

// UpdateUser changes a user in one write transaction: it reads the row as it
// is now, hands it to change (with the number of active admins, for the
// last-admin rule), which edits it, checks the result and names the columns
// it set; then the database rules for those columns are checked and only
// those columns are written. Concurrent updates of other columns, by inkpass
// or by the studio's app, are never overwritten. An error from change aborts
// the update and is returned as it is. Returns the row as stored, or
// user.ErrNotFound.
func (db *DB) UpdateUser(ctx context.Context, id int64, change user.ChangeFunc) (*user.User, error) {
	var out *user.User
	err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		u, admins, err := db.userForChange(ctx, tx, id)
		if err != nil {
			return err
		}
		cols, err := change(u, admins)
		if err != nil {
			return err
		}
		if len(cols) > 0 {
			if u.ArtistID != nil && !db.fitsID(*u.ArtistID) {
				return user.ErrArtistNotFound
			}
			if err := checkUnique(ctx, tx, u, id, cols); err != nil {
				return err
			}
			sets := make([]string, len(cols))
			args := make([]any, 0, len(cols)+1)
			for i, c := range cols {
				value, ok := profileColumns[c]
				if !ok {
					return fmt.Errorf("update user %d: %q is not a profile column", id, c)
				}
				sets[i] = c + " = ?"
				args = append(args, value(u))
			}
			if _, err := tx.ExecContext(ctx, `UPDATE users SET `+strings.Join(sets, ", ")+` WHERE id = ?`, append(args, id)...); err != nil {
				return translateUserErr(err)
			}
		}
		out, err = scanUser(tx.QueryRowContext(ctx, db.userSelect+` WHERE u.id = ?`, id))
		return err
	})
	if err != nil {
		return nil, err
	}
	db.noteOddities(ctx, out)
	return out, nil
}

// userForChange reads a user and the active admin count inside a write
// transaction.
func (db *DB) userForChange(ctx context.Context, tx *sql.Tx, id int64) (*user.User, int, error) {
	if !db.fitsID(id) {
		return nil, 0, user.ErrNotFound
	}
	u, err := scanUser(tx.QueryRowContext(ctx, db.userSelect+` WHERE u.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, user.ErrNotFound
	}
	if err != nil {
		return nil, 0, fmt.Errorf("get user %d: %w", id, err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, countAdminsSQL).Scan(&n); err != nil {
		return nil, 0, fmt.Errorf("count admins: %w", err)
	}
	return u, n, nil
}

// SetUserActive sets is_active to 1 or 0. check, when not nil, sees the row
// and the number of active admins inside the same transaction and may refuse
// (the last-admin rule), so that two concurrent deactivations cannot both
// pass it. Deactivating also ends everything the user holds (sessions,
// tokens, single-use links), in the same transaction: a deactivated user is
// out at once, not when their tokens expire.
func (db *DB) SetUserActive(ctx context.Context, id int64, active bool, check func(u *user.User, activeAdmins int) error) error {
	return db.wakeOutboxAfter(db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if check != nil {
			u, admins, err := db.userForChange(ctx, tx, id)
			if err != nil {
				return err
			}
			if err := check(u, admins); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE users SET is_active = ? WHERE id = ?`, active, id)
		if err != nil {
			return fmt.Errorf("set active: %w", err)
		}
		if err := mustAffect(res, user.ErrNotFound); err != nil {
			return err
		}
		if !active {
			if err := endUserLinks(ctx, tx, id, db.now().Unix()); err != nil {
				return err
			}
			return revokeUserGrants(ctx, tx, id, db.now().Unix())
		}
		return nil
	}))
}

// RevokeInactiveUser ends every session, token and unredeemed code of a user
// who is not active, as SetUserActive(false) does, and records it in the
// audit trail. The studio's app deactivates users with a plain
// "is_active = 0" that revokes nothing; whichever path of inkpass sees such a
// user next (login, session lookup, refresh, userinfo, introspection) calls
// this, so that re-activating the user later does not bring the old sessions
// and refresh tokens back. The lookups themselves stay reads: the caller
// decides. It does nothing when the user is active again by now, or holds
// nothing live; the check for the latter is a read, so a deactivated user's
// repeated attempts cost no write.
func (db *DB) RevokeInactiveUser(ctx context.Context, id int64) error {
	uid := strconv.FormatInt(id, 10)
	const liveQuery = `SELECT EXISTS (SELECT 1 FROM inkpass_sessions WHERE user_id = ?1 AND revoked_at IS NULL)
		OR EXISTS (SELECT 1 FROM inkpass_tokens WHERE user_id = ?2 AND revoked_at IS NULL)
		OR EXISTS (SELECT 1 FROM inkpass_codes WHERE user_id = ?2 AND used_at IS NULL AND revoked_at IS NULL)`
	var live bool
	if err := db.read.QueryRowContext(ctx, liveQuery, id, uid).Scan(&live); err != nil {
		return fmt.Errorf("revoke inactive user %d: %w", id, err)
	}
	if !live {
		return nil
	}
	return db.wakeOutboxAfter(db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var active bool
		err := tx.QueryRowContext(ctx, `SELECT `+activeSQL("u")+` FROM users u WHERE u.id = ?`, id).Scan(&active)
		if errors.Is(err, sql.ErrNoRows) {
			active = false
		} else if err != nil {
			return fmt.Errorf("revoke inactive user %d: %w", id, err)
		}
		if active {
			return nil
		}
		now := db.now().Unix()
		if err := revokeUserGrants(ctx, tx, id, now); err != nil {
			return err
		}
		err = recordAudit(ctx, tx, audit.Event{At: time.Unix(now, 0), Kind: audit.TokenRevoked, UserID: id,
			Detail: "user found inactive in the users table: sessions and tokens revoked"})
		if err != nil {
			return fmt.Errorf("revoke inactive user %d: audit: %w", id, err)
		}
		return nil
	}))
}

// SetPasswordHash stores a new hash and, in the same transaction, ends
// everything the old password opened: every browser session, and every app's
// access and refresh tokens and unredeemed codes (RFC 9700 §4.14.2 names a
// password change among the security events that may revoke refresh
// tokens). Consents stay: the person agreed to share, and signs in again.
// Whoever
// knew the old password is out with it. The account page then signs the
// browser that made the change back in.
func (db *DB) SetPasswordHash(ctx context.Context, id int64, hash string) error {
	return db.wakeOutboxAfter(db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, id)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if err := mustAffect(res, user.ErrNotFound); err != nil {
			return err
		}
		if err := revokeUserGrants(ctx, tx, id, db.now().Unix()); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		return nil
	}))
}

// RecordLogin sets last_login and, when newHash is set, the upgraded hash, in
// one transaction, provided the row still holds verifiedHash (the hash the
// login checked the password against) and the user is still active. A
// password change or a deactivation that landed while the login was hashing
// (inkpass's own, or the studio app's) makes it user.ErrLoginStale and
// writes nothing: an upgraded hash of the old password must not replace the
// new one, and a login that the change was meant to end must not complete.
func (db *DB) RecordLogin(ctx context.Context, id int64, at time.Time, verifiedHash, newHash string) error {
	return db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET last_login = ?1, password_hash = COALESCE(NULLIF(?2, ''), password_hash)
			WHERE id = ?3 AND CAST(password_hash AS TEXT) = ?4 AND `+activeSQL("users"), formatTime(at), newHash, id, verifiedHash)
		if err != nil {
			return fmt.Errorf("record login: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)`, id).Scan(&exists); err != nil {
			return fmt.Errorf("record login: %w", err)
		}
		if !exists {
			return user.ErrNotFound
		}
		return user.ErrLoginStale
	})
}

// countAdminsSQL counts who can still administer inkpass.
var countAdminsSQL = `SELECT count(*) FROM users u WHERE u.role = 'admin' AND ` + activeSQL("u")

// CountActiveAdmins counts who can still administer inkpass.
func (db *DB) CountActiveAdmins(ctx context.Context) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, countAdminsSQL).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count admins: %w", err)
	}
	return n, nil
}

func mustAffect(res sql.Result, none error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return none
	}
	return nil
}

// CreateArtist adds an artist record with the given display name.
func (db *DB) CreateArtist(ctx context.Context, name string) (int64, error) {
	if !db.artistName {
		return 0, errors.New("create artist: the artists table has no name column; add artists in the studio's app")
	}
	var id int64
	err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO artists (name) VALUES (?) RETURNING id`, name).Scan(&id); err != nil {
			return fmt.Errorf("create artist: %w", err)
		}
		return nil
	})
	return id, err
}

// ListArtists returns every artist, ordered by id.
func (db *DB) ListArtists(ctx context.Context) ([]user.Artist, error) {
	q := `SELECT id, NULL FROM artists ORDER BY id`
	if db.artistName {
		q = `SELECT id, name FROM artists ORDER BY id`
	}
	rows, err := db.read.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list artists: %w", err)
	}
	defer rows.Close()
	var out []user.Artist
	for rows.Next() {
		var a user.Artist
		var name sql.NullString
		if err := rows.Scan(&a.ID, &name); err != nil {
			return nil, fmt.Errorf("list artists: %w", err)
		}
		a.Name = name.String
		out = append(out, a)
	}
	return out, rows.Err()
}
