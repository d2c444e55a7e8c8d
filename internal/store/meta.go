package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
)

// InstallSecret returns the named random key of this installation, creating it
// on first use. Keys live in the database so that CSRF tokens and client secret
// hashes survive a restart.
func (db *DB) InstallSecret(ctx context.Context, name string) ([]byte, error) {
	key := "secret:" + name
	var v string
	err := db.read.QueryRowContext(ctx, `SELECT value FROM inkpass_meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		b := make([]byte, 32)
		rand.Read(b)
		// Insert unless there, then read back: two processes starting at once
		// agree on whichever key was written first.
		if err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO inkpass_meta (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING`, key, hex.EncodeToString(b))
			if err != nil {
				return err
			}
			return tx.QueryRowContext(ctx, `SELECT value FROM inkpass_meta WHERE key = ?`, key).Scan(&v)
		}); err != nil {
			return nil, fmt.Errorf("create install secret %s: %w", name, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read install secret %s: %w", name, err)
	}
	b, err := hex.DecodeString(v)
	if err != nil || len(b) < 32 {
		return nil, fmt.Errorf("install secret %s is corrupt", name)
	}
	return b, nil
}
