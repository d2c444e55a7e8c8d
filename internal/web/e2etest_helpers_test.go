package web_test

import (
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	_ "github.com/mattn/go-sqlite3"
	"golang.org/x/oauth2"

	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/mfa"
	op "github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/password"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/user"
	"github.com/inkpass/inkpass/internal/userlink"
	"github.com/inkpass/inkpass/internal/web"
)

// fixtureSQL is the studio's database as its Python app leaves it.
const fixtureSQL = "../../testdata/studio-fixture.sql"

// Fixture users (testdata/studio-fixture.sql) the tests refer to by more
// than their username.
const (
	frontDeskID       = 4 // front_desk, assistant, werkzeug scrypt N=16384
	formerAssistant   = "former_assistant"
	formerAssistantPW = "gone-but-kept" // right password, deactivated account
)

// The clients every test environment registers. Redirect URIs are never
// served: the browser stops at the redirect and the test reads the code from
// the Location header.
const (
	// appID is the studio's own app: confidential, first-party, pinned to
	// basic auth, two redirect URIs (so redirect_uri can never be omitted).
	appID        = "studio-app"
	appSecret    = "studio-app-secret-0123456789abcdefghijklmnop"
	appRedirect  = "http://localhost:8123/callback"
	appRedirect2 = "http://127.0.0.1:8123/callback"

	// toolID is a third-party tool (so it asks for consent): confidential,
	// client_secret_post, no phone or offline_access scope.
	toolID       = "booking-tool"
	toolSecret   = "booking-tool-secret-0123456789abcdefghijklmn"
	toolRedirect = "http://127.0.0.1:9000/tool/callback"

	// spaID is the studio's own single-page app: public (auth method none,
	// PKCE required), first-party.
	spaID       = "studio-spa"
	spaRedirect = "http://localhost:3000/spa/callback"

	// reporterID may only use client_credentials.
	reporterID     = "nightly-reporter"
	reporterSecret = "nightly-reporter-secret-0123456789abcdefghij"
)

// Token lifetimes, as config.Default sets them.
const (
	codeTTL    = time.Minute
	accessTTL  = time.Hour
	idTokenTTL = time.Hour
	refreshTTL = 30 * 24 * time.Hour
	sessionTTL = 12 * time.Hour
)

// clock is the injected store and provider clock: real time plus an offset a
// test may move, so that nothing ever sleeps.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// env is one inkpass server over its own copy of the studio fixture.
type env struct {
	t       *testing.T
	srv     *httptest.Server
	issuer  string
	db      *store.DB
	clients *store.Clients
	keys    *keys.Set
	users   *user.Service
	clock   *clock
	// links issues single-use links under the issuer (links_test.go).
	links *userlink.Service
}

type envOptions struct {
	alg keys.Algorithm // RS256 when empty
	// logTo, when set, receives every log line as JSON at logLevel (debug
	// when nil; the log scan test reads it); otherwise warnings go to the
	// test's output.
	logTo    io.Writer
	logLevel slog.Leveler
	// pending is the per-address limit on new sign-ins (defaults when zero).
	pending web.PendingLimit
	// store sets the store's options (the busy timeout and write budget);
	// Now is always the env's clock.
	store store.Options
	// trustedProxies may set X-Forwarded-For, so a test can speak from
	// several client addresses.
	trustedProxies []netip.Prefix
	// throttle is the login throttle policy; zero fields take the defaults.
	throttle user.ThrottlePolicy
	// refreshReuse is the provider's refresh token reuse interval (0, none,
	// when unset).
	refreshReuse time.Duration
	// mfaRoles are mfa.required_roles; rememberDevice is
	// mfa.remember_device.
	mfaRoles       []string
	rememberDevice time.Duration
	// passkeyOrigin turns passkeys on for this origin (the server stays at
	// 127.0.0.1, whose address WebAuthn cannot use as relying party id).
	passkeyOrigin string
	// mail, when set, is the outbox of the single-use links' messages
	// (email configured: "Forgot password?" is offered).
	mail *mailRecorder
}

// newEnv builds the handler exactly as cmd/inkpass newHandler does, on a real
// SQLite file adopted from the studio fixture, and serves it on httptest with
// the issuer equal to the server's URL.
func newEnv(t *testing.T, opts envOptions) *env {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "studio.db")
	loadFixture(t, dbPath)

	clk := &clock{}
	storeOpts := opts.store
	storeOpts.Now = clk.Now
	db, err := store.Open(ctx, dbPath, storeOpts)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if !db.Adopted() {
		t.Fatalf("store.Open did not adopt the studio fixture's users table")
	}

	alg := opts.alg
	if alg == "" {
		alg = keys.RS256
	}
	keySet, _, err := keys.Open(keys.Options{
		Dir:       filepath.Join(dir, "keys"),
		Algorithm: alg,
		RetainFor: max(keys.DefaultRetainFor, idTokenTTL+time.Hour),
	})
	if err != nil {
		t.Fatalf("keys.Open: %v", err)
	}

	// The fixture's hashes are werkzeug's; TargetOff never rewrites them, so a
	// login costs one verification and leaves the row as it was.
	// New passwords are argon2id at the low test cost: these tests are about
	// flows and rules, not the hash (internal/password tests that).
	hasher, err := password.NewTestHasher(password.Policy{
		Target:       password.TargetOff,
		Argon2:       password.LowCostArgon2ForTests(),
		MemoryBudget: 256 << 20,
	})
	if err != nil {
		t.Fatalf("password.NewTestHasher: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	if opts.logTo != nil {
		level := opts.logLevel
		if level == nil {
			level = slog.LevelDebug
		}
		logger = slog.New(slog.NewJSONHandler(opts.logTo, &slog.HandlerOptions{Level: level}))
	}
	users := user.NewService(db, hasher, db, user.Options{Logger: logger, Audit: db, Throttle: opts.throttle})

	clients, err := db.Clients(ctx)
	if err != nil {
		t.Fatalf("db.Clients: %v", err)
	}
	for _, c := range testClients() {
		secret := c.SecretHash // the plain secret, smuggled in testClients
		c.SecretHash = nil
		c.Normalize()
		if err := c.Validate(); err != nil {
			t.Fatalf("client %s: %v", c.ID, err)
		}
		if !c.Public {
			c.SetSecret(clients.HashKey(), string(secret))
		}
		if err := clients.Create(ctx, c); err != nil {
			t.Fatalf("register client %s: %v", c.ID, err)
		}
	}

	mfaKey, err := mfa.LoadOrCreateKey(filepath.Join(dir, "keys", "mfa.key"))
	if err != nil {
		t.Fatalf("mfa key: %v", err)
	}
	sealer, err := mfa.NewSealer(mfaKey)
	if err != nil {
		t.Fatalf("mfa sealer: %v", err)
	}
	secondFactor := mfa.NewService(db, db, sealer, mfa.Options{Issuer: "Ink & Needle Test Studio", RequiredRoles: opts.mfaRoles, RememberDevice: opts.rememberDevice,
		Throttle: opts.throttle, Now: clk.Now, Audit: db, Logger: logger, WebAuthnOrigin: opts.passkeyOrigin})

	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)

	var mailer userlink.Mailer
	if opts.mail != nil {
		mailer = opts.mail
	}
	links := userlink.New(db, hasher, userlink.Options{Issuer: srv.URL, StudioName: "Ink & Needle Test Studio",
		Mailer: mailer, Audit: db, Logger: logger, Now: clk.Now})

	h = wireHandler(t, op.Config{
		Issuer:     srv.URL,
		CodeTTL:    codeTTL,
		AccessTTL:  accessTTL,
		IDTokenTTL: idTokenTTL,
		RefreshTTL: refreshTTL,
		SessionTTL: sessionTTL,
		Now:        clk.Now,
		Logger:     logger,

		RefreshReuseInterval: opts.refreshReuse,
	}, web.Deps{MFA: secondFactor, Links: links, Studio: web.Studio{Name: "Ink & Needle Test Studio"}, Logger: logger, PendingLimit: opts.pending, Ready: db.WriteReady, TrustedProxies: opts.trustedProxies}, db, clients, users, keySet)
	return &env{t: t, srv: srv, issuer: srv.URL, db: db, clients: clients, keys: keySet, users: users, clock: clk, links: links}
}

// testClients returns the four clients; SecretHash temporarily holds the plain
// secret, which newEnv hashes.
func testClients() []*client.Client {
	return []*client.Client{
		{
			ID: appID, Name: "Studio App", FirstParty: true,
			RedirectURIs: []string{appRedirect, appRedirect2},
			GrantTypes:   []string{client.GrantAuthorizationCode, client.GrantRefreshToken},
			AuthMethod:   client.AuthSecretBasic, AuthMethodPinned: true, Enabled: true, SecretHash: []byte(appSecret),
		},
		{
			ID: toolID, Name: "Booking Tool",
			RedirectURIs: []string{toolRedirect},
			GrantTypes:   []string{client.GrantAuthorizationCode},
			Scopes:       []string{"openid", "profile", "email"},
			AuthMethod:   client.AuthSecretPost, Enabled: true, SecretHash: []byte(toolSecret),
		},
		{
			ID: spaID, Name: "Studio SPA", Public: true, FirstParty: true,
			RedirectURIs: []string{spaRedirect},
			GrantTypes:   []string{client.GrantAuthorizationCode, client.GrantRefreshToken},
			AuthMethod:   client.AuthNone, Enabled: true,
		},
		{
			ID: reporterID, Name: "Nightly Reporter",
			GrantTypes: []string{client.GrantClientCredentials},
			Scopes:     []string{"profile"},
			AuthMethod: client.AuthSecretBasic, Enabled: true, SecretHash: []byte(reporterSecret),
		},
	}
}

// loadFixture runs the whole studio fixture script on a new SQLite file.
func loadFixture(t *testing.T, path string) {
	t.Helper()
	script, err := os.ReadFile(fixtureSQL)
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer db.Close()
	if _, err := db.Exec(string(script)); err != nil {
		t.Fatalf("run fixture on %s: %v", path, err)
	}
}

// rp is one relying party: go-oidc's provider and verifier plus an
// x/oauth2 config, as a studio app would set them up.
type rp struct {
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	conf     oauth2.Config
}

// newRP discovers the issuer afresh (a new remote key set every time) and
// configures one client.
func (e *env) newRP(t *testing.T, clientID, secret, redirect string, scopes ...string) *rp {
	t.Helper()
	provider, err := oidc.NewProvider(t.Context(), e.issuer)
	if err != nil {
		t.Fatalf("oidc.NewProvider(%s): %v", e.issuer, err)
	}
	ep := provider.Endpoint()
	switch clientID {
	case toolID, spaID:
		ep.AuthStyle = oauth2.AuthStyleInParams
	default:
		ep.AuthStyle = oauth2.AuthStyleInHeader
	}
	return &rp{
		provider: provider,
		verifier: provider.Verifier(&oidc.Config{ClientID: clientID}),
		conf: oauth2.Config{
			ClientID: clientID, ClientSecret: secret, Endpoint: ep,
			RedirectURL: redirect, Scopes: scopes,
		},
	}
}

func (e *env) appRP(t *testing.T, scopes ...string) *rp {
	return e.newRP(t, appID, appSecret, appRedirect, scopes...)
}

func (e *env) toolRP(t *testing.T, scopes ...string) *rp {
	return e.newRP(t, toolID, toolSecret, toolRedirect, scopes...)
}

func (e *env) spaRP(t *testing.T, scopes ...string) *rp {
	return e.newRP(t, spaID, "", spaRedirect, scopes...)
}

// flow is one authorization request as the relying party remembers it.
type flow struct {
	rp       *rp
	state    string
	nonce    string
	verifier string // PKCE; empty when the flow sends no challenge
	url      string
}

// start builds the authorization URL with state, nonce and, when pkce is set,
// an S256 challenge. extra are added to the URL.
func (p *rp) start(pkce bool, extra ...oauth2.AuthCodeOption) *flow {
	f := &flow{rp: p, state: randomString(), nonce: randomString()}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(f.nonce)}
	if pkce {
		f.verifier = oauth2.GenerateVerifier()
		opts = append(opts, oauth2.S256ChallengeOption(f.verifier))
	}
	f.url = p.conf.AuthCodeURL(f.state, append(opts, extra...)...)
	return f
}

func randomString() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// exchange redeems code; with the flow's PKCE verifier when it has one.
func (f *flow) exchange(t *testing.T, code string, opts ...oauth2.AuthCodeOption) (*oauth2.Token, error) {
	t.Helper()
	if f.verifier != "" {
		opts = append([]oauth2.AuthCodeOption{oauth2.VerifierOption(f.verifier)}, opts...)
	}
	return f.rp.conf.Exchange(t.Context(), code, opts...)
}

// signedIn is what a successful exchange gives a relying party, verified the
// way the STYLE guide asks: signature and claims by go-oidc, nonce and at_hash
// by us.
type signedIn struct {
	token   *oauth2.Token
	raw     string
	idToken *oidc.IDToken
	claims  map[string]any
}

// redeem exchanges code and verifies everything the relying party must.
func (f *flow) redeem(t *testing.T, code string) *signedIn {
	t.Helper()
	tok, err := f.exchange(t, code)
	if err != nil {
		t.Fatalf("exchange code: %v", err)
	}
	s := verifyTokenResponse(t, f.rp, tok)
	if s.idToken.Nonce != f.nonce {
		t.Fatalf("ID token nonce = %q, want %q", s.idToken.Nonce, f.nonce)
	}
	return s
}

// verifyTokenResponse checks the ID token of a token response: signature,
// issuer, audience, expiry (go-oidc), at_hash, and that no claim is an empty
// string.
func verifyTokenResponse(t *testing.T, p *rp, tok *oauth2.Token) *signedIn {
	t.Helper()
	if tok.AccessToken == "" {
		t.Fatal("token response has no access_token")
	}
	if !strings.EqualFold(tok.TokenType, "Bearer") {
		t.Errorf("token_type = %q, want Bearer", tok.TokenType)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatal("token response has no id_token")
	}
	idt, err := p.verifier.Verify(t.Context(), raw)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if idt.AccessTokenHash == "" {
		t.Fatal("ID token has no at_hash")
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Fatalf("at_hash does not match the access token: %v", err)
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		t.Fatalf("ID token claims: %v", err)
	}
	noEmptyStrings(t, "ID token", claims)
	return &signedIn{token: tok, raw: raw, idToken: idt, claims: claims}
}

// noEmptyStrings fails for a claim sent as "" (absent values must be left out).
func noEmptyStrings(t *testing.T, where string, claims map[string]any) {
	t.Helper()
	for k, v := range claims {
		if s, ok := v.(string); ok && s == "" {
			t.Errorf("%s claim %q is an empty string; absent values must be left out", where, k)
		}
	}
}

// checkClaims compares the claims named in want and asserts that every name in
// absent is missing. JSON numbers are float64.
func checkClaims(t *testing.T, where string, got map[string]any, want map[string]any, absent []string) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s: claim %q missing, want %#v", where, k, w)
			continue
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: claim %q = %#v, want %#v", where, k, g, w)
		}
	}
	for _, k := range absent {
		if v, ok := got[k]; ok {
			t.Errorf("%s: claim %q = %#v, want it absent", where, k, v)
		}
	}
}

// browser is a user agent with a cookie jar that stops at every redirect, so
// that each hop can be asserted.
type browser struct {
	t *testing.T
	c *http.Client
	e *env
}

func (e *env) newBrowser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookiejar: %v", err)
	}
	return &browser{t: t, e: e, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}}
}

// page is a read response.
type page struct {
	status int
	header http.Header
	body   string
}

func (p *page) location() string { return p.header.Get("Location") }

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("read %s: %v", req.URL, err)
	}
	return &page{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

// abs resolves a path against the issuer.
func (b *browser) abs(ref string) string {
	base, _ := url.Parse(b.e.issuer + "/")
	u, err := base.Parse(ref)
	if err != nil {
		b.t.Fatalf("resolve %q: %v", ref, err)
	}
	return u.String()
}

func (b *browser) get(rawURL string) *page {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodGet, b.abs(rawURL), nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(rawURL string, form url.Values) *page {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodPost, b.abs(rawURL), strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var (
	csrfField  = regexp.MustCompile(`<input type="hidden" name="csrf_token" value="([^"]*)">`)
	formAction = regexp.MustCompile(`<form class="form" method="post" action="([^"]*)"`)
	alertText  = regexp.MustCompile(`(?s)<div class="alert"[^>]*>\s*<p>(.*?)</p>`)
)

// loginForm is the parsed sign-in page.
type loginForm struct {
	action, csrf string
}

func parseLoginForm(t *testing.T, p *page) loginForm {
	t.Helper()
	if p.status != http.StatusOK && p.status != http.StatusUnauthorized {
		t.Fatalf("login page status = %d, want 200 or 401; body:\n%s", p.status, p.body)
	}
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("login page Content-Type = %q, want text/html", ct)
	}
	c := csrfField.FindStringSubmatch(p.body)
	a := formAction.FindStringSubmatch(p.body)
	if c == nil || a == nil || c[1] == "" {
		t.Fatalf("login page has no form with a csrf_token:\n%s", p.body)
	}
	return loginForm{action: html.UnescapeString(a[1]), csrf: html.UnescapeString(c[1])}
}

// loginError is the text of the login page's error box, "" when there is none.
func loginError(p *page) string {
	m := alertText.FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(strings.TrimSpace(m[1]))
}

// toLoginPage follows /authorize to the sign-in page: a 303 to /login?req=…
// and the form there.
func (b *browser) toLoginPage(authURL string) (*page, loginForm) {
	b.t.Helper()
	p := b.get(authURL)
	if p.status != http.StatusSeeOther {
		b.t.Fatalf("GET /authorize: status %d, want 303 to the login page; Location %q; body:\n%s", p.status, p.location(), p.body)
	}
	loc, err := url.Parse(p.location())
	if err != nil || loc.Path != "/login" || loc.Query().Get("req") == "" {
		b.t.Fatalf("GET /authorize redirected to %q, want /login?req=…", p.location())
	}
	login := b.get(p.location())
	if login.status != http.StatusOK {
		b.t.Fatalf("GET %s: status %d, want 200", p.location(), login.status)
	}
	form := parseLoginForm(b.t, login)
	if form.action != p.location() {
		b.t.Errorf("login form action = %q, want the page's own URL %q", form.action, p.location())
	}
	return login, form
}

// submitLogin posts the sign-in form.
func (b *browser) submitLogin(form loginForm, username, password string) *page {
	b.t.Helper()
	return b.post(form.action, url.Values{"username": {username}, "password": {password}, "csrf_token": {form.csrf}})
}

// signIn walks a whole authorization through the login form and returns the
// parameters the client's redirect URI receives.
func (b *browser) signIn(f *flow, username, password string) url.Values {
	b.t.Helper()
	_, form := b.toLoginPage(f.url)
	p := b.submitLogin(form, username, password)
	if p.status != http.StatusSeeOther {
		b.t.Fatalf("POST login as %s: status %d, want 303 to the client; error box %q", username, p.status, loginError(p))
	}
	return b.callback(f, p)
}

// sso authorizes with the browser's existing session: the first hop must go
// straight to the client's redirect URI with a code, no login page.
func (b *browser) sso(f *flow) url.Values {
	b.t.Helper()
	p := b.get(f.url)
	if p.status != http.StatusFound {
		b.t.Fatalf("GET /authorize with a session: status %d, want 302 to the client; Location %q", p.status, p.location())
	}
	return b.callback(f, p)
}

// ssoWithConsent authorizes with the browser's existing session and, when
// inkpass asks for consent (a third-party client), allows it. It never
// accepts the login page.
func (b *browser) ssoWithConsent(f *flow) url.Values {
	b.t.Helper()
	p := b.get(f.url)
	if p.status == http.StatusSeeOther && strings.HasPrefix(p.location(), "/consent?") {
		p = b.approveConsent(p.location())
	}
	return b.callback(f, p)
}

var consentAction = regexp.MustCompile(`<form class="form" method="post" action="(/consent\?[^"]*)"`)

// approveConsent opens the consent page at path and allows.
func (b *browser) approveConsent(path string) *page {
	b.t.Helper()
	p := b.get(path)
	if p.status != http.StatusOK {
		b.t.Fatalf("GET %s: status %d, want the consent page", path, p.status)
	}
	if strings.Contains(p.body, `name="password"`) {
		b.t.Fatalf("the consent page asks for a password:\n%s", p.body)
	}
	c := csrfField.FindStringSubmatch(p.body)
	a := consentAction.FindStringSubmatch(p.body)
	if c == nil || a == nil {
		b.t.Fatalf("consent page has no form with a csrf_token:\n%s", p.body)
	}
	return b.post(html.UnescapeString(a[1]), url.Values{"csrf_token": {html.UnescapeString(c[1])}, "decision": {"approve"}})
}

// callback checks that p redirects to the flow's redirect URI with a code,
// the flow's state and our issuer (RFC 9207), and returns the parameters.
func (b *browser) callback(f *flow, p *page) url.Values {
	b.t.Helper()
	q := redirectParams(b.t, p, f.rp.conf.RedirectURL)
	if e := q.Get("error"); e != "" {
		b.t.Fatalf("client got error=%s (%s), want a code", e, q.Get("error_description"))
	}
	if q.Get("code") == "" {
		b.t.Fatalf("redirect %q carries no code", p.location())
	}
	if got := q.Get("state"); got != f.state {
		b.t.Errorf("state = %q, want %q", got, f.state)
	}
	if got := q.Get("iss"); got != b.e.issuer {
		b.t.Errorf("iss = %q, want %q", got, b.e.issuer)
	}
	if cc := p.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		b.t.Errorf("redirect carrying a code has Cache-Control %q, want no-store", cc)
	}
	return q
}

// redirectParams asserts that p is a redirect to exactly redirectURI and
// returns its query.
func redirectParams(t *testing.T, p *page, redirectURI string) url.Values {
	t.Helper()
	if p.status != http.StatusFound && p.status != http.StatusSeeOther {
		t.Fatalf("status %d, want a redirect to %s; body:\n%s", p.status, redirectURI, p.body)
	}
	loc, err := url.Parse(p.location())
	if err != nil {
		t.Fatalf("bad Location %q: %v", p.location(), err)
	}
	target := *loc
	target.RawQuery = ""
	if target.String() != redirectURI {
		t.Fatalf("redirected to %q, want %s", p.location(), redirectURI)
	}
	return loc.Query()
}

// wantErrorPage asserts inkpass's own HTML error page with status 400 and no
// redirect of any kind.
func wantErrorPage(t *testing.T, p *page) {
	t.Helper()
	if p.status != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", p.status)
	}
	if loc := p.location(); loc != "" {
		t.Errorf("Location = %q, want none: this error must never redirect", loc)
	}
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
	if !strings.Contains(p.body, "This sign-in link is not valid") {
		t.Errorf("body is not the invalid-link page:\n%s", p.body)
	}
	for _, leak := range []string{"code=", "http-equiv=\"refresh\""} {
		if strings.Contains(p.body, leak) {
			t.Errorf("error page contains %q", leak)
		}
	}
}

// wantRetrieveError asserts a token endpoint error from x/oauth2: its code,
// status and the no-store headers of RFC 6749 §5.2.
func wantRetrieveError(t *testing.T, err error, code string, status int) *oauth2.RetrieveError {
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
	wantNoStore(t, re.Response.Header)
	return re
}

func wantNoStore(t *testing.T, h http.Header) {
	t.Helper()
	if cc := h.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	if p := h.Get("Pragma"); p != "no-cache" {
		t.Errorf("Pragma = %q, want no-cache", p)
	}
}

// tokenResponse is a raw answer of the token endpoint.
type tokenResponse struct {
	status int
	header http.Header
	body   map[string]any
}

func (r *tokenResponse) str(k string) string { s, _ := r.body[k].(string); return s }

// postToken sends a token request by hand, for what x/oauth2 cannot express
// (a refresh with a narrower scope, say). basic is client_id and secret for
// HTTP Basic, or nil.
func (e *env) postToken(t *testing.T, form url.Values, basic ...string) *tokenResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.issuer+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("POST /token: %v", err)
	}
	defer resp.Body.Close()
	out := &tokenResponse{status: resp.StatusCode, header: resp.Header, body: map[string]any{}}
	if err := json.NewDecoder(resp.Body).Decode(&out.body); err != nil {
		t.Fatalf("POST /token: status %d, body is not JSON: %v", resp.StatusCode, err)
	}
	wantNoStore(t, resp.Header)
	return out
}

// refresh uses x/oauth2's own refresh path, as a relying party would.
func (p *rp) refresh(t *testing.T, refreshToken string) (*oauth2.Token, error) {
	t.Helper()
	return p.conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
}

// userinfoResult is an answer of /userinfo.
type userinfoResult struct {
	status int
	header http.Header
	claims map[string]any
}

// userinfo calls /userinfo with the token in the Authorization header (GET) or
// in a form body (POST).
func (e *env) userinfo(t *testing.T, method, accessToken string) *userinfoResult {
	t.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(url.Values{"access_token": {accessToken}}.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, e.issuer+"/userinfo", body)
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s /userinfo: %v", method, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := &userinfoResult{status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &out.claims); err != nil {
			t.Fatalf("%s /userinfo: body is not JSON: %v\n%s", method, err, raw)
		}
		noEmptyStrings(t, "userinfo", out.claims)
	}
	return out
}

// wantUserinfoOK returns the claims of a successful GET /userinfo.
func (e *env) wantUserinfoOK(t *testing.T, accessToken string) map[string]any {
	t.Helper()
	r := e.userinfo(t, http.MethodGet, accessToken)
	if r.status != http.StatusOK {
		t.Fatalf("GET /userinfo: status %d, want 200; WWW-Authenticate %q", r.status, r.header.Get("WWW-Authenticate"))
	}
	return r.claims
}

// wantInvalidToken asserts RFC 6750 §3's answer to a dead access token.
func (e *env) wantInvalidToken(t *testing.T, accessToken string) {
	t.Helper()
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		r := e.userinfo(t, m, accessToken)
		if r.status != http.StatusUnauthorized {
			t.Errorf("%s /userinfo: status %d, want 401", m, r.status)
		}
		if wa := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(wa, "Bearer ") || !strings.Contains(wa, `error="invalid_token"`) {
			t.Errorf("%s /userinfo: WWW-Authenticate = %q, want Bearer with error=\"invalid_token\"", m, wa)
		}
	}
}

// jwtHeader decodes the JOSE header of a compact JWS.
func jwtHeader(t *testing.T, raw string) map[string]any {
	t.Helper()
	seg, _, ok := strings.Cut(raw, ".")
	if !ok {
		t.Fatalf("%q is not a compact JWS", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("JWS header: %v", err)
	}
	h := map[string]any{}
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("JWS header: %v", err)
	}
	return h
}

// jwksKIDs fetches the published key ids, sorted, and fails for any key that
// publishes private material.
func (e *env) jwksKIDs(t *testing.T) []string {
	t.Helper()
	resp, err := e.srv.Client().Get(e.issuer + "/jwks")
	if err != nil {
		t.Fatalf("GET /jwks: %v", err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatalf("GET /jwks: %v", err)
	}
	var kids []string
	for _, k := range set.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := k[private]; ok {
				t.Errorf("JWKS key %v publishes private member %q", k["kid"], private)
			}
		}
		kid, _ := k["kid"].(string)
		kids = append(kids, kid)
	}
	slices.Sort(kids)
	return kids
}
