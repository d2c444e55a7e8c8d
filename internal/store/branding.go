package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/branding"
)

var _ branding.Repo = (*DB)(nil)

const brandingColumns = `b.name, b.accent_color, b.support_contact, b.version, b.logo_version,
	EXISTS (SELECT 1 FROM inkpass_branding_logo), b.updated_at, b.updated_by`

func scanBranding(row interface{ Scan(...any) error }) (branding.Record, error) {
	var r branding.Record
	var at sql.NullInt64
	if err := row.Scan(&r.Name, &r.AccentColor, &r.SupportContact, &r.Version, &r.LogoVersion, &r.HasLogo, &at, &r.UpdatedBy); err != nil {
		return branding.Record{}, err
	}
	if at.Valid {
		r.UpdatedAt = time.Unix(at.Int64, 0).UTC()
	}
	return r, nil
}

// BrandingVersion implements branding.Repo: one indexed read of one
// integer, which is all a page view pays when the cache is due a check.
func (db *DB) BrandingVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := db.read.QueryRowContext(ctx, `SELECT version FROM inkpass_branding WHERE id = 1`).Scan(&v); err != nil {
		return 0, fmt.Errorf("branding version: %w", err)
	}
	return v, nil
}

// LoadBranding implements branding.Repo.
func (db *DB) LoadBranding(ctx context.Context) (branding.Record, error) {
	r, err := scanBranding(db.read.QueryRowContext(ctx, `SELECT `+brandingColumns+` FROM inkpass_branding b WHERE b.id = 1`))
	if err != nil {
		return branding.Record{}, fmt.Errorf("load branding: %w", err)
	}
	return r, nil
}

// brandingChanged bumps the version, notes who and when, audits, and
// returns the row, all inside tx.
func (db *DB) brandingChanged(ctx context.Context, tx *sql.Tx, set string, args []any, actor, detail string) (branding.Record, error) {
	now := db.now().Unix()
	q := `UPDATE inkpass_branding SET ` + set + `version = version + 1, updated_at = ?, updated_by = ? WHERE id = 1`
	if _, err := tx.ExecContext(ctx, q, append(args, now, actor)...); err != nil {
		return branding.Record{}, err
	}
	// The console's request names the admin as the actor too (audit.WithActor),
	// as every other console change does.
	if err := recordAudit(ctx, tx, audit.Event{At: time.Unix(now, 0), Kind: audit.BrandingChanged, Username: actor,
		Detail: detail, Actor: audit.ActorFrom(ctx)}); err != nil {
		return branding.Record{}, fmt.Errorf("audit: %w", err)
	}
	return scanBranding(tx.QueryRowContext(ctx, `SELECT `+brandingColumns+` FROM inkpass_branding b WHERE b.id = 1`))
}

// SaveBranding implements branding.Repo.
func (db *DB) SaveBranding(ctx context.Context, r branding.Record, actor, detail string) (branding.Record, error) {
	var out branding.Record
	err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		out, err = db.brandingChanged(ctx, tx, `name = ?, accent_color = ?, support_contact = ?, `,
			[]any{r.Name, r.AccentColor, r.SupportContact}, actor, detail)
		return err
	})
	if err != nil {
		return branding.Record{}, fmt.Errorf("save branding: %w", err)
	}
	return out, nil
}

// SaveLogo implements branding.Repo.
func (db *DB) SaveLogo(ctx context.Context, l branding.Logo, actor, detail string) (branding.Record, error) {
	var out branding.Record
	err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		out, err = db.brandingChanged(ctx, tx, `logo_version = logo_version + 1, `, nil, actor, detail)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO inkpass_branding_logo (id, content_type, data, width, height, version)
			VALUES (1, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET content_type = excluded.content_type, data = excluded.data,
				width = excluded.width, height = excluded.height, version = excluded.version`,
			l.ContentType, l.Data, l.Width, l.Height, out.LogoVersion)
		out.HasLogo = true
		return err
	})
	if err != nil {
		return branding.Record{}, fmt.Errorf("save logo: %w", err)
	}
	return out, nil
}

// DeleteLogo implements branding.Repo.
func (db *DB) DeleteLogo(ctx context.Context, actor string) (branding.Record, error) {
	var out branding.Record
	err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM inkpass_branding_logo WHERE id = 1`)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			out, err = scanBranding(tx.QueryRowContext(ctx, `SELECT `+brandingColumns+` FROM inkpass_branding b WHERE b.id = 1`))
			return err
		}
		out, err = db.brandingChanged(ctx, tx, `logo_version = logo_version + 1, `, nil, actor, "logo removed")
		return err
	})
	if err != nil {
		return branding.Record{}, fmt.Errorf("delete logo: %w", err)
	}
	return out, nil
}

// LoadLogo implements branding.Repo.
func (db *DB) LoadLogo(ctx context.Context) (branding.Logo, error) {
	var l branding.Logo
	err := db.read.QueryRowContext(ctx, `SELECT content_type, data, width, height, version FROM inkpass_branding_logo WHERE id = 1`).
		Scan(&l.ContentType, &l.Data, &l.Width, &l.Height, &l.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return branding.Logo{}, branding.ErrNoLogo
	}
	if err != nil {
		return branding.Logo{}, fmt.Errorf("load logo: %w", err)
	}
	return l, nil
}
