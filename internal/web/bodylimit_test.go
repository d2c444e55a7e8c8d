package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/inkpass/inkpass/internal/testsupport/harness"
)

// TestBodyLimit: a body over 64 KiB is answered 413, on the login form (a
// page) and at the token endpoint (OAuth JSON), whether its length is declared
// or it comes chunked; a body just under the limit is read as usual.
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	b := e.NewBrowser(t)
	form := harness.ParseLoginForm(t, b.Get("/login"))
	login := url.Values{"username": {"luna_artist"}, "password": {"wrong"}, "csrf_token": {form.CSRF}}
	// A code that was never issued, from a client that authenticates in the
	// body: the answer shows whether the body was read.
	token := url.Values{"grant_type": {"authorization_code"}, "code": {"unknown"}, "redirect_uri": {harness.ToolRedirect},
		"client_id": {harness.ToolID}, "client_secret": {harness.ToolSecret}}
	pad := func(v url.Values, n int) string {
		body := v.Encode() + "&pad="
		return body + strings.Repeat("x", n-len(body))
	}
	send := func(t *testing.T, c *http.Client, path, body string, chunked bool) (*http.Response, string) {
		t.Helper()
		var r io.Reader = strings.NewReader(body)
		if chunked {
			// No length known up front: net/http sends it chunked.
			r = io.MultiReader(strings.NewReader(body))
		}
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.Issuer+path, r)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp, string(raw)
	}
	for _, chunked := range []bool{false, true} {
		how := "with a Content-Length"
		if chunked {
			how = "chunked"
		}
		t.Run("the login form answers 413 to a body over the limit, "+how, func(t *testing.T) {
			resp, body := send(t, b.Client, form.Action, pad(login, 64<<10+1), chunked)
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("status = %d, want 413; body:\n%s", resp.StatusCode, body)
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "too large") {
				t.Errorf("413 is not inkpass's page saying the request is too large:\n%s", body)
			}
		})
		t.Run("the token endpoint answers 413 invalid_request to a body over the limit, "+how, func(t *testing.T) {
			resp, body := send(t, e.HTTP.Client(), "/token", pad(token, 64<<10+1), chunked)
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("status = %d, want 413; body: %s", resp.StatusCode, body)
			}
			var got map[string]string
			if err := json.Unmarshal([]byte(body), &got); err != nil || got["error"] != "invalid_request" {
				t.Errorf("body = %s, want OAuth JSON with invalid_request", body)
			}
			harness.WantNoStore(t, resp.Header)
		})
	}
	t.Run("bodies at the limit are read as usual", func(t *testing.T) {
		if resp, body := send(t, b.Client, form.Action, pad(login, 64<<10), true); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("login with a wrong password at the limit: status %d, want 401; body:\n%s", resp.StatusCode, body)
		}
		resp, body := send(t, e.HTTP.Client(), "/token", pad(token, 64<<10), false)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"invalid_grant"`) {
			t.Errorf("token request with an unknown code at the limit: %d %s, want 400 invalid_grant", resp.StatusCode, body)
		}
	})
}
