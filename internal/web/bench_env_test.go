package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/metrics"
	"github.com/inkpass/inkpass/internal/password"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
	"github.com/inkpass/inkpass/internal/user"
)

// benchEnv is the whole server as harness.Wire builds it (wired as
// cmd/inkpass/wire.go wires it, over a real SQLite file in a temporary
// folder), driven in-process through handler.ServeHTTP (no sockets: the
// figures are the handlers' own).
type benchEnv struct {
	h      http.Handler
	db     *store.DB
	keys   *keys.Set
	hasher *password.Hasher
	users  *user.Service
}

const (
	benchIssuer   = "http://127.0.0.1:8080"
	benchUser     = "bench"
	benchPassword = "correct horse battery staple"
	benchCCID     = "bench-cc"
	benchCCSecret = "bench-cc-secret-0123456789abcdefghijklmnop"
	benchPublicID = "bench-public"
	benchRedirect = "http://127.0.0.1:9090/callback"
)

// benchClients are a client_credentials client and the public app the
// login benchmarks sign in to.
func benchClients(alg keys.Algorithm) []harness.ClientSpec {
	return []harness.ClientSpec{
		{Client: client.Client{ID: benchCCID, Name: "Bench machine client", GrantTypes: []string{client.GrantClientCredentials},
			Scopes: []string{"profile"}, Enabled: true, Source: "cli"}, Secret: benchCCSecret},
		{Client: client.Client{ID: benchPublicID, Name: "Bench app", Public: true, FirstParty: true,
			RedirectURIs: []string{benchRedirect}, GrantTypes: []string{client.GrantAuthorizationCode, client.GrantRefreshToken},
			Scopes: []string{"openid", "profile", "email", "offline_access"}, Enabled: true, Source: "cli", IDTokenAlg: alg}},
	}
}

// benchLogger formats logs as production does (info-level text) and drops
// them, so their cost is in the figures.
func benchLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// newBenchEnv builds the server on a new database with the default
// configuration (config.yaml's values: OWASP argon2id, a 256 MiB hashing
// budget, info-level text logs, metrics on) and signing keys of alg.
func newBenchEnv(tb testing.TB, alg keys.Algorithm) *benchEnv {
	tb.Helper()
	hasher, err := password.NewHasher(password.Policy{
		Target:       password.TargetArgon2id,
		Argon2:       password.OWASPArgon2(),
		MemoryBudget: 256 << 20,
	})
	if err != nil {
		tb.Fatalf("hasher: %v", err)
	}
	st := harness.Wire(tb, benchIssuer, harness.Options{
		Alg: alg, EmptyDB: true, NoStandardClients: true, Clients: benchClients(alg),
		Hasher: hasher, Metrics: metrics.New(), Logger: benchLogger(),
	})
	if _, err := st.Users.Create(tb.Context(), user.User{Username: benchUser, Role: user.RoleAdmin, Name: "Bench Mark", Email: "bench@example.com"}, benchPassword); err != nil {
		tb.Fatalf("create user: %v", err)
	}
	return &benchEnv{h: st.Handler, db: st.DB, keys: st.Keys, hasher: st.Hasher, users: st.Users}
}

// serve runs one request through the handler.
func (e *benchEnv) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

func benchForm(target string, form url.Values) *http.Request {
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

type benchTokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
}

// token posts a token request and decodes the answer, failing on anything but
// 200.
func (e *benchEnv) token(tb testing.TB, req *http.Request) benchTokens {
	tb.Helper()
	t, err := e.tryToken(req)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func (e *benchEnv) tryToken(req *http.Request) (benchTokens, error) {
	rec := e.serve(req)
	var t benchTokens
	if rec.Code != http.StatusOK {
		return t, fmt.Errorf("POST /token: %d %s", rec.Code, rec.Body.String())
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &t); err != nil {
		return t, fmt.Errorf("decode token answer: %w", err)
	}
	return t, nil
}

func (e *benchEnv) clientCredentialsRequest() *http.Request {
	req := benchForm("/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"profile"}})
	req.SetBasicAuth(benchCCID, benchCCSecret)
	return req
}

func benchRefreshRequest(refresh string) *http.Request {
	return benchForm("/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {benchPublicID},
	})
}

var (
	benchCSRF   = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	benchAction = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)
)

// benchJar is a browser's cookie store, enough for inkpass's two benchJar.
type benchJar map[string]string

func (c benchJar) take(rec *httptest.ResponseRecorder) {
	for _, ck := range rec.Result().Cookies() {
		c[ck.Name] = ck.Value
	}
}

func (c benchJar) add(req *http.Request) *http.Request {
	for k, v := range c {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	return req
}

func benchLocation(rec *httptest.ResponseRecorder, want int) (*url.URL, error) {
	if rec.Code != want {
		return nil, fmt.Errorf("status %d, want %d: %s", rec.Code, want, rec.Body.String())
	}
	return url.Parse(rec.Header().Get("Location"))
}

// login walks the code flow with PKCE the way a browser and a public client
// do: /authorize → 303 /login?req= → the form's csrf_token → POST the
// password → 303 to the redirect URI with the code → /token.
func (e *benchEnv) login(tb testing.TB, scope string) benchTokens {
	tb.Helper()
	t, err := e.tryLogin(scope)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// tryLogin is login for goroutines that may not call Fatal (RunParallel).
func (e *benchEnv) tryLogin(scope string) (benchTokens, error) {
	return e.tryLoginAs(scope, benchUser, "")
}

// addBenchUsers creates users bench0 … bench(n-1) with benchPassword, so that
// parallel logins are not refused as concurrent attempts for one username.
func (e *benchEnv) addBenchUsers(tb testing.TB, n int) {
	tb.Helper()
	for i := range n {
		if _, err := e.users.Create(context.Background(), user.User{Username: fmt.Sprintf("bench%d", i), Role: user.RoleAssistant}, benchPassword); err != nil {
			tb.Fatalf("create user: %v", err)
		}
	}
}

// tryLoginAs signs username in; addr, when set, is the client's address (a
// sign-in per address at a time would otherwise be all that one address gets
// past the per-address limit).
func (e *benchEnv) tryLoginAs(scope, username, addr string) (benchTokens, error) {
	jar := benchJar{}
	verifier := session.NewToken() // 43 characters of RFC 7636 §4.1's alphabet
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {benchPublicID}, "redirect_uri": {benchRedirect},
		"scope": {scope}, "state": {"st"}, "nonce": {"n"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	rec := e.serve(httptest.NewRequest(http.MethodGet, "/authorize?"+q.Encode(), nil))
	jar.take(rec)
	loginURL, err := benchLocation(rec, http.StatusSeeOther)
	if err != nil {
		return benchTokens{}, fmt.Errorf("GET /authorize: %w", err)
	}

	rec = e.serve(jar.add(httptest.NewRequest(http.MethodGet, loginURL.String(), nil)))
	if rec.Code != http.StatusOK {
		return benchTokens{}, fmt.Errorf("GET /login: %d", rec.Code)
	}
	jar.take(rec)
	body := rec.Body.String()
	csrf, action := benchCSRF.FindStringSubmatch(body), benchAction.FindStringSubmatch(body)
	if csrf == nil || action == nil {
		return benchTokens{}, fmt.Errorf("login page without form or csrf_token:\n%s", body)
	}

	req := benchForm(html.UnescapeString(action[1]), url.Values{
		"csrf_token": {html.UnescapeString(csrf[1])}, "username": {username}, "password": {benchPassword},
	})
	if addr != "" {
		req.RemoteAddr = addr + ":1234"
	}
	rec = e.serve(jar.add(req))
	back, err := benchLocation(rec, http.StatusSeeOther)
	if err != nil {
		return benchTokens{}, fmt.Errorf("POST /login: %w", err)
	}
	code := back.Query().Get("code")
	if code == "" || !strings.HasPrefix(back.String(), benchRedirect) {
		return benchTokens{}, fmt.Errorf("login ended at %s, want %s?code=…", back.Redacted(), benchRedirect)
	}
	return e.tryToken(benchForm("/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {benchRedirect},
		"client_id": {benchPublicID}, "code_verifier": {verifier},
	}))
}

// benchCPU measures the CPU time the process spends, every goroutine and the
// garbage collector included: the in-process equivalent of the server CPU per
// operation that inkpass-load reads from /proc. Unlike ns/op it does not grow
// when other processes compete for the machine.
type benchCPU struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() benchCPU { return benchCPU{start: processCPU()} }

// report adds a cpu-ns/op metric; call it after the b.Loop loop, when b.N
// is the number of iterations.
func (c benchCPU) report(b *testing.B) float64 {
	if b.N == 0 {
		return 0
	}
	perOp := float64(processCPU()-c.start) / float64(b.N)
	b.ReportMetric(perOp, "cpu-ns/op")
	return perOp
}

// signCPU is the CPU time of one bare signature by the key set, measured in
// the same run as the benchmark it is compared with.
func (e *benchEnv) signCPU(tb testing.TB) float64 {
	payload := []byte(`{"iss":"http://127.0.0.1:8080","sub":"1","aud":"bench-public","exp":1767225600,"iat":1767222000,"name":"Bench Mark","preferred_username":"bench","email":"bench@example.com"}`)
	const n = 150
	for range 5 {
		e.keys.Sign(payload)
	}
	start := processCPU()
	for range n {
		if _, err := e.keys.Sign(payload); err != nil {
			tb.Fatalf("sign: %v", err)
		}
	}
	return float64(processCPU()-start) / n
}
