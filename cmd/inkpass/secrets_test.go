package main

import (
	"strings"
	"testing"
)

// TestConfigClientSecretNeededOnlyByServe: a config client whose secret_env
// is unset in this shell does not stop admin commands; serve refuses to
// start, naming secret_env and the variable (not secret_file), and so does
// check, which says what serve would do.
func TestConfigClientSecretNeededOnlyByServe(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "inkpass.db", `listen: "127.0.0.1:0"
issuer: "http://127.0.0.1:1"
clients:
  - id: booking
    redirect_uris: ["https://booking.studio.example/cb"]
    secret_env: BOOKING_CLIENT_SECRET
`)
	c.ok(t, "", "migrate")
	c.ok(t, "", "keys", "list")
	c.ok(t, "", "user", "list")
	c.ok(t, "", "client", "list")

	for _, args := range [][]string{{"serve"}, {"check"}} {
		code, _, errOut := c.run(t, nil, args...)
		if code != 1 {
			t.Errorf("inkpass %s without BOOKING_CLIENT_SECRET: exit %d, want 1; stderr %q", args[0], code, errOut)
		}
		if !strings.Contains(errOut, "clients[0].secret_env") || !strings.Contains(errOut, "BOOKING_CLIENT_SECRET") {
			t.Errorf("inkpass %s: stderr %q does not name clients[0].secret_env and BOOKING_CLIENT_SECRET", args[0], errOut)
		}
		if strings.Contains(errOut, "secret_file") {
			t.Errorf("inkpass %s: stderr %q names secret_file, which this client does not use", args[0], errOut)
		}
	}
}
