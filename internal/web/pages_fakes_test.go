package web

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

// The production provider offers every port the pages use.
var _ protocol = (*oidc.Provider)(nil)

// fakeProtocol is the protocol layer as a page test sets it up: pending
// requests and sessions in maps, answers in fields. No database, keys or
// password hashing, so a page test runs in milliseconds.
type fakeProtocol struct {
	// mu guards every field of the site's fakes: the server's goroutines
	// read them while the test sets them.
	mu *sync.Mutex
	// pending holds the parked requests by id (bound to no browser).
	pending map[string]*oidc.AuthRequest
	// sessions holds the live sessions by cookie value.
	sessions map[string]*session.Session
	// sessionErr, when set, is what every Session call returns.
	sessionErr error
	// parse is what ParseAuthorize answers; nil parses client_id as an
	// unknown client the way oidc.Provider does.
	parse func(r *http.Request) (*oidc.AuthRequest, *oidc.Error)
	// started counts StartSession calls.
	started int
}

func newFakeProtocol(mu *sync.Mutex) *fakeProtocol {
	return &fakeProtocol{mu: mu, pending: map[string]*oidc.AuthRequest{}, sessions: map[string]*session.Session{}}
}

func (f *fakeProtocol) Session(_ context.Context, cookie string) (*session.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sessionErr != nil {
		return nil, f.sessionErr
	}
	return f.sessions[cookie], nil
}

func (f *fakeProtocol) StartSession(_ context.Context, userID int64, amr []string) (string, *session.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started++
	now := time.Now()
	s := &session.Session{SID: fmt.Sprintf("sid-%d", f.started), UserID: userID, AuthTime: now, AMR: amr, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	token := fmt.Sprintf("session-token-%d", f.started)
	f.sessions[token] = s
	return token, s, nil
}

func (f *fakeProtocol) EndSession(_ context.Context, cookie string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.sessions, cookie)
	return nil
}

func (f *fakeProtocol) ParseAuthorize(r *http.Request) (*oidc.AuthRequest, *oidc.Error) {
	f.mu.Lock()
	parse := f.parse
	f.mu.Unlock()
	if parse != nil {
		return parse(r)
	}
	if r.FormValue("client_id") == "" {
		return nil, &oidc.Error{Code: "invalid_request", Description: "client_id is missing", Status: http.StatusBadRequest, NoRedirect: true}
	}
	return nil, &oidc.Error{Code: "invalid_request", Description: "this link names an unknown application", Status: http.StatusBadRequest, NoRedirect: true}
}

func (f *fakeProtocol) Grant(_ context.Context, req *oidc.AuthRequest, _ *session.Session) (*oidc.Response, *oidc.Error) {
	return &oidc.Response{RedirectURI: req.RedirectURI, Mode: oidc.ModeQuery, Params: url.Values{"code": {"fake-code"}}}, nil
}

func (f *fakeProtocol) ErrorResponse(req *oidc.AuthRequest, e *oidc.Error) *oidc.Response {
	return &oidc.Response{RedirectURI: req.RedirectURI, Mode: oidc.ModeQuery, Params: url.Values{"error": {e.Code}}}
}

func (f *fakeProtocol) SaveAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := fmt.Sprintf("req-%d", len(f.pending)+1)
	c := *req
	f.pending[id] = &c
	return id, nil
}

func (f *fakeProtocol) LoadAuthRequest(_ context.Context, id, _ string) (*oidc.AuthRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	req, ok := f.pending[id]
	if !ok {
		return nil, oidc.ErrUnknownAuthRequest
	}
	c := *req
	return &c, nil
}

func (f *fakeProtocol) RecordLogin(_ context.Context, id, _ string, req *oidc.AuthRequest, s *session.Session) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	stored, ok := f.pending[id]
	if !ok {
		return oidc.ErrUnknownAuthRequest
	}
	stored.LoginSID, req.LoginSID = s.SID, s.SID
	return nil
}

func (f *fakeProtocol) FinishAuthRequest(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.pending[id]; !ok {
		return oidc.ErrUnknownAuthRequest
	}
	delete(f.pending, id)
	return nil
}

func (f *fakeProtocol) NeedsLogin(_ *oidc.AuthRequest, s *session.Session) bool { return s == nil }

func (f *fakeProtocol) NeedsConsent(_ context.Context, req *oidc.AuthRequest, _ int64) (bool, error) {
	return !req.FirstParty, nil
}

func (f *fakeProtocol) RecordConsent(context.Context, *oidc.AuthRequest, int64) error { return nil }

func (f *fakeProtocol) ParseLogout(*http.Request) (*oidc.LogoutRequest, *oidc.Error) {
	return &oidc.LogoutRequest{}, nil
}

func (f *fakeProtocol) Logout(ctx context.Context, cookie string, _ *session.Session) error {
	return f.EndSession(ctx, cookie)
}

func (f *fakeProtocol) Discovery() ([]byte, string) { return []byte(`{"issuer":"fake"}`), `"d"` }
func (f *fakeProtocol) JWKS() ([]byte, string)      { return []byte(`{"keys":[]}`), `"j"` }

// The endpoints relying parties call are not pages: each fake answers 418,
// so that a page test that reached one by mistake would show it.
func fakeEndpoint() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
}
func (f *fakeProtocol) TokenHandler() http.Handler      { return fakeEndpoint() }
func (f *fakeProtocol) UserInfoHandler() http.Handler   { return fakeEndpoint() }
func (f *fakeProtocol) DiscoveryHandler() http.Handler  { return fakeEndpoint() }
func (f *fakeProtocol) JWKSHandler() http.Handler       { return fakeEndpoint() }
func (f *fakeProtocol) RevokeHandler() http.Handler     { return fakeEndpoint() }
func (f *fakeProtocol) IntrospectHandler() http.Handler { return fakeEndpoint() }

// fakeUsers is the user service: users by id, and the error the password
// check answers (nil: the password is right).
type fakeUsers struct {
	mu        *sync.Mutex
	users     map[int64]*user.User
	verifyErr error
}

func (u *fakeUsers) VerifyPassword(_ context.Context, username, _, _ string) (*user.PendingLogin, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.verifyErr != nil {
		return nil, u.verifyErr
	}
	for _, x := range u.users {
		if x.Username == username {
			return &user.PendingLogin{User: x}, nil
		}
	}
	return nil, user.ErrInvalidCredentials
}

func (u *fakeUsers) CompleteLogin(_ context.Context, pl *user.PendingLogin) (*user.User, error) {
	return pl.User, nil
}

func (u *fakeUsers) PasswordVerified(_ context.Context, pl *user.PendingLogin) (*user.User, error) {
	return pl.User, nil
}

func (u *fakeUsers) AbandonLogin(context.Context, *user.PendingLogin) error { return nil }

func (u *fakeUsers) Get(_ context.Context, id int64) (*user.User, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if x, ok := u.users[id]; ok {
		return x, nil
	}
	return nil, user.ErrNotFound
}

func (u *fakeUsers) CheckCurrentPassword(context.Context, int64, string, string) error { return nil }
func (u *fakeUsers) SetPassword(context.Context, int64, string) error                  { return nil }

// fakeAccounts lists the apps a user has let in.
type fakeAccounts struct {
	mu      *sync.Mutex
	apps    []session.App
	appsErr error
}

func (a *fakeAccounts) ConnectedApps(context.Context, int64) ([]session.App, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.apps, a.appsErr
}
func (a *fakeAccounts) RevokeClientAccess(context.Context, int64, string) error { return nil }

// busyError is a failure that passes by itself, as the store's ErrBusy is.
type busyError struct{ after time.Duration }

func (e busyError) Error() string             { return "database is locked" }
func (e busyError) RetryAfter() time.Duration { return e.after }

// fakeSite is the real handler over fakes, on a loopback test server, with
// a browser that keeps cookies and stops at every redirect.
type fakeSite struct {
	*httptest.Server
	mu       *sync.Mutex // guards the fakes' fields; see locked
	proto    *fakeProtocol
	users    *fakeUsers
	accounts *fakeAccounts
	client   *http.Client
	csrfKey  []byte
}

// ana is the one user of the fake site; sessionCookie is her session.
var ana = &user.User{ID: 7, Username: "ana.ink", Name: "Ana Ink", Role: user.RoleArtist, Active: true}

const sessionCookie = "ana-session"

func newFakeSite(t *testing.T) *fakeSite {
	t.Helper()
	mu := new(sync.Mutex)
	fs := &fakeSite{
		mu:       mu,
		proto:    newFakeProtocol(mu),
		users:    &fakeUsers{mu: mu, users: map[int64]*user.User{ana.ID: ana}},
		accounts: &fakeAccounts{mu: mu},
		csrfKey:  []byte(strings.Repeat("k", 32)),
	}
	fs.proto.sessions[sessionCookie] = &session.Session{SID: "sid-ana", UserID: ana.ID, AuthTime: time.Now(), AMR: []string{session.MethodPassword}}
	h, err := NewHandler(Deps{Provider: fs.proto, Users: fs.users, Accounts: fs.accounts, CSRFKey: fs.csrfKey})
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	fs.Server = httptest.NewServer(h)
	t.Cleanup(fs.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	fs.client = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return fs
}

// locked runs f, which sets or reads the fakes' fields, under their lock.
func (fs *fakeSite) locked(f func()) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f()
}

// signIn gives the browser ana's session cookie.
func (fs *fakeSite) signIn(t *testing.T) {
	t.Helper()
	u, err := url.Parse(fs.URL)
	if err != nil {
		t.Fatal(err)
	}
	fs.client.Jar.SetCookies(u, []*http.Cookie{{Name: newCookieNames(false).session, Value: sessionCookie, Path: "/"}})
}

// do sends a request and returns the response with its body read.
func (fs *fakeSite) do(t *testing.T, method, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, fs.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := fs.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s %s: %v", method, path, err)
	}
	return resp, string(b)
}

// wantCSRF is the token the server must hand this browser: HMAC of its
// browser cookie under the site's key.
func (fs *fakeSite) wantCSRF(t *testing.T) string {
	t.Helper()
	u, _ := url.Parse(fs.URL)
	for _, c := range fs.client.Jar.Cookies(u) {
		if c.Name == newCookieNames(false).browser {
			return (&server{Deps: Deps{CSRFKey: fs.csrfKey}}).csrfToken(c.Value)
		}
	}
	t.Fatal("no browser cookie set")
	return ""
}

var csrfField = regexp.MustCompile(`<input type="hidden" name="csrf_token" value="([^"]*)">`)

// loginPage loads /login for the pending request reqID (none when "") and
// returns the CSRF token of its form.
func (fs *fakeSite) loginPage(t *testing.T, reqID string) string {
	t.Helper()
	resp, body := fs.do(t, http.MethodGet, stepURL("/login", reqID), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /login: status %d, want 200", resp.StatusCode)
	}
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("GET /login: no csrf_token field in\n%s", body)
	}
	return m[1]
}

func TestPagesWithFakes_Login(t *testing.T) {
	t.Parallel()
	pending := func() *oidc.AuthRequest {
		return &oidc.AuthRequest{ClientID: "booking", ClientName: "Booking <Desk>", FirstParty: true,
			RedirectURI: "https://booking.example/cb", ResponseMode: oidc.ModeQuery, Scopes: []string{"openid"}}
	}

	t.Run("the login page shows the pending request's client name and this browser's CSRF token", func(t *testing.T) {
		t.Parallel()
		fs := newFakeSite(t)
		fs.locked(func() { fs.proto.pending["req-booking"] = pending() })
		csrf := fs.loginPage(t, "req-booking")
		if want := fs.wantCSRF(t); csrf != want {
			t.Errorf("csrf_token = %q, want %q (HMAC of the browser cookie)", csrf, want)
		}
		_, body := fs.do(t, http.MethodGet, "/login?req=req-booking", nil)
		if !strings.Contains(body, "Booking &lt;Desk&gt;") {
			t.Errorf("login page lacks the escaped client name %q:\n%s", "Booking &lt;Desk&gt;", body)
		}
		if strings.Contains(body, "Booking <Desk>") {
			t.Errorf("login page shows the client name unescaped")
		}
	})

	t.Run("a wrong password shows the one error message with 401 and starts no session", func(t *testing.T) {
		t.Parallel()
		fs := newFakeSite(t)
		fs.locked(func() {
			fs.proto.pending["req-booking"] = pending()
			fs.users.verifyErr = user.ErrInvalidCredentials
		})
		csrf := fs.loginPage(t, "req-booking")
		resp, body := fs.do(t, http.MethodPost, "/login?req=req-booking", url.Values{
			"csrf_token": {csrf}, "username": {"ana.ink"}, "password": {"not-her-password"},
		})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status = %d, want 401", resp.StatusCode)
		}
		if !strings.Contains(body, msgBadCredentials) {
			t.Errorf("page lacks %q:\n%s", msgBadCredentials, body)
		}
		if !strings.Contains(body, "Booking &lt;Desk&gt;") {
			t.Errorf("page lost the pending request's client name")
		}
		fs.locked(func() {
			if fs.proto.started != 0 {
				t.Errorf("StartSession called %d times, want 0", fs.proto.started)
			}
			if _, ok := fs.proto.pending["req-booking"]; !ok {
				t.Errorf("the pending request is gone after a wrong password")
			}
		})
	})

	t.Run("the right password starts a session and answers the request with a code", func(t *testing.T) {
		t.Parallel()
		fs := newFakeSite(t)
		fs.locked(func() { fs.proto.pending["req-booking"] = pending() })
		csrf := fs.loginPage(t, "req-booking")
		resp, _ := fs.do(t, http.MethodPost, "/login?req=req-booking", url.Values{
			"csrf_token": {csrf}, "username": {"ana.ink"}, "password": {"any: the fake checks none"},
		})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("status = %d, want 303", resp.StatusCode)
		}
		if loc, want := resp.Header.Get("Location"), "https://booking.example/cb?code=fake-code"; loc != want {
			t.Errorf("Location = %q, want %q", loc, want)
		}
		fs.locked(func() {
			if fs.proto.started != 1 {
				t.Errorf("StartSession called %d times, want 1", fs.proto.started)
			}
			if _, ok := fs.proto.pending["req-booking"]; ok {
				t.Errorf("the answered request is still pending")
			}
		})
	})
}

func TestPagesWithFakes_Consent(t *testing.T) {
	t.Parallel()
	fs := newFakeSite(t)
	fs.signIn(t)
	scopes := []string{"openid", "profile", "email"}
	fs.locked(func() {
		fs.proto.pending["req-aftercare"] = &oidc.AuthRequest{ClientID: "aftercare", ClientName: "Aftercare Notes",
			RedirectURI: "https://aftercare.example/cb", ResponseMode: oidc.ModeQuery, Scopes: scopes, LoginSID: "sid-ana"}
	})

	resp, body := fs.do(t, http.MethodGet, "/consent?req=req-aftercare", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200:\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{"Aftercare Notes", ana.Username} {
		if !strings.Contains(body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	for _, scope := range scopes {
		words := oidc.ScopeDescriptions[scope]
		if words == "" {
			t.Fatalf("oidc.ScopeDescriptions has no words for %q", scope)
		}
		if !strings.Contains(body, html.EscapeString(words)) {
			t.Errorf("consent page lacks the words for scope %s: %q", scope, words)
		}
	}
	if m := csrfField.FindStringSubmatch(body); m == nil || m[1] != fs.wantCSRF(t) {
		t.Errorf("consent form's csrf_token = %v, want this browser's token", m)
	}
}

func TestPagesWithFakes_Account(t *testing.T) {
	t.Parallel()
	fs := newFakeSite(t)
	fs.signIn(t)
	fs.locked(func() {
		fs.accounts.apps = []session.App{
			{ClientID: "aftercare", ClientName: "Aftercare Notes", Scope: "openid email"},
			{ClientID: "portfolio-sync", Scope: "openid profile"},
		}
	})

	resp, body := fs.do(t, http.MethodGet, "/account", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200:\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{
		ana.Name, ana.Username,
		"Aftercare Notes", "openid email", `name="client_id" value="aftercare"`,
		"portfolio-sync", "openid profile", `name="client_id" value="portfolio-sync"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("account page lacks %q", want)
		}
	}

	t.Run("without a session the account page sends the browser to sign in", func(t *testing.T) {
		t.Parallel()
		fs := newFakeSite(t)
		resp, _ := fs.do(t, http.MethodGet, "/account", nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Errorf("got %d to %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

func TestPagesWithFakes_Busy(t *testing.T) {
	t.Parallel()
	busy := busyError{after: 2500 * time.Millisecond}
	cases := []struct {
		name   string
		set    func(fs *fakeSite)
		method string
		path   string
	}{
		{"a busy session read on the home page", func(fs *fakeSite) { fs.proto.sessionErr = busy }, http.MethodGet, "/"},
		{"a busy list of connected apps on the account page", func(fs *fakeSite) { fs.accounts.appsErr = fmt.Errorf("connected apps: %w", busy) }, http.MethodGet, "/account"},
		{"a busy password check on the login form", func(fs *fakeSite) { fs.users.verifyErr = fmt.Errorf("authenticate: %w", busy) }, http.MethodPost, "/login"},
		{"an authorization request refused as temporarily unavailable", func(fs *fakeSite) {
			fs.proto.parse = func(*http.Request) (*oidc.AuthRequest, *oidc.Error) {
				return nil, &oidc.Error{Code: "temporarily_unavailable", Status: http.StatusServiceUnavailable, NoRedirect: true, RetryAfter: busy.after}
			}
		}, http.MethodGet, "/authorize?client_id=booking"},
	}
	for _, tc := range cases {
		t.Run(tc.name+" gives the 503 busy page with Retry-After", func(t *testing.T) {
			t.Parallel()
			fs := newFakeSite(t)
			fs.signIn(t)
			var form url.Values
			if tc.method == http.MethodPost {
				form = url.Values{"csrf_token": {fs.loginPage(t, "")}, "username": {ana.Username}, "password": {"whatever"}}
			}
			fs.locked(func() { tc.set(fs) })
			resp, body := fs.do(t, tc.method, tc.path, form)
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("status = %d, want 503", resp.StatusCode)
			}
			if got := resp.Header.Get("Retry-After"); got != "3" {
				t.Errorf("Retry-After = %q, want \"3\" (2.5 s rounded up)", got)
			}
			if !strings.Contains(body, "inkpass is busy") {
				t.Errorf("not the busy page:\n%s", body)
			}
		})
	}
}

func TestPagesWithFakes_ErrorPageKeepsAttackerTextOut(t *testing.T) {
	t.Parallel()
	fs := newFakeSite(t)
	const payload = `"><b>Your account is locked. Call 555-0100 now</b>`
	q := url.Values{"client_id": {payload}, "redirect_uri": {"https://evil.example/cb"}, "response_type": {"code"}}
	resp, body := fs.do(t, http.MethodGet, "/authorize?"+q.Encode(), nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		t.Errorf("redirected to %q; an unknown client's errors stay on inkpass's page", loc)
	}
	if !strings.Contains(body, "This sign-in link is not valid") {
		t.Errorf("not the invalid-link page:\n%s", body)
	}
	for _, bad := range []string{payload, html.EscapeString(payload), "555-0100", "evil.example"} {
		if strings.Contains(body, bad) {
			t.Errorf("error page echoes the request's text %q", bad)
		}
	}
}
