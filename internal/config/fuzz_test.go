package config_test

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkpass/inkpass/internal/config"
)

// fuzzSecret is a client secret the environment holds: no error may quote it.
const fuzzSecret = "fuzz-client-secret-0d6f1c"

// FuzzLoad feeds config.yaml bodies (and an INKPASS_ISSUER override) to Load.
// No input panics; a refusal is an error value that never quotes a secret; an
// accepted config passes Validate again and keeps the rules that matter for
// security (an https or loopback issuer, OWASP's argon2id floor, a minimum
// password length of 8).
func FuzzLoad(f *testing.F) {
	shipped, err := os.ReadFile(shippedConfig)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []struct{ body, issuer string }{
		{string(shipped), ""},
		{"", ""},
		{"", "https://id.example"},
		{"issuer: http://id.example\n", ""},
		{"issuer: http://127.0.0.1:8080/\n", ""},
		{"listen: 127.0.0.1\n", ""},
		{"password:\n  min_length: 7\n  argon2_memory_kib: 1\n", ""},
		{"password:\n  min_length: x\n", ""},
		{"tokens:\n  access_token: 25h\n  session: -1s\n", ""},
		{"throttle:\n  trusted_proxies: [10.0.0.0/8, nope]\n", ""},
		{"clients:\n  - id: m\n    grant_types: [client_credentials]\n    secret_env: FUZZ_SECRET\n", ""},
		{"clients:\n  - id: m\n    grant_types: [client_credentials]\n", ""},
		{"clients:\n  - id: a\n  - id: a\n", ""},
		{"unknown_option: 1\n", ""},
		{"log: [\n", ""},
		{"profiling:\n  listen: 0.0.0.0:6060\n", ""},
		{"\xff\xfe", ""},
	} {
		f.Add(s.body, s.issuer)
	}
	dir := f.TempDir()
	path := filepath.Join(dir, "config.yaml")
	f.Fuzz(func(t *testing.T, body, issuer string) {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		env := map[string]string{"FUZZ_SECRET": fuzzSecret, config.EnvIssuer: issuer}
		c, err := config.Load(path, true, func(k string) string { return env[k] })
		if err != nil {
			if c != nil {
				t.Fatalf("a config and an error: %v", err)
			}
			if strings.Contains(err.Error(), fuzzSecret) {
				t.Fatalf("the error quotes a client secret: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Load accepted a config that Validate refuses: %v", err)
		}
		u, err := url.Parse(c.Issuer)
		if err != nil {
			t.Fatalf("accepted issuer %q: %v", c.Issuer, err)
		}
		if u.Scheme != "https" {
			if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
				t.Fatalf("accepted a plain-http issuer that is not loopback: %q", c.Issuer)
			}
		}
		if c.Password.MinLength < 8 || c.Password.Argon2MemoryKiB < 19456 || c.Password.Argon2Time < 2 {
			t.Fatalf("accepted weak password settings: %+v", c.Password)
		}
		// A secret that could not be read is left to the commands that
		// need it: RequireClientSecrets must then refuse, naming no secret.
		missing := false
		for _, cl := range c.Clients {
			if !cl.Public && cl.Secret == "" {
				missing = true
			}
		}
		if err := c.RequireClientSecrets(); (err != nil) != missing {
			t.Fatalf("a confidential client lacks its secret: %v, but RequireClientSecrets says %v", missing, err)
		}
	})
}
