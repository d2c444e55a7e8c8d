//go:build reliability

package reliability

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

// inkpassBin is the binary every scenario runs, built once by TestMain from
// this checkout.
var inkpassBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "inkpass-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		os.Exit(1)
	}
	inkpassBin = filepath.Join(dir, "inkpass")
	build := exec.Command("go", "build", "-o", inkpassBin, "github.com/inkpass/inkpass/cmd/inkpass")
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "reliability: go build ./cmd/inkpass: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// figure logs a scenario's one-line result; `make reliability` collects the
// lines that start with FIGURE.
func figure(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Logf("FIGURE "+format, args...)
}

// Names of the clients every install registers in its config.yaml.
const (
	appClient   = "rel-app" // public, first party: the code flow with PKCE
	ccClient    = "rel-cc"  // confidential: client_credentials, introspection
	redirectURI = "http://127.0.0.1:1/cb"
	ccSecretEnv = "RELIABILITY_CC_SECRET"
	adminPass   = "admin-passphrase-for-reliability"
	userPass    = "user-passphrase-for-reliability"
)

// install is one throw-away inkpass: a folder with config.yaml, keys/ and the
// database (which may live elsewhere, e.g. on a tmpfs), the environment its
// commands run with, and the server process while it runs.
type install struct {
	t        *testing.T
	dir      string
	config   string
	db       string
	base     string // http://127.0.0.1:PORT
	env      []string
	ccSecret string
	logPath  string
	http     *http.Client

	mu  sync.Mutex
	srv *exec.Cmd
}

type installOptions struct {
	// db is the database path; empty means inkpass.db in the install folder.
	db string
	// env adds variables to every command (e.g. the busy budget).
	env []string
	// passwordTarget is password.target; empty leaves the default (auto).
	passwordTarget string
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func newInstall(t *testing.T, o installOptions) *install {
	t.Helper()
	dir := t.TempDir()
	db := o.db
	if db == "" {
		db = filepath.Join(dir, "inkpass.db")
	}
	port := freePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	cfg := `log:
  format: text
  level: warn
tokens:
  access_token: 1h
clients:
  - id: ` + appClient + `
    name: "Reliability app"
    public: true
    first_party: true
    redirect_uris: ["` + redirectURI + `"]
    grant_types: [authorization_code, refresh_token]
    scopes: [openid, profile, offline_access]
    auth_method: none
  - id: ` + ccClient + `
    name: "Reliability machine client"
    grant_types: [client_credentials]
    scopes: [profile]
    secret_env: ` + ccSecretEnv + `
`
	if o.passwordTarget != "" {
		cfg += "password:\n  target: " + o.passwordTarget + "\n"
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	in := &install{
		t: t, dir: dir, config: path, db: db, base: base,
		ccSecret: rand.Text() + rand.Text(), // config secrets need 32 characters or more
		logPath:  filepath.Join(dir, "server.log"),
	}
	// The process environment, minus any inkpass settings of the machine.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "INKPASS_") {
			in.env = append(in.env, kv)
		}
	}
	in.env = append(in.env,
		"INKPASS_DATABASE="+db,
		"INKPASS_LISTEN=127.0.0.1:"+strconv.Itoa(port),
		"INKPASS_ISSUER="+base,
		"INKPASS_KEYS_DIR="+filepath.Join(dir, "keys"),
		"INKPASS_ADMIN_PASSWORD="+adminPass,
		ccSecretEnv+"="+in.ccSecret,
	)
	in.env = append(in.env, o.env...)
	in.http = &http.Client{
		Timeout:       60 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 32, IdleConnTimeout: 30 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(func() {
		in.stop()
		if t.Failed() {
			if b, err := os.ReadFile(in.logPath); err == nil && len(b) > 0 {
				t.Logf("server log (last 3000 bytes):\n%s", tail(b, 3000))
			}
		}
	})
	return in
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// result is how one inkpass command ended.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
}

// proc is an inkpass command started as its own process.
type proc struct {
	cmd         *exec.Cmd
	out, errOut bytes.Buffer
	cancel      context.CancelFunc
}

// startCLI starts `inkpass args... --config PATH`; wait returns how it ended.
// A command is killed after two minutes.
func (in *install) startCLI(stdin string, args ...string) (*proc, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	p := &proc{cancel: cancel}
	p.cmd = exec.CommandContext(ctx, inkpassBin, append(args, "--config", in.config)...)
	p.cmd.Env = in.env
	p.cmd.Stdin = strings.NewReader(stdin)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.errOut
	if err := p.cmd.Start(); err != nil {
		cancel()
		return nil, err
	}
	return p, nil
}

func (p *proc) wait() result {
	defer p.cancel()
	err := p.cmd.Wait()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
		if code < 0 {
			code = 128 + int(ee.Sys().(syscall.WaitStatus).Signal())
		}
	case err != nil:
		code = -1
	}
	return result{code: code, stdout: p.out.String(), stderr: p.errOut.String()}
}

// cli runs one command to its end.
func (in *install) cli(stdin string, args ...string) result {
	in.t.Helper()
	p, err := in.startCLI(stdin, args...)
	if err != nil {
		in.t.Fatalf("start inkpass %s: %v", strings.Join(args, " "), err)
	}
	return p.wait()
}

// mustCLI runs a command that has to succeed.
func (in *install) mustCLI(stdin string, args ...string) string {
	in.t.Helper()
	r := in.cli(stdin, args...)
	if r.code != 0 {
		in.t.Fatalf("inkpass %s: %v", strings.Join(args, " "), r)
	}
	return r.stdout
}

// addUser creates a user with a password through the CLI.
func (in *install) addUser(username, role, pw string) {
	in.t.Helper()
	in.mustCLI(pw+"\n", "user", "add", "--username", username, "--role", role, "--name", "Reliability "+username, "--password-stdin")
}

// serve starts `inkpass serve` and waits until /readyz answers 200. It
// returns how long that took.
func (in *install) serve() time.Duration {
	in.t.Helper()
	d, err := in.serveErr(30 * time.Second)
	if err != nil {
		in.t.Fatal(err)
	}
	return d
}

func (in *install) serveErr(limit time.Duration) (time.Duration, error) {
	in.mu.Lock()
	if in.srv != nil {
		in.mu.Unlock()
		return 0, errors.New("serve: already running")
	}
	logf, err := os.OpenFile(in.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		in.mu.Unlock()
		return 0, err
	}
	cmd := exec.Command(inkpassBin, "serve", "--config", in.config)
	cmd.Env = in.env
	cmd.Stdout, cmd.Stderr = logf, logf
	start := time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		in.mu.Unlock()
		return 0, fmt.Errorf("start serve: %w", err)
	}
	in.srv = cmd
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logf.Close() }()
	// cmd.Wait is owned by the goroutine above; stop and kill9 wait on exited.
	serverExits.Store(cmd, exited)
	in.mu.Unlock()

	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			return 0, fmt.Errorf("serve exited before it was ready (%v); log:\n%s", err, in.logTail())
		default:
		}
		resp, err := in.http.Get(in.base + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, fmt.Errorf("serve was not ready within %v; log:\n%s", limit, in.logTail())
}

// serverExits maps a running serve command to the channel its exit arrives on.
var serverExits sync.Map

func (in *install) logTail() string {
	b, _ := os.ReadFile(in.logPath)
	return string(tail(b, 2000))
}

// kill9 sends SIGKILL to the server and waits for it to be gone.
func (in *install) kill9() {
	in.t.Helper()
	in.signal(syscall.SIGKILL, 10*time.Second)
}

// stop ends the server with SIGTERM (SIGKILL after 20 s); a no-op when none runs.
func (in *install) stop() {
	in.signal(syscall.SIGTERM, 20*time.Second)
}

func (in *install) signal(sig syscall.Signal, grace time.Duration) {
	in.mu.Lock()
	defer in.mu.Unlock()
	cmd := in.srv
	if cmd == nil {
		return
	}
	in.srv = nil
	ch, _ := serverExits.LoadAndDelete(cmd)
	exited := ch.(chan error)
	cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(grace):
		cmd.Process.Kill()
		<-exited
	}
}

// running reports whether the server process is still alive.
func (in *install) running() bool {
	in.mu.Lock()
	cmd := in.srv
	in.mu.Unlock()
	if cmd == nil {
		return false
	}
	ch, ok := serverExits.Load(cmd)
	if !ok {
		return false
	}
	select {
	case err := <-ch.(chan error):
		ch.(chan error) <- err
		return false
	default:
		return true
	}
}

// integrity runs PRAGMA integrity_check on a read-only connection.
func integrity(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("PRAGMA integrity_check")
	if err != nil {
		return "error: " + err.Error()
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return "error: " + err.Error()
		}
		lines = append(lines, s)
	}
	if err := rows.Err(); err != nil {
		return "error: " + err.Error()
	}
	return strings.Join(lines, "; ")
}

// --- HTTP ------------------------------------------------------------------

// answer is one HTTP response, read whole.
type answer struct {
	status     int
	retryAfter string
	header     http.Header
	body       []byte
}

func (a *answer) json() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(a.body, &m)
	return m
}

func (a *answer) str(k string) string {
	s, _ := a.json()[k].(string)
	return s
}

func (in *install) do(c *http.Client, req *http.Request) (*answer, error) {
	if c == nil {
		c = in.http
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	return &answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), header: resp.Header, body: body}, nil
}

func (in *install) postForm(c *http.Client, path string, form url.Values, user, pass string) (*answer, error) {
	req, err := http.NewRequest(http.MethodPost, in.abs(path), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	return in.do(c, req)
}

func (in *install) get(c *http.Client, path string, bearer string) (*answer, error) {
	req, err := http.NewRequest(http.MethodGet, in.abs(path), nil)
	if err != nil {
		return nil, err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return in.do(c, req)
}

func (in *install) abs(ref string) string {
	if strings.HasPrefix(ref, "http://") {
		return ref
	}
	return in.base + ref
}

// ccToken asks for a client_credentials access token.
func (in *install) ccToken() (*answer, string, error) {
	a, err := in.postForm(nil, "/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"profile"}}, ccClient, in.ccSecret)
	if err != nil {
		return nil, "", err
	}
	if a.status != http.StatusOK {
		return a, "", nil
	}
	tok := a.str("access_token")
	if tok == "" {
		return a, "", fmt.Errorf("token response without access_token: %s", a.body)
	}
	return a, tok, nil
}

// introspect asks whether token is active, as the machine client.
func (in *install) introspect(token string) (bool, *answer, error) {
	a, err := in.postForm(nil, "/introspect", url.Values{"token": {token}}, ccClient, in.ccSecret)
	if err != nil {
		return false, nil, err
	}
	active, _ := a.json()["active"].(bool)
	return a.status == http.StatusOK && active, a, nil
}

// userinfo answers 200 for a live user access token.
func (in *install) userinfo(token string) (*answer, error) {
	return in.get(nil, "/userinfo", token)
}

// tokens is what the code exchange or a refresh returns.
type tokens struct {
	access, refresh string
}

// refresh rotates a refresh token.
func (in *install) refresh(rt string) (*answer, tokens, error) {
	a, err := in.postForm(nil, "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {appClient}}, "", "")
	if err != nil {
		return nil, tokens{}, err
	}
	if a.status != http.StatusOK {
		return a, tokens{}, nil
	}
	return a, tokens{access: a.str("access_token"), refresh: a.str("refresh_token")}, nil
}

var (
	csrfField  = regexp.MustCompile(`<input type="hidden" name="csrf_token" value="([^"]*)">`)
	formAction = regexp.MustCompile(`<form class="form" method="post" action="([^"]*)"`)
)

func randomB64(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// login walks the authorization code flow with PKCE the way a browser does,
// with its own cookie jar: /authorize, the login form, the redirect with the
// code, the exchange. It returns the first answer that was not the expected
// step (failed is true then), or the token response.
func (in *install) login(username, pw string) (a *answer, tk tokens, failed bool, err error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Transport: in.http.Transport, Jar: jar, Timeout: in.http.Timeout, CheckRedirect: in.http.CheckRedirect}
	verifier := randomB64(32)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {appClient}, "redirect_uri": {redirectURI},
		"scope": {"openid profile offline_access"}, "state": {randomB64(8)}, "nonce": {randomB64(8)},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	a, err = in.get(c, "/authorize?"+q.Encode(), "")
	if err != nil {
		return nil, tk, true, err
	}
	if a.status != http.StatusSeeOther && a.status != http.StatusFound {
		return a, tk, true, nil
	}
	loginURL := a.header.Get("Location")
	a, err = in.get(c, loginURL, "")
	if err != nil {
		return nil, tk, true, err
	}
	if a.status != http.StatusOK {
		return a, tk, true, nil
	}
	cm, am := csrfField.FindSubmatch(a.body), formAction.FindSubmatch(a.body)
	if cm == nil || am == nil {
		return a, tk, true, fmt.Errorf("login page has no form:\n%s", tail(a.body, 500))
	}
	action := html.UnescapeString(string(am[1]))
	a, err = in.postForm(c, action, url.Values{"username": {username}, "password": {pw}, "csrf_token": {html.UnescapeString(string(cm[1]))}}, "", "")
	if err != nil {
		return nil, tk, true, err
	}
	loc := a.header.Get("Location")
	if (a.status != http.StatusSeeOther && a.status != http.StatusFound) || !strings.HasPrefix(loc, redirectURI) {
		return a, tk, true, nil
	}
	u, err := url.Parse(loc)
	if err != nil {
		return a, tk, true, err
	}
	code := u.Query().Get("code")
	if code == "" {
		return a, tk, true, fmt.Errorf("redirect without a code: %s", loc)
	}
	a, err = in.postForm(c, "/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"client_id": {appClient}, "code_verifier": {verifier},
	}, "", "")
	if err != nil {
		return nil, tk, true, err
	}
	if a.status != http.StatusOK {
		return a, tk, true, nil
	}
	return a, tokens{access: a.str("access_token"), refresh: a.str("refresh_token")}, false, nil
}

// mustLogin signs in and fails the test otherwise.
func (in *install) mustLogin(username, pw string) tokens {
	in.t.Helper()
	a, tk, failed, err := in.login(username, pw)
	if err != nil || failed {
		in.t.Fatalf("sign in as %q: %v %s", username, err, describe(a))
	}
	return tk
}

func describe(a *answer) string {
	if a == nil {
		return "(no answer)"
	}
	return fmt.Sprintf("status %d, Retry-After %q, body %q", a.status, a.retryAfter, tail(a.body, 300))
}

// statusCounts tallies answers by status, and transport errors.
type statusCounts struct {
	mu        sync.Mutex
	by        map[int]int
	noRetry   int // 503s without Retry-After
	transport int
	examples  map[int]string
}

func (s *statusCounts) add(a *answer, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.by == nil {
		s.by, s.examples = map[int]int{}, map[int]string{}
	}
	if err != nil {
		s.transport++
		return
	}
	s.by[a.status]++
	if a.status == http.StatusServiceUnavailable && a.retryAfter == "" {
		s.noRetry++
	}
	if _, ok := s.examples[a.status]; !ok {
		s.examples[a.status] = describe(a)
	}
}

func (s *statusCounts) count(status int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.by[status]
}

func (s *statusCounts) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var parts []string
	for _, code := range []int{200, 400, 401, 429, 500, 502, 503, 504} {
		if n := s.by[code]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d×%d", n, code))
		}
	}
	for code, n := range s.by {
		switch code {
		case 200, 400, 401, 429, 500, 502, 503, 504:
		default:
			parts = append(parts, fmt.Sprintf("%d×%d", n, code))
		}
	}
	if s.transport > 0 {
		parts = append(parts, fmt.Sprintf("%d transport errors", s.transport))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func (s *statusCounts) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.transport
	for _, c := range s.by {
		n += c
	}
	return n
}
