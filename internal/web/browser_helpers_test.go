package web_test

// The harness of the real-browser tests (browser_test.go): an inkpass server
// wired as cmd/inkpass wires it, a relying party that only echoes what its
// redirect URIs receive, and one headless Chromium driven by chromedp. Every
// name starts with bt, so nothing clashes with e2etest_helpers_test.go.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	_ "github.com/mattn/go-sqlite3"

	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/mfa"
	op "github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/password"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/user"
	"github.com/inkpass/inkpass/internal/web"
)

// ---------------------------------------------------------------------------
// Finding Chromium

// btChromiumNames are the programs tried on PATH, in order, after CHROME_PATH.
var btChromiumNames = []string{"chromium", "chromium-browser", "google-chrome"}

// btInstallHint is what a developer without Chromium must run.
const btInstallHint = "apt-get install -y chromium"

// btFindChromium returns the browser to drive. When there is none, fatal says
// whether the test must fail (CI=true: CI must run the browser tests for real)
// or may skip, and why explains it.
func btFindChromium(getenv func(string) string, lookPath func(string) (string, error)) (path string, fatal bool, why string) {
	if p := getenv("CHROME_PATH"); p != "" {
		if full, err := lookPath(p); err == nil {
			return full, false, ""
		}
		why = fmt.Sprintf("CHROME_PATH=%q is not an executable file", p)
	} else {
		for _, name := range btChromiumNames {
			if full, err := lookPath(name); err == nil {
				return full, false, ""
			}
		}
		why = "none of " + strings.Join(btChromiumNames, ", ") + " is on PATH and CHROME_PATH is not set"
	}
	if getenv("CI") == "true" {
		return "", true, "chromium not installed: .ci/run must apt-get install chromium (" + why + ")"
	}
	return "", false, why
}

var btSkipNotice sync.Once

// btChromium returns Chromium's path, or fails (CI) or skips (elsewhere) the
// test loudly.
func btChromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		// Chromium is most of this package's time without -race.
		t.Skip("-short (make test-short): the browser tests run under make test")
	}
	path, fatal, why := btFindChromium(os.Getenv, exec.LookPath)
	switch {
	case path != "":
		return path
	case fatal:
		t.Fatal(why)
	}
	msg := "\n" +
		"**********************************************************************\n" +
		"*  BROWSER TESTS SKIPPED: no Chromium to drive.                      *\n" +
		"*  " + why + "\n" +
		"*  The login, consent, logout and account pages were NOT tested in   *\n" +
		"*  a real browser. Install it with:   " + btInstallHint + "     *\n" +
		"*  (or set CHROME_PATH). Under CI=true these tests fail instead.     *\n" +
		"**********************************************************************\n"
	btSkipNotice.Do(func() {
		fmt.Fprint(os.Stderr, msg)
		// go test keeps a passing package's output to itself unless -v is
		// given, so stderr alone would stay silent under `make test`; a
		// developer at a terminal sees it there.
		if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
			fmt.Fprint(tty, msg)
			tty.Close()
		}
	})
	t.Skip(msg)
	return ""
}

// ---------------------------------------------------------------------------
// The server under test and its relying party

// The clients the browser tests register. Their redirect URIs live on the
// relying party's httptest server, so their values are only known at run time.
const (
	// btAppID is the studio's own app: first party, never asks for consent.
	btAppID     = "bt-studio-app"
	btAppSecret = "bt-studio-app-secret-0123456789abcdefghijklm"
	// btToolID is a third-party booking tool: asks for consent.
	btToolID     = "bt-booking-tool"
	btToolSecret = "bt-booking-tool-secret-0123456789abcdefghij"
	btToolName   = "Booking Tool"
)

// The relying party's paths.
const (
	btAppCallback  = "/callback"
	btToolCallback = "/tool/callback"
	btSignedOut    = "/signed-out"
	btJSProbe      = "/js-probe"
)

// btStudioName is the studio's name at the top of every page.
const btStudioName = "Ink & Needle Test Studio"

// btUser is a fresh argon2id user made with user.Service.Create, so that a
// sign-in costs milliseconds; the fixture's pbkdf2 and scrypt hashes are only
// used where they are the point.
type btUser struct {
	ID       int64
	Username string
	Password string
}

// btEnv is one inkpass server over its own copy of the studio fixture, with
// the issuer equal to its URL, and one relying party.
type btEnv struct {
	t      *testing.T
	srv    *httptest.Server
	issuer string
	db     *store.DB
	users  *user.Service
	rp     *btRP
	user   btUser
	// admin is a user of role admin (argon2id at the test cost too).
	admin btUser
	// mfaOffset moves the second factor's clock (not the rest of the
	// server's), so a test need not wait 30 s for a fresh TOTP step.
	mfaOffset *atomic.Int64
}

// mfaNow is the second factor's clock.
func (e *btEnv) mfaNow() time.Time { return time.Now().Add(time.Duration(e.mfaOffset.Load())) }

// btNewEnv builds the handler exactly as cmd/inkpass newHandler does
// (store.Open, user.NewService, keys.Open, db.Clients, oidc.New,
// web.NewHandler with Accounts and Audit being the *store.DB), on a real
// SQLite file loaded from ../../testdata/studio-fixture.sql.
func btNewEnv(t *testing.T) *btEnv {
	t.Helper()
	return btNewEnvHost(t, "")
}

// btNewEnvHost is btNewEnv with the issuer at host (its server still on
// 127.0.0.1): "localhost" makes passkeys work, since a WebAuthn relying
// party id is a domain, never an IP address. "" is 127.0.0.1, no passkeys.
func btNewEnvHost(t *testing.T, host string) *btEnv {
	t.Helper()
	return btNewEnvWith(t, btEnvOptions{host: host})
}

// btEnvOptions vary the server: host is as for btNewEnvHost, mfaRoles are
// mfa.required_roles.
type btEnvOptions struct {
	host     string
	mfaRoles []string
}

// btNewEnvWith is btNewEnv with options.
func btNewEnvWith(t *testing.T, opts btEnvOptions) *btEnv {
	t.Helper()
	ctx := t.Context()
	host := opts.host
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "studio.db")
	btLoadFixture(t, dbPath)

	db, err := store.Open(ctx, dbPath, store.Options{})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if !db.Adopted() {
		t.Fatal("store.Open did not adopt the studio fixture's users table")
	}

	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	// TargetOff: new passwords are argon2id, the fixture's werkzeug hashes
	// are verified but never rewritten.
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
	users := user.NewService(db, hasher, db, user.Options{Logger: logger, Audit: db})

	keySet, _, err := keys.Open(keys.Options{Dir: filepath.Join(dir, "keys"), Algorithm: keys.RS256, RetainFor: keys.DefaultRetainFor})
	if err != nil {
		t.Fatalf("keys.Open: %v", err)
	}

	rp := btNewRP(t)
	clients, err := db.Clients(ctx)
	if err != nil {
		t.Fatalf("db.Clients: %v", err)
	}
	for _, c := range []struct {
		c      client.Client
		secret string
	}{
		{client.Client{
			ID: btAppID, Name: "Studio App", FirstParty: true,
			RedirectURIs:           []string{rp.url(btAppCallback)},
			PostLogoutRedirectURIs: []string{rp.url(btSignedOut)},
			Enabled:                true,
		}, btAppSecret},
		{client.Client{
			ID: btToolID, Name: btToolName,
			RedirectURIs:           []string{rp.url(btToolCallback)},
			PostLogoutRedirectURIs: []string{rp.url(btSignedOut)},
			Scopes:                 []string{"openid", "profile", "email"},
			Enabled:                true,
		}, btToolSecret},
	} {
		c.c.Normalize()
		if err := c.c.Validate(); err != nil {
			t.Fatalf("client %s: %v", c.c.ID, err)
		}
		c.c.SetSecret(clients.HashKey(), c.secret)
		if err := clients.Create(ctx, &c.c); err != nil {
			t.Fatalf("register client %s: %v", c.c.ID, err)
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
	env := &btEnv{mfaOffset: new(atomic.Int64)}

	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	issuer, passkeyOrigin := srv.URL, ""
	if host != "" {
		issuer = "http://" + net.JoinHostPort(host, strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port))
		passkeyOrigin = issuer
	}
	secondFactor := mfa.NewService(db, db, sealer, mfa.Options{Issuer: btStudioName, Now: env.mfaNow, Audit: db, Logger: logger,
		WebAuthnOrigin: passkeyOrigin, RequiredRoles: opts.mfaRoles})

	h = wireHandler(t, op.Config{
		Issuer:     issuer,
		CodeTTL:    time.Minute,
		AccessTTL:  time.Hour,
		IDTokenTTL: time.Hour,
		RefreshTTL: 24 * time.Hour,
		SessionTTL: 12 * time.Hour,
		Logger:     logger,
	}, web.Deps{MFA: secondFactor, Studio: web.Studio{Name: btStudioName}, Logger: logger}, db, clients, users, keySet)

	u, err := users.Create(ctx, user.User{
		Username: "mara_quill", Role: user.RoleAssistant, Name: "Mara Quill", Email: "mara@studio.example",
	}, "Blackwork-Lines-2026")
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	env.t, env.srv, env.issuer, env.db, env.users, env.rp = t, srv, issuer, db, users, rp
	env.user = btUser{ID: u.ID, Username: u.Username, Password: "Blackwork-Lines-2026"}
	a, err := users.Create(ctx, user.User{
		Username: "ivo_owner", Role: user.RoleAdmin, Name: "Ivo Owner", Email: "ivo@studio.example",
	}, "Fineline-Owner-2026")
	if err != nil {
		t.Fatalf("create admin: %v", err)
	}
	env.admin = btUser{ID: a.ID, Username: a.Username, Password: "Fineline-Owner-2026"}
	return env
}

// btLoadFixture runs the studio fixture script on a new SQLite file.
func btLoadFixture(t *testing.T, path string) {
	t.Helper()
	script, err := os.ReadFile("../../testdata/studio-fixture.sql")
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer db.Close()
	if _, err := db.Exec(string(script)); err != nil {
		t.Fatalf("load fixture into %s: %v", path, err)
	}
}

// btAuthorizeURL is an authorization request of clientID with state and
// nonce, as a relying party would send the browser.
func (e *btEnv) btAuthorizeURL(clientID, state string, extra ...string) string {
	redirect := e.rp.url(btAppCallback)
	scope := "openid profile email offline_access"
	if clientID == btToolID {
		redirect, scope = e.rp.url(btToolCallback), "openid profile email"
	}
	q := url.Values{
		"client_id": {clientID}, "redirect_uri": {redirect}, "response_type": {"code"},
		"scope": {scope}, "state": {state}, "nonce": {"n-" + state},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return e.issuer + op.PathAuthorize + "?" + q.Encode()
}

// btTokens is a token response.
type btTokens struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
}

// exchange redeems a code at /token the way a confidential client does
// (client_secret_basic).
func (e *btEnv) exchange(clientID, secret, redirect, code string) btTokens {
	e.t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}
	req, err := http.NewRequestWithContext(e.t.Context(), http.MethodPost, e.issuer+op.PathToken, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("POST /token: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("POST /token: status %d: %s", resp.StatusCode, body)
	}
	var tok btTokens
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" || tok.IDToken == "" {
		e.t.Fatalf("POST /token: no access_token and id_token in %s (%v)", body, err)
	}
	return tok
}

// userinfoStatus is the status /userinfo answers for an access token.
func (e *btEnv) userinfoStatus(accessToken string) int {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), http.MethodGet, e.issuer+op.PathUserInfo, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("GET /userinfo: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// btRP is the relying party's web server: every path answers with a small
// page that echoes the query, and remembers what it received, so a test can
// check that the browser really arrived.
type btRP struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits []btHit
}

// btHit is one request the relying party received.
type btHit struct {
	method, path string
	params       url.Values // query and, for a POST, the form
}

func btNewRP(t *testing.T) *btRP {
	rp := &btRP{}
	rp.srv = httptest.NewServer(http.HandlerFunc(rp.serve))
	t.Cleanup(rp.srv.Close)
	return rp
}

func (rp *btRP) url(path string) string { return rp.srv.URL + path }

func (rp *btRP) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Path == btJSProbe {
		// The title says whether scripts run in this tab.
		io.WriteString(w, `<!doctype html><title>scripts-off</title><script>document.title = "scripts-on"</script><p>probe</p>`)
		return
	}
	if r.URL.Path == "/favicon.ico" {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	q := r.Form
	rp.mu.Lock()
	rp.hits = append(rp.hits, btHit{method: r.Method, path: r.URL.Path, params: q})
	rp.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "<!doctype html><title>Studio app</title><h1>Studio app: %s %s</h1><dl>", r.Method, html.EscapeString(r.URL.Path))
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range q {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(&b, "<dt>%s</dt><dd id=%q>%s</dd>", html.EscapeString(k), "p-"+k, html.EscapeString(q.Get(k)))
	}
	b.WriteString("</dl>")
	io.WriteString(w, b.String())
}

// last is the latest request the relying party received at path; ok is false
// when none came.
func (rp *btRP) last(path string) (hit btHit, ok bool) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	for i := len(rp.hits) - 1; i >= 0; i-- {
		if rp.hits[i].path == path {
			return rp.hits[i], true
		}
	}
	return btHit{}, false
}

// ---------------------------------------------------------------------------
// The browser

// btTimeout bounds each test's browser; btStepTimeout each step in it, so a
// hang names the step that hung.
const (
	btTimeout     = 60 * time.Second
	btStepTimeout = 20 * time.Second
)

// The sizes every page is photographed at.
var btSizes = []struct {
	name          string
	width, height int64
	mobile        bool
}{
	{"phone", 390, 844, true},
	{"desktop", 1280, 800, false},
}

// btBrowser is one headless Chromium with one tab, owned by one test.
type btBrowser struct {
	t   *testing.T
	ctx context.Context // the tab; carries btTimeout
	dir string          // where screenshots go
}

// btNewBrowser starts Chromium with a fresh profile in t.TempDir(). At cleanup
// it closes the browser, waits for its process and kills any child process
// still running on that profile.
func btNewBrowser(t *testing.T) *btBrowser {
	t.Helper()
	execPath := btChromium(t)
	profile := t.TempDir()
	out := &btTailWriter{max: 16 << 10}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 800),
		// This machine's network is closed: without these, Chromium floods
		// it with refused connections to Google's services.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,AutofillServerCommunication"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.CombinedOutput(out),
		// Debian's Chromium starts a crash handler whose database lives in
		// $XDG_CONFIG_HOME/chromium, not in the profile: keep it in the
		// test's temp dir too.
		chromedp.Env("XDG_CONFIG_HOME="+filepath.Join(profile, "xdg-config"), "XDG_CACHE_HOME="+filepath.Join(profile, "xdg-cache")),
	}
	var logMu sync.Mutex
	ended := false
	logf := func(format string, args ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		if !ended {
			t.Logf("chromedp: "+format, args...)
		}
	}

	parent, cancelTimeout := context.WithTimeout(context.Background(), btTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logf), chromedp.WithLogf(logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser process to exit
		cancelTimeout()
		if n := btKillProfileProcesses(profile); n > 0 {
			t.Logf("killed %d Chromium child processes left on %s", n, profile)
		}
		logMu.Lock()
		ended = true
		logMu.Unlock()
		if t.Failed() {
			t.Logf("Chromium's output (tail):\n%s", out.String())
		}
	})
	start := time.Now()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v\noutput:\n%s", execPath, err, out.String())
	}
	t.Logf("Chromium started in %v", time.Since(start).Round(time.Millisecond))
	b := &btBrowser{t: t, ctx: ctx, dir: t.ArtifactDir()}

	// Every console message of every page: a Content-Security-Policy
	// violation (a blocked stylesheet, form target or script) or a script
	// error is a bug that only a real browser shows.
	consoleCtx, stopConsole := context.WithCancel(ctx)
	consoleDone := make(chan struct{})
	var consoleMu sync.Mutex
	var console []string
	go func() {
		defer close(consoleDone)
		for m, err := range chromedp.Console(consoleCtx) {
			if err != nil {
				return
			}
			consoleMu.Lock()
			console = append(console, fmt.Sprintf("%s %s: %s", m.Type, m.URL, m))
			consoleMu.Unlock()
		}
	}()
	t.Cleanup(func() { // runs before the browser is closed
		stopConsole()
		<-consoleDone
		consoleMu.Lock()
		defer consoleMu.Unlock()
		for _, m := range console {
			if strings.Contains(m, "Content Security Policy") || strings.Contains(m, "Content-Security-Policy") || strings.HasPrefix(m, string(chromedp.ConsoleException)) {
				t.Errorf("browser console: %s", m)
			} else {
				t.Logf("browser console: %s", m)
			}
		}
	})
	// A headless window never has the system's focus, so :focus and
	// :focus-visible would not match an autofocused field; emulate a
	// focused page, as a person's browser window is.
	b.do("desktop viewport and focus", chromedp.EmulateViewport(1280, 800), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
		return err
	}))
	return b
}

// btKillProfileProcesses kills, by pid, every process whose command line
// names a path inside profile: only the Chromium this test started can have
// one, since the directory is the test's own temp dir. Children (zygote,
// renderers, network service, crash handler) can outlive the browser process
// and keep writing there. It looks until three passes find none.
func btKillProfileProcesses(profile string) int {
	dir, under := []byte(profile), []byte(profile+"/")
	// namesProfile reports whether arg is a flag --name=PATH with PATH in profile.
	namesProfile := func(arg []byte) bool {
		flag, path, ok := bytes.Cut(arg, []byte("="))
		return ok && bytes.HasPrefix(flag, []byte("--")) && (bytes.Equal(path, dir) || bytes.HasPrefix(path, under))
	}
	killed := 0
	deadline := time.Now().Add(3 * time.Second)
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		entries, _ := os.ReadDir("/proc")
		found := 0
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == os.Getpid() {
				continue
			}
			cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
			if err != nil {
				continue
			}
			if slices.ContainsFunc(bytes.Split(cmdline, []byte{0}), namesProfile) {
				if syscall.Kill(pid, syscall.SIGKILL) == nil {
					found++
				}
			}
		}
		killed += found
		if found == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
	return killed
}

// btTailWriter keeps the last max bytes of Chromium's output.
type btTailWriter struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (w *btTailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if len(w.buf) > w.max {
		w.buf = w.buf[len(w.buf)-w.max:]
	}
	return len(p), nil
}

// String is the tail without the D-Bus complaints of a machine without a
// desktop session, which say nothing about the pages.
func (w *btTailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for line := range strings.Lines(string(w.buf)) {
		if !strings.Contains(line, "dbus/") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}

// otherBrowser is a second, separate browser profile in the same Chromium
// (a new browser context: its own cookies), as if the user were also signed
// in on another device.
func (b *btBrowser) otherBrowser() *btBrowser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel) // runs before the browser itself is closed
	// The first run opens the tab and binds it to the context it is given,
	// so it must be ctx itself, not a step's shorter-lived child.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		b.t.Fatalf("open a second browser context: %v", err)
	}
	return &btBrowser{t: b.t, ctx: ctx, dir: b.dir}
}

// step is a context for one step of the test.
func (b *btBrowser) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, btStepTimeout)
}

// do runs actions that return nothing, failing the test on error.
func (b *btBrowser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v (page %s)", what, err, b.location())
	}
}

// btRun runs one action and returns its value, failing the test on error.
func btRun[T any](b *btBrowser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// location is the tab's URL ("" when it cannot be read).
func (b *btBrowser) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

// waitAt waits until the tab shows a loaded page at origin+path (after a
// navigation that no action of ours started, such as a form that submits
// itself) and returns it.
func (b *btBrowser) waitAt(origin, path string) btPage {
	b.t.Helper()
	deadline := time.Now().Add(btStepTimeout)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		p, err := chromedp.Run(ctx, chromedp.Evaluate[btPage](`document.readyState === "complete" ? `+btPageJS+` : {url: ""}`))
		cancel()
		if u, perr := url.Parse(p.URL); err == nil && perr == nil && u.Scheme+"://"+u.Host == origin && u.Path == path {
			return p
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("browser did not reach %s%s; it is at %s", origin, path, b.location())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// open navigates to rawURL, follows its redirects and waits for the page to
// load; it returns the last response (its URL and status).
func (b *btBrowser) open(rawURL string) *network.Response {
	b.t.Helper()
	return btRun(b, "open "+rawURL, chromedp.NavigateResponse(rawURL))
}

// submit clicks the button sel with the mouse, as a person would, and waits
// for the navigation the form causes, through every redirect.
func (b *btBrowser) submit(sel string) *network.Response {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("click %s: %v (page %s)", sel, err, b.location())
	}
	return resp
}

// typeInto types text into the field sel with key events. The field must be
// empty.
func (b *btBrowser) typeInto(sel, text string) {
	b.t.Helper()
	b.do("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// signIn fills the login form on the current page and submits it.
func (b *btBrowser) signIn(username, pw string) *network.Response {
	b.t.Helper()
	if username != "" {
		b.typeInto("#username", username)
	}
	b.typeInto("#password", pw)
	return b.submit(`form.form button[type="submit"]`)
}

// btPage is what a test reads off the current page.
type btPage struct {
	URL    string `json:"url"`
	Title  string `json:"title"`
	H1     string `json:"h1"`
	Alert  string `json:"alert"`  // the text of [role=alert], "" when none
	Notice string `json:"notice"` // the text of [role=status], "" when none
	Body   string `json:"body"`
}

const btPageJS = `(() => {
	const text = (sel) => { const e = document.querySelector(sel); return e ? e.innerText.trim() : ""; };
	return {url: location.href, title: document.title, h1: text("h1"),
		alert: text("[role=alert]"), notice: text("[role=status]"), body: document.body ? document.body.innerText : ""};
})()`

// page reads the current page.
func (b *btBrowser) page() btPage {
	b.t.Helper()
	return btRun(b, "read page", chromedp.Evaluate[btPage](btPageJS))
}

// at asserts that the current page is on origin+path and returns its query.
func (b *btBrowser) at(p btPage, origin, path string) url.Values {
	b.t.Helper()
	u, err := url.Parse(p.URL)
	if err != nil || u.Scheme+"://"+u.Host != origin || u.Path != path {
		b.t.Fatalf("browser is at %s, want %s%s\npage: %q\n%s", p.URL, origin, path, p.H1, p.Body)
	}
	return u.Query()
}

// btUnlabelled lists the form fields a person can see that no <label> names.
// Elements that are not rendered (display:none, such as the account page's
// hidden username for password managers) are not in the accessibility tree
// and are listed apart.
const btUnlabelledJS = `(() => {
	const out = {unlabelled: [], unrendered: [], fields: 0};
	for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
		if (el.getClientRects().length === 0) { out.unrendered.push(el.outerHTML); continue; }
		out.fields++;
		if (!el.labels || el.labels.length === 0 || [...el.labels].every(l => l.innerText.trim() === "")) out.unlabelled.push(el.outerHTML);
	}
	return out;
})()`

type btLabelReport struct {
	Unlabelled []string `json:"unlabelled"`
	Unrendered []string `json:"unrendered"`
	Fields     int      `json:"fields"`
}

// checkLabels fails the test for any visible field without a label.
func (b *btBrowser) checkLabels(name string) {
	b.t.Helper()
	r := btRun(b, "check labels", chromedp.Evaluate[btLabelReport](btUnlabelledJS))
	for _, el := range r.Unlabelled {
		b.t.Errorf("%s page: field without a label: %s", name, el)
	}
	for _, el := range r.Unrendered {
		if strings.Contains(el, " name=") {
			b.t.Errorf("%s page: a field that is never shown is submitted with the form: %s", name, el)
		}
	}
}

// shoot saves a full-page PNG of the current page at every size in btSizes
// and checks that nothing overflows sideways on the phone. The files go to
// t.ArtifactDir(): a temporary directory, kept with -artifacts.
func (b *btBrowser) shoot(name string) {
	b.t.Helper()
	b.checkLabels(name)
	for _, s := range btSizes {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
		if s.mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
		}
		b.do("viewport "+s.name, chromedp.EmulateViewport(s.width, s.height, opts...))
		if s.mobile {
			overflow := btRun(b, "measure width", chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`))
			if overflow > 0 {
				b.t.Errorf("%s page on a %dpx phone is %dpx wider than the screen", name, s.width, overflow)
			}
		}
		png := btRun(b, "screenshot "+name, chromedp.FullScreenshot(100))
		file := filepath.Join(b.dir, fmt.Sprintf("%s-%s.png", name, s.name))
		if err := os.WriteFile(file, png, 0o644); err != nil {
			b.t.Fatalf("save screenshot: %v", err)
		}
		b.t.Logf("screenshot %s", file)
	}
	b.do("desktop viewport", chromedp.EmulateViewport(1280, 800))
}

// disableScripts turns JavaScript off in the tab, for every page it loads
// from now on.
func (b *btBrowser) disableScripts() {
	b.t.Helper()
	b.do("disable JavaScript", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
}

// clearCookies forgets every cookie, as a new browser would.
func (b *btBrowser) clearCookies() {
	b.t.Helper()
	b.do("clear cookies", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
		return err
	}))
}
