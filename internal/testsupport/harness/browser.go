package harness

import (
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// Browser is a user agent with a cookie jar that stops at every redirect, so
// that each hop can be asserted.
type Browser struct {
	T      *testing.T
	Client *http.Client
	Server *Server
}

func (e *Server) NewBrowser(t *testing.T) *Browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookiejar: %v", err)
	}
	return &Browser{T: t, Server: e, Client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}}
}

// Page is a read response.
type Page struct {
	Status int
	Header http.Header
	Body   string
}

func (p *Page) Location() string { return p.Header.Get("Location") }

// Do sends req with the browser's cookies and reads the answer, for a
// request Get and Post cannot express (a header of the test's own).
func (b *Browser) Do(req *http.Request) *Page {
	b.T.Helper()
	resp, err := b.Client.Do(req)
	if err != nil {
		b.T.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.T.Fatalf("read %s: %v", req.URL, err)
	}
	return &Page{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

// abs resolves a path against the issuer.
func (b *Browser) abs(ref string) string {
	base, _ := url.Parse(b.Server.Issuer + "/")
	u, err := base.Parse(ref)
	if err != nil {
		b.T.Fatalf("resolve %q: %v", ref, err)
	}
	return u.String()
}

func (b *Browser) Get(rawURL string) *Page {
	b.T.Helper()
	req, err := http.NewRequestWithContext(b.T.Context(), http.MethodGet, b.abs(rawURL), nil)
	if err != nil {
		b.T.Fatal(err)
	}
	return b.Do(req)
}

func (b *Browser) Post(rawURL string, form url.Values) *Page {
	b.T.Helper()
	req, err := http.NewRequestWithContext(b.T.Context(), http.MethodPost, b.abs(rawURL), strings.NewReader(form.Encode()))
	if err != nil {
		b.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.Do(req)
}

var (
	CSRFField  = regexp.MustCompile(`<input type="hidden" name="csrf_token" value="([^"]*)">`)
	FormAction = regexp.MustCompile(`<form class="form" method="post" action="([^"]*)"`)
	alertText  = regexp.MustCompile(`(?s)<div class="alert"[^>]*>\s*<p>(.*?)</p>`)
)

// LoginForm is the parsed sign-in page.
type LoginForm struct {
	Action, CSRF string
}

func ParseLoginForm(t *testing.T, p *Page) LoginForm {
	t.Helper()
	if p.Status != http.StatusOK && p.Status != http.StatusUnauthorized {
		t.Fatalf("login page status = %d, want 200 or 401; body:\n%s", p.Status, p.Body)
	}
	if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("login page Content-Type = %q, want text/html", ct)
	}
	c := CSRFField.FindStringSubmatch(p.Body)
	a := FormAction.FindStringSubmatch(p.Body)
	if c == nil || a == nil || c[1] == "" {
		t.Fatalf("login page has no form with a csrf_token:\n%s", p.Body)
	}
	return LoginForm{Action: html.UnescapeString(a[1]), CSRF: html.UnescapeString(c[1])}
}

// LoginError is the text of the login page's error box, "" when there is none.
func LoginError(p *Page) string {
	m := alertText.FindStringSubmatch(p.Body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(strings.TrimSpace(m[1]))
}

// ToLoginPage follows /authorize to the sign-in page: a 303 to /login?req=…
// and the form there.
func (b *Browser) ToLoginPage(authURL string) (*Page, LoginForm) {
	b.T.Helper()
	p := b.Get(authURL)
	if p.Status != http.StatusSeeOther {
		b.T.Fatalf("GET /authorize: status %d, want 303 to the login page; Location %q; body:\n%s", p.Status, p.Location(), p.Body)
	}
	loc, err := url.Parse(p.Location())
	if err != nil || loc.Path != "/login" || loc.Query().Get("req") == "" {
		b.T.Fatalf("GET /authorize redirected to %q, want /login?req=…", p.Location())
	}
	login := b.Get(p.Location())
	if login.Status != http.StatusOK {
		b.T.Fatalf("GET %s: status %d, want 200", p.Location(), login.Status)
	}
	form := ParseLoginForm(b.T, login)
	if form.Action != p.Location() {
		b.T.Errorf("login form action = %q, want the page's own URL %q", form.Action, p.Location())
	}
	return login, form
}

// SubmitLogin posts the sign-in form.
func (b *Browser) SubmitLogin(form LoginForm, username, password string) *Page {
	b.T.Helper()
	return b.Post(form.Action, url.Values{"username": {username}, "password": {password}, "csrf_token": {form.CSRF}})
}

// SignIn walks a whole authorization through the login form and returns the
// parameters the client's redirect URI receives.
func (b *Browser) SignIn(f *Flow, username, password string) url.Values {
	b.T.Helper()
	_, form := b.ToLoginPage(f.URL)
	p := b.SubmitLogin(form, username, password)
	if p.Status != http.StatusSeeOther {
		b.T.Fatalf("POST login as %s: status %d, want 303 to the client; error box %q", username, p.Status, LoginError(p))
	}
	return b.Callback(f, p)
}

// SSO authorizes with the browser's existing session: the first hop must go
// straight to the client's redirect URI with a code, no login page.
func (b *Browser) SSO(f *Flow) url.Values {
	b.T.Helper()
	p := b.Get(f.URL)
	if p.Status != http.StatusFound {
		b.T.Fatalf("GET /authorize with a session: status %d, want 302 to the client; Location %q", p.Status, p.Location())
	}
	return b.Callback(f, p)
}

// SSOWithConsent authorizes with the browser's existing session and, when
// inkpass asks for consent (a third-party client), allows it. It never
// accepts the login page.
func (b *Browser) SSOWithConsent(f *Flow) url.Values {
	b.T.Helper()
	p := b.Get(f.URL)
	if p.Status == http.StatusSeeOther && strings.HasPrefix(p.Location(), "/consent?") {
		p = b.ApproveConsent(p.Location())
	}
	return b.Callback(f, p)
}

var consentAction = regexp.MustCompile(`<form class="form" method="post" action="(/consent\?[^"]*)"`)

// ApproveConsent opens the consent page at path and allows.
func (b *Browser) ApproveConsent(path string) *Page {
	b.T.Helper()
	p := b.Get(path)
	if p.Status != http.StatusOK {
		b.T.Fatalf("GET %s: status %d, want the consent page", path, p.Status)
	}
	if strings.Contains(p.Body, `name="password"`) {
		b.T.Fatalf("the consent page asks for a password:\n%s", p.Body)
	}
	c := CSRFField.FindStringSubmatch(p.Body)
	a := consentAction.FindStringSubmatch(p.Body)
	if c == nil || a == nil {
		b.T.Fatalf("consent page has no form with a csrf_token:\n%s", p.Body)
	}
	return b.Post(html.UnescapeString(a[1]), url.Values{"csrf_token": {html.UnescapeString(c[1])}, "decision": {"approve"}})
}

// Callback checks that p redirects to the flow's redirect URI with a code,
// the flow's state and our issuer (RFC 9207), and returns the parameters.
func (b *Browser) Callback(f *Flow, p *Page) url.Values {
	b.T.Helper()
	q := RedirectParams(b.T, p, f.rp.Conf.RedirectURL)
	if e := q.Get("error"); e != "" {
		b.T.Fatalf("client got error=%s (%s), want a code", e, q.Get("error_description"))
	}
	if q.Get("code") == "" {
		b.T.Fatalf("redirect %q carries no code", p.Location())
	}
	if got := q.Get("state"); got != f.State {
		b.T.Errorf("state = %q, want %q", got, f.State)
	}
	if got := q.Get("iss"); got != b.Server.Issuer {
		b.T.Errorf("iss = %q, want %q", got, b.Server.Issuer)
	}
	if cc := p.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		b.T.Errorf("redirect carrying a code has Cache-Control %q, want no-store", cc)
	}
	return q
}

// RedirectParams asserts that p is a redirect to exactly redirectURI and
// returns its query.
func RedirectParams(t *testing.T, p *Page, redirectURI string) url.Values {
	t.Helper()
	if p.Status != http.StatusFound && p.Status != http.StatusSeeOther {
		t.Fatalf("status %d, want a redirect to %s; body:\n%s", p.Status, redirectURI, p.Body)
	}
	loc, err := url.Parse(p.Location())
	if err != nil {
		t.Fatalf("bad Location %q: %v", p.Location(), err)
	}
	target := *loc
	target.RawQuery = ""
	if target.String() != redirectURI {
		t.Fatalf("redirected to %q, want %s", p.Location(), redirectURI)
	}
	return loc.Query()
}

// WantErrorPage asserts inkpass's own HTML error page with status 400 and no
// redirect of any kind.
func WantErrorPage(t *testing.T, p *Page) {
	t.Helper()
	if p.Status != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", p.Status)
	}
	if loc := p.Location(); loc != "" {
		t.Errorf("Location = %q, want none: this error must never redirect", loc)
	}
	if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
	if !strings.Contains(p.Body, "This sign-in link is not valid") {
		t.Errorf("body is not the invalid-link page:\n%s", p.Body)
	}
	for _, leak := range []string{"code=", "http-equiv=\"refresh\""} {
		if strings.Contains(p.Body, leak) {
			t.Errorf("error page contains %q", leak)
		}
	}
}

// WantRetrieveError asserts a token endpoint error from x/oauth2: its code,
// Status and the no-store headers of RFC 6749 §5.2.
func WantRetrieveError(t *testing.T, err error, code string, status int) *oauth2.RetrieveError {
	t.Helper()
	if err == nil {
		t.Fatalf("token request succeeded, want error %s", code)
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("token request error %v is not a *oauth2.RetrieveError", err)
	}
	if re.ErrorCode != code {
		t.Errorf("error = %q (%s), want %q", re.ErrorCode, re.ErrorDescription, code)
	}
	if re.Response.StatusCode != status {
		t.Errorf("status = %d, want %d", re.Response.StatusCode, status)
	}
	WantNoStore(t, re.Response.Header)
	return re
}

func WantNoStore(t *testing.T, h http.Header) {
	t.Helper()
	if cc := h.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	if p := h.Get("Pragma"); p != "no-cache" {
		t.Errorf("Pragma = %q, want no-cache", p)
	}
}
