package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/inkpass/inkpass/internal/mfa"
)

// Passkeys (migrations/0016_webauthn.sql): *DB is mfa.Store.

// CreatePasskey implements mfa.Store: a passkey is confirmed when it is
// stored (the registration ceremony proved it).
func (db *DB) CreatePasskey(ctx context.Context, f mfa.Factor, credential []byte) (int64, error) {
	var id int64
	err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO inkpass_mfa_factors (user_id, kind, name, secret, confirmed, created_at) VALUES (?, ?, ?, ?, 1, ?) RETURNING id`,
			f.UserID, f.Kind, f.Name, credential, f.CreatedAt.Unix()).Scan(&id)
		if err != nil {
			return err
		}
		// A change of factors ends every remembered device.
		_, err = tx.ExecContext(ctx, `DELETE FROM inkpass_mfa_devices WHERE user_id = ?`, f.UserID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("create passkey: %w", err)
	}
	return id, nil
}

// UpdatePasskey implements mfa.Store: one conditional write on the old
// record, so of two assertions raced against one stored counter only one
// is recorded.
func (db *DB) UpdatePasskey(ctx context.Context, userID, id int64, old, credential []byte, now time.Time) (bool, error) {
	n, err := db.exec(ctx, `UPDATE inkpass_mfa_factors SET secret = ?, last_used_at = ?
		WHERE id = ? AND user_id = ? AND kind = ? AND confirmed = 1 AND secret = ?`, credential, now.Unix(), id, userID, mfa.KindWebAuthn, old)
	if err != nil {
		return false, fmt.Errorf("update passkey: %w", err)
	}
	return n == 1, nil
}

// SaveCeremony implements mfa.Store.
func (db *DB) SaveCeremony(ctx context.Context, browserHash, purposeHash []byte, userID int64, data []byte, now, expires time.Time) error {
	err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// Ceremonies nobody finished are forgotten here, where new ones come.
		if _, err := tx.ExecContext(ctx, `DELETE FROM inkpass_webauthn_ceremonies WHERE expires_at <= ?`, now.Unix()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO inkpass_webauthn_ceremonies (browser_hash, purpose_hash, user_id, data, expires_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (browser_hash, purpose_hash) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, expires_at = excluded.expires_at`,
			browserHash, purposeHash, userID, data, expires.Unix())
		return err
	})
	if err != nil {
		return fmt.Errorf("save webauthn ceremony: %w", err)
	}
	return nil
}

// TakeCeremony implements mfa.Store: the row is deleted in the statement
// that reads it, so a ceremony is answered once.
func (db *DB) TakeCeremony(ctx context.Context, browserHash, purposeHash []byte, userID int64, now time.Time) ([]byte, bool, error) {
	var data []byte
	var uid, expires int64
	err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `DELETE FROM inkpass_webauthn_ceremonies WHERE browser_hash = ? AND purpose_hash = ?
			RETURNING user_id, data, expires_at`, browserHash, purposeHash).Scan(&uid, &data, &expires)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("take webauthn ceremony: %w", err)
	}
	if uid != userID || expires <= now.Unix() {
		return nil, false, nil
	}
	return data, true, nil
}
