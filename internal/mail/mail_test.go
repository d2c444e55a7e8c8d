package mail_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/mail"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/testsupport"
)

const (
	smtpUser = "inkpass@studio.example"
	// smtpPass is what the tests look for in logs and errors.
	smtpPass = "s3cret-smtp-Pa55word"
	// link stands for the single-use link a body carries.
	link = "https://id.studio.example/invite/Zq8tLINKTOKENxYz"
)

func invitation(to string) mail.Message {
	return mail.Message{
		To:      to,
		Subject: "You are invited to Ink & Iron",
		Text:    "Hello Kai,\n\nset your password here: " + link + "\n",
		HTML:    `<p>Hello Kai,</p><p><a href="` + link + `">Set your password</a></p>`,
		Kind:    "invitation",
	}
}

// settings are the sender's settings for srv in mode.
func settings(srv *testsupport.SMTPServer, mode mail.TLSMode) mail.SMTP {
	return mail.SMTP{
		Host: srv.Host, Port: srv.Port, TLS: mode, Username: smtpUser, Password: smtpPass,
		From: "studio@studio.example", FromName: "Ink & Iron", Timeout: 5 * time.Second, RootCAs: srv.RootCAs,
	}
}

func newSender(t *testing.T, s mail.SMTP) *mail.Sender {
	t.Helper()
	snd, err := mail.NewSender(s)
	if err != nil {
		t.Fatal(err)
	}
	return snd
}

// openStore is a real SQLite file; now is its clock.
func openStore(t *testing.T, path string, now func() time.Time) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), path, store.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// parsed is a received message read back with net/mail and mime/multipart.
type parsed struct {
	header     netmail.Header
	text, html string
}

func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, data)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	p := parsed{header: m.Header}
	if !strings.HasPrefix(mt, "multipart/") {
		p.text = decodePart(t, m.Header.Get("Content-Transfer-Encoding"), m.Body)
		return p
	}
	if mt != "multipart/alternative" {
		t.Fatalf("Content-Type %s, want multipart/alternative", mt)
	}
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := r.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		body := decodePart(t, part.Header.Get("Content-Transfer-Encoding"), part)
		switch ct {
		case "text/plain":
			p.text = body
		case "text/html":
			p.html = body
		default:
			t.Errorf("unexpected part %s", ct)
		}
	}
	return p
}

func decodePart(t *testing.T, cte string, r io.Reader) string {
	t.Helper()
	if strings.EqualFold(cte, "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// TestSender_Send: a message reaches a real SMTP server over STARTTLS and
// implicit TLS with AUTH PLAIN, and over plain text to a loopback catcher,
// as plain text plus HTML with the headers a machine's mail needs.
func TestSender_Send(t *testing.T) {
	for _, mode := range []mail.TLSMode{mail.STARTTLS, mail.ImplicitTLS, mail.NoTLS} {
		t.Run(string(mode), func(t *testing.T) {
			opts := testsupport.SMTPOptions{TLS: string(mode), Username: smtpUser, Password: smtpPass}
			s := mail.SMTP{}
			if mode == mail.NoTLS {
				// No AUTH on a plain connection: go-mail will not send a
				// password in the clear.
				opts.Username, opts.Password = "", ""
			}
			srv := testsupport.NewSMTPServer(t, opts)
			s = settings(srv, mode)
			if mode == mail.NoTLS {
				s.Username, s.Password = "", ""
			}
			if err := newSender(t, s).Send(t.Context(), invitation("kai@example.com")); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.Received()
			if len(got) != 1 {
				t.Fatalf("the server received %d messages, want 1", len(got))
			}
			r := got[0]
			if r.From != "studio@studio.example" || len(r.To) != 1 || r.To[0] != "kai@example.com" {
				t.Errorf("envelope from %q to %q", r.From, r.To)
			}
			if r.TLS != (mode != mail.NoTLS) {
				t.Errorf("sent with TLS %v in mode %s", r.TLS, mode)
			}
			if want := map[bool]int{true: 1, false: 0}[mode != mail.NoTLS]; srv.AuthAttempts() != want {
				t.Errorf("%d AUTH attempts in mode %s, want %d", srv.AuthAttempts(), mode, want)
			}
			p := parse(t, r.Data)
			from, err := p.header.AddressList("From")
			if err != nil || len(from) != 1 || from[0].Address != "studio@studio.example" || from[0].Name != "Ink & Iron" {
				t.Errorf("From = %v (%v)", from, err)
			}
			to, err := p.header.AddressList("To")
			if err != nil || len(to) != 1 || to[0].Address != "kai@example.com" {
				t.Errorf("To = %v (%v)", to, err)
			}
			subj, _ := new(mime.WordDecoder).DecodeHeader(p.header.Get("Subject"))
			for name, want := range map[string]string{
				"Subject":        "You are invited to Ink & Iron",
				"Auto-Submitted": "auto-generated",
			} {
				got := p.header.Get(name)
				if name == "Subject" {
					got = subj
				}
				if got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if id := p.header.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@studio.example>") || p.header.Get("Date") == "" {
				t.Errorf("Message-ID %q, Date %q: want both, the ID in the sender's domain", id, p.header.Get("Date"))
			}
			if !strings.Contains(p.text, "set your password here: "+link) {
				t.Errorf("text part = %q", p.text)
			}
			if !strings.Contains(p.html, `<a href="`+link+`">Set your password</a>`) {
				t.Errorf("HTML part = %q", p.html)
			}
		})
	}
}

// TestSender_TextOnly: a message without HTML is a single text/plain part.
func TestSender_TextOnly(t *testing.T) {
	srv := testsupport.NewSMTPServer(t, testsupport.SMTPOptions{Username: smtpUser, Password: smtpPass})
	m := invitation("kai@example.com")
	m.HTML = ""
	if err := newSender(t, settings(srv, mail.STARTTLS)).Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.Received()
	if len(got) != 1 {
		t.Fatalf("received %d", len(got))
	}
	p := parse(t, got[0].Data)
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || !strings.Contains(p.text, link) || p.html != "" {
		t.Errorf("Content-Type %q, text %q, html %q", ct, p.text, p.html)
	}
}

// TestSender_NeverPlaintextUnderSTARTTLS: in starttls mode a server that
// does not offer STARTTLS gets neither the password nor the message.
func TestSender_NeverPlaintextUnderSTARTTLS(t *testing.T) {
	srv := testsupport.NewSMTPServer(t, testsupport.SMTPOptions{TLS: "none", Username: smtpUser, Password: smtpPass})
	err := newSender(t, settings(srv, mail.STARTTLS)).Send(t.Context(), invitation("kai@example.com"))
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("Send = %v, want a refusal naming STARTTLS", err)
	}
	if n, a := len(srv.Received()), srv.AuthAttempts(); n != 0 || a != 0 {
		t.Errorf("the plain-text server received %d messages and %d AUTH attempts", n, a)
	}
}

// TestSender_Check: connect, TLS, AUTH, quit, nothing sent; a wrong password
// is reported without the password.
func TestSender_Check(t *testing.T) {
	srv := testsupport.NewSMTPServer(t, testsupport.SMTPOptions{Username: smtpUser, Password: smtpPass})
	if err := newSender(t, settings(srv, mail.STARTTLS)).Check(t.Context()); err != nil {
		t.Fatalf("Check against a good server: %v", err)
	}
	bad := settings(srv, mail.STARTTLS)
	bad.Password = "wrong-" + smtpPass
	err := newSender(t, bad).Check(t.Context())
	if err == nil {
		t.Fatal("Check with a wrong password succeeded")
	}
	if strings.Contains(err.Error(), smtpPass) {
		t.Errorf("the error carries the password: %v", err)
	}
	if !strings.Contains(err.Error(), "535") {
		t.Errorf("Check = %v, want the server's 535", err)
	}
	untrusted := settings(srv, mail.STARTTLS)
	untrusted.RootCAs = nil
	if err := newSender(t, untrusted).Check(t.Context()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Check with an untrusted certificate = %v, want a certificate error", err)
	}
	if n := len(srv.Received()); n != 0 {
		t.Errorf("Check sent %d messages", n)
	}
	if f := srv.AuthFailures(); f != 1 {
		t.Errorf("%d AUTH failures at the server, want 1 (the wrong password)", f)
	}
}

// TestOutbox_Enqueue: Enqueue is one insert that never contacts the mail
// server (here stopped); invalid messages and an unconfigured outbox are
// refused and queue nothing.
func TestOutbox_Enqueue(t *testing.T) {
	srv := testsupport.NewSMTPServer(t, testsupport.SMTPOptions{Username: smtpUser, Password: smtpPass})
	srv.Stop()
	clock := testsupport.NewClock(time.Unix(1_800_000_000, 0))
	db := openStore(t, filepath.Join(t.TempDir(), "inkpass.db"), clock.Now)
	out := mail.NewOutbox(db, true)
	if !out.Configured() {
		t.Fatal("Configured = false")
	}
	if err := out.Enqueue(t.Context(), invitation("kai@example.com")); err != nil {
		t.Fatalf("Enqueue with the mail server down: %v", err)
	}
	select {
	case <-db.MailQueued():
	default:
		t.Error("Enqueue did not wake the worker")
	}
	bad := []struct {
		name string
		edit func(*mail.Message)
	}{
		{"a display name as recipient", func(m *mail.Message) { m.To = "Kai <kai@example.com>" }},
		{"two recipients", func(m *mail.Message) { m.To = "kai@example.com, mo@example.com" }},
		{"no recipient", func(m *mail.Message) { m.To = "" }},
		{"a header injection in the subject", func(m *mail.Message) { m.Subject = "Hi\r\nBcc: mo@example.com" }},
		{"a header injection in the recipient", func(m *mail.Message) { m.To = "kai@example.com\r\nBcc: mo@example.com" }},
		{"no text", func(m *mail.Message) { m.Text = " " }},
		{"no kind", func(m *mail.Message) { m.Kind = "" }},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			m := invitation("kai@example.com")
			tc.edit(&m)
			if err := out.Enqueue(t.Context(), m); !errors.Is(err, mail.ErrInvalidMessage) {
				t.Errorf("Enqueue = %v, want ErrInvalidMessage", err)
			}
		})
	}
	var none *mail.Outbox
	if none.Configured() || !errors.Is(none.Enqueue(t.Context(), invitation("kai@example.com")), mail.ErrNotConfigured) {
		t.Error("a nil outbox is configured or queues")
	}
	if err := mail.NewOutbox(db, false).Enqueue(t.Context(), invitation("kai@example.com")); !errors.Is(err, mail.ErrNotConfigured) {
		t.Errorf("unconfigured Enqueue = %v", err)
	}
	// Exactly the one good message is queued: a worker claims it, and
	// nothing else.
	ps, err := db.ClaimMail(t.Context(), 10, time.Minute)
	if err != nil || len(ps) != 1 || ps[0].Message != invitation("kai@example.com") {
		t.Fatalf("queued %+v (%v), want the one invitation", ps, err)
	}
	if n := srv.DataCommands(); n != 0 {
		t.Errorf("the server saw %d DATA commands", n)
	}
}

// worker runs one worker over db with a short backoff and the clock.
func worker(db *store.DB, send mail.Transport, clock *testsupport.Clock, logs io.Writer, backoff ...time.Duration) *mail.Worker {
	return mail.NewWorker(db, send, mail.WorkerOptions{
		Now: clock.Now, Audit: db, Backoff: backoff, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
}

func failures(t *testing.T, db *store.DB) []audit.Event {
	t.Helper()
	ev, err := db.AuditEvents(t.Context(), audit.Filter{Kind: audit.MailFailed})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestWorker_RetriesThenDelivers: the server answers 451 to the first
// attempt; the message waits out the backoff, goes again, arrives once.
func TestWorker_RetriesThenDelivers(t *testing.T) {
	srv := testsupport.NewSMTPServer(t, testsupport.SMTPOptions{Username: smtpUser, Password: smtpPass,
		Answer: func(n int) error {
			if n == 1 {
				return testsupport.SMTPReply(451, "try again later")
			}
			return nil
		}})
	clock := testsupport.NewClock(time.Unix(1_800_000_000, 0))
	db := openStore(t, filepath.Join(t.TempDir(), "inkpass.db"), clock.Now)
	var logs testsupport.LogBuffer
	w := worker(db, newSender(t, settings(srv, mail.STARTTLS)), clock, &logs, time.Minute, 5*time.Minute)
	if err := mail.NewOutbox(db, true).Enqueue(t.Context(), invitation("kai@example.com")); err != nil {
		t.Fatal(err)
	}
	next := w.Drain(t.Context())
	if d := srv.DataCommands(); d != 1 || len(srv.Received()) != 0 {
		t.Fatalf("after the first drain: %d DATA, %d received; want 1 refused", d, len(srv.Received()))
	}
	if want := clock.Now().Add(time.Minute); !next.Equal(want) {
		t.Errorf("next attempt at %v, want %v", next, want)
	}
	w.Drain(t.Context())
	if d := srv.DataCommands(); d != 1 {
		t.Fatalf("retried before the backoff: %d DATA commands", d)
	}
	clock.Advance(time.Minute)
	w.Drain(t.Context())
	clock.Advance(time.Hour)
	w.Drain(t.Context())
	if got := srv.Received(); len(got) != 1 {
		t.Fatalf("received %d copies, want exactly 1", len(got))
	}
	if d := srv.DataCommands(); d != 2 {
		t.Errorf("%d DATA commands, want 2", d)
	}
	if ev := failures(t, db); len(ev) != 0 {
		t.Errorf("audited failures %v for a delivered message", ev)
	}
	if strings.Contains(logs.String(), link) || strings.Contains(logs.String(), smtpPass) {
		t.Errorf("the logs carry the link or the password:\n%s", logs.String())
	}
}

// TestWorker_GivesUp: a server that always answers 451 gets the message
// len(Backoff)+1 times, then it is given up, audited once without its body,
// and never tried again.
func TestWorker_GivesUp(t *testing.T) {
	srv := testsupport.NewSMTPServer(t, testsupport.SMTPOptions{Username: smtpUser, Password: smtpPass,
		Answer: func(int) error { return testsupport.SMTPReply(451, "mailbox busy") }})
	clock := testsupport.NewClock(time.Unix(1_800_000_000, 0))
	db := openStore(t, filepath.Join(t.TempDir(), "inkpass.db"), clock.Now)
	var logs testsupport.LogBuffer
	w := worker(db, newSender(t, settings(srv, mail.STARTTLS)), clock, &logs, time.Minute, 5*time.Minute)
	if err := mail.NewOutbox(db, true).Enqueue(t.Context(), invitation("kai@example.com")); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		w.Drain(t.Context())
		clock.Advance(time.Hour)
	}
	if d := srv.DataCommands(); d != 3 {
		t.Errorf("%d attempts, want 3 (two backoffs)", d)
	}
	ev := failures(t, db)
	if len(ev) != 1 {
		t.Fatalf("%d mail_failed events, want 1: %v", len(ev), ev)
	}
	d := ev[0].Detail
	if !strings.Contains(d, "invitation") || !strings.Contains(d, "kai@example.com") || !strings.Contains(d, "451") || !strings.Contains(d, "3 attempts") {
		t.Errorf("audit detail %q: want kind, recipient, the reply and the attempts", d)
	}
	if strings.Contains(d, link) || strings.Contains(d, "Hello") {
		t.Errorf("audit detail %q carries the body", d)
	}
	if strings.Contains(logs.String(), link) || strings.Contains(logs.String(), smtpPass) {
		t.Errorf("the logs carry the link or the password:\n%s", logs.String())
	}
	if ps, err := db.ClaimMail(t.Context(), 10, time.Minute); err != nil || len(ps) != 0 {
		t.Errorf("a given-up message is still claimable: %v %v", ps, err)
	}
}

// TestWorker_PermanentRefusal: a 550 gives the message up at once.
func TestWorker_PermanentRefusal(t *testing.T) {
	srv := testsupport.NewSMTPServer(t, testsupport.SMTPOptions{Username: smtpUser, Password: smtpPass,
		Answer: func(int) error { return testsupport.SMTPReply(550, "no such mailbox") }})
	clock := testsupport.NewClock(time.Unix(1_800_000_000, 0))
	db := openStore(t, filepath.Join(t.TempDir(), "inkpass.db"), clock.Now)
	w := worker(db, newSender(t, settings(srv, mail.STARTTLS)), clock, io.Discard)
	if err := mail.NewOutbox(db, true).Enqueue(t.Context(), invitation("kai@example.com")); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		w.Drain(t.Context())
		clock.Advance(time.Hour)
	}
	if d := srv.DataCommands(); d != 1 {
		t.Errorf("%d attempts, want 1", d)
	}
	if ev := failures(t, db); len(ev) != 1 || !strings.Contains(ev[0].Detail, "refused for good") {
		t.Errorf("audit %v, want one refusal", ev)
	}
}

// TestWorker_MaxAge: a message whose next attempt would come after MaxAge
// is given up, however many attempts are left.
func TestWorker_MaxAge(t *testing.T) {
	srv := testsupport.NewSMTPServer(t, testsupport.SMTPOptions{Username: smtpUser, Password: smtpPass,
		Answer: func(int) error { return testsupport.SMTPReply(451, "later") }})
	clock := testsupport.NewClock(time.Unix(1_800_000_000, 0))
	db := openStore(t, filepath.Join(t.TempDir(), "inkpass.db"), clock.Now)
	w := mail.NewWorker(db, newSender(t, settings(srv, mail.STARTTLS)), mail.WorkerOptions{
		Now: clock.Now, Audit: db, MaxAge: 45 * time.Minute,
	})
	if err := mail.NewOutbox(db, true).Enqueue(t.Context(), invitation("kai@example.com")); err != nil {
		t.Fatal(err)
	}
	for range 120 {
		w.Drain(t.Context())
		clock.Advance(time.Minute)
	}
	// DefaultBackoff: attempts at 0, 1 min, 6 min and 36 min; the next,
	// 2 h later, would be past 45 min: four attempts of the six.
	if d := srv.DataCommands(); d != 4 {
		t.Errorf("%d attempts, want 4", d)
	}
	if ev := failures(t, db); len(ev) != 1 {
		t.Errorf("audit %v, want one failure", ev)
	}
}

// TestWorker_TwoServersSendOnce: two servers (two store handles, two workers)
// drain one database at once; every message arrives exactly once.
func TestWorker_TwoServersSendOnce(t *testing.T) {
	srv := testsupport.NewSMTPServer(t, testsupport.SMTPOptions{Username: smtpUser, Password: smtpPass})
	path := filepath.Join(t.TempDir(), "inkpass.db")
	a := openStore(t, path, nil)
	b := openStore(t, path, nil)
	const n = 12
	out := mail.NewOutbox(a, true)
	for i := range n {
		m := invitation(fmt.Sprintf("artist%d@example.com", i))
		m.Subject = fmt.Sprintf("message %d", i)
		if err := out.Enqueue(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	snd := newSender(t, settings(srv, mail.STARTTLS))
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	done := make(chan struct{}, 2)
	for _, db := range []*store.DB{a, b} {
		w := mail.NewWorker(db, snd, mail.WorkerOptions{Audit: db})
		go func() {
			defer func() { done <- struct{}{} }()
			for len(srv.Received()) < n && ctx.Err() == nil {
				w.Drain(ctx)
			}
		}()
	}
	<-done
	<-done
	got := srv.Received()
	seen := map[string]int{}
	for _, r := range got {
		seen[strings.Join(r.To, ",")]++
	}
	if len(got) != n || len(seen) != n {
		t.Errorf("received %d messages for %d recipients, want %d each once: %v", len(got), len(seen), n, seen)
	}
	if d := srv.DataCommands(); d != n {
		t.Errorf("%d DATA commands, want %d", d, n)
	}
}

// TestWorker_Run: the worker wakes when this process queues a message (its
// poll is an hour), and stops when its context ends.
func TestWorker_Run(t *testing.T) {
	srv := testsupport.NewSMTPServer(t, testsupport.SMTPOptions{Username: smtpUser, Password: smtpPass})
	db := openStore(t, filepath.Join(t.TempDir(), "inkpass.db"), nil)
	w := mail.NewWorker(db, newSender(t, settings(srv, mail.STARTTLS)), mail.WorkerOptions{
		Audit: db, Wake: db.MailQueued(), Poll: time.Hour,
	})
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		w.Run(ctx)
	}()
	out := mail.NewOutbox(db, true)
	for i := range 3 {
		if err := out.Enqueue(t.Context(), invitation(fmt.Sprintf("kai%d@example.com", i))); err != nil {
			t.Fatal(err)
		}
		if got := srv.WaitReceived(i+1, 20*time.Second); len(got) != i+1 {
			t.Fatalf("after %d Enqueue calls %d messages arrived", i+1, len(got))
		}
	}
	cancel()
	select {
	case <-stopped:
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// TestSMTP_LogValue: the settings logged never show the password.
func TestSMTP_LogValue(t *testing.T) {
	var logs testsupport.LogBuffer
	s := mail.SMTP{Host: "smtp.example.com", Username: smtpUser, Password: smtpPass, From: "a@example.com"}
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("mail", "smtp", s)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("mail", "smtp", s)
	out := logs.String() + fmt.Sprintf("%v %+v %s", s, s, s)
	if strings.Contains(out, smtpPass) {
		t.Errorf("the settings print the password: %s", out)
	}
	if !strings.Contains(out, "smtp.example.com:587") {
		t.Errorf("the settings do not show the address: %s", out)
	}
}

// TestWorker_LogsNoSecrets: a failed login is logged with the server's
// reply, but neither the password tried nor the message's link.
func TestWorker_LogsNoSecrets(t *testing.T) {
	srv := testsupport.NewSMTPServer(t, testsupport.SMTPOptions{Username: smtpUser, Password: smtpPass})
	clock := testsupport.NewClock(time.Unix(1_800_000_000, 0))
	db := openStore(t, filepath.Join(t.TempDir(), "inkpass.db"), clock.Now)
	s := settings(srv, mail.STARTTLS)
	s.Password = "Wrong-" + smtpPass
	var logs testsupport.LogBuffer
	w := worker(db, newSender(t, s), clock, &logs, time.Minute)
	if err := mail.NewOutbox(db, true).Enqueue(t.Context(), invitation("kai@example.com")); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		w.Drain(t.Context())
		clock.Advance(time.Hour)
	}
	out := logs.String()
	if srv.AuthFailures() != 2 || !strings.Contains(out, "535") || len(failures(t, db)) != 1 {
		t.Fatalf("%d AUTH failures, %d audited; want 2 attempts logged with the 535 and one give-up:\n%s", srv.AuthFailures(), len(failures(t, db)), out)
	}
	if strings.Contains(out, smtpPass) || strings.Contains(out, link) {
		t.Errorf("the logs carry the password or the link:\n%s", out)
	}
	if d := failures(t, db)[0].Detail; strings.Contains(d, smtpPass) || strings.Contains(d, link) {
		t.Errorf("the audit detail carries the password or the link: %s", d)
	}
}
