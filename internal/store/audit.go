package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
)

var _ audit.Recorder = (*DB)(nil)

// Record appends one audit event.
func (db *DB) Record(ctx context.Context, e audit.Event) error {
	at := e.At
	if at.IsZero() {
		at = db.now()
	}
	if e.Actor == "" {
		e.Actor = audit.ActorFrom(ctx)
	}
	e.At = at
	err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return recordAudit(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("record audit event %s: %w", e.Kind, err)
	}
	return nil
}

// recordAudit appends e, as it is (no defaults), inside tx: for the changes
// whose audit line must commit with them. A zero UserID is stored as NULL.
func recordAudit(ctx context.Context, tx *sql.Tx, e audit.Event) error {
	var uid any
	if e.UserID != 0 {
		uid = e.UserID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO inkpass_audit (at, kind, user_id, username, client_id, addr, detail, actor)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.At.Unix(), string(e.Kind), uid, e.Username, e.ClientID, e.Addr, e.Detail, e.Actor)
	return err
}

// AuditEvents lists events matching f, newest first.
func (db *DB) AuditEvents(ctx context.Context, f audit.Filter) ([]audit.Event, error) {
	var where []string
	var args []any
	if f.ClientID != "" {
		where = append(where, "client_id = ?")
		args = append(args, f.ClientID)
	}
	if !f.Until.IsZero() {
		where = append(where, "at < ?")
		args = append(args, f.Until.Unix())
	}
	if f.BeforeID > 0 {
		where = append(where, "id < ?")
		args = append(args, f.BeforeID)
	}
	if f.UserID != 0 {
		where = append(where, "user_id = ?")
		args = append(args, f.UserID)
	}
	if f.Kind != "" {
		where = append(where, "kind = ?")
		args = append(args, string(f.Kind))
	}
	if !f.Since.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, f.Since.Unix())
	}
	q := `SELECT id, at, kind, user_id, username, client_id, addr, detail, actor FROM inkpass_audit`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	defer rows.Close()
	var out []audit.Event
	for rows.Next() {
		var e audit.Event
		var at int64
		var uid sql.NullInt64
		var kind string
		if err := rows.Scan(&e.ID, &at, &kind, &uid, &e.Username, &e.ClientID, &e.Addr, &e.Detail, &e.Actor); err != nil {
			return nil, fmt.Errorf("list audit events: %w", err)
		}
		e.At, e.Kind, e.UserID = time.Unix(at, 0).UTC(), audit.Kind(kind), uid.Int64
		out = append(out, e)
	}
	return out, rows.Err()
}
