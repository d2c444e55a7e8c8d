package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/store"
)

func TestClientCommands(t *testing.T) {
	c := newCLI(t, "inkpass.db", "")
	add := jsonObject(t, c.ok(t, "", "client", "add", "--id", "booking", "--name", "Booking",
		"--redirect-uri", "https://booking.example/cb", "--redirect-uri", "http://127.0.0.1:7000/cb",
		"--post-logout-redirect-uri", "https://booking.example/", "--first-party",
		"--scope", "openid", "--scope", "profile", "--json"))
	secret, _ := add["client_secret"].(string)
	if len(secret) != 43 {
		t.Fatalf("client add --json: client_secret %q, want a 43-character secret", secret)
	}
	if add["public"] != false || add["first_party"] != true || add["auth_method"] != "client_secret_basic" {
		t.Errorf("client add --json = %v, want a confidential first-party client with basic auth", add)
	}

	pub := jsonObject(t, c.ok(t, "", "client", "add", "--id", "spa", "--public", "--redirect-uri", "http://localhost:5173/cb", "--json"))
	if _, has := pub["client_secret"]; has || pub["auth_method"] != "none" {
		t.Errorf("public client add --json = %v, want no secret and auth_method none", pub)
	}

	list := jsonArray(t, c.ok(t, "", "client", "list", "--json"))
	if len(list) != 2 || list[0]["id"] != "booking" || list[1]["id"] != "spa" {
		t.Errorf("client list --json = %v, want booking and spa", list)
	}
	for _, cl := range list {
		if _, has := cl["client_secret"]; has {
			t.Errorf("client list shows a secret for %v", cl["id"])
		}
	}

	verify := func(secret string) bool {
		t.Helper()
		db, err := store.Open(context.Background(), filepath.Join(c.dir, "inkpass.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		cs, err := db.Clients(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		cl, err := cs.Get(context.Background(), "booking")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(cl.SecretHash), secret) {
			t.Fatal("the stored secret hash contains the secret")
		}
		return cl.VerifySecret(secret)
	}
	if !verify(secret) {
		t.Fatal("the secret printed by client add does not verify")
	}

	rotated := jsonObject(t, c.ok(t, "", "client", "rotate-secret", "booking", "--json"))
	newSecret, _ := rotated["client_secret"].(string)
	if newSecret == "" || newSecret == secret {
		t.Fatalf("rotate-secret gave %q, want a new secret", newSecret)
	}
	if verify(secret) || !verify(newSecret) {
		t.Error("after rotate-secret the old secret must fail and the new one verify")
	}

	c.ok(t, "", "client", "update", "booking", "--redirect-uri", "https://booking.example/new", "--name", "Booking 2")
	shown := jsonObject(t, c.ok(t, "", "client", "show", "booking", "--json"))
	if uris, _ := shown["redirect_uris"].([]any); len(uris) != 1 || uris[0] != "https://booking.example/new" || shown["name"] != "Booking 2" {
		t.Errorf("after update: %v", shown)
	}

	c.ok(t, "", "client", "remove", "booking")
	if code, _, errOut := c.run(t, nil, "client", "show", "booking"); code != 1 || strings.Count(errOut, "\n") != 1 {
		t.Errorf("show after remove: exit %d, stderr %q; want 1 and one line", code, errOut)
	}

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"an http redirect URI off loopback is refused", []string{"client", "add", "--id", "x", "--redirect-uri", "http://evil.example/cb"}},
		{"a redirect URI with a fragment is refused", []string{"client", "add", "--id", "x", "--redirect-uri", "https://a.example/cb#f"}},
		{"a public client cannot use client_credentials", []string{"client", "add", "--id", "x", "--public", "--grant", "client_credentials"}},
		{"an unknown scope is refused", []string{"client", "add", "--id", "x", "--redirect-uri", "https://a.example/cb", "--scope", "admin"}},
		{"a duplicate id is refused", []string{"client", "add", "--id", "spa", "--public", "--redirect-uri", "http://localhost:1/cb"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := c.run(t, nil, tc.args...)
			if code == 0 || strings.Count(errOut, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want non-zero and one line", code, errOut)
			}
		})
	}
}

// TestClientCommands_Introspect: --introspect registers a resource server,
// shown by show and list, changed by update, refused for a public client.
func TestClientCommands_Introspect(t *testing.T) {
	c := newCLI(t, "inkpass.db", "")
	add := jsonObject(t, c.ok(t, "", "client", "add", "--id", "gateway", "--grant", "client_credentials", "--scope", "profile", "--introspect", "--json"))
	if add["introspect"] != true {
		t.Errorf("client add --introspect --json = %v, want introspect true", add)
	}
	shown := c.ok(t, "", "client", "show", "gateway")
	if !regexp.MustCompile(`(?m)^introspect\s+true$`).MatchString(shown) {
		t.Errorf("client show:\n%s\nwant a line introspect true", shown)
	}
	list := c.ok(t, "", "client", "list")
	if !strings.Contains(list, "INTROSPECT") || !regexp.MustCompile(`(?m)^gateway\s.*\strue\s+cli\s*$`).MatchString(list) {
		t.Errorf("client list:\n%s\nwant an INTROSPECT column, true for gateway", list)
	}
	c.ok(t, "", "client", "update", "gateway", "--introspect=false")
	if got := jsonObject(t, c.ok(t, "", "client", "show", "gateway", "--json")); got["introspect"] != false {
		t.Errorf("after update --introspect=false: %v", got)
	}
	if code, _, errOut := c.run(t, nil, "client", "add", "--id", "spa", "--public", "--redirect-uri", "http://localhost:1/cb", "--introspect"); code == 0 || !strings.Contains(errOut, "introspect") {
		t.Errorf("a public client with --introspect: exit %d, stderr %q; want refused naming introspect", code, errOut)
	}
}

func TestKeysCommands(t *testing.T) {
	c := newCLI(t, "inkpass.db", "")
	first := jsonArray(t, c.ok(t, "", "keys", "list", "--json"))
	if len(first) != 1 || first[0]["alg"] != "RS256" {
		t.Fatalf("keys list on a fresh install = %v, want the one generated RS256 key", first)
	}
	// --alg of an algorithm without a key makes its first key and leaves
	// RS256 active: no client's algorithm changes.
	es := jsonObject(t, c.ok(t, "", "keys", "rotate", "--alg", "ES256", "--json"))
	list := jsonArray(t, c.ok(t, "", "keys", "list", "--json"))
	if len(list) != 2 || list[0]["kid"] != first[0]["kid"] || list[0]["active"] != true ||
		list[1]["kid"] != es["kid"] || list[1]["active"] != true || list[1]["alg"] != "ES256" {
		t.Fatalf("keys list after rotate --alg ES256 = %v, want the RS256 key and the new ES256 key, both active", list)
	}
	// Without --alg every algorithm with an active key is rotated.
	rotated := jsonArray(t, c.ok(t, "", "keys", "rotate", "--json"))
	if len(rotated) != 2 || rotated[0]["alg"] != "RS256" || rotated[1]["alg"] != "ES256" {
		t.Fatalf("keys rotate --json = %v, want a new RS256 and a new ES256 key", rotated)
	}
	list = jsonArray(t, c.ok(t, "", "keys", "list", "--json"))
	if len(list) != 4 {
		t.Fatalf("keys list after rotate = %v, want four keys", list)
	}
	for i, k := range list {
		wantActive := i < 2
		if k["active"] != wantActive || k["published"] != true {
			t.Errorf("keys list[%d] = %v, want active %v and published (the previous keys stay until their tokens expire)", i, k, wantActive)
		}
	}
	events := jsonArray(t, c.ok(t, "", "audit", "--kind", "key_rotated", "--json"))
	if len(events) != 3 {
		t.Errorf("audit --kind key_rotated = %v, want three events, one per new key", events)
	}
	code, _, errOut := c.run(t, nil, "keys", "rotate", "--alg", "HS256")
	if code != 2 || !strings.Contains(errOut, "--alg") || !strings.Contains(errOut, "RS256, ES256 or EdDSA") {
		t.Errorf("keys rotate --alg HS256: exit %d, stderr %q; want 2 naming --alg and the three algorithms", code, errOut)
	}
}

// TestClientCommands_IDTokenAlg: --id-token-alg chooses a client's ID-token
// algorithm (RS256 by default), makes a key of it, and refuses anything but
// RS256, ES256 and EdDSA with a one-line usage error.
func TestClientCommands_IDTokenAlg(t *testing.T) {
	c := newCLI(t, "inkpass.db", "")
	add := func(id string, extra ...string) map[string]any {
		args := append([]string{"client", "add", "--id", id, "--public", "--redirect-uri", "http://127.0.0.1:9/" + id, "--json"}, extra...)
		return jsonObject(t, c.ok(t, "", args...))
	}
	if got := add("plain")["id_token_signed_response_alg"]; got != "RS256" {
		t.Errorf("client add without --id-token-alg: alg %v, want RS256", got)
	}
	if got := add("es", "--id-token-alg", "es256")["id_token_signed_response_alg"]; got != "ES256" {
		t.Errorf("client add --id-token-alg es256: alg %v, want ES256", got)
	}
	activeAlgs := func() []string {
		var out []string
		for _, k := range jsonArray(t, c.ok(t, "", "keys", "list", "--json")) {
			if k["active"] == true {
				out = append(out, k["alg"].(string))
			}
		}
		return out
	}
	if got := activeAlgs(); !slices.Equal(got, []string{"RS256", "ES256"}) {
		t.Errorf("active keys after adding an ES256 client = %v, want RS256 and ES256", got)
	}
	c.ok(t, "", "client", "update", "plain", "--id-token-alg", "EdDSA")
	if got := jsonObject(t, c.ok(t, "", "client", "show", "plain", "--json"))["id_token_signed_response_alg"]; got != "EdDSA" {
		t.Errorf("after update --id-token-alg EdDSA: alg %v", got)
	}
	if got := activeAlgs(); !slices.Equal(got, []string{"RS256", "ES256", "EdDSA"}) {
		t.Errorf("active keys after moving a client to EdDSA = %v, want all three", got)
	}
	c.ok(t, "", "keys", "rotate")
	c.ok(t, "", "client", "update", "es", "--name", "Renamed")
	for id, want := range map[string]string{"plain": "EdDSA", "es": "ES256"} {
		if got := jsonObject(t, c.ok(t, "", "client", "show", id, "--json"))["id_token_signed_response_alg"]; got != want {
			t.Errorf("%s after keys rotate and an update of another field: alg %v, want %s", id, got, want)
		}
	}
	if shown := c.ok(t, "", "client", "show", "es"); !regexp.MustCompile(`(?m)^id_token_signed_response_alg\s+ES256$`).MatchString(shown) {
		t.Errorf("client show:\n%s\nwant a line id_token_signed_response_alg ES256", shown)
	}
	for _, args := range [][]string{
		{"client", "add", "--id", "bad", "--public", "--redirect-uri", "http://127.0.0.1:9/bad", "--id-token-alg", "HS256"},
		{"client", "update", "es", "--id-token-alg", "none"},
		{"client", "update", "es", "--id-token-alg", ""},
	} {
		code, _, errOut := c.run(t, nil, args...)
		if code != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "--id-token-alg") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line naming --id-token-alg", args, code, errOut)
		}
	}
	if got := jsonObject(t, c.ok(t, "", "client", "show", "es", "--json"))["id_token_signed_response_alg"]; got != "ES256" {
		t.Errorf("a refused update changed the algorithm to %v", got)
	}
}

// TestServe runs the real serve command on a free loopback port: first start
// creates the admin and says so, the endpoints answer, and cancelling the
// context shuts down cleanly with exit 0.
func TestServe(t *testing.T) {
	srv := startServe(t, "listen: \"127.0.0.1:0\"\nissuer: \"http://127.0.0.1:1\"\nmetrics:\n  listen: \"127.0.0.1:0\"\n")
	lines := srv.lines
	listening := regexp.MustCompile(`^(inkpass|metrics) listening on (http://127\.0\.0\.1:\d+)`)
	var base, metricsBase, admin string
	signInAt := false
	for (base == "" || metricsBase == "") && lines.Scan() {
		line := lines.Text()
		if strings.Contains(line, "one-time password") {
			lines.Scan()
			lines.Scan()
			admin = strings.TrimSpace(lines.Text())
		}
		// The first start says where to sign in: the issuer's account page.
		signInAt = signInAt || strings.Contains(line, "Sign in at http://127.0.0.1:1/account ")
		if m := listening.FindStringSubmatch(line); m != nil && m[1] == "inkpass" {
			base = m[2]
		} else if m != nil {
			metricsBase = m[2]
		}
	}
	srv.drain()
	if base == "" || metricsBase == "" {
		t.Fatalf("serve never said where it listens (main %q, metrics %q)", base, metricsBase)
	}
	if !signInAt {
		t.Error("first start did not say where to sign in (Sign in at <issuer>/account)")
	}
	if len(admin) < 20 {
		t.Errorf("first start printed admin password %q, want a long random one", admin)
	}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/.well-known/openid-configuration": 200, "/jwks": 200, "/metrics": 404, "/nope": 404} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		if path == "/.well-known/openid-configuration" {
			var doc map[string]any
			json.NewDecoder(resp.Body).Decode(&doc)
			if doc["issuer"] != "http://127.0.0.1:1" {
				t.Errorf("discovery issuer = %v, want the configured issuer exactly", doc["issuer"])
			}
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	// /metrics is served on its own listener only, never next to the login
	// page (issue 10: its counters told which usernames exist).
	resp, err := http.Get(metricsBase + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`inkpass_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		// /nope and /metrics on the main listener.
		`inkpass_http_requests_total{method="GET",route="(unmatched)",status="404"} 2`,
		"inkpass_signing_key_age_seconds ",
		"inkpass_password_hashing_in_flight 0",
		// Answered ahead of the router, and still counted.
		`inkpass_http_requests_total{method="GET",route="/jwks",status="200"} 1`,
		`inkpass_http_requests_total{method="GET",route="/.well-known/openid-configuration",status="200"} 1`,
		// Ensuring the first admin was a write.
		"inkpass_db_write_transactions_total ",
		"inkpass_db_write_jobs_total ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	srv.stop(t)
}

// TestServe_ProfilingListener: profiling.listen serves pprof on its own
// loopback address, and nothing of it on the main one.
func TestServe_ProfilingListener(t *testing.T) {
	srv := startServe(t, "listen: \"127.0.0.1:0\"\nissuer: \"http://127.0.0.1:1\"\nmetrics:\n  listen: \"127.0.0.1:0\"\nprofiling:\n  listen: \"127.0.0.1:0\"\n")
	listening := regexp.MustCompile(`^(inkpass|profiling) listening on (http://127\.0\.0\.1:\d+)`)
	bases := map[string]string{}
	for len(bases) < 2 && srv.lines.Scan() {
		if m := listening.FindStringSubmatch(srv.lines.Text()); m != nil {
			bases[m[1]] = m[2]
		}
	}
	srv.drain()
	if len(bases) < 2 {
		t.Fatalf("serve said where it listens for %v only", bases)
	}
	for _, tc := range []struct {
		base, path string
		want       int
	}{
		{bases["profiling"], "/debug/pprof/", 200},
		{bases["profiling"], "/debug/pprof/goroutine?debug=1", 200},
		{bases["profiling"], "/healthz", 404},
		{bases["inkpass"], "/debug/pprof/", 404},
	} {
		resp, err := http.Get(tc.base + tc.path)
		if err != nil {
			t.Fatalf("GET %s%s: %v", tc.base, tc.path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s%s: %d, want %d", tc.base, tc.path, resp.StatusCode, tc.want)
		}
	}
	srv.stop(t)
}

// serving is the serve command running inside the test; lines is its
// console.
type serving struct {
	lines  *bufio.Scanner
	out    *io.PipeReader
	logs   *syncWriter
	cancel context.CancelFunc
	done   chan int
}

// startServe runs serve with a config file holding body.
func startServe(t *testing.T, body string) *serving {
	t.Helper()
	return newCLI(t, "inkpass.db", body).serve(t)
}

// serve runs serve on c's config.
func (c *cli) serve(t *testing.T) *serving {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pr, pw := io.Pipe()
	s := &serving{lines: bufio.NewScanner(pr), out: pr, logs: &syncWriter{}, cancel: cancel, done: make(chan int, 1)}
	go func() {
		code := run(ctx, []string{"serve", "--config", c.config}, func(k string) string { return c.env[k] }, strings.NewReader(""), pw, s.logs)
		pw.Close()
		s.done <- code
	}()
	return s
}

// listening reads the console up to "inkpass listening on", drains the rest
// and returns the base URL; it fails the test if serve exits first.
func (s *serving) listening(t *testing.T) string {
	t.Helper()
	re := regexp.MustCompile(`^inkpass listening on (http://127\.0\.0\.1:\d+)`)
	var base string
	for base == "" && s.lines.Scan() {
		if m := re.FindStringSubmatch(s.lines.Text()); m != nil {
			base = m[1]
		}
	}
	s.drain()
	if base == "" {
		t.Fatalf("serve did not start: exit %d\n%s", <-s.done, s.logs.String())
	}
	return base
}

// drain discards the rest of the console, so that serve never blocks on it.
func (s *serving) drain() { go io.Copy(io.Discard, s.out) }

// stop cancels serve as SIGTERM would and wants exit 0 within 20 s.
func (s *serving) stop(t *testing.T) {
	t.Helper()
	s.cancel()
	select {
	case code := <-s.done:
		if code != 0 {
			t.Errorf("serve exited %d after shutdown, want 0", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not shut down")
	}
}
