package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/inkpass/inkpass/internal/config"
	"github.com/inkpass/inkpass/internal/mail"
)

// smtpSettings turns config's mail section into the sender's settings,
// reading mail.ca_file when it is set.
func smtpSettings(c config.Mail) (mail.SMTP, error) {
	s := mail.SMTP{
		Host: c.Host, Port: c.Port, TLS: mail.TLSMode(c.TLS), Username: c.Username, Password: c.Password,
		From: c.From, FromName: c.FromName, Timeout: c.Timeout.D(),
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return mail.SMTP{}, fmt.Errorf("mail.ca_file: %w", err)
		}
		s.RootCAs = x509.NewCertPool()
		if !s.RootCAs.AppendCertsFromPEM(pem) {
			return mail.SMTP{}, fmt.Errorf("mail.ca_file: %s holds no PEM certificate", c.CAFile)
		}
	}
	return s, nil
}

// Pages and commands queue email through linkMailer (app.go): an outbox
// over a.db when mail.host and mail.from are set, and no mailer at all
// otherwise.

// startMailWorker runs the email worker beside the server when email is
// configured, and returns the function that stops it: it finishes the
// message in flight and returns once the worker has (serve calls it before
// the database closes).
func startMailWorker(ctx context.Context, a *app) (stop func(), err error) {
	if !a.cfg.Mail.Configured() {
		a.log.Info("email is off: set mail.host and mail.from to send invitations and reset links")
		return func() {}, nil
	}
	s, err := smtpSettings(a.cfg.Mail)
	if err != nil {
		return nil, err
	}
	sender, err := mail.NewSender(s)
	if err != nil {
		return nil, err
	}
	w := mail.NewWorker(a.db, sender, mail.WorkerOptions{Logger: a.log, Audit: a.db, Wake: a.db.MailQueued()})
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	a.log.Info("email on", "smtp", s)
	return func() {
		cancel()
		<-done
	}, nil
}

// checkMail is `inkpass check`'s mail line: it connects, starts TLS, logs
// in and quits without sending. A failure is check's error, one line
// without the password.
func checkMail(ctx context.Context, e *env, cfg *config.Config) error {
	w := e.stdout
	if !cfg.Mail.Configured() {
		fmt.Fprintln(w, "mail        off (set mail.host and mail.from to send invitations and reset links)")
		return nil
	}
	if err := cfg.RequireMailPassword(); err != nil {
		return err
	}
	s, err := smtpSettings(cfg.Mail)
	if err != nil {
		return err
	}
	sender, err := mail.NewSender(s)
	if err != nil {
		return err
	}
	if err := sender.Check(ctx); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	login := "no login"
	if s.Username != "" {
		login = "logged in as " + s.Username
	}
	fmt.Fprintf(w, "mail        ok: %s (%s), %s, from %s; nothing sent\n", s.Addr(), cfg.Mail.TLS, login, s.From)
	return nil
}
