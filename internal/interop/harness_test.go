//go:build interop

package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The `inkpass client add` flags this suite depends on that other branches
// add. Wire their final names here: every test uses these constants.
const (
	// idTokenAlgFlag picks a client's ID token signing algorithm
	// (id_token_signed_response_alg). The ES256 variants use it.
	idTokenAlgFlag = "--id-token-alg"
	// backchannelLogoutFlag registers a client's back-channel logout URI
	// (OpenID Connect Back-Channel Logout 1.0).
	backchannelLogoutFlag = "--backchannel-logout-uri"
)

// algs are the ID token algorithms every relying party is tried with: RS256
// is inkpass's default, ES256 is asked for per client with idTokenAlgFlag.
var algs = []string{"RS256", "ES256"}

// The people every relying party signs in.
const (
	artistUser   = "luna"
	artistPass   = "luna-passphrase-for-interop"
	artistName   = "Luna Martinez"
	artistEmail  = "luna@studio.test"
	assistUser   = "kai"
	assistPass   = "kai-passphrase-for-interop"
	assistEmail  = "kai@studio.test"
	adminPass    = "admin-passphrase-for-interop"
	clientScopes = "openid profile email offline_access"
)

var (
	// repoRoot is the checkout this package sits in (README.md, bin/).
	repoRoot string
	// idp is the inkpass every test signs in at, started by TestMain.
	idp *inkpass
)

func TestMain(m *testing.M) {
	code, err := runMain(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func runMain(m *testing.M) (int, error) {
	wd, err := os.Getwd()
	if err != nil {
		return 0, err
	}
	repoRoot = filepath.Clean(filepath.Join(wd, "..", ".."))
	dir, err := os.MkdirTemp("", "inkpass-interop-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "inkpass")
	build := exec.Command("go", "build", "-o", bin, "github.com/inkpass/inkpass/cmd/inkpass")
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("go build ./cmd/inkpass: %v\n%s", err, out)
	}
	idp, err = startInkpass(bin, filepath.Join(dir, "idp"))
	if err != nil {
		return 0, err
	}
	code := m.Run()
	idp.stop()
	if code != 0 {
		fmt.Printf("inkpass log (last 4000 bytes):\n%s\n", idp.logTail(4000))
	}
	printResults(os.Stdout)
	return code, nil
}

// --- inkpass -----------------------------------------------------------------

// inkpass is the real binary serving on a free 127.0.0.1 port, with its own
// config, database and keys in a temporary folder.
type inkpass struct {
	bin, dir, config, base, logPath string
	env                             []string
	artistID                        int
	cmd                             *exec.Cmd
	exited                          chan error
}

func startInkpass(bin, dir string) (*inkpass, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &inkpass{bin: bin, dir: dir, config: filepath.Join(dir, "config.yaml"),
		base: "http://127.0.0.1:" + strconv.Itoa(port), logPath: filepath.Join(dir, "server.log")}
	cfg := "log:\n  format: text\n  level: info\nmetrics:\n  enabled: false\n"
	if err := os.WriteFile(p.config, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "INKPASS_") {
			p.env = append(p.env, kv)
		}
	}
	p.env = append(p.env,
		"INKPASS_DATABASE="+filepath.Join(dir, "inkpass.db"),
		"INKPASS_LISTEN=127.0.0.1:"+strconv.Itoa(port),
		"INKPASS_ISSUER="+p.base,
		"INKPASS_KEYS_DIR="+filepath.Join(dir, "keys"),
		"INKPASS_ADMIN_PASSWORD="+adminPass,
	)
	if _, err := p.cli("", "migrate"); err != nil {
		return nil, err
	}
	out, err := p.cli("", "artist", "add", "--name", artistName, "--json")
	if err != nil {
		return nil, err
	}
	var artist struct {
		ID int `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &artist); err != nil || artist.ID == 0 {
		return nil, fmt.Errorf("artist add --json printed %q: %v", out, err)
	}
	p.artistID = artist.ID
	if _, err := p.cli(artistPass+"\n", "user", "add", "--username", artistUser, "--role", "artist",
		"--artist-id", strconv.Itoa(artist.ID), "--name", artistName, "--email", artistEmail, "--password-stdin"); err != nil {
		return nil, err
	}
	if _, err := p.cli(assistPass+"\n", "user", "add", "--username", assistUser, "--role", "assistant",
		"--name", "Kai Assistant", "--email", assistEmail, "--password-stdin"); err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command(bin, "serve", "--config", p.config)
	p.cmd.Env = p.env
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start inkpass serve: %w", err)
	}
	p.exited = make(chan error, 1)
	go func() { p.exited <- p.cmd.Wait(); logf.Close() }()
	if err := waitHTTP(p.base+"/readyz", p.exited, 30*time.Second); err != nil {
		p.stop()
		return nil, fmt.Errorf("inkpass serve: %v; log:\n%s", err, p.logTail(2000))
	}
	return p, nil
}

// cli runs `inkpass args... --config PATH` and returns its standard output.
func (p *inkpass) cli(stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.bin, append(args, "--config", p.config)...)
	cmd.Env = p.env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("inkpass %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}

// clientSpec is a confidential, first-party client registered with
// `inkpass client add` for one relying party.
type clientSpec struct {
	id          string
	alg         string // ID token algorithm; RS256 is the default and adds no flag
	redirects   []string
	postLogouts []string
	extra       []string // more flags, e.g. backchannelLogoutFlag
}

// addClient registers c and returns its secret.
func (p *inkpass) addClient(c clientSpec) (string, error) {
	args := []string{"client", "add", "--id", c.id, "--name", "Interop " + c.id, "--first-party",
		"--grant", "authorization_code", "--grant", "refresh_token", "--json"}
	for _, s := range strings.Fields(clientScopes) {
		args = append(args, "--scope", s)
	}
	for _, u := range c.redirects {
		args = append(args, "--redirect-uri", u)
	}
	for _, u := range c.postLogouts {
		args = append(args, "--post-logout-redirect-uri", u)
	}
	if c.alg != "" && c.alg != "RS256" {
		args = append(args, idTokenAlgFlag, c.alg)
	}
	args = append(args, c.extra...)
	out, err := p.cli("", args...)
	if err != nil {
		return "", err
	}
	var got struct {
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Secret == "" {
		return "", fmt.Errorf("client add --json printed no client_secret: %v", err)
	}
	return got.Secret, nil
}

// rpSite is a relying party's address on a free local port and the secret
// of its client at inkpass.
type rpSite struct {
	port         int
	base, secret string
}

// addRP picks a free port for a relying party and registers client id for
// it, with base+callback as its redirect URI and base+loggedOut as its
// post-logout redirect URI; extra, when not nil, gives more flags for the
// base URL.
func (p *inkpass) addRP(id, alg, callback, loggedOut string, extra func(base string) []string) (rpSite, error) {
	port, err := freePort()
	if err != nil {
		return rpSite{}, err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	spec := clientSpec{id: id, alg: alg, redirects: []string{base + callback}, postLogouts: []string{base + loggedOut}}
	if extra != nil {
		spec.extra = extra(base)
	}
	secret, err := p.addClient(spec)
	if err != nil {
		return rpSite{}, err
	}
	return rpSite{port: port, base: base, secret: secret}, nil
}

func (p *inkpass) stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
	p.cmd = nil
}

func (p *inkpass) logTail(n int) string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// --- processes -----------------------------------------------------------------

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitHTTP polls u until it answers with anything but a 5xx, or the process
// behind it exits.
func waitHTTP(u string, exited chan error, limit time.Duration) error {
	c := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("exited before it answered (%v)", err)
		default:
		}
		resp, err := c.Get(u)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no answer at %s within %v", u, limit)
}

// proc is a relying party's process, stopped (SIGTERM, then SIGKILL) when
// the test ends; its output is logged when the test failed.
type proc struct {
	name, logPath string
	cmd           *exec.Cmd
	exited        chan error
}

func startProc(t *testing.T, name, dir string, env []string, bin string, args ...string) (*proc, error) {
	p := &proc{name: name, logPath: filepath.Join(t.TempDir(), name+".log")}
	logf, err := os.Create(p.logPath)
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir, p.cmd.Env = dir, env
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p.exited = make(chan error, 1)
	go func() { p.exited <- p.cmd.Wait(); logf.Close() }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s output (last 3000 bytes):\n%s", name, p.tail(3000))
		}
	})
	return p, nil
}

func (p *proc) stop() {
	select {
	case err := <-p.exited:
		p.exited <- err
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		p.exited <- err
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		p.exited <- <-p.exited
	}
}

func (p *proc) tail(n int) string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// ready waits until u answers.
func (p *proc) ready(u string) error {
	if err := waitHTTP(u, p.exited, 60*time.Second); err != nil {
		return fmt.Errorf("%s: %v\n%s", p.name, err, p.tail(3000))
	}
	return nil
}

// baseEnv is the process environment minus inkpass's own settings.
func baseEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "INKPASS_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// need skips the test when a relying party is not installed, or fails it
// under CI=true, where scripts/interop-setup.sh should have installed it.
// Either way the results table says so.
func need(t *testing.T, rp, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		for _, a := range algs {
			record(rp, "setup", a, "FAIL (not installed)")
		}
		t.Fatalf("%s is missing under CI (scripts/interop-setup.sh installs it): %v", what, err)
	}
	for _, a := range algs {
		record(rp, "setup", a, "skipped (not installed)")
	}
	t.Skipf("%s is not installed, so it is skipped: %v (run scripts/interop-setup.sh with INTEROP_APT=1, or make interop CI=true)", what, err)
}

func randomText() string { return rand.Text() }

// --- checks --------------------------------------------------------------------

// checkArtist checks the studio claims of the artist in what a relying
// party shows: from JSON (numbers) or from headers (strings).
func checkArtist(t *testing.T, where string, role, artistID, name any) {
	t.Helper()
	if fmt.Sprint(role) != "artist" {
		t.Errorf("%s: role = %v, want artist", where, role)
	}
	if fmt.Sprint(artistID) != strconv.Itoa(idp.artistID) {
		t.Errorf("%s: artist_id = %v, want %d", where, artistID, idp.artistID)
	}
	if fmt.Sprint(name) != artistName {
		t.Errorf("%s: artist_name = %v, want %q", where, name, artistName)
	}
}

// jwtHeader decodes a compact JWT's header.
func jwtHeader(t *testing.T, jwt string) map[string]any {
	t.Helper()
	part, _, ok := strings.Cut(jwt, ".")
	if !ok {
		t.Fatalf("not a compact JWT: %q", trim([]byte(jwt), 80))
	}
	raw, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatalf("JWT header: %v", err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatalf("JWT header: %v", err)
	}
	return h
}

// jwtClaims decodes a compact JWT's payload (its signature was checked by
// the relying party that passed it on).
func jwtClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", trim([]byte(jwt), 80))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	return c
}

// checkAlg checks that an ID token was signed with alg.
func checkAlg(t *testing.T, idToken, alg string) {
	t.Helper()
	if got := jwtHeader(t, idToken)["alg"]; got != alg {
		t.Errorf("the relying party accepted an ID token signed with %v, want %s", got, alg)
	}
}
