package main

import (
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

// harness is the demo app on a loopback httptest server, wired to a
// testIssuer, with a browser-like client that keeps cookies and does not
// follow redirects, so every hop can be checked.
type harness struct {
	iss     *testIssuer
	app     *app
	baseURL string
	browser *http.Client
}

func newHarness(t *testing.T, opts issuerOptions) *harness {
	t.Helper()
	iss := newTestIssuer(t, opts)
	client := iss.srv.Client()
	provider, err := oidc.NewProvider(oidc.ClientContext(t.Context(), client), iss.url())
	if err != nil {
		t.Fatalf("discover test issuer: %v", err)
	}

	// The demo's own URL must be known before newApp (it is the redirect
	// URL), so start its listener first and attach the handler after.
	srv := httptest.NewUnstartedServer(nil)
	baseURL := "http://" + srv.Listener.Addr().String()
	a, err := newApp(config{
		Provider:    provider,
		ClientID:    "studio-demo",
		RedirectURL: baseURL + "/callback",
		HTTPClient:  client,
		Logger:      slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	if err != nil {
		t.Fatalf("new app: %v", err)
	}
	srv.Config.Handler = a.routes()
	srv.Start()
	t.Cleanup(srv.Close)

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &harness{iss: iss, app: a, baseURL: baseURL, browser: browser}
}

// get fetches path on the demo and returns the response with its body read.
func (h *harness) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	return h.do(t, http.MethodGet, path, nil)
}

func (h *harness) do(t *testing.T, method, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, h.baseURL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := h.browser.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp, string(b)
}

// startLogin clicks "Sign in" and returns the authorization request the
// demo sends to inkpass, after checking it is a code flow with PKCE S256.
func (h *harness) startLogin(t *testing.T) url.Values {
	t.Helper()
	resp, _ := h.get(t, "/login")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET /login: status %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("GET /login: bad Location: %v", err)
	}
	if got, want := loc.Scheme+"://"+loc.Host+loc.Path, h.iss.url()+"/authorize"; got != want {
		t.Fatalf("GET /login redirects to %s, want %s", got, want)
	}
	q := loc.Query()
	want := map[string]string{
		"response_type":         "code",
		"client_id":             "studio-demo",
		"redirect_uri":          h.baseURL + "/callback",
		"scope":                 "openid profile email phone",
		"code_challenge_method": "S256",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("authorization request %s = %q, want %q", k, q.Get(k), v)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(k)) < 20 {
			t.Errorf("authorization request %s = %q, want a long random value", k, q.Get(k))
		}
	}
	return q
}

// callback sends the browser back to the demo as inkpass would.
func (h *harness) callback(t *testing.T, params url.Values) (*http.Response, string) {
	t.Helper()
	return h.get(t, "/callback?"+params.Encode())
}

// answer is inkpass's successful authorization response to authReq.
func (h *harness) answer(authReq url.Values, code string) url.Values {
	return url.Values{"code": {code}, "state": {authReq.Get("state")}, "iss": {h.iss.url()}}
}

// signIn runs a whole sign-in for the given claims and returns the page.
func (h *harness) signIn(t *testing.T, idTokenClaims, userInfo map[string]any) string {
	t.Helper()
	authReq := h.startLogin(t)
	code := h.iss.issueCode(t, authReq, idTokenClaims, userInfo)
	resp, body := h.callback(t, h.answer(authReq, code))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("callback: status %d to %q, want 303 to /; body:\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	resp, body = h.get(t, "/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / after sign-in: status %d", resp.StatusCode)
	}
	return body
}

// sessionCount is how many signed-in sessions the demo holds.
func (h *harness) sessionCount() int {
	h.app.sessions.mu.Lock()
	defer h.app.sessions.mu.Unlock()
	return len(h.app.sessions.items)
}

// assertSignedOut checks that the demo holds no session and shows the
// sign-in button.
func (h *harness) assertSignedOut(t *testing.T) {
	t.Helper()
	if n := h.sessionCount(); n != 0 {
		t.Errorf("demo holds %d sessions, want 0", n)
	}
	_, body := h.get(t, "/")
	if !strings.Contains(body, `href="/login"`) {
		t.Errorf("GET / does not offer sign-in:\n%s", body)
	}
}

// Claims as inkpass releases them for an artist with every scope granted
// (internal/oidc ScopeClaims); instagram only in userinfo, to show the
// fallback.
var (
	artistIDToken = map[string]any{
		"sub": "42", "role": "artist", "artist_id": 7, "artist_name": "Mara Ink",
		"name": "Mara Lopez", "preferred_username": "mara", "birthdate": "1990-04-01",
		"email": "mara@studio.test", "phone_number": "+34 600 000 000",
	}
	artistUserInfo = map[string]any{
		"sub": "42", "role": "artist", "artist_id": 7, "artist_name": "Mara Ink",
		"name": "Mara Lopez", "preferred_username": "mara", "instagram": "@mara.ink",
	}
)

func TestApp_SignIn(t *testing.T) {
	t.Run("a full sign-in shows the role, the artist and what the role may do", func(t *testing.T) {
		h := newHarness(t, issuerOptions{issParam: true})
		page := h.signIn(t, artistIDToken, artistUserInfo)
		text := html.UnescapeString(page)
		for _, want := range []string{
			"Hello, Mara Lopez", "<dd>mara</dd>", "<dd>Artist</dd>", "#7 · Mara Ink",
			"mara@studio.test", "+34 600 000 000", "@mara.ink", "1990-04-01",
			"Manage your own sessions", "Manage your portfolio", "See your own reports",
			`"artist_id": 7`, `"instagram": "@mara.ink"`, "<details>",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("page lacks %q:\n%s", want, page)
			}
		}
		if strings.Contains(page, "Manage all users") {
			t.Errorf("an artist's page lists admin abilities")
		}
	})

	t.Run("each role is shown with what it may do", func(t *testing.T) {
		cases := []struct {
			role string
			want string
		}{
			{"admin", "Manage all users"},
			{"assistant", "See limited financial reports"},
			{"artist", "Manage your portfolio"},
			{"owner", "which this app does not know"},
		}
		for _, tc := range cases {
			t.Run(tc.role, func(t *testing.T) {
				h := newHarness(t, issuerOptions{})
				claims := map[string]any{"sub": "1", "role": tc.role, "name": "Someone"}
				page := h.signIn(t, claims, claims)
				if !strings.Contains(page, tc.want) {
					t.Errorf("role %s: page lacks %q:\n%s", tc.role, tc.want, page)
				}
			})
		}
	})

	t.Run("the session cookie is HttpOnly and SameSite=Lax", func(t *testing.T) {
		h := newHarness(t, issuerOptions{})
		authReq := h.startLogin(t)
		code := h.iss.issueCode(t, authReq, artistIDToken, artistUserInfo)
		resp, _ := h.callback(t, h.answer(authReq, code))
		var found bool
		for _, c := range resp.Cookies() {
			if c.Name != "studio_demo_session" {
				continue
			}
			found = true
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || len(c.Value) < 20 {
				t.Errorf("session cookie %+v, want HttpOnly, SameSite=Lax, Path=/ and a long random value", c)
			}
		}
		if !found {
			t.Fatalf("callback set no session cookie")
		}
	})

	t.Run("claims are shown as text, never as HTML", func(t *testing.T) {
		h := newHarness(t, issuerOptions{})
		claims := map[string]any{"sub": "9", "role": "admin", "name": `<script>alert(1)</script>`}
		page := h.signIn(t, claims, claims)
		if strings.Contains(page, "<script>") {
			t.Errorf("a claim reached the page as HTML:\n%s", page)
		}
	})

	t.Run("a callback with the wrong state is refused with 400 and leaves no session", func(t *testing.T) {
		h := newHarness(t, issuerOptions{})
		authReq := h.startLogin(t)
		code := h.iss.issueCode(t, authReq, artistIDToken, artistUserInfo)
		params := h.answer(authReq, code)
		params.Set("state", "not-the-state-we-sent")
		resp, body := h.callback(t, params)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d, want 400; body:\n%s", resp.StatusCode, body)
		}
		if calls, _ := h.iss.stats(); calls != 0 {
			t.Errorf("the code was redeemed (%d token calls) despite the wrong state", calls)
		}
		h.assertSignedOut(t)
	})

	t.Run("an ID token with another nonce is refused", func(t *testing.T) {
		h := newHarness(t, issuerOptions{})
		authReq := h.startLogin(t)
		claims := map[string]any{"nonce": "a-nonce-from-another-login"}
		for k, v := range artistIDToken {
			claims[k] = v
		}
		code := h.iss.issueCode(t, authReq, claims, artistUserInfo)
		resp, body := h.callback(t, h.answer(authReq, code))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not issued for this sign-in") {
			t.Errorf("status %d, want 400 naming the nonce; body:\n%s", resp.StatusCode, body)
		}
		h.assertSignedOut(t)
	})

	t.Run("an iss parameter naming another issuer is refused", func(t *testing.T) {
		h := newHarness(t, issuerOptions{issParam: true})
		authReq := h.startLogin(t)
		code := h.iss.issueCode(t, authReq, artistIDToken, artistUserInfo)
		params := h.answer(authReq, code)
		params.Set("iss", "https://evil.example")
		resp, body := h.callback(t, params)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d, want 400; body:\n%s", resp.StatusCode, body)
		}
		if calls, _ := h.iss.stats(); calls != 0 {
			t.Errorf("the code was redeemed despite a foreign iss")
		}
		h.assertSignedOut(t)
	})

	t.Run("a callback without iss is refused when discovery promises iss", func(t *testing.T) {
		h := newHarness(t, issuerOptions{issParam: true})
		authReq := h.startLogin(t)
		code := h.iss.issueCode(t, authReq, artistIDToken, artistUserInfo)
		params := h.answer(authReq, code)
		params.Del("iss")
		if resp, body := h.callback(t, params); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d, want 400; body:\n%s", resp.StatusCode, body)
		}
		h.assertSignedOut(t)
	})

	t.Run("a callback without iss is accepted when discovery does not promise it", func(t *testing.T) {
		h := newHarness(t, issuerOptions{})
		authReq := h.startLogin(t)
		code := h.iss.issueCode(t, authReq, artistIDToken, artistUserInfo)
		params := h.answer(authReq, code)
		params.Del("iss")
		if resp, body := h.callback(t, params); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("status %d, want 303; body:\n%s", resp.StatusCode, body)
		}
	})

	t.Run("a replayed callback is refused", func(t *testing.T) {
		h := newHarness(t, issuerOptions{})
		authReq := h.startLogin(t)
		code := h.iss.issueCode(t, authReq, artistIDToken, artistUserInfo)
		params := h.answer(authReq, code)
		if resp, _ := h.callback(t, params); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("first callback: status %d, want 303", resp.StatusCode)
		}
		if resp, body := h.callback(t, params); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("replayed callback: status %d, want 400; body:\n%s", resp.StatusCode, body)
		}
		if calls, _ := h.iss.stats(); calls != 1 {
			t.Errorf("token endpoint called %d times, want 1", calls)
		}
	})

	t.Run("a callback with no sign-in in progress is refused", func(t *testing.T) {
		h := newHarness(t, issuerOptions{})
		resp, body := h.callback(t, url.Values{"code": {"x"}, "state": {"y"}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "No sign-in in progress") {
			t.Errorf("status %d, want 400 'No sign-in in progress'; body:\n%s", resp.StatusCode, body)
		}
	})

	t.Run("access_denied from inkpass is shown as a cancelled sign-in", func(t *testing.T) {
		h := newHarness(t, issuerOptions{})
		authReq := h.startLogin(t)
		resp, body := h.callback(t, url.Values{
			"error": {"access_denied"}, "error_description": {"the user said <no>"},
			"state": {authReq.Get("state")}, "iss": {h.iss.url()},
		})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "cancelled") || !strings.Contains(body, "the user said &lt;no&gt;") {
			t.Errorf("status %d, want 403 with an escaped description; body:\n%s", resp.StatusCode, body)
		}
		h.assertSignedOut(t)
	})

	t.Run("a code inkpass refuses is reported, not retried", func(t *testing.T) {
		h := newHarness(t, issuerOptions{})
		authReq := h.startLogin(t)
		resp, body := h.callback(t, h.answer(authReq, "a-code-inkpass-never-issued"))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "invalid_grant") {
			t.Errorf("status %d, want 400 naming invalid_grant; body:\n%s", resp.StatusCode, body)
		}
		if calls, _ := h.iss.stats(); calls != 1 {
			t.Errorf("token endpoint called %d times, want 1", calls)
		}
		h.assertSignedOut(t)
	})

	t.Run("userinfo for another subject is refused", func(t *testing.T) {
		h := newHarness(t, issuerOptions{})
		authReq := h.startLogin(t)
		other := map[string]any{"sub": "43", "role": "admin"}
		code := h.iss.issueCode(t, authReq, artistIDToken, other)
		if resp, body := h.callback(t, h.answer(authReq, code)); resp.StatusCode != http.StatusBadGateway {
			t.Errorf("status %d, want 502; body:\n%s", resp.StatusCode, body)
		}
		h.assertSignedOut(t)
	})

	t.Run("when userinfo fails the ID token's claims are shown with a warning", func(t *testing.T) {
		h := newHarness(t, issuerOptions{})
		page := h.signIn(t, artistIDToken, nil)
		if !strings.Contains(page, "#7 · Mara Ink") || !strings.Contains(page, "userinfo could not be read") {
			t.Errorf("page lacks the artist or the userinfo warning:\n%s", page)
		}
	})
}

// csrfField reads the sign-out form's CSRF token from a page.
var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestApp_SignOut(t *testing.T) {
	t.Run("sign-out redirects to end_session_endpoint with id_token_hint and post_logout_redirect_uri", func(t *testing.T) {
		h := newHarness(t, issuerOptions{endSession: true})
		page := h.signIn(t, artistIDToken, artistUserInfo)
		m := csrfField.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("page has no sign-out form:\n%s", page)
		}
		resp, _ := h.do(t, http.MethodPost, "/logout", url.Values{"csrf": {m[1]}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST /logout: status %d, want 303", resp.StatusCode)
		}
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := loc.Scheme+"://"+loc.Host+loc.Path, h.iss.url()+"/logout"; got != want {
			t.Errorf("sign-out goes to %s, want %s", got, want)
		}
		_, idToken := h.iss.stats()
		q := loc.Query()
		for k, want := range map[string]string{
			"id_token_hint":            idToken,
			"post_logout_redirect_uri": h.baseURL + "/",
			"client_id":                "studio-demo",
			"ui_locales":               "en", // the endpoint's own query survives
		} {
			if q.Get(k) != want {
				t.Errorf("end-session %s = %q, want %q", k, q.Get(k), want)
			}
		}
		if q.Get("state") == "" {
			t.Errorf("end-session request has no state")
		}
		if n := h.sessionCount(); n != 0 {
			t.Errorf("demo still holds %d sessions after sign-out", n)
		}

		// inkpass sends the browser back with our state.
		_, page = h.get(t, "/?state="+url.QueryEscape(q.Get("state")))
		if !strings.Contains(page, "signed out of the studio demo and of inkpass") {
			t.Errorf("page after the return from inkpass lacks the signed-out notice:\n%s", page)
		}
		_, page = h.get(t, "/?state=forged")
		if strings.Contains(page, "and of inkpass") {
			t.Errorf("a forged state earned the signed-out notice")
		}
	})

	t.Run("without end_session_endpoint sign-out clears only the local session", func(t *testing.T) {
		h := newHarness(t, issuerOptions{})
		page := h.signIn(t, artistIDToken, artistUserInfo)
		if !strings.Contains(page, "Signs you out of this app only") {
			t.Errorf("page does not say sign-out is local only")
		}
		m := csrfField.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("page has no sign-out form:\n%s", page)
		}
		resp, _ := h.do(t, http.MethodPost, "/logout", url.Values{"csrf": {m[1]}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/?signed_out=local" {
			t.Errorf("POST /logout: status %d to %q, want 303 to /?signed_out=local", resp.StatusCode, resp.Header.Get("Location"))
		}
		h.assertSignedOut(t)
	})

	t.Run("sign-out without the CSRF token is refused and keeps the session", func(t *testing.T) {
		h := newHarness(t, issuerOptions{endSession: true})
		h.signIn(t, artistIDToken, artistUserInfo)
		resp, _ := h.do(t, http.MethodPost, "/logout", url.Values{"csrf": {"guess"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST /logout with a wrong token: status %d, want 403", resp.StatusCode)
		}
		if n := h.sessionCount(); n != 1 {
			t.Errorf("demo holds %d sessions, want 1", n)
		}
	})

	t.Run("sign-out by GET is not allowed", func(t *testing.T) {
		h := newHarness(t, issuerOptions{endSession: true})
		h.signIn(t, artistIDToken, artistUserInfo)
		if resp, _ := h.get(t, "/logout"); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET /logout: status %d, want 405", resp.StatusCode)
		}
	})
}

func TestNewApp(t *testing.T) {
	iss := newTestIssuer(t, issuerOptions{})
	provider, err := oidc.NewProvider(oidc.ClientContext(t.Context(), iss.srv.Client()), iss.url())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name        string
		redirectURL string
		clientID    string
		wantErr     bool
	}{
		{"a loopback callback is accepted", "http://127.0.0.1:9090/callback", "studio-demo", false},
		{"an empty client id is refused", "http://127.0.0.1:9090/callback", "", true},
		{"a relative redirect URL is refused", "/callback", "studio-demo", true},
		{"a redirect URL on / is refused", "http://127.0.0.1:9090/", "studio-demo", true},
		{"a redirect URL with a query is refused", "http://127.0.0.1:9090/callback?x=1", "studio-demo", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newApp(config{Provider: provider, ClientID: tc.clientID, RedirectURL: tc.redirectURL})
			if (err != nil) != tc.wantErr {
				t.Errorf("newApp(%q, %q) error = %v, want error: %v", tc.clientID, tc.redirectURL, err, tc.wantErr)
			}
		})
	}
}
