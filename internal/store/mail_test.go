package store_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/mail"
	"github.com/inkpass/inkpass/internal/store"
)

// TestDB_MailBodiesBlankedWhenDone: a sent or given-up message keeps its
// record (kind, recipient, subject, outcome) but not its bodies, which carry
// single-use links; a queued or retried one keeps them until then. And a
// claim that finds nothing due writes nothing.
func TestDB_MailBodiesBlankedWhenDone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inkpass.db")
	db := mustOpen(t, path, store.Options{})
	ctx := t.Context()
	if ps, err := db.ClaimMail(ctx, 5, time.Minute); err != nil || len(ps) != 0 {
		t.Fatalf("ClaimMail on an empty outbox = %v, %v", ps, err)
	}
	if tx, _ := db.WriteStats(); tx != 0 {
		t.Errorf("an empty claim wrote: %d write transactions", tx)
	}
	const link = "https://id.example/reset/SECRETLINK"
	for _, to := range []string{"sent@example.com", "failed@example.com", "retry@example.com"} {
		m := mail.Message{To: to, Subject: "Reset", Text: "go to " + link, HTML: `<a href="` + link + `">reset</a>`, Kind: "password_reset"}
		if err := db.QueueMail(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := db.ClaimMail(ctx, 3, time.Minute)
	if err != nil || len(ps) != 3 {
		t.Fatalf("claimed %d, %v", len(ps), err)
	}
	outcomes := map[string]mail.Settlement{
		"sent@example.com":   {State: mail.Sent},
		"failed@example.com": {State: mail.Failed, Reason: "550 no such user"},
		"retry@example.com":  {State: mail.Retry, RetryAt: time.Now().Add(time.Minute), Reason: "451 later"},
	}
	for _, p := range ps {
		if err := db.SettleMail(ctx, p, outcomes[p.Message.To]); err != nil {
			t.Fatal(err)
		}
	}
	rows := queryStrings(t, rawDB(t, path), `SELECT recipient, status, body_text || body_html, last_error, done_at IS NOT NULL FROM inkpass_mail_outbox ORDER BY id`)
	want := [][]string{
		{"sent@example.com", "sent", "", "", "1"},
		{"failed@example.com", "failed", "", "550 no such user", "1"},
		{"retry@example.com", "queued", "kept", "451 later", "0"},
	}
	if len(rows) != 3 {
		t.Fatalf("rows = %v", rows)
	}
	for i, w := range want {
		got := rows[i]
		if got[0] != w[0] || got[1] != w[1] || got[3] != w[3] || got[4] != w[4] {
			t.Errorf("row %d = %v, want %v", i, got, w)
		}
		if hasBody := strings.Contains(got[2], "SECRETLINK"); hasBody != (w[2] == "kept") {
			t.Errorf("row %d (%s) bodies = %s", i, got[1], got[2])
		}
	}
}
