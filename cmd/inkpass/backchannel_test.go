package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/inkpass/inkpass/internal/backchannel"
	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/store"
)

// TestBackchannelLogout_CLIDeactivate: `inkpass user deactivate` ends the
// user's sessions in its own process, which holds no signing key and serves
// nothing. It queues the logout notices in the same transaction, and the
// server's worker (here on its own handle to the file, as `serve` would be)
// delivers them.
func TestBackchannelLogout_CLIDeactivate(t *testing.T) {
	t.Parallel()
	got := make(chan string, 4)
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.PostFormValue("logout_token")
	}))
	defer rp.Close()
	c := newCLI(t, "inkpass.db", "issuer: \"http://127.0.0.1:1\"\n")

	for _, bad := range []string{"http://portal.example/bc", "com.example.app:/bc", "https://portal.example/bc#x"} {
		if code, _, errOut := c.run(t, nil, "client", "add", "--id", "bad", "--redirect-uri", "http://localhost:1/cb", "--backchannel-logout-uri", bad); code == 0 || !strings.Contains(errOut, "backchannel_logout_uri") {
			t.Errorf("client add --backchannel-logout-uri %s: exit %d, stderr %q; want refused naming backchannel_logout_uri", bad, code, errOut)
		}
	}
	added := jsonObject(t, c.ok(t, "", "client", "add", "--id", "portal", "--redirect-uri", "http://localhost:1/cb", "--backchannel-logout-uri", rp.URL+"/bc", "--json"))
	if added["backchannel_logout_uri"] != rp.URL+"/bc" {
		t.Fatalf("client add --json: backchannel_logout_uri = %v", added["backchannel_logout_uri"])
	}
	if out := c.ok(t, "", "client", "show", "portal"); !strings.Contains(out, rp.URL+"/bc") {
		t.Errorf("client show does not list the back-channel URI:\n%s", out)
	}
	c.ok(t, "", "client", "update", "portal", "--backchannel-logout-uri", rp.URL+"/logout")
	c.ok(t, "pw-for-rosa-1\n", "user", "add", "--username", "rosa", "--role", "assistant", "--password-stdin")

	// A browser session in which the portal was given a code, as /authorize
	// records it.
	dbPath := filepath.Join(c.dir, "inkpass.db")
	raw, err := sql.Open("sqlite3", "file:"+dbPath+"?_busy_timeout=5000&_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	now := time.Now().Unix()
	for _, q := range []string{
		`INSERT INTO inkpass_sessions (token_hash, sid, user_id, auth_time, created_at, expires_at)
			SELECT x'01', 'sid-rosa-1', id, ?1, ?1, ?1 + 3600 FROM users WHERE username = 'rosa'`,
		`INSERT INTO inkpass_session_clients (sid, client_id) VALUES ('sid-rosa-1', 'portal')`,
	} {
		if _, err := raw.Exec(q, now); err != nil {
			t.Fatal(err)
		}
	}

	c.ok(t, "", "user", "deactivate", "rosa")
	var n int
	if err := raw.QueryRow(`SELECT count(*) FROM inkpass_backchannel_outbox WHERE client_id = 'portal' AND sid = 'sid-rosa-1'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("after user deactivate the outbox holds %d notices for the portal's session, want 1", n)
	}

	// The server drains it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := store.Open(ctx, dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	set, _, err := keys.Open(keys.Options{Dir: filepath.Join(c.dir, "keys"), Algorithm: keys.RS256, RetainFor: keys.DefaultRetainFor})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		backchannel.New(db, set, backchannel.Options{Issuer: "http://127.0.0.1:1", Poll: 20 * time.Millisecond}).Run(ctx)
		close(done)
	}()
	defer func() { cancel(); <-done }()
	var tok string
	select {
	case tok = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("the worker delivered nothing")
	}
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := jws.Verify(set.PublicKeys()[0])
	if err != nil {
		t.Fatalf("logout token does not verify: %v", err)
	}
	var claims map[string]any
	json.Unmarshal(payload, &claims)
	if claims["sid"] != "sid-rosa-1" || claims["aud"] != "portal" || claims["iss"] != "http://127.0.0.1:1" {
		t.Errorf("logout token claims %v", claims)
	}
}
