package store

import (
	"context"
	"fmt"
)

// EachPasswordHash calls fn with every stored password hash, active users'
// and others', in id order. It serves the census that picks the format an
// unknown username is made to cost (password.Census); fn must not keep or log
// the strings.
func (db *DB) EachPasswordHash(ctx context.Context, fn func(hash string)) error {
	rows, err := db.read.QueryContext(ctx, `SELECT password_hash FROM users ORDER BY id`)
	if err != nil {
		return fmt.Errorf("read password hashes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return fmt.Errorf("read password hashes: %w", err)
		}
		fn(h)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read password hashes: %w", err)
	}
	return nil
}
