package config

import (
	"fmt"
	"net"
	"net/mail"
	"os"
	"strings"
	"time"
)

// Mail is how inkpass reaches the studio's SMTP server for its own email
// (invitations, password resets). Email is on when Host and From are set.
type Mail struct {
	Host string `yaml:"host"`
	// Port is 0 for the mode's default: 587 (starttls), 465 (tls), 25 (none).
	Port int `yaml:"port"`
	// TLS is starttls (the default; a server without STARTTLS is refused,
	// never written to in plain text), tls (implicit, port 465), or none,
	// which only a loopback host may use (a local relay, a test catcher).
	TLS      string `yaml:"tls"`
	Username string `yaml:"username"`
	// PasswordFile holds the SMTP password; without it the password comes
	// from INKPASS_SMTP_PASSWORD. Never in config.yaml.
	PasswordFile string `yaml:"password_file"`
	// PasswordInFile is a password written in config.yaml: refused by
	// Validate with a message saying where it belongs.
	PasswordInFile string `yaml:"password"`
	// From is the sender's bare address; FromName an optional display name.
	From     string `yaml:"from"`
	FromName string `yaml:"from_name"`
	// Timeout bounds each step of an SMTP conversation.
	Timeout Duration `yaml:"timeout"`
	// CAFile is a PEM bundle that verifies the server's certificate
	// instead of the system's roots (a private CA); empty for the system's.
	CAFile string `yaml:"ca_file"`

	// Password is read by Load from PasswordFile or INKPASS_SMTP_PASSWORD.
	Password string `yaml:"-"`
	// passwordProblem says why Password could not be read ("" when it was):
	// only serve and check need it (RequireMailPassword).
	passwordProblem string
}

// EnvSMTPPassword holds the SMTP password when mail.password_file is unset.
const EnvSMTPPassword = "INKPASS_SMTP_PASSWORD"

// The values of mail.tls.
const (
	MailSTARTTLS    = "starttls"
	MailImplicitTLS = "tls"
	MailNoTLS       = "none"
)

// Configured reports whether email is on: a host and a sender are set.
func (m Mail) Configured() bool { return m.Host != "" && m.From != "" }

// String keeps the password out of a printed config.
func (m Mail) String() string {
	return fmt.Sprintf("{host:%s port:%d tls:%s username:%s password_set:%v from:%s}", m.Host, m.Port, m.TLS, m.Username, m.Password != "", m.From)
}

func defaultMail() Mail {
	return Mail{TLS: MailSTARTTLS, Timeout: Duration(30 * time.Second)}
}

// loadMailPassword reads the SMTP password from mail.password_file, or else
// INKPASS_SMTP_PASSWORD. A password that cannot be read is not an error
// here: the admin commands run in shells that do not hold the service's
// secrets; serve and check ask for it (RequireMailPassword).
func (c *Config) loadMailPassword(getenv func(string) string) {
	m := &c.Mail
	m.PasswordFile = c.resolve(m.PasswordFile)
	m.CAFile = c.resolve(m.CAFile)
	switch {
	case m.PasswordFile != "":
		b, err := os.ReadFile(m.PasswordFile)
		if err != nil {
			// The error names the file, never its content.
			m.passwordProblem = fmt.Sprintf("mail.password_file: cannot read the SMTP password: %v", err)
			return
		}
		m.Password = strings.TrimSpace(string(b))
		if m.Password == "" && m.Username != "" {
			m.passwordProblem = fmt.Sprintf("mail.password_file: %s is empty", m.PasswordFile)
		}
	default:
		m.Password = strings.TrimSpace(getenv(EnvSMTPPassword))
		if m.Password == "" && m.Username != "" {
			m.passwordProblem = fmt.Sprintf("mail.username is set but there is no password: set mail.password_file or %s", EnvSMTPPassword)
		}
	}
}

// RequireMailPassword reports an SMTP password that mail.username needs but
// Load could not read. serve and check call it; other commands never send.
func (c *Config) RequireMailPassword() error {
	if c.Mail.Configured() && c.Mail.passwordProblem != "" {
		return &ValidationError{Problems: []string{c.Mail.passwordProblem}}
	}
	return nil
}

// validateMail adds the mail section's problems.
func (c *Config) validateMail(bad func(option, format string, args ...any)) {
	m := c.Mail
	if m.PasswordInFile != "" {
		bad("mail.password", "is never written in config.yaml: put it in a file named by mail.password_file, or in %s", EnvSMTPPassword)
	}
	if m.Host == "" && m.From == "" {
		return
	}
	if m.Host == "" {
		bad("mail.host", "is needed when mail.from is set")
	} else if strings.ContainsAny(m.Host, ":/ ") {
		bad("mail.host", "%q must be a host name or IP address alone (the port goes in mail.port)", m.Host)
	}
	if m.From == "" {
		bad("mail.from", "is needed when mail.host is set")
	} else if a, err := mail.ParseAddress(m.From); err != nil || a.Name != "" || a.Address != m.From {
		bad("mail.from", "%q must be a bare email address (the name goes in mail.from_name)", m.From)
	}
	if strings.ContainsAny(m.FromName, "\r\n") {
		bad("mail.from_name", "must be one line")
	}
	if m.Port < 0 || m.Port > 65535 {
		bad("mail.port", "%d is not a port", m.Port)
	}
	switch m.TLS {
	case MailSTARTTLS, MailImplicitTLS:
	case MailNoTLS:
		// Plain text carries the password and the sign-in links: only to a
		// relay on this machine.
		if !isLoopbackHost(m.Host) {
			bad("mail.tls", "none is only allowed for a loopback host (127.0.0.1, ::1, localhost); %q needs starttls or tls", m.Host)
		}
	default:
		bad("mail.tls", "%q must be starttls, tls or none", m.TLS)
	}
	if d := m.Timeout.D(); d < time.Second || d > 5*time.Minute {
		bad("mail.timeout", "must be between 1s and 5m")
	}
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
