// Package mail sends inkpass's own messages (invitations, password resets,
// email verification) through the studio's SMTP server. Pages never send:
// they queue a Message, and a background worker delivers it with retries, so
// a slow or broken mail server never blocks a page.
package mail

// Message is one email to one person, in plain text and simple HTML. To is a
// single address taken from the user's record, never from a form field.
type Message struct {
	To      string
	Subject string
	// Text is the plain-text body; every message has one.
	Text string
	// HTML is the HTML alternative; empty sends plain text only.
	HTML string
	// Kind names the message for the audit trail and metrics
	// ("invitation", "password_reset", "email_verification"), never its
	// content: bodies carry single-use links.
	Kind string
}
