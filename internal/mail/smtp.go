package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLSMode is how the connection to the SMTP server is protected.
type TLSMode string

// The TLS modes. There is no opportunistic mode: a server that does not
// offer STARTTLS is refused, never written to in plain text, since the
// messages carry single-use sign-in links and AUTH carries the password.
const (
	// STARTTLS upgrades a plain connection (submission, port 587) and
	// refuses a server that does not offer it. The default.
	STARTTLS TLSMode = "starttls"
	// ImplicitTLS speaks TLS from the first byte (port 465).
	ImplicitTLS TLSMode = "tls"
	// NoTLS is plain text; config allows it only for a loopback server (a
	// local relay or a test catcher).
	NoTLS TLSMode = "none"
)

// DefaultPort is the port of each mode when none is configured.
func (m TLSMode) DefaultPort() int {
	switch m {
	case ImplicitTLS:
		return 465
	case NoTLS:
		return 25
	}
	return 587
}

// SMTP is how to reach the studio's mail server; cmd/inkpass fills it from
// config.yaml's mail section.
type SMTP struct {
	Host string
	// Port is TLS.DefaultPort() when zero.
	Port int
	// TLS is STARTTLS when empty.
	TLS      TLSMode
	Username string
	// Password comes from mail.password_file or INKPASS_SMTP_PASSWORD,
	// never from config.yaml; LogValue never shows it.
	Password string
	// From is the sender's bare address; FromName an optional display name.
	From     string
	FromName string
	// Timeout bounds each step of a conversation (connect, each command);
	// 30 s when zero.
	Timeout time.Duration
	// RootCAs verifies the server's certificate; the system's pool when nil
	// (mail.ca_file names a private CA).
	RootCAs *x509.CertPool
}

// Configured reports whether email can be sent: a host and a sender are set.
func (s SMTP) Configured() bool { return s.Host != "" && s.From != "" }

// Addr is host:port, as the connection dials it.
func (s SMTP) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.port())) }

func (s SMTP) port() int {
	if s.Port != 0 {
		return s.Port
	}
	return s.mode().DefaultPort()
}

func (s SMTP) mode() TLSMode {
	if s.TLS == "" {
		return STARTTLS
	}
	return s.TLS
}

// LogValue implements slog.LogValuer: the settings without the password.
func (s SMTP) LogValue() slog.Value {
	return slog.GroupValue(slog.String("addr", s.Addr()), slog.String("tls", string(s.mode())),
		slog.String("username", s.Username), slog.Bool("password_set", s.Password != ""), slog.String("from", s.From))
}

// String keeps a %v of the settings from printing the password.
func (s SMTP) String() string { return s.LogValue().String() }

// Sender speaks SMTP through go-mail: one connection per message, so that a
// broken connection fails one message, and that message only.
type Sender struct {
	cfg SMTP
}

// NewSender returns a sender for cfg; it does not connect.
func NewSender(cfg SMTP) (*Sender, error) {
	if !cfg.Configured() {
		return nil, ErrNotConfigured
	}
	switch cfg.mode() {
	case STARTTLS, ImplicitTLS, NoTLS:
	default:
		return nil, fmt.Errorf("smtp: unknown TLS mode %q (starttls, tls or none)", cfg.TLS)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &Sender{cfg: cfg}, nil
}

func (s *Sender) client() (*gomail.Client, error) {
	c := s.cfg
	opts := []gomail.Option{
		gomail.WithPort(c.port()),
		gomail.WithTimeout(c.Timeout),
		gomail.WithTLSConfig(&tls.Config{ServerName: c.Host, RootCAs: c.RootCAs, MinVersion: tls.VersionTLS12}),
	}
	switch c.mode() {
	case STARTTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case NoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if c.Username != "" {
		// The strongest mechanism the server offers; PLAIN and LOGIN only
		// over TLS (go-mail's discovery skips them on a plain connection).
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(c.Username), gomail.WithPassword(c.Password))
	}
	cl, err := gomail.NewClient(c.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp %s: %w", c.Addr(), err)
	}
	return cl, nil
}

// Check connects, says EHLO, sets up TLS, authenticates and quits without
// sending: what `inkpass check` reports. The error says which step failed
// and never holds the password.
func (s *Sender) Check(ctx context.Context) error {
	cl, err := s.client()
	if err != nil {
		return err
	}
	if err := cl.DialWithContext(ctx); err != nil {
		return fmt.Errorf("smtp %s (%s): %w", s.cfg.Addr(), s.cfg.mode(), err)
	}
	if err := cl.Close(); err != nil {
		return fmt.Errorf("smtp %s: quit: %w", s.cfg.Addr(), err)
	}
	return nil
}

// Send delivers m now, on a connection of its own. A refusal the server
// says is permanent (a 5xx reply to MAIL, RCPT or DATA) is a
// *PermanentError: retrying would not change it.
func (s *Sender) Send(ctx context.Context, m Message) error {
	msg, err := s.build(m)
	if err != nil {
		return &PermanentError{Err: err}
	}
	cl, err := s.client()
	if err != nil {
		return err
	}
	if err := cl.DialAndSendWithContext(ctx, msg); err != nil {
		var se *gomail.SendError
		if errors.As(err, &se) && !se.IsTemp() && se.ErrorCode() >= 500 {
			return &PermanentError{Err: fmt.Errorf("smtp %s: %w", s.cfg.Addr(), err)}
		}
		return fmt.Errorf("smtp %s: %w", s.cfg.Addr(), err)
	}
	return nil
}

// build turns m into a MIME message: plain text, with the HTML as an
// alternative when there is one (multipart/alternative), and
// Auto-Submitted: auto-generated (RFC 3834) so that vacation responders and
// mailing lists do not answer a machine.
func (s *Sender) build(m Message) (*gomail.Msg, error) {
	if err := Validate(m); err != nil {
		return nil, err
	}
	msg := gomail.NewMsg()
	var err error
	if s.cfg.FromName != "" {
		err = msg.FromFormat(s.cfg.FromName, s.cfg.From)
	} else {
		err = msg.From(s.cfg.From)
	}
	if err != nil {
		return nil, fmt.Errorf("sender address: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("recipient address: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	// The sender's domain rather than this machine's host name (go-mail's
	// default), which is often a bare "vm" that spam filters frown on.
	msg.SetMessageIDWithValue(rand.Text() + "@" + domainOf(s.cfg.From))
	msg.SetUserAgent("inkpass")
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	// Exchange's equivalent of Auto-Submitted: no out-of-office replies.
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// domainOf is the part of a bare address after its last @.
func domainOf(addr string) string {
	return addr[strings.LastIndexByte(addr, '@')+1:]
}

// PermanentError is a failure that a retry would not change (the server
// refused the recipient or the message for good, or the message cannot be
// built): the worker gives the message up at once.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }
