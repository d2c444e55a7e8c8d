package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/mail"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/testsupport"
)

const (
	smtpUser = "inkpass@studio.example"
	smtpPass = "cmd-Smtp-Pa55word-xyz"
)

// mailConfig is a mail section for srv, the password in smtp.secret beside
// the config (written by newMailCLI).
func mailConfig(srv *testsupport.SMTPServer, tls string) string {
	return fmt.Sprintf("mail:\n  host: %s\n  port: %d\n  tls: %s\n  username: %s\n  password_file: smtp.secret\n  from: studio@studio.example\n  from_name: Ink & Iron\n  ca_file: %s\n  timeout: 5s\n",
		srv.Host, srv.Port, tls, smtpUser, srv.CAFile)
}

func newMailCLI(t *testing.T, extra, password string) *cli {
	t.Helper()
	c := newCLI(t, "inkpass.db", "listen: \"127.0.0.1:0\"\nissuer: \"http://127.0.0.1:1\"\n"+extra)
	if err := os.WriteFile(filepath.Join(c.dir, "smtp.secret"), []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCheck_Mail: `inkpass check` logs in to the configured SMTP server and
// quits without sending; a wrong password, an unreachable server or a
// missing password exit 1 with one readable line that never holds the
// password.
func TestCheck_Mail(t *testing.T) {
	t.Parallel()
	t.Run("off", func(t *testing.T) {
		c := newCLI(t, "inkpass.db", "")
		if out := c.ok(t, "", "check"); !strings.Contains(out, "mail        off") {
			t.Errorf("check without mail:\n%s", out)
		}
	})
	for _, mode := range []string{"starttls", "tls"} {
		t.Run("a good server over "+mode, func(t *testing.T) {
			srv := testsupport.NewSMTPServer(t, testsupport.SMTPOptions{TLS: mode, Username: smtpUser, Password: smtpPass})
			c := newMailCLI(t, mailConfig(srv, mode), smtpPass)
			out := c.ok(t, "", "check")
			if want := fmt.Sprintf("mail        ok: %s (%s), logged in as %s", srv.Addr(), mode, smtpUser); !strings.Contains(out, want) {
				t.Errorf("check output lacks %q:\n%s", want, out)
			}
			if strings.Contains(out, smtpPass) {
				t.Errorf("check printed the password:\n%s", out)
			}
			if n := len(srv.Received()); n != 0 {
				t.Errorf("check sent %d messages", n)
			}
		})
	}
	t.Run("a wrong password", func(t *testing.T) {
		srv := testsupport.NewSMTPServer(t, testsupport.SMTPOptions{Username: smtpUser, Password: smtpPass})
		wrong := "Wrong-" + smtpPass
		c := newMailCLI(t, mailConfig(srv, "starttls"), wrong)
		code, out, errOut := c.run(t, nil, "check")
		if code != 1 {
			t.Fatalf("exit %d, want 1; stderr %q", code, errOut)
		}
		if !strings.HasPrefix(errOut, "inkpass check: mail: ") || !strings.Contains(errOut, "535") || strings.Count(errOut, "\n") != 1 {
			t.Errorf("stderr %q: want one line naming mail and the server's 535", errOut)
		}
		if strings.Contains(out+errOut, wrong) || strings.Contains(out+errOut, smtpPass) {
			t.Errorf("the output carries the password: %q %q", out, errOut)
		}
		if srv.AuthFailures() != 1 {
			t.Errorf("%d AUTH failures at the server, want 1", srv.AuthFailures())
		}
	})
	t.Run("an unreachable server", func(t *testing.T) {
		srv := testsupport.NewSMTPServer(t, testsupport.SMTPOptions{Username: smtpUser, Password: smtpPass})
		srv.Stop()
		c := newMailCLI(t, mailConfig(srv, "starttls"), smtpPass)
		code, _, errOut := c.run(t, nil, "check")
		if code != 1 || !strings.Contains(errOut, "inkpass check: mail: smtp "+srv.Addr()) || strings.Contains(errOut, smtpPass) {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("no password", func(t *testing.T) {
		srv := testsupport.NewSMTPServer(t, testsupport.SMTPOptions{Username: smtpUser, Password: smtpPass})
		c := newCLI(t, "inkpass.db", strings.Replace(mailConfig(srv, "starttls"), "  password_file: smtp.secret\n", "", 1))
		if code, _, errOut := c.run(t, nil, "check"); code != 1 || !strings.Contains(errOut, "INKPASS_SMTP_PASSWORD") {
			t.Errorf("exit %d, stderr %q; want 1 naming INKPASS_SMTP_PASSWORD", code, errOut)
		}
		c.env["INKPASS_SMTP_PASSWORD"] = smtpPass
		c.ok(t, "", "check")
	})
	t.Run("tls none to a remote host", func(t *testing.T) {
		c := newCLI(t, "inkpass.db", "mail:\n  host: smtp.example.com\n  tls: none\n  from: studio@studio.example\n")
		if code, _, errOut := c.run(t, nil, "check"); code != 1 || !strings.Contains(errOut, "mail.tls") {
			t.Errorf("exit %d, stderr %q; want 1 naming mail.tls", code, errOut)
		}
	})
}

// TestServe_MailWorker: serve runs the email worker; a message queued
// before it started (as the CLI would queue one) is delivered, serve stops
// cleanly, and its log holds neither the SMTP password nor the body's link.
func TestServe_MailWorker(t *testing.T) {
	t.Parallel()
	srv := testsupport.NewSMTPServer(t, testsupport.SMTPOptions{Username: smtpUser, Password: smtpPass})
	c := newMailCLI(t, mailConfig(srv, "starttls"), smtpPass)
	c.ok(t, "", "migrate")
	const link = "https://id.studio.example/invite/SERVELINKtoken"
	db, err := store.Open(context.Background(), filepath.Join(c.dir, "inkpass.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = mail.NewOutbox(db, true).Enqueue(context.Background(), mail.Message{
		To: "kai@example.com", Subject: "Your invitation", Text: "Open " + link, Kind: "invitation"})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := c.serve(t)
	s.listening(t)
	got := srv.WaitReceived(1, 20*time.Second)
	if len(got) != 1 || got[0].To[0] != "kai@example.com" || !strings.Contains(string(got[0].Data), "SERVELINKtoken") {
		t.Fatalf("received %d messages: %+v", len(got), got)
	}
	s.stop(t)
	logs := s.logs.String()
	if !strings.Contains(logs, "email on") || !strings.Contains(logs, "email sent") {
		t.Errorf("serve's log does not show the worker:\n%s", logs)
	}
	if strings.Contains(logs, smtpPass) || strings.Contains(logs, "SERVELINKtoken") {
		t.Errorf("serve's log carries the password or the link:\n%s", logs)
	}
}

// TestInvitation_Emailed: with email configured, `inkpass user invite`
// queues the invitation in the outbox and the running server's worker
// delivers it over SMTP: to the user's own address, signed with the studio's
// name, carrying the very link the command printed.
func TestInvitation_Emailed(t *testing.T) {
	t.Parallel()
	srv := testsupport.NewSMTPServer(t, testsupport.SMTPOptions{Username: smtpUser, Password: smtpPass})
	c := newMailCLI(t, mailConfig(srv, "starttls")+"studio_name: \"Ink & Iron\"\n", smtpPass)
	c.ok(t, "", "user", "add", "--username", "kai", "--role", "assistant", "--email", "kai@studio.example", "--invite")
	out := c.ok(t, "", "user", "reset-link", "kai")
	link := regexp.MustCompile(`http://127\.0\.0\.1:1/link/[A-Za-z0-9_-]+`).FindString(out)
	if link == "" {
		t.Fatalf("reset-link printed no link:\n%s", out)
	}
	s := c.serve(t)
	s.listening(t)
	var found bool
	for _, m := range srv.WaitReceived(2, 20*time.Second) {
		if m.To[0] != "kai@studio.example" {
			t.Errorf("a message went to %v", m.To)
		}
		body := strings.ReplaceAll(string(m.Data), "=\r\n", "") // quoted-printable soft breaks
		if strings.Contains(body, link) {
			found = true
			if !strings.Contains(body, "Ink & Iron") {
				t.Errorf("the reset message does not name the studio:\n%s", body)
			}
		}
	}
	if !found {
		t.Errorf("no message carried the printed reset link %s", link)
	}
	s.stop(t)
}
