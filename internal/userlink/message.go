package userlink

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"time"

	"github.com/inkpass/inkpass/internal/mail"
	"github.com/inkpass/inkpass/internal/user"
)

// wording is what each purpose's message says around the link.
var wording = map[Purpose]struct{ subject, lead, action, after string }{
	Invitation: {
		subject: "You are invited to %s",
		lead:    "%s has made you an account (username: %s). Choose your password to sign in.",
		action:  "Choose your password",
		after:   "If you did not expect this invitation, ignore this message: nothing happens without the link.",
	},
	PasswordReset: {
		subject: "Reset your %s password",
		lead:    "Someone, hopefully you, asked to reset the password of your %s account (username: %s).",
		action:  "Choose a new password",
		after:   "If you did not ask for this, ignore this message: your password stays as it is.",
	},
	EmailVerification: {
		subject: "Confirm your email for %s",
		lead:    "Confirm that this address belongs to your %s account (username: %s).",
		action:  "Confirm my email",
		after:   "If you did not ask for this, ignore this message.",
	},
}

// messageHTML is the simple HTML alternative; html/template escapes every
// value for where it lands (the studio name and username come from data).
var messageHTML = template.Must(template.New("message").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: sans-serif; line-height: 1.5; color: #1d1d1f;">
<p style="font-size: 1.25em; font-weight: bold;">{{.Studio}}</p>
<p>{{.Lead}}</p>
<p><a href="{{.Link}}" style="display: inline-block; padding: 0.6em 1.2em; background: #1d1d1f; color: #ffffff; text-decoration: none; border-radius: 6px;">{{.Action}}</a></p>
<p>Or open this address: <br><span style="word-break: break-all;">{{.Link}}</span></p>
<p>The link works once, until {{.Expires}}.</p>
<p style="color: #6e6e73;">{{.After}}</p>
</body></html>
`))

// Message builds the email carrying link for u: subject, plain text and
// HTML, in the studio's name. The address is the user's own stored email.
func Message(studio string, u *user.User, p Purpose, link string, expires time.Time) (mail.Message, error) {
	w, ok := wording[p]
	if !ok {
		return mail.Message{}, fmt.Errorf("message for link purpose %q: unknown purpose", p)
	}
	subject := fmt.Sprintf(w.subject, studio)
	lead := fmt.Sprintf(w.lead, studio, u.Username)
	when := expires.UTC().Format("Mon 2 Jan 2006 15:04 MST")
	text := fmt.Sprintf("%s\n\n%s\n\n%s:\n%s\n\nThe link works once, until %s.\n\n%s\n", studio, lead, w.action, link, when, w.after)
	var buf bytes.Buffer
	err := messageHTML.Execute(&buf, map[string]string{
		"Subject": subject, "Studio": studio, "Lead": lead, "Link": link, "Action": w.action, "Expires": when, "After": w.after,
	})
	if err != nil {
		return mail.Message{}, fmt.Errorf("message for link purpose %q: %w", p, err)
	}
	return mail.Message{To: u.Email, Subject: subject, Text: text, HTML: buf.String(), Kind: string(p)}, nil
}

// send queues the message for u's link.
func (s *Service) send(ctx context.Context, u *user.User, p Purpose, link string, expires time.Time) error {
	if s.opts.Mailer == nil || u.Email == "" {
		return ErrNoEmail
	}
	name := s.opts.StudioName
	if s.opts.Studio != nil {
		if n := s.opts.Studio(ctx); n != "" {
			name = n
		}
	}
	m, err := Message(name, u, p, link, expires)
	if err != nil {
		return err
	}
	if err := s.opts.Mailer.Enqueue(ctx, m); err != nil {
		return fmt.Errorf("queue %s message for user %d: %w", p, u.ID, err)
	}
	return nil
}
