package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/inkpass/inkpass/internal/user"
	"github.com/inkpass/inkpass/internal/userlink"
)

var _ userlink.Store = (*DB)(nil)

// IssueLink stores a single-use link (its hash) bound to the user's row as
// it is in the transaction, and marks the user's older unused links of the
// same purpose used: only the newest works.
func (db *DB) IssueLink(ctx context.Context, l userlink.Link) (*user.User, error) {
	var out *user.User
	err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, db.userSelect+` WHERE u.id = ?`, l.UserID))
		if errors.Is(err, sql.ErrNoRows) {
			return user.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("issue link: %w", err)
		}
		switch {
		case !u.Active:
			return userlink.ErrInactive
		case l.Purpose == userlink.EmailVerification && u.Email == "":
			return userlink.ErrNoEmail
		}
		now := l.CreatedAt.Unix()
		if _, err := tx.ExecContext(ctx, `UPDATE inkpass_user_links SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL`,
			now, l.UserID, string(l.Purpose)); err != nil {
			return fmt.Errorf("issue link: supersede older links: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO inkpass_user_links (user_id, purpose, hash, bound, created_at, expires_at, issued_by)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, l.UserID, string(l.Purpose), l.Hash, userlink.Binding(l.Purpose, u), now, l.ExpiresAt.Unix(), l.IssuedBy); err != nil {
			return fmt.Errorf("issue link: %w", err)
		}
		out = u
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// LinkUser reads a live link: unused, unexpired, of an active user whose
// binding holds.
func (db *DB) LinkUser(ctx context.Context, hash []byte) (userlink.Purpose, *user.User, error) {
	var (
		uid     int64
		purpose string
		bound   []byte
	)
	now := db.now().Unix()
	err := db.read.QueryRowContext(ctx, `SELECT user_id, purpose, bound FROM inkpass_user_links
		WHERE hash = ? AND used_at IS NULL AND expires_at > ?`, hash, now).Scan(&uid, &purpose, &bound)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, userlink.ErrInvalid
	}
	if err != nil {
		return "", nil, fmt.Errorf("read link: %w", err)
	}
	u, err := scanUser(db.read.QueryRowContext(ctx, db.userSelect+` WHERE u.id = ?`, uid))
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, userlink.ErrInvalid
	}
	if err != nil {
		return "", nil, fmt.Errorf("read link: %w", err)
	}
	p := userlink.Purpose(purpose)
	if !u.Active || !bytes.Equal(userlink.Binding(p, u), bound) {
		return "", nil, userlink.ErrInvalid
	}
	return p, u, nil
}

// consumeLink marks the link used, inside tx, by one conditional UPDATE,
// and checks that it is of one of purposes, for an active user whose
// binding holds. Any refusal is userlink.ErrInvalid, and the caller's
// transaction is rolled back with it.
func (db *DB) consumeLink(ctx context.Context, tx *sql.Tx, hash []byte, now int64, purposes ...userlink.Purpose) (userlink.Purpose, *user.User, error) {
	var (
		uid     int64
		purpose string
		bound   []byte
	)
	err := tx.QueryRowContext(ctx, `UPDATE inkpass_user_links SET used_at = ?1
		WHERE hash = ?2 AND used_at IS NULL AND expires_at > ?1 RETURNING user_id, purpose, bound`, now, hash).Scan(&uid, &purpose, &bound)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, userlink.ErrInvalid
	}
	if err != nil {
		return "", nil, fmt.Errorf("use link: %w", err)
	}
	p := userlink.Purpose(purpose)
	if !slices.Contains(purposes, p) {
		return "", nil, userlink.ErrInvalid
	}
	u, err := scanUser(tx.QueryRowContext(ctx, db.userSelect+` WHERE u.id = ?`, uid))
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, userlink.ErrInvalid
	}
	if err != nil {
		return "", nil, fmt.Errorf("use link: %w", err)
	}
	if !u.Active || !bytes.Equal(userlink.Binding(p, u), bound) {
		return "", nil, userlink.ErrInvalid
	}
	return p, u, nil
}

// ConsumePasswordLink uses an invitation or reset link and sets the
// password in one transaction; everything the user held is revoked, as by
// SetPasswordHash, and their other unused password links die with it.
func (db *DB) ConsumePasswordLink(ctx context.Context, hash []byte, newHash string) (userlink.Purpose, *user.User, error) {
	var (
		p   userlink.Purpose
		out *user.User
	)
	err := db.wakeOutboxAfter(db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		now := db.now().Unix()
		var err error
		var u *user.User
		if p, u, err = db.consumeLink(ctx, tx, hash, now, userlink.Invitation, userlink.PasswordReset); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, newHash, u.ID)
		if err != nil {
			return fmt.Errorf("set password by link: %w", err)
		}
		if err := mustAffect(res, user.ErrNotFound); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE inkpass_user_links SET used_at = ? WHERE user_id = ? AND used_at IS NULL AND purpose IN (?, ?)`,
			now, u.ID, string(userlink.Invitation), string(userlink.PasswordReset)); err != nil {
			return fmt.Errorf("set password by link: %w", err)
		}
		if err := revokeUserGrants(ctx, tx, u.ID, now); err != nil {
			return fmt.Errorf("set password by link: %w", err)
		}
		out, err = scanUser(tx.QueryRowContext(ctx, db.userSelect+` WHERE u.id = ?`, u.ID))
		return err
	}))
	if err != nil {
		return "", nil, err
	}
	return p, out, nil
}

// ConsumeEmailLink uses a verification link and records the user's current
// email, the one the link was sent to (its binding), as verified.
func (db *DB) ConsumeEmailLink(ctx context.Context, hash []byte) (*user.User, error) {
	var out *user.User
	err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		now := db.now().Unix()
		_, u, err := db.consumeLink(ctx, tx, hash, now, userlink.EmailVerification)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO inkpass_user_verifications (user_id, kind, value, verified_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (user_id, kind) DO UPDATE SET value = excluded.value, verified_at = excluded.verified_at`,
			u.ID, string(user.ContactEmail), u.Email, now); err != nil {
			return fmt.Errorf("verify email by link: %w", err)
		}
		out, err = scanUser(tx.QueryRowContext(ctx, db.userSelect+` WHERE u.id = ?`, u.ID))
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CountLinks counts the user's links of purpose issued since.
func (db *DB) CountLinks(ctx context.Context, userID int64, purpose userlink.Purpose, since time.Time) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM inkpass_user_links WHERE user_id = ? AND purpose = ? AND created_at >= ?`,
		userID, string(purpose), since.Unix()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count links: %w", err)
	}
	return n, nil
}

// UserByLogin finds the account a "forgot password" form names: by
// username (UserByUsername's rules), else by an email that exactly one
// user has, in any letter case.
func (db *DB) UserByLogin(ctx context.Context, login string) (*user.User, error) {
	u, err := db.UserByUsername(ctx, login)
	if !errors.Is(err, user.ErrNotFound) {
		return u, err
	}
	if !strings.Contains(login, "@") {
		return nil, user.ErrNotFound
	}
	rows, err := db.read.QueryContext(ctx, db.userSelect+` WHERE trim(u.email) = ? COLLATE NOCASE LIMIT 2`, strings.TrimSpace(login))
	if err != nil {
		return nil, fmt.Errorf("get user by email: %w", err)
	}
	defer rows.Close()
	var found []*user.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("get user by email: %w", err)
		}
		found = append(found, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("get user by email: %w", err)
	}
	if len(found) != 1 {
		return nil, user.ErrNotFound
	}
	return found[0], nil
}

// endUserLinks marks every unused link of the user used, inside the
// deactivating transaction: a link dies with the account and stays dead if
// the account is activated again.
func endUserLinks(ctx context.Context, tx *sql.Tx, userID, now int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE inkpass_user_links SET used_at = ? WHERE user_id = ? AND used_at IS NULL`, now, userID); err != nil {
		return fmt.Errorf("end links of user %d: %w", userID, err)
	}
	return nil
}
