package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/inkpass/inkpass/internal/keys"
)

// SigningKeys keeps signing keys in inkpass_signing_keys, sealed under a
// key-encryption key (keys.Sealer) that is not in the database. It is the
// keys.Store for several servers sharing one database: Update runs in the
// write transaction, so two servers rotating at once run one after the
// other, and a unique index allows one active key per algorithm.
//
// One SigningKeys serves one keys.Set: it remembers what it last returned,
// so that Reload decrypts nothing when no row changed.
type SigningKeys struct {
	db     *DB
	sealer *keys.Sealer
	sum    [sha256.Size]byte
	seen   bool
}

var _ keys.Store = (*SigningKeys)(nil)

// SigningKeys returns the database key store sealing with sealer.
func (db *DB) SigningKeys(sealer *keys.Sealer) *SigningKeys {
	return &SigningKeys{db: db, sealer: sealer}
}

// ErrNoSigningKeys is returned by Load when the table is empty.
var ErrNoSigningKeys = errors.New("the database holds no signing keys")

type signingKeyRow struct {
	kid, alg, created string
	retired           sql.NullString
	sealed            []byte
}

type rowQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func selectSigningKeys(ctx context.Context, q rowQuerier) ([]signingKeyRow, [sha256.Size]byte, error) {
	rows, err := q.QueryContext(ctx, `SELECT kid, alg, created_at, retired_at, private_key FROM inkpass_signing_keys ORDER BY kid`)
	if err != nil {
		return nil, [sha256.Size]byte{}, err
	}
	defer rows.Close()
	var out []signingKeyRow
	h := sha256.New()
	for rows.Next() {
		var r signingKeyRow
		if err := rows.Scan(&r.kid, &r.alg, &r.created, &r.retired, &r.sealed); err != nil {
			return nil, [sha256.Size]byte{}, err
		}
		fmt.Fprintf(h, "%q %q %q %q %x\n", r.kid, r.alg, r.created, r.retired.String, r.sealed)
		out = append(out, r)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return out, sum, rows.Err()
}

// open decrypts rows. A wrong KEK fails here, naming the kid.
func (s *SigningKeys) open(rows []signingKeyRow) ([]keys.Record, error) {
	out := make([]keys.Record, len(rows))
	for i, r := range rows {
		created, err := time.Parse(time.RFC3339Nano, r.created)
		if err != nil {
			return nil, fmt.Errorf("signing key %s: created_at %q: %w", r.kid, r.created, err)
		}
		rec := keys.Record{KID: r.kid, Alg: keys.Algorithm(r.alg), CreatedAt: created}
		if r.retired.Valid {
			t, err := time.Parse(time.RFC3339Nano, r.retired.String)
			if err != nil {
				return nil, fmt.Errorf("signing key %s: retired_at %q: %w", r.kid, r.retired.String, err)
			}
			rec.RetiredAt = &t
		}
		if rec.Key, err = s.sealer.Open(r.kid, rec.Alg, r.sealed); err != nil {
			return nil, err
		}
		out[i] = rec
	}
	return out, nil
}

// Load reads every key. When no row changed since this SigningKeys last
// returned them, it reports changed=false without decrypting anything.
func (s *SigningKeys) Load(ctx context.Context) ([]keys.Record, bool, error) {
	rows, sum, err := selectSigningKeys(ctx, s.db.read)
	if err != nil {
		return nil, false, fmt.Errorf("load signing keys: %w", err)
	}
	if len(rows) == 0 {
		return nil, false, fmt.Errorf("load signing keys: %w", ErrNoSigningKeys)
	}
	if s.seen && sum == s.sum {
		return nil, false, nil
	}
	recs, err := s.open(rows)
	if err != nil {
		return nil, false, fmt.Errorf("load signing keys: %w", err)
	}
	s.sum, s.seen = sum, true
	return recs, true, nil
}

// Update runs fn on the stored keys inside one write transaction and
// applies its change there: all of it or none.
func (s *SigningKeys) Update(ctx context.Context, fn func([]keys.Record) (keys.Change, error)) ([]keys.Record, error) {
	var (
		after []keys.Record
		sum   [sha256.Size]byte
	)
	err := s.db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, rowsSum, err := selectSigningKeys(ctx, tx)
		if err != nil {
			return err
		}
		current, err := s.open(rows)
		if err != nil {
			return err
		}
		ch, err := fn(current)
		if err != nil {
			return err
		}
		if ch.Empty() {
			after, sum = current, rowsSum
			return nil
		}
		for _, kid := range ch.Remove {
			if _, err := tx.ExecContext(ctx, `DELETE FROM inkpass_signing_keys WHERE kid = ?`, kid); err != nil {
				return fmt.Errorf("remove %s: %w", kid, err)
			}
		}
		for kid, at := range ch.Retire {
			if _, err := tx.ExecContext(ctx, `UPDATE inkpass_signing_keys SET retired_at = ? WHERE kid = ? AND retired_at IS NULL`,
				at.UTC().Format(time.RFC3339Nano), kid); err != nil {
				return fmt.Errorf("retire %s: %w", kid, err)
			}
		}
		for _, r := range ch.Add {
			sealed, err := s.sealer.Seal(r)
			if err != nil {
				return err
			}
			var retired any
			if r.RetiredAt != nil {
				retired = r.RetiredAt.UTC().Format(time.RFC3339Nano)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO inkpass_signing_keys (kid, alg, private_key, created_at, retired_at) VALUES (?, ?, ?, ?, ?)`,
				r.KID, string(r.Alg), sealed, r.CreatedAt.UTC().Format(time.RFC3339Nano), retired); err != nil {
				return fmt.Errorf("add %s: %w", r.KID, err)
			}
		}
		rows, sum, err = selectSigningKeys(ctx, tx)
		if err != nil {
			return err
		}
		after, err = s.open(rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update signing keys: %w", err)
	}
	s.sum, s.seen = sum, true
	return after, nil
}

// CountSigningKeys reports how many keys the table holds, so the CLI can
// refuse to make a new KEK for a database whose keys need the old one.
func (db *DB) CountSigningKeys(ctx context.Context) (int, error) {
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM inkpass_signing_keys`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count signing keys: %w", err)
	}
	return n, nil
}
