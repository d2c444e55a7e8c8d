package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/inkpass/inkpass/internal/user"
)

// SetVerification records the user's current email or phone as verified
// (inkpass_user_verifications, one row per user and kind), or with verified
// false deletes that record. The value is read and recorded in one
// transaction, so what is recorded is exactly what the row held at that
// moment. It returns user.ErrNotFound for no such user, and a
// *user.FieldError when verifying an empty field. The users table is only
// read.
func (db *DB) SetVerification(ctx context.Context, id int64, kind user.Contact, verified bool) (*user.User, error) {
	if kind != user.ContactEmail && kind != user.ContactPhone {
		return nil, fmt.Errorf("verify user %d: unknown field %q", id, kind)
	}
	var out *user.User
	err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, db.userSelect+` WHERE u.id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return user.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("verify user %d: %w", id, err)
		}
		value := u.Email
		if kind == user.ContactPhone {
			value = u.Phone
		}
		switch {
		case verified && value == "":
			return &user.FieldError{Field: string(kind), Problem: "is empty: there is nothing to verify"}
		case verified:
			_, err = tx.ExecContext(ctx, `INSERT INTO inkpass_user_verifications (user_id, kind, value, verified_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (user_id, kind) DO UPDATE SET value = excluded.value, verified_at = excluded.verified_at`,
				id, string(kind), value, db.now().Unix())
		default:
			_, err = tx.ExecContext(ctx, `DELETE FROM inkpass_user_verifications WHERE user_id = ? AND kind = ?`, id, string(kind))
		}
		if err != nil {
			return fmt.Errorf("verify user %d: %w", id, err)
		}
		out, err = scanUser(tx.QueryRowContext(ctx, db.userSelect+` WHERE u.id = ?`, id))
		if err != nil {
			return fmt.Errorf("verify user %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
