package main

import (
	"database/sql"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The studio console (internal/console) through the real serve stack: a
// SQLite file, the CLI for the starting users, serve on 127.0.0.1, and a
// cookie-keeping HTTP client that signs in on the login page like a person.

const consolePassword = "correct horse battery"

// consoleSite is a running inkpass with an admin (boss), an assistant
// (desk) and an artist (ink, linked to artist record 1, "Mara").
type consoleSite struct {
	cli  *cli
	base string
	db   string
}

func newConsoleSite(t *testing.T) *consoleSite {
	t.Helper()
	c := newCLI(t, "inkpass.db", "listen: \"127.0.0.1:0\"\nissuer: \"http://127.0.0.1:1\"\nmetrics:\n  enabled: false\n")
	c.ok(t, "", "migrate")
	artist := strings.TrimSpace(c.ok(t, "", "artist", "add", "--name", "Mara"))
	c.ok(t, consolePassword+"\n", "user", "add", "--username", "boss", "--role", "admin", "--name", "Bo Boss", "--password-stdin")
	c.ok(t, consolePassword+"\n", "user", "add", "--username", "desk", "--role", "assistant", "--email", "desk@studio.test", "--password-stdin")
	c.ok(t, consolePassword+"\n", "user", "add", "--username", "ink", "--role", "artist", "--artist-id", artist, "--instagram", "ink.mara", "--password-stdin")
	srv := c.serve(t)
	base := srv.listening(t)
	t.Cleanup(func() { srv.stop(t) })
	return &consoleSite{cli: c, base: base, db: filepath.Join(c.dir, "inkpass.db")}
}

// browser is one browser: its cookies, no automatic redirects.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (s *consoleSite) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: s.base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return res, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrfOf is the first form token on a page.
func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf_token on the page:\n%s", body)
	}
	return m[1]
}

// signIn signs the browser in on the login page as username, returning to
// /admin, and wants the redirect there.
func (b *browser) signIn(username string) {
	b.t.Helper()
	_, page := b.get("/login?return=%2Fadmin")
	res, body := b.post("/login?return=%2Fadmin", url.Values{"csrf_token": {csrfOf(b.t, page)}, "username": {username}, "password": {consolePassword}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin" {
		b.t.Fatalf("sign in as %s: %d to %q, want 303 to /admin\n%s", username, res.StatusCode, res.Header.Get("Location"), body)
	}
}

// adminPage gets a console page that must answer 200 and returns it.
func (b *browser) adminPage(path string) string {
	b.t.Helper()
	res, body := b.get(path)
	if res.StatusCode != http.StatusOK {
		b.t.Fatalf("GET %s: %d, want 200\n%s", path, res.StatusCode, body)
	}
	return body
}

// ageSessions makes every session's last authentication older than the
// console's reauth_after (5 minutes by default), as time passing would.
func (s *consoleSite) ageSessions(t *testing.T) {
	t.Helper()
	raw, err := sql.Open("sqlite3", "file:"+s.db+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE inkpass_sessions SET auth_time = auth_time - 600`); err != nil {
		t.Fatal(err)
	}
}

func TestConsole_DashboardForAnAdmin(t *testing.T) {
	site := newConsoleSite(t)
	anon := site.browser(t)
	res, _ := anon.get("/admin/people?q=ink")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login?return=%2Fadmin%2Fpeople%3Fq%3Dink" {
		t.Fatalf("anonymous GET /admin/people: %d to %q, want 303 to the login page returning there", res.StatusCode, res.Header.Get("Location"))
	}
	b := site.browser(t)
	b.signIn("boss")
	page := b.adminPage("/admin")
	for _, want := range []string{"Dashboard", "Active admins", "Signed in as <strong>boss</strong>", `href="#main"`} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	res, _ = b.get("/admin")
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers: CSP %q, Cache-Control %q", csp, res.Header.Get("Cache-Control"))
	}
}
