package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// The console's Apps, Sessions, Keys, Activity and Settings sections
// through the real serve stack, as console_test.go does for the framework.

// newConsoleSiteAtIssuer is newConsoleSite on a port chosen before serve
// starts, so that the issuer is the address apps really reach: go-oidc
// insists that discovery's issuer is the URL it fetched.
func newConsoleSiteAtIssuer(t *testing.T) *consoleSite {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := newCLI(t, "inkpass.db", fmt.Sprintf("listen: %q\nissuer: \"http://%s\"\nmetrics:\n  enabled: false\n", addr, addr))
	c.ok(t, "", "migrate")
	artist := strings.TrimSpace(c.ok(t, "", "artist", "add", "--name", "Mara"))
	c.ok(t, consolePassword+"\n", "user", "add", "--username", "boss", "--role", "admin", "--name", "Bo Boss", "--password-stdin")
	c.ok(t, consolePassword+"\n", "user", "add", "--username", "desk", "--role", "assistant", "--email", "desk@studio.test", "--password-stdin")
	c.ok(t, consolePassword+"\n", "user", "add", "--username", "ink", "--role", "artist", "--artist-id", artist, "--password-stdin")
	srv := c.serve(t)
	base := srv.listening(t)
	t.Cleanup(func() { srv.stop(t) })
	if base != "http://"+addr {
		t.Fatalf("serve listens on %s, want %s", base, addr)
	}
	return &consoleSite{cli: c, base: base, db: filepath.Join(c.dir, "inkpass.db")}
}

// rawDB opens the site's file for seeding and reading rows.
func (s *consoleSite) rawDB(t *testing.T) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite3", "file:"+s.db+"?_busy_timeout=5000&_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

// auditOf lists the audit events of kind as JSON objects (inkpass audit).
func (s *consoleSite) auditOf(t *testing.T, kind string) []map[string]any {
	t.Helper()
	return jsonArray(t, s.cli.ok(t, "", "audit", "--kind", kind, "--json"))
}

var clientSecretShown = regexp.MustCompile(`<code id="client-secret">([^<]+)</code>`)

// signInWithApp runs the authorization code flow with PKCE for a
// confidential app as a relying party does (golang.org/x/oauth2 and go-oidc,
// real signatures and the JWKS), in b, whose inkpass session answers the
// login step. It returns the verified ID token and its JOSE kid.
func (s *consoleSite) signInWithApp(t *testing.T, b *browser, clientID, secret, redirect string) (*gooidc.IDToken, string) {
	t.Helper()
	ctx := context.Background()
	provider, err := gooidc.NewProvider(ctx, s.base)
	if err != nil {
		t.Fatalf("go-oidc discovery: %v", err)
	}
	conf := oauth2.Config{ClientID: clientID, ClientSecret: secret, RedirectURL: redirect,
		Endpoint: provider.Endpoint(), Scopes: []string{gooidc.ScopeOpenID, "profile"}}
	verifier := oauth2.GenerateVerifier()
	nonce := oauth2.GenerateVerifier()[:24]
	next := conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce))
	var code string
	for range 10 {
		req, err := http.NewRequest(http.MethodGet, next, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, body := b.do(req)
		loc := res.Header.Get("Location")
		if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusFound {
			t.Fatalf("GET %s: %d, want a redirect\n%s", next, res.StatusCode, body)
		}
		if strings.HasPrefix(loc, redirect) {
			u, _ := url.Parse(loc)
			if u.Query().Get("state") != "state-1" {
				t.Fatalf("back at the app without the state: %s", loc)
			}
			code = u.Query().Get("code")
			break
		}
		if strings.HasPrefix(loc, "/") {
			loc = s.base + loc
		}
		next = loc
	}
	if code == "" {
		t.Fatal("the browser never came back to the app with a code")
	}
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange with the console's secret: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&gooidc.Config{ClientID: clientID}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("go-oidc refuses the ID token: %v", err)
	}
	if idt.Nonce != nonce {
		t.Errorf("nonce %q, want %q", idt.Nonce, nonce)
	}
	header, _ := base64.RawURLEncoding.DecodeString(strings.SplitN(raw, ".", 2)[0])
	var h struct{ Kid string }
	json.Unmarshal(header, &h)
	return idt, h.Kid
}

// jwksKIDs are the key ids the JWKS publishes now.
func (s *consoleSite) jwksKIDs(t *testing.T) []string {
	t.Helper()
	res, err := http.Get(s.base + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var set struct{ Keys []struct{ Kid string } }
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.Kid)
	}
	return out
}

// TestConsole_Apps: an admin registers an app in the console (the CLI's
// rules, each refusal named beside its field), sees its secret once, and
// the app signs a person in with it through go-oidc; rotating the secret
// kills the old one; redirect URIs, disabling and removal work and are
// audited with the admin.
func TestConsole_Apps(t *testing.T) {
	site := newConsoleSiteAtIssuer(t)
	b := site.browser(t)
	b.signIn("boss")
	token := csrfOf(t, b.adminPage("/admin/apps/new"))
	const redirect = "http://127.0.0.1:9/booking/cb"
	form := func(change func(url.Values)) url.Values {
		f := url.Values{"csrf_token": {token}, "id": {"booking"}, "name": {"Booking"}, "type": {"confidential"},
			"redirect_uris": {redirect + "\n"}, "grant_types": {"authorization_code", "refresh_token", "client_credentials"},
			"scopes": {"openid", "profile", "email"}, "id_token_alg": {"RS256"}, "first_party": {"on"}}
		if change != nil {
			change(f)
		}
		return f
	}

	for _, tc := range []struct {
		name   string
		change func(url.Values)
		want   []string // texts the refused form shows
	}{
		{"an http redirect URI off loopback is refused beside its field",
			func(f url.Values) { f.Set("redirect_uris", "http://booking.example/cb") },
			[]string{`id="redirect-err"`, "must use https"}},
		{"a fragment is refused", func(f url.Values) { f.Set("redirect_uris", "https://booking.example/cb#x") },
			[]string{`id="redirect-err"`, "must not have a fragment"}},
		{"a public app cannot use client_credentials", func(f url.Values) { f.Set("type", "public") },
			[]string{`id="grants-err"`, "public client cannot use client_credentials"}},
		{"an id with a colon is refused", func(f url.Values) { f.Set("id", "book:ing") },
			[]string{`id="id-err"`, "without spaces or"}},
		{"no scope at all is refused", func(f url.Values) { f.Del("scopes") },
			[]string{`id="scopes-err"`, "choose at least one"}},
		{"HS256 is refused", func(f url.Values) { f.Set("id_token_alg", "HS256") },
			[]string{`id="alg-err"`, "is not RS256, ES256 or EdDSA"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := b.post("/admin/apps/new", form(tc.change))
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("%d, want 422\n%s", res.StatusCode, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("the refused form lacks %q", w)
				}
			}
			if strings.Contains(body, `id="client-secret"`) {
				t.Error("a refused registration shows a secret")
			}
		})
	}
	if list := jsonArray(t, site.cli.ok(t, "", "client", "list", "--json")); len(list) != 0 {
		t.Fatalf("refused registrations stored clients: %v", list)
	}

	res, body := b.post("/admin/apps/new", form(nil))
	m := clientSecretShown.FindStringSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("register: %d, want 200 with the secret\n%s", res.StatusCode, body)
	}
	secret := m[1]
	if res, body := b.post("/admin/apps/new", form(nil)); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "this client ID is taken") {
		t.Errorf("registering booking again: %d", res.StatusCode)
	}
	if page := b.adminPage("/admin/apps/booking"); strings.Contains(page, secret) {
		t.Error("the app's page shows the secret again")
	}
	if page := b.adminPage("/admin/apps"); !strings.Contains(page, `href="/admin/apps/booking"`) {
		t.Error("the list lacks the new app")
	}

	// The app signs boss in (first party: no consent) with the secret the
	// console showed, and go-oidc verifies the ID token against the JWKS.
	idt, kid := site.signInWithApp(t, b, "booking", secret, redirect)
	if idt.Audience[0] != "booking" || !slices.Contains(site.jwksKIDs(t), kid) {
		t.Errorf("ID token aud %v kid %s, JWKS %v", idt.Audience, kid, site.jwksKIDs(t))
	}

	// Rotating the secret shows a new one; the old one stops working.
	res, body = b.post("/admin/apps/booking/rotate-secret", url.Values{"csrf_token": {token}})
	m = clientSecretShown.FindStringSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil || m[1] == secret {
		t.Fatalf("rotate secret: %d\n%s", res.StatusCode, body)
	}
	newSecret := m[1]
	machine := func(secret string) error {
		_, err := (&clientcredentials.Config{ClientID: "booking", ClientSecret: secret, TokenURL: site.base + "/token", Scopes: []string{"profile"}}).Token(context.Background())
		return err
	}
	if machine(secret) == nil || machine(newSecret) != nil {
		t.Errorf("after rotation: old secret %v, new secret %v; want the old refused, the new accepted", machine(secret), machine(newSecret))
	}

	for _, tc := range []struct {
		name, path string
		form       url.Values
		status     int
		location   string
		check      func(t *testing.T, c map[string]any)
	}{
		{"a bad redirect URI is refused and nothing changes", "/admin/apps/booking/redirect-uris",
			url.Values{"redirect_uris": {"https://booking.example/a\njavascript:alert(1)"}}, http.StatusUnprocessableEntity, "",
			func(t *testing.T, c map[string]any) {
				if uris := c["redirect_uris"].([]any); len(uris) != 1 || uris[0] != redirect {
					t.Errorf("redirect_uris = %v", uris)
				}
			}},
		{"new redirect URIs replace the old", "/admin/apps/booking/redirect-uris",
			url.Values{"redirect_uris": {" https://booking.example/a \r\n\r\n" + redirect + "\r\n"}}, http.StatusSeeOther, "/admin/apps/booking?done=app-redirects",
			func(t *testing.T, c map[string]any) {
				if uris := c["redirect_uris"].([]any); len(uris) != 2 || uris[0] != "https://booking.example/a" || uris[1] != redirect {
					t.Errorf("redirect_uris = %v", uris)
				}
			}},
		{"disable", "/admin/apps/booking/disable", url.Values{}, http.StatusSeeOther, "/admin/apps/booking?done=app-disabled",
			func(t *testing.T, c map[string]any) {
				if c["enabled"] != false || machine(newSecret) == nil {
					t.Errorf("after disable: enabled %v, token endpoint accepts it: %v", c["enabled"], machine(newSecret) == nil)
				}
			}},
		{"enable", "/admin/apps/booking/enable", url.Values{}, http.StatusSeeOther, "/admin/apps/booking?done=app-enabled",
			func(t *testing.T, c map[string]any) {
				if c["enabled"] != true || machine(newSecret) != nil {
					t.Errorf("after enable: enabled %v, token: %v", c["enabled"], machine(newSecret))
				}
			}},
		{"remove without typing the id is refused", "/admin/apps/booking/remove", url.Values{"confirm": {"bookin"}}, http.StatusUnprocessableEntity, "",
			func(t *testing.T, c map[string]any) {
				if c["id"] != "booking" {
					t.Errorf("the app is gone: %v", c)
				}
			}},
		{"an unknown app is 404", "/admin/apps/nobody/disable", url.Values{}, http.StatusNotFound, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.form.Set("csrf_token", token)
			res, body := b.post(tc.path, tc.form)
			if res.StatusCode != tc.status || res.Header.Get("Location") != tc.location {
				t.Fatalf("%d to %q, want %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), tc.status, tc.location, body)
			}
			if tc.check != nil {
				tc.check(t, jsonObject(t, site.cli.ok(t, "", "client", "show", "booking", "--json")))
			}
		})
	}

	if res, _ := b.post("/admin/apps/booking/remove", url.Values{"csrf_token": {token}, "confirm": {"booking"}}); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/apps?done=app-removed" {
		t.Fatalf("remove: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if code, _, _ := site.cli.run(t, nil, "client", "show", "booking"); code == 0 {
		t.Error("the app is still registered after removal")
	}

	for kind, n := range map[string]int{"client_registered": 1, "client_secret_rotated": 1, "client_changed": 3, "client_removed": 1} {
		events := site.auditOf(t, kind)
		if len(events) != n {
			t.Errorf("%s events: %d, want %d", kind, len(events), n)
		}
		for _, e := range events {
			if e["actor"] != "admin:boss" || e["client_id"] != "booking" {
				t.Errorf("%s event %v, want actor admin:boss and client booking", kind, e)
			}
			if d, _ := e["detail"].(string); strings.Contains(d, secret) || strings.Contains(d, newSecret) {
				t.Errorf("%s event carries a secret: %v", kind, e)
			}
		}
	}
}

// TestConsole_KeysRotate: the Keys page lists the keys with their state;
// a rotation in the console is in the JWKS on the very next request (the
// server's own key set, no reload), the old key stays published as
// retiring, the next sign-in's ID token carries the new kid and go-oidc
// verifies it; the rotation is audited with the admin.
func TestConsole_KeysRotate(t *testing.T) {
	site := newConsoleSiteAtIssuer(t)
	b := site.browser(t)
	b.signIn("boss")
	before := site.jwksKIDs(t)
	if len(before) != 1 {
		t.Fatalf("JWKS before = %v, want the one RS256 key", before)
	}
	page := b.adminPage("/admin/keys")
	token := csrfOf(t, page)
	if !strings.Contains(page, before[0]) || !strings.Contains(page, `<span class="tag">active</span>`) {
		t.Fatalf("keys page lacks the active key %s", before[0])
	}
	const redirect = "http://127.0.0.1:9/app/cb"
	res, body := b.post("/admin/apps/new", url.Values{"csrf_token": {token}, "id": {"app"}, "type": {"confidential"},
		"redirect_uris": {redirect}, "grant_types": {"authorization_code"}, "scopes": {"openid", "profile"}, "id_token_alg": {"RS256"}, "first_party": {"on"}})
	m := clientSecretShown.FindStringSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("register: %d\n%s", res.StatusCode, body)
	}
	if _, kid := site.signInWithApp(t, b, "app", m[1], redirect); kid != before[0] {
		t.Fatalf("first ID token kid %s, want %s", kid, before[0])
	}

	for _, tc := range []struct {
		name, alg string
		status    int
	}{
		{"an unknown algorithm is refused", "HS256", http.StatusUnprocessableEntity},
		{"no algorithm is refused", "", http.StatusUnprocessableEntity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if res, _ := b.post("/admin/keys/rotate", url.Values{"csrf_token": {token}, "alg": {tc.alg}}); res.StatusCode != tc.status {
				t.Errorf("%d, want %d", res.StatusCode, tc.status)
			}
			if got := site.jwksKIDs(t); !slices.Equal(got, before) {
				t.Errorf("JWKS changed to %v", got)
			}
		})
	}

	res, _ = b.post("/admin/keys/rotate", url.Values{"csrf_token": {token}, "alg": {"RS256"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/keys?done=keys-rotated" {
		t.Fatalf("rotate: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	after := site.jwksKIDs(t)
	if len(after) != 2 || !slices.Contains(after, before[0]) {
		t.Fatalf("JWKS right after the rotation = %v, want the new key and %s", after, before[0])
	}
	newKID := after[0]
	if newKID == before[0] {
		newKID = after[1]
	}
	page = b.adminPage("/admin/keys?done=keys-rotated")
	if !strings.Contains(page, "A new key is active.") || !strings.Contains(page, "retiring") || !strings.Contains(page, "published until") {
		t.Errorf("keys page after rotation lacks the notice or the retiring key")
	}
	if _, kid := site.signInWithApp(t, b, "app", m[1], redirect); kid != newKID {
		t.Errorf("ID token after rotation: kid %s, want the new key %s", kid, newKID)
	}
	events := site.auditOf(t, "key_rotated")
	if len(events) != 1 || events[0]["actor"] != "admin:boss" || !strings.Contains(events[0]["detail"].(string), newKID) {
		t.Errorf("key_rotated events = %v, want one by admin:boss naming %s", events, newKID)
	}
}

// signedIn reports whether b's inkpass session is live (the account page
// answers it, or sends it to the login page).
func (b *browser) signedIn() bool {
	b.t.Helper()
	res, _ := b.get("/account")
	return res.StatusCode == http.StatusOK
}

var sessionSID = regexp.MustCompile(`name="sid" value="([^"]+)"`)

// TestConsole_Sessions: the Sessions page lists who is signed in; a
// person's page lists their browser sessions and apps; an admin ends one
// session (that browser is signed out, the other not), withdraws an app's
// access, then signs the person out everywhere; a sid that is not the
// person's is refused; each change is audited with the admin.
func TestConsole_Sessions(t *testing.T) {
	site := newConsoleSite(t)
	site.cli.ok(t, "", "client", "add", "--id", "booking", "--name", "Booking", "--redirect-uri", "https://booking.example/cb")
	b := site.browser(t)
	b.signIn("boss")
	d1, d2 := site.browser(t), site.browser(t)
	d1.signInTo("desk", "/account")
	d2.signInTo("desk", "/account")
	desk := fmt.Sprint(jsonObject(t, site.cli.ok(t, "", "user", "show", "desk", "--json"))["id"])
	raw := site.rawDB(t)
	if _, err := raw.Exec(`INSERT INTO inkpass_consents (user_id, client_id, scope, granted_at) VALUES (?, 'booking', 'openid profile', strftime('%s'))`, desk); err != nil {
		t.Fatal(err)
	}

	list := b.adminPage("/admin/sessions")
	if !regexp.MustCompile(`href="/admin/sessions/` + desk + `">desk</a></td>\s*<td>2</td>`).MatchString(list) {
		t.Errorf("the Sessions page does not list desk with 2 sessions:\n%s", list)
	}
	if res, _ := b.get("/admin/sessions?q=DESK"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/sessions/"+desk {
		t.Errorf("search for DESK: %d to %q, want 303 to desk's sessions", res.StatusCode, res.Header.Get("Location"))
	}
	if _, body := b.get("/admin/sessions?q=nobody-at-all"); !strings.Contains(body, "Nobody matches") {
		t.Error("a search that finds nobody does not say so")
	}

	page := b.adminPage("/admin/sessions/" + desk)
	token := csrfOf(t, page)
	sids := sessionSID.FindAllStringSubmatch(page, -1)
	if len(sids) != 2 || !strings.Contains(page, "<strong>Booking</strong> <code>booking</code>") || !strings.Contains(page, "password") {
		t.Fatalf("desk's page: %d sessions, want 2, and the Booking app\n%s", len(sids), page)
	}
	bossSID := sessionSID.FindStringSubmatch(b.adminPage("/admin/sessions/" + fmt.Sprint(jsonObject(t, site.cli.ok(t, "", "user", "show", "boss", "--json"))["id"])))[1]

	for _, tc := range []struct {
		name, path string
		form       url.Values
		status     int
		location   string
		d1, d2     bool // still signed in afterwards
	}{
		{"another person's session is refused", "/admin/sessions/" + desk + "/end", url.Values{"sid": {bossSID}}, http.StatusNotFound, "", true, true},
		{"an unknown session is refused", "/admin/sessions/" + desk + "/end", url.Values{"sid": {"no-such-sid"}}, http.StatusNotFound, "", true, true},
		{"an unknown person is 404", "/admin/sessions/99999/end-all", url.Values{}, http.StatusNotFound, "", true, true},
		// The newest session first: d2's.
		{"ending one session signs that browser out only", "/admin/sessions/" + desk + "/end", url.Values{"sid": {sids[0][1]}},
			http.StatusSeeOther, "/admin/sessions/" + desk + "?done=session-ended", true, false},
		{"the same session again is 404", "/admin/sessions/" + desk + "/end", url.Values{"sid": {sids[0][1]}}, http.StatusNotFound, "", true, false},
		{"revoking the app keeps the session", "/admin/sessions/" + desk + "/revoke-app", url.Values{"client_id": {"booking"}},
			http.StatusSeeOther, "/admin/sessions/" + desk + "?done=app-revoked", true, false},
		{"ending all signs the person out everywhere", "/admin/sessions/" + desk + "/end-all", url.Values{},
			http.StatusSeeOther, "/admin/sessions/" + desk + "?done=sessions-ended", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.form.Set("csrf_token", token)
			res, body := b.post(tc.path, tc.form)
			if res.StatusCode != tc.status || res.Header.Get("Location") != tc.location {
				t.Fatalf("%d to %q, want %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), tc.status, tc.location, body)
			}
			if d1.signedIn() != tc.d1 || d2.signedIn() != tc.d2 {
				t.Errorf("desk's browsers signed in: %v %v, want %v %v", d1.signedIn(), d2.signedIn(), tc.d1, tc.d2)
			}
		})
	}
	if !b.signedIn() {
		t.Error("the admin was signed out by ending desk's sessions")
	}
	var consents int
	raw.QueryRow(`SELECT count(*) FROM inkpass_consents WHERE user_id = ?`, desk).Scan(&consents)
	if consents != 0 {
		t.Errorf("desk still has %d consents after revoking the app", consents)
	}
	if page := b.adminPage("/admin/sessions/" + desk); !strings.Contains(page, "No live session.") {
		t.Error("desk's page still lists sessions")
	}
	ended := site.auditOf(t, "sessions_ended")
	revoked := site.auditOf(t, "consent_revoked")
	if len(ended) != 2 || len(revoked) != 1 {
		t.Fatalf("audit: %d sessions_ended, %d consent_revoked; want 2 and 1", len(ended), len(revoked))
	}
	for _, e := range append(ended, revoked...) {
		if e["actor"] != "admin:boss" || e["username"] != "desk" {
			t.Errorf("event %v, want actor admin:boss about desk", e)
		}
	}
}

// TestConsole_Activity: the 30-day chart counts the seeded sign-ins and
// failures per UTC day (and nothing older, nor other kinds); the audit
// trail filters by person, event, app and dates, pages by 50, and says
// which filters it could not use.
func TestConsole_Activity(t *testing.T) {
	site := newConsoleSite(t)
	b := site.browser(t) // its sign-in is one of today's sign-ins
	b.signIn("boss")
	desk := jsonObject(t, site.cli.ok(t, "", "user", "show", "desk", "--json"))["id"]
	raw := site.rawDB(t)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	day := func(d int) time.Time { return today.AddDate(0, 0, d) }
	seed := func(at time.Time, kind string, n int, user any, client string) {
		for range n {
			if _, err := raw.Exec(`INSERT INTO inkpass_audit (at, kind, user_id, username, client_id, detail) VALUES (?, ?, ?, ?, ?, 'seeded')`,
				at.Unix(), kind, user, map[bool]string{true: "desk"}[user != nil], client); err != nil {
				t.Fatal(err)
			}
		}
	}
	seed(day(0).Add(time.Second), "login_succeeded", 3, desk, "booking")
	seed(day(0).Add(time.Second), "login_failed", 1, nil, "")
	seed(day(-1).Add(12*time.Hour), "login_failed", 2, desk, "")
	seed(day(-29).Add(12*time.Hour), "login_succeeded", 1, nil, "")
	seed(day(-30).Add(12*time.Hour), "login_succeeded", 5, nil, "") // before the chart's first day
	seed(day(-3).Add(12*time.Hour), "logout", 60, nil, "")

	page := b.adminPage("/admin/activity")
	bar := func(d time.Time, n int, what string) string {
		return fmt.Sprintf("<title>%s: %d %s</title>", d.Format("Jan 2"), n, what)
	}
	for _, want := range []string{
		bar(day(0), 4, "sign-ins"), bar(day(0), 1, "failed"),
		bar(day(-1), 0, "sign-ins"), bar(day(-1), 2, "failed"),
		bar(day(-29), 1, "sign-ins"), bar(day(-3), 0, "sign-ins"),
		"<strong>5</strong> sign-ins, <strong>3</strong> failed",
		`role="img" aria-labelledby="signins-chart-title signins-chart-desc"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the activity page lacks %q", want)
		}
	}
	if n := strings.Count(page, " sign-ins</title>"); n != 30 {
		t.Errorf("the chart has %d sign-in bars, want 30 days", n)
	}
	if strings.Contains(page, bar(day(-30), 5, "sign-ins")) || strings.Contains(page, "<script") {
		t.Error("the chart shows the day before its 30 days, or carries a script")
	}

	rows := func(body, kind string) int {
		return strings.Count(body, `<strong class="event-kind">`+kind+"</strong>")
	}
	for _, tc := range []struct {
		name   string
		query  string
		status int
		want   map[string]int // event rows per kind
		text   string
	}{
		{"by event", "kind=login_failed", http.StatusOK, map[string]int{"login_failed": 3, "login_succeeded": 0}, ""},
		{"by person, by username", "user=desk", http.StatusOK, map[string]int{"login_succeeded": 3, "login_failed": 2}, ""},
		{"by person, by id", fmt.Sprintf("user=%v", desk), http.StatusOK, map[string]int{"login_succeeded": 3, "login_failed": 2}, ""},
		{"by app", "client=booking", http.StatusOK, map[string]int{"login_succeeded": 3, "login_failed": 0}, ""},
		{"by dates: to includes its whole day", "kind=login_failed&to=" + day(-1).Format(time.DateOnly), http.StatusOK, map[string]int{"login_failed": 2}, ""},
		{"by dates: from", "kind=login_succeeded&from=" + day(0).Format(time.DateOnly), http.StatusOK, map[string]int{"login_succeeded": 4}, ""},
		{"an unknown event is named and left out", "kind=bogus&user=desk", http.StatusUnprocessableEntity, map[string]int{"login_failed": 2}, "there is no event"},
		{"an unknown person matches nothing", "user=ghost", http.StatusUnprocessableEntity, map[string]int{"login_failed": 0, "logout": 0}, "nobody has the username"},
		{"a bad date is named", "kind=login_failed&from=yesterday", http.StatusUnprocessableEntity, map[string]int{"login_failed": 3}, "the from date is not a date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := b.get("/admin/activity?" + tc.query)
			if res.StatusCode != tc.status || !strings.Contains(body, tc.text) {
				t.Fatalf("%d, want %d with %q\n%s", res.StatusCode, tc.status, tc.text, body)
			}
			for kind, n := range tc.want {
				if got := rows(body, kind); got != n {
					t.Errorf("%d %s rows, want %d", got, kind, n)
				}
			}
		})
	}

	first := b.adminPage("/admin/activity?kind=logout")
	older := regexp.MustCompile(`<a href="(/admin/activity\?before=\d+&amp;kind=logout)">Older events</a>`).FindStringSubmatch(first)
	if rows(first, "logout") != 50 || older == nil {
		t.Fatalf("first page: %d logout rows, older link %v; want 50 and a link", rows(first, "logout"), older)
	}
	second := b.adminPage(strings.ReplaceAll(older[1], "&amp;", "&"))
	if rows(second, "logout") != 10 || strings.Contains(second, "Older events") {
		t.Errorf("second page: %d logout rows, want the last 10 and no further link", rows(second, "logout"))
	}
}

// postMultipart posts the logo form: its fields and, unless file is nil,
// the file.
func (b *browser) postMultipart(path string, fields url.Values, file []byte) (*http.Response, string) {
	b.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	if file != nil {
		part, err := w.CreateFormFile("logo", "logo.png")
		if err != nil {
			b.t.Fatal(err)
		}
		part.Write(file)
	}
	w.Close()
	req, err := http.NewRequest(http.MethodPost, b.base+path, &body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.do(req)
}

// testPNG is a w×h PNG of a few colours.
func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 4), 120, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestConsole_Settings: the studio's look from the console: each bad
// value refused beside its field, good ones saved and on the login page at
// once; a logo checked by size and type (the body limit raised for that
// form alone), served as stored, removed; a logo posted through the
// re-authentication page is asked for again; every change audited.
func TestConsole_Settings(t *testing.T) {
	site := newConsoleSite(t)
	b := site.browser(t)
	b.signIn("boss")
	token := csrfOf(t, b.adminPage("/admin/settings"))

	for _, tc := range []struct {
		name     string
		form     url.Values
		status   int
		location string
		want     []string
	}{
		{"an accent that is not #rrggbb", url.Values{"accent_color": {"red"}}, http.StatusUnprocessableEntity, "", []string{`id="accent-err"`, "#rrggbb"}},
		{"a name with a line break and a contact with headers, both named",
			url.Values{"name": {"Ink\nBcc: x"}, "support_contact": {"mailto:a@b.test?bcc=c@d.test"}}, http.StatusUnprocessableEntity, "",
			[]string{`id="name-err"`, `id="support-err"`}},
		{"good values are saved", url.Values{"name": {"Ink & Iron"}, "accent_color": {"#1A7F5A"}, "support_contact": {"help@studio.test"}},
			http.StatusSeeOther, "/admin/settings?done=settings-saved", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.form.Set("csrf_token", token)
			res, body := b.post("/admin/settings", tc.form)
			if res.StatusCode != tc.status || res.Header.Get("Location") != tc.location {
				t.Fatalf("%d to %q, want %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), tc.status, tc.location, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("the refused form lacks %q", w)
				}
			}
		})
	}
	page := b.adminPage("/admin/settings")
	for _, want := range []string{`value="Ink &amp; Iron"`, `value="#1a7f5a"`, `value="mailto:help@studio.test"`, "Last changed by boss"} {
		if !strings.Contains(page, want) {
			t.Errorf("settings page lacks %q", want)
		}
	}
	if _, login := b.get("/login"); !strings.Contains(login, "Ink &amp; Iron") {
		t.Error("the login page does not show the new studio name")
	}
	// The console's own header takes the new look too.
	if !strings.Contains(page, "<span>Ink &amp; Iron</span> <span class=\"console-mark\">") || !strings.Contains(page, "/branding/theme.css?v=") {
		t.Error("the console's header does not show the new studio name and accent")
	}

	logo := testPNG(t, 64, 64)
	tooBig := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 260<<10)...)
	for _, tc := range []struct {
		name     string
		fields   url.Values
		file     []byte
		status   int
		location string
		text     string
	}{
		{"no token is refused", url.Values{}, logo, http.StatusForbidden, "", "This form has expired"},
		{"an SVG is refused", url.Values{"csrf_token": {token}}, []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`),
			http.StatusUnprocessableEntity, "", `id="logo-err"`},
		{"a file over 256 KiB is refused by the logo rules", url.Values{"csrf_token": {token}}, tooBig, http.StatusUnprocessableEntity, "", "must be at most 256 KiB"},
		{"a body far over the limit is refused before it is read", url.Values{"csrf_token": {token}}, make([]byte, 600<<10), http.StatusRequestEntityTooLarge, "", ""},
		{"no file", url.Values{"csrf_token": {token}}, nil, http.StatusUnprocessableEntity, "", "choose the logo file"},
		{"a PNG is saved", url.Values{"csrf_token": {token}}, logo, http.StatusSeeOther, "/admin/settings?done=logo-saved", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := b.postMultipart("/admin/settings/logo", tc.fields, tc.file)
			if res.StatusCode != tc.status || res.Header.Get("Location") != tc.location || !strings.Contains(body, tc.text) {
				t.Fatalf("%d to %q, want %d to %q with %q\n%s", res.StatusCode, res.Header.Get("Location"), tc.status, tc.location, tc.text, body)
			}
		})
	}
	src := regexp.MustCompile(`<img class="settings-logo" src="([^"]+)"`).FindStringSubmatch(b.adminPage("/admin/settings"))
	if src == nil {
		t.Fatal("the settings page shows no logo")
	}
	res, served := b.get(strings.ReplaceAll(src[1], "&amp;", "&"))
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/png" || served != string(logo) {
		t.Errorf("GET %s: %d %q, %d bytes; want 200 image/png with the upload", src[1], res.StatusCode, res.Header.Get("Content-Type"), len(served))
	}

	// Through the re-authentication page the file cannot come along: the
	// admin is asked for it again, and nothing changes.
	site.ageSessions(t)
	res, body := b.postMultipart("/admin/settings/logo", url.Values{"csrf_token": {token}}, testPNG(t, 32, 32))
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `name="reauth_password"`) {
		t.Fatalf("stale session: %d, want the re-authentication page\n%s", res.StatusCode, body)
	}
	res, body = b.post("/admin/settings/logo", url.Values{"csrf_token": {token}, "reauth_password": {consolePassword}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "choose the logo file (again") {
		t.Errorf("after re-authentication without the file: %d\n%s", res.StatusCode, body)
	}

	if res, _ := b.post("/admin/settings/logo/remove", url.Values{"csrf_token": {token}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove logo: %d", res.StatusCode)
	}
	if res, _ := b.get(strings.ReplaceAll(src[1], "&amp;", "&")); res.StatusCode != http.StatusNotFound {
		t.Errorf("the removed logo answers %d, want 404", res.StatusCode)
	}
	events := site.auditOf(t, "branding_changed")
	if len(events) != 3 {
		t.Errorf("branding_changed events: %v, want 3 (settings, logo, removal)", events)
	}
	for _, e := range events {
		if e["actor"] != "admin:boss" {
			t.Errorf("event %v, want actor admin:boss", e)
		}
	}
}

// TestConsole_SectionsNeedRecentAuthentication: the sensitive changes of
// these sections (rotate a key, rotate a secret, remove an app, end
// sessions, change the settings), posted by an admin whose last sign-in is
// older than console.reauth_after, get the password prompt and change
// nothing.
func TestConsole_SectionsNeedRecentAuthentication(t *testing.T) {
	site := newConsoleSite(t)
	site.cli.ok(t, "", "client", "add", "--id", "booking", "--redirect-uri", "https://booking.example/cb")
	b, d := site.browser(t), site.browser(t)
	b.signIn("boss")
	d.signInTo("desk", "/account")
	desk := fmt.Sprint(jsonObject(t, site.cli.ok(t, "", "user", "show", "desk", "--json"))["id"])
	token := b.adminToken()
	keysBefore := site.cli.ok(t, "", "keys", "list", "--json")
	site.ageSessions(t)

	for _, tc := range []struct{ path, field string }{
		{"/admin/keys/rotate", "alg=RS256"},
		{"/admin/apps/booking/rotate-secret", ""},
		{"/admin/apps/booking/remove", "confirm=booking"},
		{"/admin/apps/booking/disable", ""},
		{"/admin/sessions/" + desk + "/end-all", ""},
		{"/admin/settings", "name=Changed"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			form, _ := url.ParseQuery(tc.field)
			form.Set("csrf_token", token)
			res, body := b.post(tc.path, form)
			if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `name="reauth_password"`) {
				t.Errorf("%d, want 401 with the password prompt\n%s", res.StatusCode, body)
			}
		})
	}
	if got := site.cli.ok(t, "", "keys", "list", "--json"); got != keysBefore {
		t.Errorf("keys changed without a recent sign-in:\n%s\n%s", keysBefore, got)
	}
	if c := jsonObject(t, site.cli.ok(t, "", "client", "show", "booking", "--json")); c["enabled"] != true {
		t.Errorf("the app changed without a recent sign-in: %v", c)
	}
	if !d.signedIn() {
		t.Error("desk was signed out without a recent sign-in")
	}
	if _, login := b.get("/login"); strings.Contains(login, "Changed") {
		t.Error("the studio name changed without a recent sign-in")
	}
	if n := len(site.auditOf(t, "client_secret_rotated")); n != 0 {
		t.Errorf("%d secret rotations without a recent sign-in", n)
	}
}
