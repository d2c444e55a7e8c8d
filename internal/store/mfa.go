package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/inkpass/inkpass/internal/mfa"
)

// The second factor's tables (migrations/0014_mfa.sql): *DB is mfa.Store.

// CreateFactor implements mfa.Store.
func (db *DB) CreateFactor(ctx context.Context, f mfa.Factor, sealed []byte) (int64, error) {
	var id int64
	err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM inkpass_mfa_factors WHERE user_id = ? AND kind = ? AND confirmed = 0`, f.UserID, f.Kind); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `INSERT INTO inkpass_mfa_factors (user_id, kind, name, secret, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			f.UserID, f.Kind, f.Name, sealed, f.CreatedAt.Unix()).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("create factor: %w", err)
	}
	return id, nil
}

// Factors implements mfa.Store.
func (db *DB) Factors(ctx context.Context, userID int64) ([]mfa.Factor, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, kind, name, confirmed, created_at, last_used_at FROM inkpass_mfa_factors
		WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list factors: %w", err)
	}
	defer rows.Close()
	var out []mfa.Factor
	for rows.Next() {
		f := mfa.Factor{UserID: userID}
		var created int64
		var used sql.NullInt64
		if err := rows.Scan(&f.ID, &f.Kind, &f.Name, &f.Confirmed, &created, &used); err != nil {
			return nil, fmt.Errorf("list factors: %w", err)
		}
		f.CreatedAt = time.Unix(created, 0)
		if used.Valid {
			t := time.Unix(used.Int64, 0)
			f.LastUsedAt = &t
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// FactorSecret implements mfa.Store.
func (db *DB) FactorSecret(ctx context.Context, userID, id int64) ([]byte, int64, error) {
	var sealed []byte
	var last int64
	err := db.read.QueryRowContext(ctx, `SELECT secret, last_step FROM inkpass_mfa_factors WHERE id = ? AND user_id = ?`, id, userID).Scan(&sealed, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, mfa.ErrNotFound
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read factor: %w", err)
	}
	return sealed, last, nil
}

// AcceptStep implements mfa.Store: one conditional write, so of two
// requests with the same code only one is accepted.
func (db *DB) AcceptStep(ctx context.Context, userID, id, step int64, now time.Time) (bool, error) {
	n, err := db.exec(ctx, `UPDATE inkpass_mfa_factors SET last_step = ?, last_used_at = ?, confirmed = 1
		WHERE id = ? AND user_id = ? AND last_step < ?`, step, now.Unix(), id, userID, step)
	if err != nil {
		return false, fmt.Errorf("accept code: %w", err)
	}
	return n == 1, nil
}

// RenameFactor implements mfa.Store.
func (db *DB) RenameFactor(ctx context.Context, userID, id int64, name string) error {
	n, err := db.exec(ctx, `UPDATE inkpass_mfa_factors SET name = ? WHERE id = ? AND user_id = ?`, name, id, userID)
	if err != nil {
		return fmt.Errorf("rename factor: %w", err)
	}
	if n == 0 {
		return mfa.ErrNotFound
	}
	return nil
}

// DeleteFactor implements mfa.Store.
func (db *DB) DeleteFactor(ctx context.Context, userID, id int64, keepOne bool) error {
	return db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if keepOne {
			var others int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM inkpass_mfa_factors WHERE user_id = ? AND id != ? AND confirmed = 1`,
				userID, id).Scan(&others); err != nil {
				return fmt.Errorf("count factors: %w", err)
			}
			var confirmed int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM inkpass_mfa_factors WHERE user_id = ? AND id = ? AND confirmed = 1`,
				userID, id).Scan(&confirmed); err != nil {
				return fmt.Errorf("count factors: %w", err)
			}
			// An unconfirmed enrolment may always go; a confirmed factor
			// only while another confirmed one stays.
			if confirmed == 1 && others == 0 {
				return mfa.ErrLastFactor
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM inkpass_mfa_factors WHERE id = ? AND user_id = ?`, id, userID)
		if err != nil {
			return fmt.Errorf("delete factor: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return mfa.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM inkpass_mfa_devices WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("forget devices: %w", err)
		}
		// Recovery codes stand in for a factor; with none left they go.
		_, err = tx.ExecContext(ctx, `DELETE FROM inkpass_mfa_recovery_codes WHERE user_id = ?1
			AND NOT EXISTS (SELECT 1 FROM inkpass_mfa_factors WHERE user_id = ?1 AND confirmed = 1)`, userID)
		if err != nil {
			return fmt.Errorf("delete recovery codes: %w", err)
		}
		return nil
	})
}

// ResetUser implements mfa.Store.
func (db *DB) ResetUser(ctx context.Context, userID int64) (int, error) {
	var n int64
	err := db.wakeOutboxAfter(db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM inkpass_mfa_factors WHERE user_id = ? AND confirmed = 1`, userID)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		for _, q := range []string{`DELETE FROM inkpass_mfa_factors WHERE user_id = ?`,
			`DELETE FROM inkpass_mfa_recovery_codes WHERE user_id = ?`, `DELETE FROM inkpass_mfa_pending WHERE user_id = ?`,
			`DELETE FROM inkpass_mfa_devices WHERE user_id = ?`, `DELETE FROM inkpass_webauthn_ceremonies WHERE user_id = ?`} {
			if _, err := tx.ExecContext(ctx, q, userID); err != nil {
				return err
			}
		}
		return revokeUserGrants(ctx, tx, userID, db.now().Unix())
	}))
	if err != nil {
		return 0, fmt.Errorf("reset factors: %w", err)
	}
	return int(n), nil
}

// ReplaceRecoveryCodes implements mfa.Store.
func (db *DB) ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes [][]byte, now time.Time) error {
	return db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM inkpass_mfa_recovery_codes WHERE user_id = ?`, userID); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO inkpass_mfa_recovery_codes (user_id, code_hash, created_at) VALUES (?, ?, ?)`,
				userID, h, now.Unix()); err != nil {
				return err
			}
		}
		return nil
	})
}

// UseRecoveryCode implements mfa.Store.
func (db *DB) UseRecoveryCode(ctx context.Context, userID int64, hash []byte, now time.Time) (bool, error) {
	n, err := db.exec(ctx, `UPDATE inkpass_mfa_recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL`,
		now.Unix(), userID, hash)
	if err != nil {
		return false, fmt.Errorf("use recovery code: %w", err)
	}
	return n == 1, nil
}

// RecoveryCodesLeft implements mfa.Store.
func (db *DB) RecoveryCodesLeft(ctx context.Context, userID int64) (left, used int, err error) {
	err = db.read.QueryRowContext(ctx, `SELECT COUNT(*) FILTER (WHERE used_at IS NULL), COUNT(*) FILTER (WHERE used_at IS NOT NULL)
		FROM inkpass_mfa_recovery_codes WHERE user_id = ?`, userID).Scan(&left, &used)
	if err != nil {
		return 0, 0, fmt.Errorf("count recovery codes: %w", err)
	}
	return left, used, nil
}

// SavePending implements mfa.Store.
func (db *DB) SavePending(ctx context.Context, browserHash, reqHash []byte, userID int64, at, expires time.Time) error {
	err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// Proofs nobody used are forgotten here, where new ones come.
		if _, err := tx.ExecContext(ctx, `DELETE FROM inkpass_mfa_pending WHERE expires_at <= ?`, at.Unix()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO inkpass_mfa_pending (browser_hash, req_hash, user_id, password_at, expires_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (browser_hash, req_hash) DO UPDATE SET user_id = excluded.user_id, password_at = excluded.password_at, expires_at = excluded.expires_at`,
			browserHash, reqHash, userID, at.Unix(), expires.Unix())
		return err
	})
	if err != nil {
		return fmt.Errorf("save password proof: %w", err)
	}
	return nil
}

// Pending implements mfa.Store.
func (db *DB) Pending(ctx context.Context, browserHash, reqHash []byte, now time.Time) (int64, time.Time, bool, error) {
	var uid, at int64
	err := db.read.QueryRowContext(ctx, `SELECT user_id, password_at FROM inkpass_mfa_pending WHERE browser_hash = ? AND req_hash = ? AND expires_at > ?`,
		browserHash, reqHash, now.Unix()).Scan(&uid, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, false, nil
	}
	if err != nil {
		return 0, time.Time{}, false, fmt.Errorf("read password proof: %w", err)
	}
	return uid, time.Unix(at, 0), true, nil
}

// TakePending implements mfa.Store.
func (db *DB) TakePending(ctx context.Context, browserHash, reqHash []byte) (bool, error) {
	n, err := db.exec(ctx, `DELETE FROM inkpass_mfa_pending WHERE browser_hash = ? AND req_hash = ?`, browserHash, reqHash)
	if err != nil {
		return false, fmt.Errorf("take password proof: %w", err)
	}
	return n == 1, nil
}

// RememberDevice implements mfa.Store.
func (db *DB) RememberDevice(ctx context.Context, tokenHash []byte, userID int64, now, expires time.Time) error {
	err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM inkpass_mfa_devices WHERE expires_at <= ?`, now.Unix()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO inkpass_mfa_devices (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			tokenHash, userID, now.Unix(), expires.Unix())
		return err
	})
	if err != nil {
		return fmt.Errorf("remember device: %w", err)
	}
	return nil
}

// DeviceRemembered implements mfa.Store.
func (db *DB) DeviceRemembered(ctx context.Context, tokenHash []byte, userID int64, now time.Time) (bool, error) {
	var ok bool
	err := db.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM inkpass_mfa_devices WHERE token_hash = ? AND user_id = ? AND expires_at > ?)`,
		tokenHash, userID, now.Unix()).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("read remembered device: %w", err)
	}
	return ok, nil
}

// ForgetDevices implements mfa.Store.
func (db *DB) ForgetDevices(ctx context.Context, userID int64) error {
	if _, err := db.exec(ctx, `DELETE FROM inkpass_mfa_devices WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("forget devices: %w", err)
	}
	return nil
}
