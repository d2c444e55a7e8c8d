package config_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/inkpass/inkpass/internal/config"
)

const smtpSecret = "smtp-Pa55-from-the-file"

// TestLoad_Mail: the mail section's rules, each problem named by its option.
func TestLoad_Mail(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		// want is the option the error names; "" loads.
		want string
	}{
		{"no mail section: email is off", "", ""},
		{"starttls to a remote host", "mail:\n  host: smtp.example.com\n  from: studio@example.com\n", ""},
		{"implicit TLS", "mail:\n  host: smtp.example.com\n  tls: tls\n  from: studio@example.com\n", ""},
		{"none to loopback", "mail:\n  host: 127.0.0.1\n  port: 1025\n  tls: none\n  from: studio@example.com\n", ""},
		{"none to localhost", "mail:\n  host: localhost\n  tls: none\n  from: studio@example.com\n", ""},
		{"none to a remote host is refused", "mail:\n  host: smtp.example.com\n  tls: none\n  from: studio@example.com\n", "mail.tls"},
		{"none to a private address is refused", "mail:\n  host: 10.0.0.5\n  tls: none\n  from: studio@example.com\n", "mail.tls"},
		{"an unknown TLS mode", "mail:\n  host: smtp.example.com\n  tls: opportunistic\n  from: studio@example.com\n", "mail.tls"},
		{"a host without a sender", "mail:\n  host: smtp.example.com\n", "mail.from"},
		{"a sender without a host", "mail:\n  from: studio@example.com\n", "mail.host"},
		{"a sender with a display name", "mail:\n  host: smtp.example.com\n  from: Studio <studio@example.com>\n", "mail.from"},
		{"a host with a port", "mail:\n  host: smtp.example.com:587\n  from: studio@example.com\n", "mail.host"},
		{"a bad port", "mail:\n  host: smtp.example.com\n  port: 70000\n  from: studio@example.com\n", "mail.port"},
		{"a zero timeout", "mail:\n  host: smtp.example.com\n  from: studio@example.com\n  timeout: 0s\n", "mail.timeout"},
		{"a password in config.yaml", "mail:\n  host: smtp.example.com\n  from: studio@example.com\n  password: hunter2hunter2\n", "mail.password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Load(writeConfig(t, tc.yaml), true, noEnv)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if got, want := c.Mail.Configured(), tc.yaml != ""; got != want {
					t.Errorf("Configured = %v, want %v", got, want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Load succeeded, want a problem with %s", tc.want)
			}
			if names := problemsOf(t, err); !slices.Contains(names, tc.want) {
				t.Errorf("problems %v (%v), want %s", names, err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2hunter2") {
				t.Errorf("the error quotes the password: %v", err)
			}
		})
	}
}

// TestLoad_MailPassword: the SMTP password comes from mail.password_file
// (beside the config) or INKPASS_SMTP_PASSWORD; a missing one fails only the
// commands that send (RequireMailPassword), and never shows in a printed
// config.
func TestLoad_MailPassword(t *testing.T) {
	base := "mail:\n  host: smtp.example.com\n  from: studio@example.com\n  username: studio\n"
	t.Run("from the file, relative to the config", func(t *testing.T) {
		path := writeConfig(t, base+"  password_file: smtp.secret\n")
		if err := os.WriteFile(filepath.Join(filepath.Dir(path), "smtp.secret"), []byte(smtpSecret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := config.Load(path, true, envMap(map[string]string{config.EnvSMTPPassword: "from-env"}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Mail.Password != smtpSecret || c.RequireMailPassword() != nil {
			t.Errorf("password %q, RequireMailPassword %v; want the file's", c.Mail.Password, c.RequireMailPassword())
		}
		if s := c.Mail.String(); strings.Contains(s, smtpSecret) {
			t.Errorf("the printed mail settings carry the password: %s", s)
		}
	})
	t.Run("from the environment", func(t *testing.T) {
		c, err := config.Load(writeConfig(t, base), true, envMap(map[string]string{config.EnvSMTPPassword: smtpSecret}))
		if err != nil || c.Mail.Password != smtpSecret {
			t.Fatalf("password %q, %v", c.Mail.Password, err)
		}
	})
	t.Run("missing: Load succeeds, RequireMailPassword names what to set", func(t *testing.T) {
		c, err := config.Load(writeConfig(t, base), true, noEnv)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.RequireMailPassword(); err == nil || !strings.Contains(err.Error(), config.EnvSMTPPassword) {
			t.Errorf("RequireMailPassword = %v, want it to name %s", err, config.EnvSMTPPassword)
		}
	})
	t.Run("an unreadable file", func(t *testing.T) {
		c, err := config.Load(writeConfig(t, base+"  password_file: nowhere.secret\n"), true, noEnv)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.RequireMailPassword(); err == nil || !strings.Contains(err.Error(), "mail.password_file") {
			t.Errorf("RequireMailPassword = %v", err)
		}
	})
}
