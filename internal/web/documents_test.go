package web_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/inkpass/inkpass/internal/testsupport/harness"
)

// get sends one request with optional headers and returns the answer with
// its body read.
func get(e *harness.Server, t *testing.T, method, path string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.Issuer+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.HTTP.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp, string(body)
}

// TestDocuments_AnsweredAheadOfTheRouter checks the discovery document and
// the JWKS, which are answered before the request log and the router when
// debug logging is off: same headers, conditional requests, and other
// methods still reach the router.
func TestDocuments_AnsweredAheadOfTheRouter(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	e := harness.NewServer(t, harness.Options{LogTo: logs, LogLevel: slog.LevelInfo})
	for _, path := range []string{"/.well-known/openid-configuration", "/jwks"} {
		t.Run(path, func(t *testing.T) {
			resp, body := get(e, t, http.MethodGet, path, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", resp.StatusCode)
			}
			if !json.Valid([]byte(body)) {
				t.Fatalf("body is not JSON: %q", body)
			}
			want := map[string]string{
				"Content-Type":                "application/json",
				"Cache-Control":               "public, max-age=300",
				"Access-Control-Allow-Origin": "*",
				"X-Content-Type-Options":      "nosniff",
				"Referrer-Policy":             "no-referrer",
			}
			for k, v := range want {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if id := resp.Header.Get("X-Request-Id"); id != "" {
				t.Errorf("X-Request-Id %q: the answer went through the request log, not ahead of it", id)
			}
			etag := resp.Header.Get("ETag")
			if !strings.HasPrefix(etag, `"`) || len(etag) < 10 {
				t.Fatalf("ETag = %q, want a strong quoted tag", etag)
			}

			for _, c := range []struct {
				ifNoneMatch string
				want        int
			}{
				{etag, http.StatusNotModified},
				{"W/" + etag, http.StatusNotModified},
				{`"older", ` + etag, http.StatusNotModified},
				{"*", http.StatusNotModified},
				{`"older"`, http.StatusOK},
				{etag[:len(etag)-2] + `"`, http.StatusOK},
			} {
				resp, body := get(e, t, http.MethodGet, path, map[string]string{"If-None-Match": c.ifNoneMatch})
				if resp.StatusCode != c.want {
					t.Errorf("If-None-Match %s: status %d, want %d", c.ifNoneMatch, resp.StatusCode, c.want)
				}
				if c.want == http.StatusNotModified && body != "" {
					t.Errorf("If-None-Match %s: 304 with a body %q", c.ifNoneMatch, body)
				}
			}

			resp, body = get(e, t, http.MethodHead, path, nil)
			if resp.StatusCode != http.StatusOK || body != "" {
				t.Errorf("HEAD: status %d, body %q; want 200 and no body", resp.StatusCode, body)
			}
			// Other methods are the router's: 405 with its error page and a
			// logged request.
			resp, _ = get(e, t, http.MethodPost, path, nil)
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("POST: status %d, want 405", resp.StatusCode)
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Error("POST: no X-Request-Id; the router's answer should carry one")
			}
		})
	}
	if out := logs.String(); strings.Contains(out, `"route":"/jwks","status":200`) ||
		strings.Contains(out, `"route":"/.well-known/openid-configuration","status":200`) {
		t.Errorf("a successful document fetch was logged at info level:\n%s", out)
	}
}

// TestDocuments_DebugLoggingTakesTheFullChain: with debug logging on, each
// document fetch gets a request id and its own log line.
func TestDocuments_DebugLoggingTakesTheFullChain(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	e := harness.NewServer(t, harness.Options{LogTo: logs})
	resp, _ := get(e, t, http.MethodGet, "/jwks", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	id := resp.Header.Get("X-Request-Id")
	if len(id) != 16 {
		t.Fatalf("X-Request-Id = %q, want 16 hex digits", id)
	}
	if out := logs.String(); !strings.Contains(out, `"request_id":"`+id+`","method":"GET","route":"/jwks","status":200`) {
		t.Errorf("no debug line for the JWKS request %s:\n%s", id, out)
	}
}

// TestLogs_ATokenGrantIsOneLine: the request log line of a token request
// carries what the provider did; there is no second line to join by id.
func TestLogs_ATokenGrantIsOneLine(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	e := harness.NewServer(t, harness.Options{LogTo: logs, LogLevel: slog.LevelInfo})
	cc := clientcredentials.Config{
		ClientID: harness.ReporterID, ClientSecret: harness.ReporterSecret, TokenURL: e.Issuer + "/token",
		AuthStyle: oauth2.AuthStyleInHeader,
	}
	if _, err := cc.Token(t.Context()); err != nil {
		t.Fatalf("client_credentials: %v", err)
	}
	bad := cc
	bad.ClientSecret = "wrong"
	if _, err := bad.Token(t.Context()); err == nil {
		t.Fatal("a wrong secret got a token")
	}

	var tokenLines []map[string]any
	for line := range strings.Lines(logs.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if m["msg"] != "request" {
			t.Errorf("a line of its own: %s", line)
		}
		if m["route"] == "/token" {
			tokenLines = append(tokenLines, m)
		}
	}
	if len(tokenLines) != 2 {
		t.Fatalf("%d request lines for /token, want 2:\n%s", len(tokenLines), logs.String())
	}
	want := []map[string]any{
		{"status": float64(200), "event": "token issued", "client_id": harness.ReporterID, "grant_type": "client_credentials"},
		{"status": float64(401), "event": "token request refused", "client_id": ""},
	}
	for i, w := range want {
		for k, v := range w {
			if got := tokenLines[i][k]; got != v {
				t.Errorf("line %d: %s = %v, want %v", i, k, got, v)
			}
		}
	}
	if id, _ := tokenLines[0]["request_id"].(string); id == "" || id == tokenLines[1]["request_id"] {
		t.Errorf("request ids %v and %v: want two different ones", tokenLines[0]["request_id"], tokenLines[1]["request_id"])
	}
}
