package mail

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
)

// Queue stores a message for the worker; the store implements it
// (store.DB.QueueMail). QueueMail is one insert: it never contacts the mail
// server. It must wake this process's worker once the insert committed.
type Queue interface {
	QueueMail(ctx context.Context, m Message) error
}

// ErrNotConfigured is Enqueue's answer when no SMTP server is configured
// (mail.host and mail.from): nothing is queued that nobody would send.
var ErrNotConfigured = errors.New("email is not configured (mail.host and mail.from)")

// ErrInvalidMessage is wrapped by Enqueue's error for a message that could
// never be sent: a bad recipient, a line break in a header, no text.
var ErrInvalidMessage = errors.New("invalid message")

// Outbox is how pages and commands send email: Enqueue stores the message
// and returns; the Worker delivers it. A nil *Outbox is a valid outbox that
// is not configured.
type Outbox struct {
	q          Queue
	configured bool
}

// NewOutbox returns the outbox over q. configured says whether an SMTP
// server is set up (SMTP.Configured); when it is not, Enqueue refuses with
// ErrNotConfigured and Configured reports false, so pages can hide what
// needs email ("Forgot password?").
func NewOutbox(q Queue, configured bool) *Outbox {
	return &Outbox{q: q, configured: configured}
}

// Configured reports whether email can be sent.
func (o *Outbox) Configured() bool { return o != nil && o.configured && o.q != nil }

// Enqueue checks m and stores it for delivery: one insert, never a wait for
// the mail server, so a page that sends email is as fast with the mail
// server down. It fails with ErrNotConfigured when email is not configured,
// with an error wrapping ErrInvalidMessage for a message that could never be
// sent, and with the store's error when the insert fails (the caller shows
// its page's error: the message was not queued).
func (o *Outbox) Enqueue(ctx context.Context, m Message) error {
	if !o.Configured() {
		return ErrNotConfigured
	}
	m.To = strings.TrimSpace(m.To)
	if err := Validate(m); err != nil {
		return err
	}
	if err := o.q.QueueMail(ctx, m); err != nil {
		return fmt.Errorf("queue %s email: %w", m.Kind, err)
	}
	return nil
}

// Validate reports why m could never be sent: To must be one bare address
// (no display name, no list), no header may hold a line break (header
// injection), and Text and Kind must be set. The error never quotes a body.
func Validate(m Message) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidMessage}, args...)...)
	}
	if strings.ContainsAny(m.To, "\r\n") || strings.ContainsAny(m.Subject, "\r\n") || strings.ContainsAny(m.Kind, "\r\n") {
		return bad("a header holds a line break")
	}
	if err := checkAddress(m.To); err != nil {
		return bad("recipient: %v", err)
	}
	if strings.TrimSpace(m.Subject) == "" {
		return bad("no subject")
	}
	if strings.TrimSpace(m.Text) == "" {
		return bad("no plain-text body")
	}
	if m.Kind == "" {
		return bad("no kind")
	}
	return nil
}

// checkAddress accepts one bare address, as a user's record holds it.
func checkAddress(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return fmt.Errorf("%q is not an email address", s)
	}
	if a.Name != "" || a.Address != strings.TrimSpace(s) {
		return fmt.Errorf("%q is not a bare email address", s)
	}
	return nil
}
