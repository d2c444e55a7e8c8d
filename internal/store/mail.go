package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/inkpass/inkpass/internal/mail"
)

var (
	_ mail.Queue = (*DB)(nil)
	_ mail.Spool = (*DB)(nil)
)

func (db *DB) mailChan() chan struct{} {
	db.mailOnce.Do(func() { db.mailWake = make(chan struct{}, 1) })
	return db.mailWake
}

// MailQueued receives after this process queued an email. Messages queued by
// another process (the CLI) are not signalled: the worker polls for them.
func (db *DB) MailQueued() <-chan struct{} { return db.mailChan() }

// QueueMail implements mail.Queue: one insert, due now; then it wakes this
// process's worker.
func (db *DB) QueueMail(ctx context.Context, m mail.Message) error {
	now := db.now().Unix()
	_, err := db.exec(ctx, `INSERT INTO inkpass_mail_outbox (kind, recipient, subject, body_text, body_html, created_at, next_attempt_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, m.Kind, m.To, m.Subject, m.Text, m.HTML, now, now)
	if err != nil {
		return fmt.Errorf("queue email: %w", err)
	}
	select {
	case db.mailChan() <- struct{}{}:
	default:
	}
	return nil
}

// ClaimMail implements mail.Spool. The claim is one UPDATE over a sub-select
// of due rows whose lease has passed, and the UPDATE repeats the lease
// condition on the row it changes: SQLite runs it under its single write
// lock, and on PostgreSQL a second claimer blocked on the same row re-checks
// that condition on the row as the first left it and skips it (FOR UPDATE
// SKIP LOCKED in the sub-select would only spare it the wait). Finding
// nothing due is one read on the read pool and no write.
func (db *DB) ClaimMail(ctx context.Context, limit int, lease time.Duration) ([]mail.Pending, error) {
	now := db.now().Unix()
	var due bool
	if err := db.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM inkpass_mail_outbox
		WHERE status = 'queued' AND next_attempt_at <= ? AND claimed_until <= ?)`, now, now).Scan(&due); err != nil {
		return nil, fmt.Errorf("claim email: %w", err)
	}
	if !due {
		return nil, nil
	}
	claim := rand.Text()
	var out []mail.Pending
	err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, `UPDATE inkpass_mail_outbox
			SET claim = ?, claimed_until = ?, attempts = attempts + 1
			WHERE id IN (SELECT id FROM inkpass_mail_outbox
				WHERE status = 'queued' AND next_attempt_at <= ? AND claimed_until <= ?
				ORDER BY next_attempt_at, id LIMIT ?)
			AND status = 'queued' AND claimed_until <= ?
			RETURNING id, kind, recipient, subject, body_text, body_html, attempts, created_at, next_attempt_at`,
			claim, now+int64(lease/time.Second), now, now, limit, now)
		if err != nil {
			return err
		}
		defer rows.Close()
		type row struct {
			p   mail.Pending
			due int64
		}
		var got []row
		for rows.Next() {
			var r row
			var created int64
			m := &r.p.Message
			if err := rows.Scan(&r.p.ID, &m.Kind, &m.To, &m.Subject, &m.Text, &m.HTML, &r.p.Attempt, &created, &r.due); err != nil {
				return err
			}
			r.p.Claim, r.p.CreatedAt = claim, time.Unix(created, 0)
			got = append(got, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		// RETURNING gives no order; the contract is oldest due first.
		slices.SortFunc(got, func(a, b row) int {
			if a.due != b.due {
				return int(a.due - b.due)
			}
			return int(a.p.ID - b.p.ID)
		})
		for _, r := range got {
			out = append(out, r.p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim email: %w", err)
	}
	return out, nil
}

// SettleMail implements mail.Spool: one UPDATE conditional on the claim.
func (db *DB) SettleMail(ctx context.Context, p mail.Pending, s mail.Settlement) error {
	now := db.now().Unix()
	var n int64
	var err error
	switch s.State {
	case mail.Sent, mail.Failed:
		n, err = db.exec(ctx, `UPDATE inkpass_mail_outbox
			SET status = ?, done_at = ?, body_text = '', body_html = '', last_error = ?, claim = '', claimed_until = 0
			WHERE id = ? AND claim = ? AND status = 'queued'`, string(s.State), now, s.Reason, p.ID, p.Claim)
	case mail.Retry:
		n, err = db.exec(ctx, `UPDATE inkpass_mail_outbox
			SET next_attempt_at = ?, last_error = ?, claim = '', claimed_until = 0
			WHERE id = ? AND claim = ? AND status = 'queued'`, s.RetryAt.Unix(), s.Reason, p.ID, p.Claim)
	default:
		return fmt.Errorf("settle email %d: unknown state %q", p.ID, s.State)
	}
	if err != nil {
		return fmt.Errorf("settle email %d: %w", p.ID, err)
	}
	if n == 0 {
		return mail.ErrClaimLost
	}
	return nil
}

// PruneMail implements mail.Spool.
func (db *DB) PruneMail(ctx context.Context, before time.Time) (int64, error) {
	n, err := db.exec(ctx, `DELETE FROM inkpass_mail_outbox WHERE status != 'queued' AND done_at < ?`, before.Unix())
	if err != nil {
		return 0, fmt.Errorf("prune email: %w", err)
	}
	return n, nil
}
