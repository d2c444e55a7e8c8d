package harness

// Helpers of the session lifetime tests (and others): fresh argon2id users
// (the fixture's werkzeug hashes are slow under -race), two extra clients,
// raw calls to /revoke and /introspect, and the audit trail as `inkpass
// audit --json` prints it.

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

// Two clients a server registers only through RegisterPortalAndPartner.
const (
	// PortalID is a first-party confidential client with a registered
	// post_logout_redirect_uri, for RP-initiated logout.
	PortalID        = "sl-portal"
	PortalSecret    = "sl-portal-secret-0123456789abcdefghijklmnopq"
	PortalRedirect  = "http://localhost:7100/portal/callback"
	PortalLoggedOut = "http://localhost:7100/portal/signed-out"

	// PartnerID is a third-party confidential client that may hold refresh
	// tokens, so that revoking it from /account has tokens to end.
	PartnerID       = "sl-partner"
	PartnerName     = "Partner Calendar"
	PartnerSecret   = "sl-partner-secret-0123456789abcdefghijklmnop"
	PartnerRedirect = "http://127.0.0.1:7200/partner/callback"
)

// RegisterPortalAndPartner adds the portal and the partner to e.
func (e *Server) RegisterPortalAndPartner(t *testing.T) {
	t.Helper()
	for _, c := range []struct {
		c      *client.Client
		secret string
	}{
		{&client.Client{
			ID: PortalID, Name: "Studio Portal", FirstParty: true,
			RedirectURIs:           []string{PortalRedirect},
			PostLogoutRedirectURIs: []string{PortalLoggedOut},
			GrantTypes:             []string{client.GrantAuthorizationCode, client.GrantRefreshToken},
			AuthMethod:             client.AuthSecretBasic, Enabled: true,
		}, PortalSecret},
		{&client.Client{
			ID: PartnerID, Name: PartnerName,
			RedirectURIs: []string{PartnerRedirect},
			GrantTypes:   []string{client.GrantAuthorizationCode, client.GrantRefreshToken},
			Scopes:       []string{"openid", "profile", "email", "offline_access"},
			AuthMethod:   client.AuthSecretBasic, Enabled: true,
		}, PartnerSecret},
	} {
		c.c.Normalize()
		if err := c.c.Validate(); err != nil {
			t.Fatalf("client %s: %v", c.c.ID, err)
		}
		c.c.SetSecret(e.Clients.HashKey(), c.secret)
		if err := e.Clients.Create(t.Context(), c.c); err != nil {
			t.Fatalf("register client %s: %v", c.c.ID, err)
		}
	}
}

// ClockedRP is NewRP with a verifier that reads the server's clock, so that
// tests which move the clock still verify the tokens issued after the move.
func (e *Server) ClockedRP(t *testing.T, clientID, secret, redirect string, scopes ...string) *RP {
	t.Helper()
	p := e.NewRP(t, clientID, secret, redirect, scopes...)
	p.Verifier = p.Provider.Verifier(&oidc.Config{ClientID: clientID, Now: e.Clock.Now})
	return p
}

// As is the same browser (cookie jar and all) reporting to t, for use
// inside a subtest: a subtest must not fail its parent's *testing.T.
func (b *Browser) As(t *testing.T) *Browser {
	return &Browser{T: t, Client: b.Client, Server: b.Server}
}

// SetCookie puts a cookie back into the jar, e.g. a session cookie the
// server told the browser to delete, to show the session is over server-side.
func (b *Browser) SetCookie(name, value string) {
	u, _ := url.Parse(b.Server.Issuer)
	b.Client.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// Account is a user made for one test.
type Account struct {
	ID                 int64
	Sub                string
	Username, Password string
}

// NewUser creates an active assistant with every profile field through
// user.Service: its hash is the env's argon2id, far cheaper under -race than
// the fixture's werkzeug pbkdf2 and scrypt. edit may change the fields.
func (e *Server) NewUser(t *testing.T, username, password string, edit func(*user.User)) Account {
	t.Helper()
	u := user.User{
		Username: username, Role: user.RoleAssistant, Name: "Test " + username,
		Email: username + "@studio.example", Phone: "+1 555 0177", Birthdate: "1990-04-12",
	}
	if edit != nil {
		edit(&u)
	}
	got, err := e.Users.Create(t.Context(), u, password)
	if err != nil {
		t.Fatalf("create user %s: %v", username, err)
	}
	return Account{ID: got.ID, Sub: strconv.FormatInt(got.ID, 10), Username: username, Password: password}
}

// DeactivateBehindOurBack sets is_active = 0 the way the studio's Python
// app does: straight in the shared users table, so inkpass revokes nothing
// itself and must notice on every use.
func (e *Server) DeactivateBehindOurBack(t *testing.T, id int64) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+e.DB.Path()+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), `UPDATE users SET is_active = 0 WHERE id = ?`, id); err != nil {
		t.Fatalf("deactivate user %d in the users table: %v", id, err)
	}
}

// WantAuthError asserts that p sends the browser back to the flow's
// redirect URI with error code, the flow's state and our issuer, and no code.
func (b *Browser) WantAuthError(f *Flow, p *Page, code string) url.Values {
	b.T.Helper()
	if p.Status != http.StatusFound && p.Status != http.StatusSeeOther {
		b.T.Fatalf("status %d, want a redirect to the client with error=%s; Location %q; body:\n%s", p.Status, code, p.Location(), p.Body)
	}
	q := RedirectParams(b.T, p, f.rp.Conf.RedirectURL)
	if got := q.Get("error"); got != code {
		b.T.Errorf("error = %q (%s), want %q", got, q.Get("error_description"), code)
	}
	if q.Has("code") {
		b.T.Errorf("an error redirect carries a code")
	}
	if got := q.Get("state"); got != f.State {
		b.T.Errorf("state = %q, want %q", got, f.State)
	}
	if got := q.Get("iss"); got != b.Server.Issuer {
		b.T.Errorf("iss = %q, want %q", got, b.Server.Issuer)
	}
	return q
}

// WantLoginRedirect asserts that p is the 303 to /login?req=… that
// /authorize answers when a password is needed, and shows that page.
func (b *Browser) WantLoginRedirect(p *Page) (*Page, LoginForm) {
	b.T.Helper()
	loc, err := url.Parse(p.Location())
	if p.Status != http.StatusSeeOther || err != nil || loc.Path != "/login" || loc.Query().Get("req") == "" {
		b.T.Fatalf("status %d to %q, want 303 to /login?req=…", p.Status, p.Location())
	}
	login := b.Get(p.Location())
	return login, ParseLoginForm(b.T, login)
}

// ConsentRedirect asserts a 303 to the consent page and returns its path.
func ConsentRedirect(t *testing.T, p *Page) string {
	t.Helper()
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location(), "/consent?req=") {
		t.Fatalf("status %d to %q, want 303 to /consent?req=…; body:\n%s", p.Status, p.Location(), p.Body)
	}
	return p.Location()
}

// Form is one HTML form of a page: its action and fields.
type Form struct {
	Action string
	Fields url.Values
}

var (
	slFormRE   = regexp.MustCompile(`(?s)<form[^>]*\baction="([^"]*)"[^>]*>(.*?)</form>`)
	slHiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// Forms parses every form of a page with its hidden fields.
func Forms(body string) []Form {
	var out []Form
	for _, m := range slFormRE.FindAllStringSubmatch(body, -1) {
		f := Form{Action: html.UnescapeString(m[1]), Fields: url.Values{}}
		for _, h := range slHiddenRE.FindAllStringSubmatch(m[2], -1) {
			f.Fields.Add(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
		}
		out = append(out, f)
	}
	return out
}

// FormTo returns the page's form that posts to action (and, when
// clientID is set, carries that client_id).
func FormTo(t *testing.T, p *Page, action, clientID string) Form {
	t.Helper()
	for _, f := range Forms(p.Body) {
		if f.Action == action && (clientID == "" || f.Fields.Get("client_id") == clientID) {
			return f
		}
	}
	t.Fatalf("page has no form posting to %s (client_id %q):\n%s", action, clientID, p.Body)
	return Form{}
}

// Resp is a raw answer of /revoke or /introspect.
type Resp struct {
	Status int
	Header http.Header
	Raw    string
	Body   map[string]any
}

func (r *Resp) Str(k string) string { s, _ := r.Body[k].(string); return s }

// Post posts form to path on the issuer. basic is client_id and secret for
// HTTP Basic, or nothing (then the form carries the client).
func (e *Server) Post(t *testing.T, path string, form url.Values, basic ...string) *Resp {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.Issuer+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	resp, err := e.HTTP.Client().Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := &Resp{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	if len(strings.TrimSpace(out.Raw)) > 0 {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			t.Fatalf("POST %s: status %d, body is not a JSON object: %v\n%s", path, resp.StatusCode, err, raw)
		}
	}
	return out
}

// Revoke calls /revoke as the studio app (HTTP Basic).
func (e *Server) Revoke(t *testing.T, token, hint string) *Resp {
	t.Helper()
	return e.Post(t, "/revoke", TokenForm(token, hint), AppID, AppSecret)
}

// Introspect calls /introspect as the studio app (HTTP Basic).
func (e *Server) Introspect(t *testing.T, token, hint string) *Resp {
	t.Helper()
	r := e.Post(t, "/introspect", TokenForm(token, hint), AppID, AppSecret)
	if r.Status != http.StatusOK {
		t.Fatalf("POST /introspect: status %d %s, want 200", r.Status, r.Raw)
	}
	WantNoStore(t, r.Header)
	return r
}

func TokenForm(token, hint string) url.Values {
	f := url.Values{"token": {token}}
	if hint != "" {
		f.Set("token_type_hint", hint)
	}
	return f
}

// WantInactive asserts RFC 7662's answer for a token that is not active:
// {"active": false} and nothing else, so it tells nothing about the token.
func WantInactive(t *testing.T, r *Resp) {
	t.Helper()
	if len(r.Body) != 1 || r.Body["active"] != false {
		t.Errorf("introspection = %s, want exactly {\"active\":false}", strings.TrimSpace(r.Raw))
	}
}

// WantRevoke200 asserts RFC 7009 §2.2's success: 200, no-store.
func WantRevoke200(t *testing.T, r *Resp) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Errorf("POST /revoke: status %d %s, want 200", r.Status, r.Raw)
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("POST /revoke: Cache-Control %q, want no-store", cc)
	}
}

// AuthTime returns the ID token's auth_time.
func AuthTime(t *testing.T, s *SignedIn) time.Time {
	t.Helper()
	at, ok := s.Claims["auth_time"].(float64)
	if !ok {
		t.Fatalf("ID token has no auth_time: %v", s.Claims)
	}
	return time.Unix(int64(at), 0)
}

// Grant signs a flow in by single sign-on (no page at all) and redeems it.
func (b *Browser) Grant(p *RP, extra ...oauth2.AuthCodeOption) *SignedIn {
	b.T.Helper()
	f := p.Start(false, extra...)
	return f.Redeem(b.T, b.SSO(f).Get("code"))
}

// Cookie returns the value of a cookie the browser holds for the issuer.
func (b *Browser) Cookie(name string) string {
	u, _ := url.Parse(b.Server.Issuer)
	for _, c := range b.Client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// AuditJSON is the whole audit trail as `inkpass audit --json --limit 0`
// prints it: the store's listing, newest first, encoded the same way (the
// CLI's own output is tested in cmd/inkpass/audit_test.go).
func (e *Server) AuditJSON(t *testing.T) ([]audit.Event, string) {
	t.Helper()
	events, err := e.DB.AuditEvents(t.Context(), audit.Filter{})
	if err != nil {
		t.Fatalf("AuditEvents: %v", err)
	}
	raw, err := json.MarshalIndent(events, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return events, string(raw)
}

// WantEvent asserts that events hold one of kind for the user (0: any) and
// client ("": any), and returns it.
func WantEvent(t *testing.T, events []audit.Event, kind audit.Kind, userID int64, clientID string) audit.Event {
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

// NoSecrets fails for every secret value that appears in text.
func NoSecrets(t *testing.T, where, text string, secrets ...string) {
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
