package harness

// The real-browser part: a Server whose relying party only echoes what its
// redirect URIs receive (ChromeEnv), and one headless Chromium driven by
// chromedp (Chrome).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
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
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/inkpass/inkpass/internal/client"
	op "github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/user"
)

// ---------------------------------------------------------------------------
// Finding Chromium

// chromiumNames are the programs tried on PATH, in order, after CHROME_PATH.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome"}

// installHint is what a developer without Chromium must run.
const installHint = "apt-get install -y chromium"

// FindChromium returns the browser to drive. When there is none, fatal says
// whether the test must fail (CI=true: CI must run the browser tests for real)
// or may skip, and why explains it.
func FindChromium(getenv func(string) string, lookPath func(string) (string, error)) (path string, fatal bool, why string) {
	if p := getenv("CHROME_PATH"); p != "" {
		if full, err := lookPath(p); err == nil {
			return full, false, ""
		}
		why = fmt.Sprintf("CHROME_PATH=%q is not an executable file", p)
	} else {
		for _, name := range chromiumNames {
			if full, err := lookPath(name); err == nil {
				return full, false, ""
			}
		}
		why = "none of " + strings.Join(chromiumNames, ", ") + " is on PATH and CHROME_PATH is not set"
	}
	if getenv("CI") == "true" {
		return "", true, "chromium not installed: .ci/run must apt-get install chromium (" + why + ")"
	}
	return "", false, why
}

var skipNotice sync.Once

// chromiumPath returns Chromium's path, or fails (CI) or skips (elsewhere) the
// test loudly.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		// Chromium is most of this package's time without -race.
		t.Skip("-short (make test-short): the browser tests run under make test")
	}
	path, fatal, why := FindChromium(os.Getenv, exec.LookPath)
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
		"*  a real browser. Install it with:   " + installHint + "     *\n" +
		"*  (or set CHROME_PATH). Under CI=true these tests fail instead.     *\n" +
		"**********************************************************************\n"
	skipNotice.Do(func() {
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
	// ChromeAppID is the studio's own app: first party, never asks for consent.
	ChromeAppID     = "bt-studio-app"
	ChromeAppSecret = "bt-studio-app-secret-0123456789abcdefghijklm"
	// ChromeToolID is a third-party booking tool: asks for consent.
	ChromeToolID     = "bt-booking-tool"
	ChromeToolSecret = "bt-booking-tool-secret-0123456789abcdefghij"
	ChromeToolName   = "Booking Tool"
)

// The relying party's paths.
const (
	AppCallback  = "/callback"
	ToolCallback = "/tool/callback"
	SignedOut    = "/signed-out"
	JSProbe      = "/js-probe"
)

// TestUser is a fresh argon2id user made with user.Service.Create, so that
// a sign-in costs milliseconds; the fixture's pbkdf2 and scrypt hashes are
// only used where they are the point.
type TestUser struct {
	ID       int64
	Username string
	Password string
}

// ChromeEnv is a Server for the real-browser tests: its two clients
// redirect to RP, an echoing relying party, and it has two users. The
// second factor has a clock of its own (MFAClock), so a test need not wait
// 30 s for a fresh TOTP step.
type ChromeEnv struct {
	*Server
	RP   *EchoRP
	User TestUser
	// Admin is a user of role admin (argon2id at the test cost too).
	Admin TestUser
}

// NewChromeEnv is NewChromeEnvWith with the issuer at 127.0.0.1: no
// passkeys.
func NewChromeEnv(t *testing.T) *ChromeEnv {
	t.Helper()
	return NewChromeEnvHost(t, "")
}

// NewChromeEnvHost is NewChromeEnv with the issuer at host (its server still
// on 127.0.0.1): "localhost" makes passkeys work, since a WebAuthn relying
// party id is a domain, never an IP address. "" is 127.0.0.1, no passkeys.
func NewChromeEnvHost(t *testing.T, host string) *ChromeEnv {
	t.Helper()
	return NewChromeEnvWith(t, ChromeEnvOptions{Host: host})
}

// ChromeEnvOptions vary the server: Host is as for NewChromeEnvHost,
// MFARoles are mfa.required_roles.
type ChromeEnvOptions struct {
	Host     string
	MFARoles []string
}

// NewChromeEnvWith starts the relying party, then NewServer with the two
// Browser clients (and not the four standard ones), then makes the users.
func NewChromeEnvWith(t *testing.T, opts ChromeEnvOptions) *ChromeEnv {
	t.Helper()
	ctx := t.Context()
	rp := newEchoRP(t)
	srv := NewServer(t, Options{
		Host: opts.Host, MFARoles: opts.MFARoles, SeparateMFAClock: true, NoStandardClients: true,
		Clients: []ClientSpec{
			{client.Client{
				ID: ChromeAppID, Name: "Studio App", FirstParty: true,
				RedirectURIs:           []string{rp.URL(AppCallback)},
				PostLogoutRedirectURIs: []string{rp.URL(SignedOut)},
				Enabled:                true,
			}, ChromeAppSecret},
			{client.Client{
				ID: ChromeToolID, Name: ChromeToolName,
				RedirectURIs:           []string{rp.URL(ToolCallback)},
				PostLogoutRedirectURIs: []string{rp.URL(SignedOut)},
				Scopes:                 []string{"openid", "profile", "email"},
				Enabled:                true,
			}, ChromeToolSecret},
		},
	})
	env := &ChromeEnv{Server: srv, RP: rp}
	u, err := srv.Users.Create(ctx, user.User{
		Username: "mara_quill", Role: user.RoleAssistant, Name: "Mara Quill", Email: "mara@studio.example",
	}, "Blackwork-Lines-2026")
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	env.User = TestUser{ID: u.ID, Username: u.Username, Password: "Blackwork-Lines-2026"}
	a, err := srv.Users.Create(ctx, user.User{
		Username: "ivo_owner", Role: user.RoleAdmin, Name: "Ivo Owner", Email: "ivo@studio.example",
	}, "Fineline-Owner-2026")
	if err != nil {
		t.Fatalf("create admin: %v", err)
	}
	env.Admin = TestUser{ID: a.ID, Username: a.Username, Password: "Fineline-Owner-2026"}
	return env
}

// AuthorizeURL is an authorization request of clientID with state and
// nonce, as a relying party would send the browser.
func (e *ChromeEnv) AuthorizeURL(clientID, state string, extra ...string) string {
	redirect := e.RP.URL(AppCallback)
	scope := "openid profile email offline_access"
	if clientID == ChromeToolID {
		redirect, scope = e.RP.URL(ToolCallback), "openid profile email"
	}
	q := url.Values{
		"client_id": {clientID}, "redirect_uri": {redirect}, "response_type": {"code"},
		"scope": {scope}, "state": {state}, "nonce": {"n-" + state},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return e.Issuer + op.PathAuthorize + "?" + q.Encode()
}

// Tokens is a token response.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
}

// Exchange redeems a code at /token the way a confidential client does
// (client_secret_basic).
func (e *ChromeEnv) Exchange(clientID, secret, redirect, code string) Tokens {
	e.T.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}
	req, err := http.NewRequestWithContext(e.T.Context(), http.MethodPost, e.Issuer+op.PathToken, strings.NewReader(form.Encode()))
	if err != nil {
		e.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err := e.HTTP.Client().Do(req)
	if err != nil {
		e.T.Fatalf("POST /token: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		e.T.Fatalf("POST /token: status %d: %s", resp.StatusCode, body)
	}
	var tok Tokens
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" || tok.IDToken == "" {
		e.T.Fatalf("POST /token: no access_token and id_token in %s (%v)", body, err)
	}
	return tok
}

// UserinfoStatus is the status /userinfo answers for an access token.
func (e *ChromeEnv) UserinfoStatus(accessToken string) int {
	e.T.Helper()
	req, err := http.NewRequestWithContext(e.T.Context(), http.MethodGet, e.Issuer+op.PathUserInfo, nil)
	if err != nil {
		e.T.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := e.HTTP.Client().Do(req)
	if err != nil {
		e.T.Fatalf("GET /userinfo: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// EchoRP is the relying party's web server: every path answers with a small
// Page that echoes the query, and remembers what it received, so a test can
// check that the browser really arrived.
type EchoRP struct {
	HTTP *httptest.Server
	Mu   sync.Mutex
	Hits []Hit
}

// Hit is one request the relying party received.
type Hit struct {
	Method, Path string
	Params       url.Values // query and, for a POST, the form
}

func newEchoRP(t *testing.T) *EchoRP {
	rp := &EchoRP{}
	rp.HTTP = httptest.NewServer(http.HandlerFunc(rp.serve))
	t.Cleanup(rp.HTTP.Close)
	return rp
}

func (rp *EchoRP) URL(path string) string { return rp.HTTP.URL + path }

func (rp *EchoRP) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Path == JSProbe {
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
	rp.Mu.Lock()
	rp.Hits = append(rp.Hits, Hit{Method: r.Method, Path: r.URL.Path, Params: q})
	rp.Mu.Unlock()
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

// Last is the latest request the relying party received at path; ok is false
// when none came.
func (rp *EchoRP) Last(path string) (hit Hit, ok bool) {
	rp.Mu.Lock()
	defer rp.Mu.Unlock()
	for i := len(rp.Hits) - 1; i >= 0; i-- {
		if rp.Hits[i].Path == path {
			return rp.Hits[i], true
		}
	}
	return Hit{}, false
}

// ---------------------------------------------------------------------------
// The browser

// chromeTimeout bounds each test's browser; ChromeStepTimeout each step in it, so a
// hang names the step that hung.
const (
	chromeTimeout     = 60 * time.Second
	ChromeStepTimeout = 20 * time.Second
)

// The sizes every page is photographed at.
var shotSizes = []struct {
	name          string
	width, height int64
	mobile        bool
}{
	{"phone", 390, 844, true},
	{"desktop", 1280, 800, false},
}

// Chrome is one headless Chromium with one tab, owned by one test.
type Chrome struct {
	T   *testing.T
	Ctx context.Context // the tab; carries chromeTimeout
	dir string          // where screenshots go
}

// NewChrome starts Chromium with a fresh profile in t.TempDir(). At cleanup
// it closes the browser, waits for its process and kills any child process
// still running on that profile.
func NewChrome(t *testing.T) *Chrome {
	t.Helper()
	execPath := chromiumPath(t)
	profile := t.TempDir()
	out := &tailWriter{max: 16 << 10}

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

	parent, cancelTimeout := context.WithTimeout(context.Background(), chromeTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logf), chromedp.WithLogf(logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser process to exit
		cancelTimeout()
		if n := killProfileProcesses(profile); n > 0 {
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
	b := &Chrome{T: t, Ctx: ctx, dir: t.ArtifactDir()}

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
	b.Do("desktop viewport and focus", chromedp.EmulateViewport(1280, 800), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
		return err
	}))
	return b
}

// killProfileProcesses kills, by pid, every process whose command line
// names a path inside profile: only the Chromium this test started can have
// one, since the directory is the test's own temp dir. Children (zygote,
// renderers, network service, crash handler) can outlive the browser process
// and keep writing there. It looks until three passes find none.
func killProfileProcesses(profile string) int {
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

// tailWriter keeps the last max bytes of Chromium's output.
type tailWriter struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
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
func (w *tailWriter) String() string {
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

// OtherBrowser is a second, separate browser profile in the same Chromium
// (a new browser context: its own cookies), as if the user were also signed
// in on another device.
func (b *Chrome) OtherBrowser() *Chrome {
	b.T.Helper()
	ctx, cancel := chromedp.NewContext(b.Ctx, chromedp.WithNewBrowserContext())
	b.T.Cleanup(cancel) // runs before the browser itself is closed
	// The first run opens the tab and binds it to the context it is given,
	// so it must be ctx itself, not a step's shorter-lived child.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		b.T.Fatalf("open a second browser context: %v", err)
	}
	return &Chrome{T: b.T, Ctx: ctx, dir: b.dir}
}

// step is a context for one step of the test.
func (b *Chrome) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.Ctx, ChromeStepTimeout)
}

// Do runs actions that return nothing, failing the test on error.
func (b *Chrome) Do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.T.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.T.Fatalf("%s: %v (page %s)", what, err, b.Location())
	}
}

// ChromeRun runs one action and returns its value, failing the test on error.
func ChromeRun[T any](b *Chrome, what string, a chromedp.Action[T]) T {
	b.T.Helper()
	ctx, cancel := b.step()
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.T.Fatalf("%s: %v", what, err)
	}
	return v
}

// Location is the tab's URL ("" when it cannot be read).
func (b *Chrome) Location() string {
	ctx, cancel := context.WithTimeout(b.Ctx, 2*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

// WaitAt waits until the tab shows a loaded page at origin+path (after a
// navigation that no action of ours started, such as a form that submits
// itself) and returns it.
func (b *Chrome) WaitAt(origin, path string) ChromePage {
	b.T.Helper()
	deadline := time.Now().Add(ChromeStepTimeout)
	for {
		ctx, cancel := context.WithTimeout(b.Ctx, 2*time.Second)
		p, err := chromedp.Run(ctx, chromedp.Evaluate[ChromePage](`document.readyState === "complete" ? `+ChromePageJS+` : {url: ""}`))
		cancel()
		if u, perr := url.Parse(p.URL); err == nil && perr == nil && u.Scheme+"://"+u.Host == origin && u.Path == path {
			return p
		}
		if time.Now().After(deadline) {
			b.T.Fatalf("browser did not reach %s%s; it is at %s", origin, path, b.Location())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Open navigates to rawURL, follows its redirects and waits for the page to
// load; it returns the last response (its URL and status).
func (b *Chrome) Open(rawURL string) *network.Response {
	b.T.Helper()
	return ChromeRun(b, "open "+rawURL, chromedp.NavigateResponse(rawURL))
}

// Submit clicks the button sel with the mouse, as a person would, and waits
// for the navigation the form causes, through every redirect.
func (b *Chrome) Submit(sel string) *network.Response {
	b.T.Helper()
	ctx, cancel := b.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.T.Fatalf("click %s: %v (page %s)", sel, err, b.Location())
	}
	return resp
}

// TypeInto types text into the field sel with key events. The field must be
// empty.
func (b *Chrome) TypeInto(sel, text string) {
	b.T.Helper()
	b.Do("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// SignIn fills the login form on the current page and submits it.
func (b *Chrome) SignIn(username, pw string) *network.Response {
	b.T.Helper()
	if username != "" {
		b.TypeInto("#username", username)
	}
	b.TypeInto("#password", pw)
	return b.Submit(`form.form button[type="submit"]`)
}

// ChromePage is what a test reads off the current page.
type ChromePage struct {
	URL    string `json:"url"`
	Title  string `json:"title"`
	H1     string `json:"h1"`
	Alert  string `json:"alert"`  // the text of [role=alert], "" when none
	Notice string `json:"notice"` // the text of [role=status], "" when none
	Body   string `json:"body"`
}

const ChromePageJS = `(() => {
	const text = (sel) => { const e = document.querySelector(sel); return e ? e.innerText.trim() : ""; };
	return {url: location.href, title: document.title, h1: text("h1"),
		alert: text("[role=alert]"), notice: text("[role=status]"), body: document.body ? document.body.innerText : ""};
})()`

// Page reads the current page.
func (b *Chrome) Page() ChromePage {
	b.T.Helper()
	return ChromeRun(b, "read page", chromedp.Evaluate[ChromePage](ChromePageJS))
}

// At asserts that the current page is on origin+path and returns its query.
func (b *Chrome) At(p ChromePage, origin, path string) url.Values {
	b.T.Helper()
	u, err := url.Parse(p.URL)
	if err != nil || u.Scheme+"://"+u.Host != origin || u.Path != path {
		b.T.Fatalf("browser is at %s, want %s%s\npage: %q\n%s", p.URL, origin, path, p.H1, p.Body)
	}
	return u.Query()
}

// unlabelledJS lists the form fields a person can see that no <label> names.
// Elements that are not rendered (display:none, such as the account page's
// hidden username for password managers) are not in the accessibility tree
// and are listed apart.
const unlabelledJS = `(() => {
	const out = {unlabelled: [], unrendered: [], fields: 0};
	for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
		if (el.getClientRects().length === 0) { out.unrendered.push(el.outerHTML); continue; }
		out.fields++;
		if (!el.labels || el.labels.length === 0 || [...el.labels].every(l => l.innerText.trim() === "")) out.unlabelled.push(el.outerHTML);
	}
	return out;
})()`

type labelReport struct {
	Unlabelled []string `json:"unlabelled"`
	Unrendered []string `json:"unrendered"`
	Fields     int      `json:"fields"`
}

// CheckLabels fails the test for any visible field without a label.
func (b *Chrome) CheckLabels(name string) {
	b.T.Helper()
	r := ChromeRun(b, "check labels", chromedp.Evaluate[labelReport](unlabelledJS))
	for _, el := range r.Unlabelled {
		b.T.Errorf("%s page: field without a label: %s", name, el)
	}
	for _, el := range r.Unrendered {
		if strings.Contains(el, " name=") {
			b.T.Errorf("%s page: a field that is never shown is submitted with the form: %s", name, el)
		}
	}
}

// Shoot saves a full-page PNG of the current page at every size in shotSizes
// and checks that nothing overflows sideways on the phone. The files go to
// t.ArtifactDir(): a temporary directory, kept with -artifacts.
func (b *Chrome) Shoot(name string) {
	b.T.Helper()
	b.CheckLabels(name)
	for _, s := range shotSizes {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
		if s.mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
		}
		b.Do("viewport "+s.name, chromedp.EmulateViewport(s.width, s.height, opts...))
		if s.mobile {
			overflow := ChromeRun(b, "measure width", chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`))
			if overflow > 0 {
				b.T.Errorf("%s page on a %dpx phone is %dpx wider than the screen", name, s.width, overflow)
			}
		}
		png := ChromeRun(b, "screenshot "+name, chromedp.FullScreenshot(100))
		file := filepath.Join(b.dir, fmt.Sprintf("%s-%s.png", name, s.name))
		if err := os.WriteFile(file, png, 0o644); err != nil {
			b.T.Fatalf("save screenshot: %v", err)
		}
		b.T.Logf("screenshot %s", file)
	}
	b.Do("desktop viewport", chromedp.EmulateViewport(1280, 800))
}

// DisableScripts turns JavaScript off in the tab, for every page it loads
// from now on.
func (b *Chrome) DisableScripts() {
	b.T.Helper()
	b.Do("disable JavaScript", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
}

// ClearCookies forgets every cookie, as a new browser would.
func (b *Chrome) ClearCookies() {
	b.T.Helper()
	b.Do("clear cookies", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
		return err
	}))
}
