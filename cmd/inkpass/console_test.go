package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/console"
	"github.com/inkpass/inkpass/internal/mfa"
	"github.com/inkpass/inkpass/internal/store"
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

func newConsoleSite(t *testing.T) *consoleSite { return newConsoleSiteWith(t, nil) }

// newConsoleSiteWith runs before on the database (path) before serve starts.
func newConsoleSiteWith(t *testing.T, before func(path string)) *consoleSite {
	t.Helper()
	c := newCLI(t, "inkpass.db", "listen: \"127.0.0.1:0\"\nissuer: \"http://127.0.0.1:1\"\nmetrics:\n  enabled: false\n")
	c.ok(t, "", "migrate")
	artist := strings.TrimSpace(c.ok(t, "", "artist", "add", "--name", "Mara"))
	c.ok(t, consolePassword+"\n", "user", "add", "--username", "boss", "--role", "admin", "--name", "Bo Boss", "--password-stdin")
	c.ok(t, consolePassword+"\n", "user", "add", "--username", "desk", "--role", "assistant", "--email", "desk@studio.test", "--password-stdin")
	c.ok(t, consolePassword+"\n", "user", "add", "--username", "ink", "--role", "artist", "--artist-id", artist, "--instagram", "ink.mara", "--password-stdin")
	if before != nil {
		before(filepath.Join(c.dir, "inkpass.db"))
	}
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

// concretePath fills a route pattern's wildcards: {id} with id, any other
// with "1"; {$} is the end of the path.
func concretePath(pattern, id string) string {
	p := strings.ReplaceAll(pattern, "{$}", "")
	return regexp.MustCompile(`\{[^}]+\}`).ReplaceAllStringFunc(p, func(w string) string {
		if w == "{id}" {
			return id
		}
		return "1"
	})
}

// TestConsole_OnlyAdmins: every registered console route (the sections of
// any helper included), GET and POST, answers an assistant and an artist
// with the 403 page and an anonymous browser with the login page; none of
// them changes anything.
func TestConsole_OnlyAdmins(t *testing.T) {
	site := newConsoleSite(t)
	routes := console.RegisteredRoutes()
	if len(routes) < 10 {
		t.Fatalf("only %d console routes registered", len(routes))
	}
	desk, ink, anon := site.browser(t), site.browser(t), site.browser(t)
	desk.signInTo("desk", "/account")
	ink.signInTo("ink", "/account")
	_, account := desk.get("/account")
	webToken := csrfOf(t, account) // a token the browser really has (the account page's)
	for _, rt := range routes {
		path := concretePath(rt.Pattern, "1")
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			for _, who := range []struct {
				name string
				b    *browser
			}{{"assistant", desk}, {"artist", ink}, {"anonymous", anon}} {
				var res *http.Response
				var body string
				if method == http.MethodGet {
					res, body = who.b.get(path)
				} else {
					res, body = who.b.post(path, url.Values{"csrf_token": {webToken}, "name": {"Intruder"}, "role": {"admin"}, "username": {"intruder"}, "password": {consolePassword}})
				}
				if who.name == "anonymous" {
					if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login?return=%2Fadmin") {
						t.Errorf("%s %s as %s: %d to %q, want 303 to the login page", method, path, who.name, res.StatusCode, res.Header.Get("Location"))
					}
					continue
				}
				if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "Admins only") {
					t.Errorf("%s %s as %s: %d, want 403 Admins only", method, path, who.name, res.StatusCode)
				}
			}
		}
	}
	out := site.cli.ok(t, "", "artist", "list", "--json")
	if strings.Contains(out, "Intruder") {
		t.Errorf("a refused POST added an artist: %s", out)
	}
	if u := jsonObject(t, site.cli.ok(t, "", "user", "show", "desk", "--json")); u["role"] != "assistant" || u["is_active"] != true {
		t.Errorf("a refused POST changed desk: %v", u)
	}
}

// signInTo signs in without a return and wants the redirect to want.
func (b *browser) signInTo(username, want string) {
	b.t.Helper()
	_, page := b.get("/login")
	res, body := b.post("/login", url.Values{"csrf_token": {csrfOf(b.t, page)}, "username": {username}, "password": {consolePassword}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
		b.t.Fatalf("sign in as %s: %d to %q, want 303 to %s\n%s", username, res.StatusCode, res.Header.Get("Location"), want, body)
	}
}

// TestConsole_LoginReturn: the login page's ?return= takes only a path on
// this origin; anything else ends at the account page as before.
func TestConsole_LoginReturn(t *testing.T) {
	site := newConsoleSite(t)
	for _, tc := range []struct{ ret, want string }{
		{"/admin/people", "/admin/people"},
		{"//evil.test/x", "/account"},
		{"https://evil.test/", "/account"},
		{"/\\evil.test", "/account"},
		{"admin", "/account"},
		{"/admin\r\nX: y", "/account"},
	} {
		b := site.browser(t)
		q := "/login?" + url.Values{"return": {tc.ret}}.Encode()
		_, page := b.get(q)
		res, _ := b.post(q, url.Values{"csrf_token": {csrfOf(t, page)}, "username": {"boss"}, "password": {consolePassword}})
		if got := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || got != tc.want {
			t.Errorf("return=%q: %d to %q, want 303 to %q", tc.ret, res.StatusCode, got, tc.want)
		}
	}
}

// TestConsole_CSRF: a console POST without the console's token, or with
// another browser's, is refused with 403 and changes nothing.
func TestConsole_CSRF(t *testing.T) {
	site := newConsoleSite(t)
	b, other := site.browser(t), site.browser(t)
	b.signIn("boss")
	other.signIn("boss")
	otherToken := csrfOf(t, other.adminPage("/admin/artists"))
	for name, form := range map[string]url.Values{
		"no token":              {"name": {"Forged"}},
		"another browser token": {"name": {"Forged"}, "csrf_token": {otherToken}},
	} {
		res, body := b.post("/admin/artists", form)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "This form has expired") {
			t.Errorf("%s: %d, want 403 form expired", name, res.StatusCode)
		}
	}
	if out := site.cli.ok(t, "", "artist", "list", "--json"); strings.Contains(out, "Forged") {
		t.Errorf("a forged POST added an artist: %s", out)
	}
	// The same form with the browser's own token goes through.
	token := csrfOf(t, b.adminPage("/admin/artists"))
	if res, body := b.post("/admin/artists", url.Values{"name": {"Real"}, "csrf_token": {token}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("own token: %d\n%s", res.StatusCode, body)
	}
	// A multipart form (a file upload's) is read the same way.
	for _, tc := range []struct {
		token string
		want  int
	}{{"", http.StatusForbidden}, {token, http.StatusSeeOther}} {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("name", "Multipart")
		if tc.token != "" {
			mw.WriteField("csrf_token", tc.token)
		}
		mw.Close()
		req, _ := http.NewRequest(http.MethodPost, site.base+"/admin/artists", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		if res, body := b.do(req); res.StatusCode != tc.want {
			t.Errorf("multipart with token %q: %d, want %d\n%s", tc.token, res.StatusCode, tc.want, body)
		}
	}
	if out := site.cli.ok(t, "", "artist", "list", "--json"); strings.Count(out, "Multipart") != 1 {
		t.Errorf("want one artist from the multipart form: %s", out)
	}
}

// TestConsole_RecentAuthentication: an admin whose sign-in is older than
// console.reauth_after is asked for the password before a change; a wrong
// one changes nothing, the right one records the new authentication on the
// session and the change goes through with the form as first posted.
func TestConsole_RecentAuthentication(t *testing.T) {
	site := newConsoleSite(t)
	b := site.browser(t)
	b.signIn("boss")
	token := csrfOf(t, b.adminPage("/admin/artists"))
	site.ageSessions(t)

	form := url.Values{"name": {"Late Artist"}, "csrf_token": {token}}
	res, body := b.post("/admin/artists", form)
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `name="reauth_password"`) ||
		!strings.Contains(body, `name="name" value="Late Artist"`) {
		t.Fatalf("stale session: %d, want 401 with the re-authentication form carrying the change\n%s", res.StatusCode, body)
	}
	wrong := url.Values{"name": {"Late Artist"}, "csrf_token": {token}, "reauth_password": {"not it"}}
	if res, body := b.post("/admin/artists", wrong); res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "The password is not correct.") {
		t.Fatalf("wrong password: %d\n%s", res.StatusCode, body)
	}
	if out := site.cli.ok(t, "", "artist", "list", "--json"); strings.Contains(out, "Late Artist") {
		t.Fatalf("the change went through before the re-authentication: %s", out)
	}
	right := url.Values{"name": {"Late Artist"}, "csrf_token": {token}, "reauth_password": {consolePassword}}
	if res, body := b.post("/admin/artists", right); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/artists?done=artist-added" {
		t.Fatalf("right password: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	if out := site.cli.ok(t, "", "artist", "list", "--json"); !strings.Contains(out, "Late Artist") {
		t.Fatalf("the change did not go through after the re-authentication: %s", out)
	}
	// Recorded on the session: the next change needs no password.
	if res, _ := b.post("/admin/artists", url.Values{"name": {"Next Artist"}, "csrf_token": {token}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("change right after re-authentication: %d, want 303", res.StatusCode)
	}
	events := jsonArray(t, site.cli.ok(t, "", "audit", "--kind", "reauthenticated", "--json"))
	if len(events) != 1 || events[0]["actor"] != "admin:boss" || events[0]["username"] != "boss" {
		t.Errorf("reauthenticated events = %v, want one by admin:boss", events)
	}
}

// adminToken is the console form token of b (an admin's browser).
func (b *browser) adminToken() string {
	b.t.Helper()
	return csrfOf(b.t, b.adminPage("/admin/people/new"))
}

var personPath = regexp.MustCompile(`^/admin/people/(\d+)\?done=person-saved$`)

// TestConsole_PeopleAndArtists: an admin adds an artist, then an artist
// user for it (the CLI's rules: an artist needs an existing artist record,
// usernames are unique in any letter case), edits and deactivates them;
// the last active admin cannot be deactivated or demoted; every change is
// audited with the acting admin.
func TestConsole_PeopleAndArtists(t *testing.T) {
	site := newConsoleSite(t)
	b := site.browser(t)
	b.signIn("boss")
	token := b.adminToken()

	if res, body := b.post("/admin/artists", url.Values{"name": {"Kai Stone"}, "csrf_token": {token}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("add artist: %d\n%s", res.StatusCode, body)
	}
	artists := b.adminPage("/admin/artists?done=artist-added")
	m := regexp.MustCompile(`id="artist-(\d+)" name="name" type="text" value="Kai Stone"`).FindStringSubmatch(artists)
	if m == nil || !strings.Contains(artists, "The artist is added.") {
		t.Fatalf("artists page lacks Kai Stone or the notice:\n%s", artists)
	}
	kai := m[1]
	if res, _ := b.post("/admin/artists/"+kai, url.Values{"name": {"Kai S."}, "csrf_token": {token}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("rename artist: %d", res.StatusCode)
	}

	newArtist := func(username, artistID string) (*http.Response, string) {
		return b.post("/admin/people", url.Values{"csrf_token": {token}, "username": {username}, "role": {"artist"},
			"artist_id": {artistID}, "name": {"Kai"}, "instagram": {"@kai.tattoo"}, "password": {"a fine long password"}})
	}
	if res, body := newArtist("kai", ""); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Artist: ") {
		t.Errorf("artist user without an artist record: %d, want 400 naming the artist field\n%s", res.StatusCode, body)
	}
	if res, body := newArtist("kai", "999"); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "no such artist record") {
		t.Errorf("artist user with an unknown artist record: %d\n%s", res.StatusCode, body)
	}
	res, body := newArtist("Kai", kai)
	pm := personPath.FindStringSubmatch(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || pm == nil {
		t.Fatalf("create artist user: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	id := pm[1]
	if res, body := newArtist("KAI", kai); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "another person already has it") {
		t.Errorf("same username in other letters: %d\n%s", res.StatusCode, body)
	}
	page := b.adminPage("/admin/people/" + id)
	if !strings.Contains(page, "Kai S.") || !strings.Contains(page, `value="kai.tattoo"`) {
		t.Errorf("person page lacks the artist record or the handle:\n%s", page)
	}

	if res, body := b.post("/admin/people/"+id, url.Values{"csrf_token": {token}, "username": {"Kai"}, "name": {"Kai Stone"},
		"email": {"kai@studio.test"}, "instagram": {"kai.tattoo"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit profile: %d\n%s", res.StatusCode, body)
	}
	if res, body := b.post("/admin/people/"+id, url.Values{"csrf_token": {token}, "username": {"Kai"}, "email": {"not an email"}}); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Email: ") {
		t.Errorf("bad email: %d\n%s", res.StatusCode, body)
	}
	if res, _ := b.post("/admin/people/"+id+"/deactivate", url.Values{"csrf_token": {token}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", res.StatusCode)
	}
	shown := jsonObject(t, site.cli.ok(t, "", "user", "show", "Kai", "--json"))
	if shown["is_active"] != false || shown["email"] != "kai@studio.test" || shown["role"] != "artist" {
		t.Errorf("after the console: %v", shown)
	}

	// The last active admin.
	bossID := fmt.Sprint(jsonObject(t, site.cli.ok(t, "", "user", "show", "boss", "--json"))["id"])
	if res, body := b.post("/admin/people/"+bossID+"/deactivate", url.Values{"csrf_token": {token}}); res.StatusCode != http.StatusConflict || !strings.Contains(body, "last active admin") {
		t.Errorf("deactivate the last admin: %d\n%s", res.StatusCode, body)
	}
	if res, body := b.post("/admin/people/"+bossID+"/role", url.Values{"csrf_token": {token}, "role": {"assistant"}}); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "last active admin") {
		t.Errorf("demote the last admin: %d\n%s", res.StatusCode, body)
	}

	events := jsonArray(t, site.cli.ok(t, "", "audit", "--json"))
	byKind := map[string]map[string]any{}
	for _, e := range events {
		if _, seen := byKind[e["kind"].(string)]; !seen {
			byKind[e["kind"].(string)] = e
		}
	}
	for _, kind := range []string{"artist_created", "artist_renamed", "user_created", "user_updated", "user_deactivated"} {
		e, ok := byKind[kind]
		if !ok || e["actor"] != "admin:boss" {
			t.Errorf("%s: %v, want an event by admin:boss", kind, e)
		}
	}
	if e := byKind["user_deactivated"]; e["username"] != "Kai" {
		t.Errorf("user_deactivated names %v, want Kai", e["username"])
	}
}

// TestConsole_Search: the people list's search and filters, and paging.
func TestConsole_Search(t *testing.T) {
	site := newConsoleSite(t)
	raw, err := sql.Open("sqlite3", "file:"+site.db+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// 30 assistants the studio's app wrote with a legacy hash, none signed in.
	for i := range 30 {
		if _, err := raw.Exec(`INSERT INTO users (username, password_hash, role, is_active, name, created_at) VALUES (?, 'pbkdf2:sha256:1000$salt$00', 'assistant', 1, ?, '2024-01-01 00:00:00')`,
			fmt.Sprintf("temp%02d", i), fmt.Sprintf("Temp %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	b := site.browser(t)
	b.signIn("boss")
	rowUser := regexp.MustCompile(`<td><a href="/admin/people/\d+">([^<]+)</a></td>`)
	names := func(q string) []string {
		var out []string
		for _, m := range rowUser.FindAllStringSubmatch(b.adminPage("/admin/people"+q), -1) {
			out = append(out, m[1])
		}
		return out
	}
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"?q=INK.MARA", []string{"ink"}},
		{"?q=%40ink.mara", []string{"ink"}},
		{"?q=desk%40studio", []string{"desk"}},
		{"?q=bo+boss", []string{"boss"}},
		{"?q=%25", nil},
		{"?role=artist", []string{"ink"}},
		{"?role=admin&active=yes", []string{"boss"}},
		{"?active=no", nil},
		{"?mfa=yes", nil},
		{"?signin=7d", []string{"boss"}},
		{"?hash=weak&q=temp0", []string{"temp00", "temp01", "temp02", "temp03", "temp04", "temp05", "temp06", "temp07", "temp08", "temp09"}},
		{"?hash=weak&role=artist", nil},
	} {
		if got := names(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("people%s = %v, want %v", tc.q, got, tc.want)
		}
	}
	page1 := b.adminPage("/admin/people?role=assistant")
	if got := len(rowUser.FindAllString(page1, -1)); got != 25 || !strings.Contains(page1, "1–25 of 31 people") || !strings.Contains(page1, `href="/admin/people?page=2&amp;role=assistant" rel="next"`) {
		t.Errorf("page 1 of 31 assistants: %d rows\n%s", got, page1)
	}
	if got := names("?role=assistant&page=2"); len(got) != 6 || got[5] != "temp29" {
		t.Errorf("page 2 = %v, want the last 6", got)
	}
	if got := names("?signin=never&role=artist"); !slices.Equal(got, []string{"ink"}) {
		t.Errorf("never signed in artists = %v", got)
	}
}

// enrolTOTP gives username an authenticator app (serve not running yet)
// and returns its secret and recovery codes.
func enrolTOTP(t *testing.T, path, username string) ([]byte, []string) {
	t.Helper()
	ctx := t.Context()
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	key, err := mfa.LoadOrCreateKey(filepath.Join(filepath.Dir(path), "keys", "mfa.key"))
	if err != nil {
		t.Fatal(err)
	}
	sealer, _ := mfa.NewSealer(key)
	svc := mfa.NewService(db, db, sealer, mfa.Options{Audit: db})
	u, err := db.UserByUsername(ctx, username)
	if err != nil {
		t.Fatal(err)
	}
	e, err := svc.BeginTOTP(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := mfa.ParseSecretText(e.Secret)
	codes, err := svc.ConfirmTOTP(ctx, u, e.FactorID, "Phone", mfa.Code(secret, time.Now()), "")
	if err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	return secret, codes
}

// TestConsole_SecondFactor: an admin with an authenticator app signs in to
// the console through the code page (which keeps the way back to /admin),
// is asked for a code as well as the password when re-authenticating, and
// resets an artist's lost second factor, audited as the admin's act.
func TestConsole_SecondFactor(t *testing.T) {
	var bossCodes []string
	site := newConsoleSiteWith(t, func(path string) {
		_, bossCodes = enrolTOTP(t, path, "boss")
		enrolTOTP(t, path, "ink")
	})
	b := site.browser(t)
	_, page := b.get("/login?return=%2Fadmin%2Fpeople")
	res, body := b.post("/login?return=%2Fadmin%2Fpeople", url.Values{"csrf_token": {csrfOf(t, page)}, "username": {"boss"}, "password": {consolePassword}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login/factor?return=%2Fadmin%2Fpeople" {
		t.Fatalf("password of an admin with a factor: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	_, page = b.get("/login/factor?return=%2Fadmin%2Fpeople")
	// A recovery code: the app's current code was spent on the enrolment
	// within this same 30-second step.
	res, body = b.post("/login/factor?return=%2Fadmin%2Fpeople", url.Values{"csrf_token": {csrfOf(t, page)}, "code": {bossCodes[1]}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/people" {
		t.Fatalf("code: %d to %q, want 303 to /admin/people\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	list := b.adminPage("/admin/people?mfa=yes")
	inkID := regexp.MustCompile(`<a href="/admin/people/(\d+)">ink</a>`).FindStringSubmatch(list)
	if inkID == nil || !strings.Contains(list, ">boss</a>") {
		t.Fatalf("people with a second factor lacks boss or ink:\n%s", list)
	}
	token := b.adminToken()

	site.ageSessions(t)
	reset := "/admin/people/" + inkID[1] + "/reset-mfa"
	res, body = b.post(reset, url.Values{"csrf_token": {token}})
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `name="reauth_code"`) {
		t.Fatalf("stale session of an admin with a factor: %d, want 401 asking for a code too\n%s", res.StatusCode, body)
	}
	// A wrong password and a wrong code get the same answer: the page must
	// not confirm a guessed password while the code is still missing.
	const wrongProof = "The password or the code is not correct."
	res, body = b.post(reset, url.Values{"csrf_token": {token}, "reauth_password": {"not it"}, "reauth_code": {"000000"}})
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, wrongProof) {
		t.Fatalf("wrong password with a code: %d, want 401 saying %q\n%s", res.StatusCode, wrongProof, body)
	}
	res, body = b.post(reset, url.Values{"csrf_token": {token}, "reauth_password": {consolePassword}, "reauth_code": {"000000"}})
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, wrongProof) {
		t.Fatalf("password without the right code: %d, want 401 saying %q\n%s", res.StatusCode, wrongProof, body)
	}
	res, body = b.post(reset, url.Values{"csrf_token": {token}, "reauth_password": {consolePassword}, "reauth_code": {bossCodes[0]}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/people/"+inkID[1]+"?done=person-mfa-reset" {
		t.Fatalf("password and recovery code: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	if got := b.adminPage("/admin/people?mfa=yes"); strings.Contains(got, ">ink</a>") {
		t.Errorf("ink still has a second factor after the reset")
	}
	events := jsonArray(t, site.cli.ok(t, "", "audit", "--kind", "mfa_reset", "--json"))
	if len(events) != 1 || events[0]["actor"] != "admin:boss" || events[0]["username"] != "ink" {
		t.Errorf("mfa_reset events = %v, want one for ink by admin:boss", events)
	}
	raw, err := sql.Open("sqlite3", "file:"+site.db+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var amr string
	var age int64
	if err := raw.QueryRow(`SELECT amr, strftime('%s','now') - auth_time FROM inkpass_sessions s JOIN users u ON u.id = s.user_id
		WHERE u.username = 'boss' AND s.revoked_at IS NULL`).Scan(&amr, &age); err != nil {
		t.Fatal(err)
	}
	if amr != "pwd otp mfa" || age > 60 {
		t.Errorf("boss's session after re-authentication: amr %q, authenticated %ds ago; want pwd otp mfa, just now", amr, age)
	}
}

// fakeLinks stands in for internal/invite: it makes a recognisable link and
// remembers who asked.
type fakeLinks struct {
	mu    sync.Mutex
	asked []string
}

func (f *fakeLinks) make(kind string, userID int64, actor string) (string, time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, fmt.Sprintf("%s %d by %s", kind, userID, actor))
	return fmt.Sprintf("http://127.0.0.1:1/link/%s-%d-secret", kind, userID), time.Now().Add(time.Hour), nil
}

func (f *fakeLinks) PasswordReset(_ context.Context, userID int64, actor string) (string, time.Time, error) {
	return f.make("reset", userID, actor)
}

func (f *fakeLinks) Invite(_ context.Context, userID int64, actor string) (string, time.Time, error) {
	return f.make("invite", userID, actor)
}

// TestConsole_Links: with invitations available, a person added without a
// password gets an invitation link and an existing person a reset link,
// each shown on the answer to the POST only (never on a page one can come
// back to), asked for in the acting admin's name.
func TestConsole_Links(t *testing.T) {
	links := &fakeLinks{}
	was := consoleLinks
	consoleLinks = func(*app) console.Links { return links }
	t.Cleanup(func() { consoleLinks = was })
	site := newConsoleSite(t)
	b := site.browser(t)
	b.signIn("boss")
	token := b.adminToken()

	res, body := b.post("/admin/people", url.Values{"csrf_token": {token}, "username": {"newbie"}, "role": {"assistant"}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "/link/invite-") || !strings.Contains(body, "shown only now") {
		t.Fatalf("add without a password: %d, want the invitation link\n%s", res.StatusCode, body)
	}
	id := regexp.MustCompile(`/link/invite-(\d+)-secret`).FindStringSubmatch(body)[1]
	if page := b.adminPage("/admin/people/" + id); strings.Contains(page, "-secret") {
		t.Errorf("the person's page shows the link again")
	}
	res, body = b.post("/admin/people/"+id+"/reset-password", url.Values{"csrf_token": {token}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "/link/reset-"+id+"-secret") || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("reset link: %d, Cache-Control %q\n%s", res.StatusCode, res.Header.Get("Cache-Control"), body)
	}
	links.mu.Lock()
	asked := slices.Clone(links.asked)
	links.mu.Unlock()
	if want := []string{"invite " + id + " by admin:boss", "reset " + id + " by admin:boss"}; !slices.Equal(asked, want) {
		t.Errorf("links asked for: %v, want %v", asked, want)
	}
	if u := jsonObject(t, site.cli.ok(t, "", "user", "show", "newbie", "--json")); u["role"] != "assistant" || u["is_active"] != true {
		t.Errorf("newbie: %v", u)
	}
}

// TestConsole_InvitationAccepted: an admin adds a person in the console
// without a password; the person, in a browser of their own, opens the
// invitation link the console showed once, sets a password and is signed
// in; the link does not work twice, and the new password signs them in.
func TestConsole_InvitationAccepted(t *testing.T) {
	site := newConsoleSite(t)
	admin := site.browser(t)
	admin.signIn("boss")
	res, body := admin.post("/admin/people", url.Values{"csrf_token": {admin.adminToken()}, "username": {"newcomer"},
		"role": {"assistant"}, "email": {"newcomer@studio.test"}})
	link := regexp.MustCompile(`http://127\.0\.0\.1:1(/link/[A-Za-z0-9_-]+)`).FindStringSubmatch(body)
	if res.StatusCode != http.StatusOK || link == nil {
		t.Fatalf("add without a password: %d, no invitation link\n%s", res.StatusCode, body)
	}
	if out := site.cli.ok(t, "", "user", "show", "newcomer"); !strings.Contains(out, "no password yet") {
		t.Errorf("before the invitation is accepted, user show says:\n%s", out)
	}

	person := site.browser(t) // another browser: no cookie of the admin's
	res, page := person.get(link[1])
	if res.StatusCode != http.StatusOK || !strings.Contains(page, "newcomer") {
		t.Fatalf("GET the invitation: %d\n%s", res.StatusCode, page)
	}
	const chosen = "a long passphrase of mine"
	res, body = person.post(link[1], url.Values{"csrf_token": {csrfOf(t, page)}, "new_password": {chosen}, "confirm_password": {chosen}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/account") {
		t.Fatalf("accept the invitation: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	if res, page := person.get("/account"); res.StatusCode != http.StatusOK || !strings.Contains(page, "newcomer") {
		t.Errorf("the invited person is not signed in: %d\n%s", res.StatusCode, page)
	}
	if res, _ := site.browser(t).get(link[1]); res.StatusCode != http.StatusGone {
		t.Errorf("the invitation opened again: %d, want 410", res.StatusCode)
	}
	again := site.browser(t)
	_, login := again.get("/login")
	res, _ = again.post("/login", url.Values{"csrf_token": {csrfOf(t, login)}, "username": {"newcomer"}, "password": {chosen}})
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("sign-in with the chosen password: %d, want 303", res.StatusCode)
	}
}

// TestConsole_NoLinksNeedsPassword: on a server that makes no links, adding
// a person without a password is refused with a readable reason.
func TestConsole_NoLinksNeedsPassword(t *testing.T) {
	was := consoleLinks
	consoleLinks = func(*app) console.Links { return nil }
	t.Cleanup(func() { consoleLinks = was })
	site := newConsoleSite(t)
	b := site.browser(t)
	b.signIn("boss")
	if res, body := b.post("/admin/people", url.Values{"csrf_token": {b.adminToken()}, "username": {"nopass"}, "role": {"assistant"}}); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "invitation links are not available") {
		t.Errorf("no password and no invitations: %d\n%s", res.StatusCode, body)
	}
}
