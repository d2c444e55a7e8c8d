package web_test

// Helpers for session_life_test.go: fresh argon2id users (the fixture's
// werkzeug hashes are slow under -race), two extra clients, raw calls to
// /revoke and /introspect, and the audit trail as `inkpass audit --json`
// prints it. Everything here is prefixed "sl" so that it cannot collide with
// the other files of this package.

import (
	"database/sql"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/user"
)

// Two clients the shared harness does not register.
const (
	// slPortalID is a first-party confidential client with a registered
	// post_logout_redirect_uri, for RP-initiated logout.
	slPortalID        = "sl-portal"
	slPortalSecret    = "sl-portal-secret-0123456789abcdefghijklmnopq"
	slPortalRedirect  = "http://localhost:7100/portal/callback"
	slPortalLoggedOut = "http://localhost:7100/portal/signed-out"

	// slPartnerID is a third-party confidential client that may hold refresh
	// tokens, so that revoking it from /account has tokens to end.
	slPartnerID       = "sl-partner"
	slPartnerName     = "Partner Calendar"
	slPartnerSecret   = "sl-partner-secret-0123456789abcdefghijklmnop"
	slPartnerRedirect = "http://127.0.0.1:7200/partner/callback"
)

// slRegisterExtraClients adds the portal and the partner to e.
func (e *env) slRegisterExtraClients(t *testing.T) {
	t.Helper()
	for _, c := range []struct {
		c      *client.Client
		secret string
	}{
		{&client.Client{
			ID: slPortalID, Name: "Studio Portal", FirstParty: true,
			RedirectURIs:           []string{slPortalRedirect},
			PostLogoutRedirectURIs: []string{slPortalLoggedOut},
			GrantTypes:             []string{client.GrantAuthorizationCode, client.GrantRefreshToken},
			AuthMethod:             client.AuthSecretBasic, Enabled: true,
		}, slPortalSecret},
		{&client.Client{
			ID: slPartnerID, Name: slPartnerName,
			RedirectURIs: []string{slPartnerRedirect},
			GrantTypes:   []string{client.GrantAuthorizationCode, client.GrantRefreshToken},
			Scopes:       []string{"openid", "profile", "email", "offline_access"},
			AuthMethod:   client.AuthSecretBasic, Enabled: true,
		}, slPartnerSecret},
	} {
		c.c.Normalize()
		if err := c.c.Validate(); err != nil {
			t.Fatalf("client %s: %v", c.c.ID, err)
		}
		c.c.SetSecret(e.clients.HashKey(), c.secret)
		if err := e.clients.Create(t.Context(), c.c); err != nil {
			t.Fatalf("register client %s: %v", c.c.ID, err)
		}
	}
}

// slRP is newRP with a verifier that reads the injected clock, so that tests
// which move the clock still verify the tokens issued after the move.
func (e *env) slRP(t *testing.T, clientID, secret, redirect string, scopes ...string) *rp {
	t.Helper()
	p := e.newRP(t, clientID, secret, redirect, scopes...)
	p.verifier = p.provider.Verifier(&oidc.Config{ClientID: clientID, Now: e.clock.Now})
	return p
}

// slAs is the same browser (cookie jar and all) reporting to t, for use
// inside a subtest: a subtest must not fail its parent's *testing.T.
func (b *browser) slAs(t *testing.T) *browser {
	return &browser{t: t, c: b.c, e: b.e}
}

// slSetCookie puts a cookie back into the jar, e.g. a session cookie the
// server told the browser to delete, to show the session is over server-side.
func (b *browser) slSetCookie(name, value string) {
	u, _ := url.Parse(b.e.issuer)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// slAccount is a user made for one test.
type slAccount struct {
	id                 int64
	sub                string
	username, password string
}

// slNewUser creates an active assistant with every profile field through
// user.Service: its hash is the env's argon2id, far cheaper under -race than
// the fixture's werkzeug pbkdf2 and scrypt. edit may change the fields.
func (e *env) slNewUser(t *testing.T, username, password string, edit func(*user.User)) slAccount {
	t.Helper()
	u := user.User{
		Username: username, Role: user.RoleAssistant, Name: "Test " + username,
		Email: username + "@studio.example", Phone: "+1 555 0177", Birthdate: "1990-04-12",
	}
	if edit != nil {
		edit(&u)
	}
	got, err := e.users.Create(t.Context(), u, password)
	if err != nil {
		t.Fatalf("create user %s: %v", username, err)
	}
	return slAccount{id: got.ID, sub: strconv.FormatInt(got.ID, 10), username: username, password: password}
}

// slDeactivateBehindOurBack sets is_active = 0 the way the studio's Python
// app does: straight in the shared users table, so inkpass revokes nothing
// itself and must notice on every use.
func (e *env) slDeactivateBehindOurBack(t *testing.T, id int64) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+e.db.Path()+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), `UPDATE users SET is_active = 0 WHERE id = ?`, id); err != nil {
		t.Fatalf("deactivate user %d in the users table: %v", id, err)
	}
}

// slWantAuthError asserts that p sends the browser back to the flow's
// redirect URI with error code, the flow's state and our issuer, and no code.
func (b *browser) slWantAuthError(f *flow, p *page, code string) url.Values {
	b.t.Helper()
	if p.status != http.StatusFound && p.status != http.StatusSeeOther {
		b.t.Fatalf("status %d, want a redirect to the client with error=%s; Location %q; body:\n%s", p.status, code, p.location(), p.body)
	}
	q := redirectParams(b.t, p, f.rp.conf.RedirectURL)
	if got := q.Get("error"); got != code {
		b.t.Errorf("error = %q (%s), want %q", got, q.Get("error_description"), code)
	}
	if q.Has("code") {
		b.t.Errorf("an error redirect carries a code")
	}
	if got := q.Get("state"); got != f.state {
		b.t.Errorf("state = %q, want %q", got, f.state)
	}
	if got := q.Get("iss"); got != b.e.issuer {
		b.t.Errorf("iss = %q, want %q", got, b.e.issuer)
	}
	return q
}

// slWantLoginRedirect asserts that p is the 303 to /login?req=… that
// /authorize answers when a password is needed, and shows that page.
func (b *browser) slWantLoginRedirect(p *page) (*page, loginForm) {
	b.t.Helper()
	loc, err := url.Parse(p.location())
	if p.status != http.StatusSeeOther || err != nil || loc.Path != "/login" || loc.Query().Get("req") == "" {
		b.t.Fatalf("status %d to %q, want 303 to /login?req=…", p.status, p.location())
	}
	login := b.get(p.location())
	return login, parseLoginForm(b.t, login)
}

// slConsentRedirect asserts a 303 to the consent page and returns its path.
func slConsentRedirect(t *testing.T, p *page) string {
	t.Helper()
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/consent?req=") {
		t.Fatalf("status %d to %q, want 303 to /consent?req=…; body:\n%s", p.status, p.location(), p.body)
	}
	return p.location()
}

// slForm is one HTML form of a page: its action and fields.
type slForm struct {
	action string
	fields url.Values
}

var (
	slFormRE   = regexp.MustCompile(`(?s)<form[^>]*\baction="([^"]*)"[^>]*>(.*?)</form>`)
	slHiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// slForms parses every form of a page with its hidden fields.
func slForms(body string) []slForm {
	var out []slForm
	for _, m := range slFormRE.FindAllStringSubmatch(body, -1) {
		f := slForm{action: html.UnescapeString(m[1]), fields: url.Values{}}
		for _, h := range slHiddenRE.FindAllStringSubmatch(m[2], -1) {
			f.fields.Add(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
		}
		out = append(out, f)
	}
	return out
}

// slFormTo returns the page's form that posts to action (and, when
// clientID is set, carries that client_id).
func slFormTo(t *testing.T, p *page, action, clientID string) slForm {
	t.Helper()
	for _, f := range slForms(p.body) {
		if f.action == action && (clientID == "" || f.fields.Get("client_id") == clientID) {
			return f
		}
	}
	t.Fatalf("page has no form posting to %s (client_id %q):\n%s", action, clientID, p.body)
	return slForm{}
}

// slResp is a raw answer of /revoke or /introspect.
type slResp struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func (r *slResp) str(k string) string { s, _ := r.body[k].(string); return s }

// slPost posts form to path on the issuer. basic is client_id and secret for
// HTTP Basic, or nothing (then the form carries the client).
func (e *env) slPost(t *testing.T, path string, form url.Values, basic ...string) *slResp {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.issuer+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := &slResp{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(strings.TrimSpace(out.raw)) > 0 {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			t.Fatalf("POST %s: status %d, body is not a JSON object: %v\n%s", path, resp.StatusCode, err, raw)
		}
	}
	return out
}

// slRevoke calls /revoke as the studio app (HTTP Basic).
func (e *env) slRevoke(t *testing.T, token, hint string) *slResp {
	t.Helper()
	return e.slPost(t, "/revoke", slTokenForm(token, hint), appID, appSecret)
}

// slIntrospect calls /introspect as the studio app (HTTP Basic).
func (e *env) slIntrospect(t *testing.T, token, hint string) *slResp {
	t.Helper()
	r := e.slPost(t, "/introspect", slTokenForm(token, hint), appID, appSecret)
	if r.status != http.StatusOK {
		t.Fatalf("POST /introspect: status %d %s, want 200", r.status, r.raw)
	}
	wantNoStore(t, r.header)
	return r
}

func slTokenForm(token, hint string) url.Values {
	f := url.Values{"token": {token}}
	if hint != "" {
		f.Set("token_type_hint", hint)
	}
	return f
}

// slWantInactive asserts RFC 7662's answer for a token that is not active:
// {"active": false} and nothing else, so it tells nothing about the token.
func slWantInactive(t *testing.T, r *slResp) {
	t.Helper()
	if len(r.body) != 1 || r.body["active"] != false {
		t.Errorf("introspection = %s, want exactly {\"active\":false}", strings.TrimSpace(r.raw))
	}
}

// slWantRevoke200 asserts RFC 7009 §2.2's success: 200, no-store.
func slWantRevoke200(t *testing.T, r *slResp) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Errorf("POST /revoke: status %d %s, want 200", r.status, r.raw)
	}
	if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("POST /revoke: Cache-Control %q, want no-store", cc)
	}
}

// slAuthTime returns the ID token's auth_time.
func slAuthTime(t *testing.T, s *signedIn) time.Time {
	t.Helper()
	at, ok := s.claims["auth_time"].(float64)
	if !ok {
		t.Fatalf("ID token has no auth_time: %v", s.claims)
	}
	return time.Unix(int64(at), 0)
}

// slGrant signs a flow in by single sign-on (no page at all) and redeems it.
func (b *browser) slGrant(p *rp, extra ...oauth2.AuthCodeOption) *signedIn {
	b.t.Helper()
	f := p.start(false, extra...)
	return f.redeem(b.t, b.sso(f).Get("code"))
}

// slCookie returns the value of a cookie the browser holds for the issuer.
func (b *browser) slCookie(name string) string {
	u, _ := url.Parse(b.e.issuer)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// slAuditJSON is the whole audit trail as `inkpass audit --json --limit 0`
// prints it: the store's listing, newest first, encoded the same way (the
// CLI's own output is tested in cmd/inkpass/audit_test.go).
func (e *env) slAuditJSON(t *testing.T) ([]audit.Event, string) {
	t.Helper()
	events, err := e.db.AuditEvents(t.Context(), audit.Filter{})
	if err != nil {
		t.Fatalf("AuditEvents: %v", err)
	}
	raw, err := json.MarshalIndent(events, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return events, string(raw)
}

// slWantEvent asserts that events hold one of kind for the user (0: any) and
// client ("": any), and returns it.
func slWantEvent(t *testing.T, events []audit.Event, kind audit.Kind, userID int64, clientID string) audit.Event {
	t.Helper()
	i := slices.IndexFunc(events, func(ev audit.Event) bool {
		return ev.Kind == kind && (userID == 0 || ev.UserID == userID) && (clientID == "" || ev.ClientID == clientID)
	})
	if i < 0 {
		var kinds []string
		for _, ev := range events {
			kinds = append(kinds, string(ev.Kind)+"/"+strconv.FormatInt(ev.UserID, 10)+"/"+ev.ClientID)
		}
		t.Errorf("audit trail has no %s for user %d client %q; it has %q", kind, userID, clientID, kinds)
		return audit.Event{}
	}
	return events[i]
}

// slNoSecrets fails for every secret value that appears in text.
func slNoSecrets(t *testing.T, where, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if len(s) < 6 {
			t.Fatalf("secret %q is too short to scan for", s)
		}
		if strings.Contains(text, s) {
			t.Errorf("%s contains the secret value %q", where, s)
		}
	}
}
