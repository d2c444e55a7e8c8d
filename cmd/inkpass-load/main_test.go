package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCheckTarget(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.1.2.3:8080/", true},
		{"http://localhost:8080", true},
		{"http://[::1]:8080", true},
		{"https://127.0.0.1", true},
		{"http://10.0.0.1:8080", false},
		{"http://192.168.1.10", false},
		{"http://example.com", false},
		{"http://127.0.0.1.example.com", false},
		{"http://0.0.0.0:8080", false},
		{"ftp://127.0.0.1", false},
		{"http://user:pw@127.0.0.1", false},
		{"http://127.0.0.1/?x=1", false},
	} {
		t.Run(tc.url, func(t *testing.T) {
			_, err := checkTarget("-url", tc.url)
			if (err == nil) != tc.ok {
				t.Errorf("checkTarget(%q) = %v, want ok %v", tc.url, err, tc.ok)
			}
		})
	}
}

func TestLoopbackDialer_refusesOtherAddresses(t *testing.T) {
	// 192.0.2.0/24 is TEST-NET-1: even if the guard failed, nothing answers.
	_, err := loopbackDialer().DialContext(context.Background(), "tcp", "192.0.2.1:80")
	if !errors.Is(err, errNotLoopback) {
		t.Fatalf("dial 192.0.2.1 = %v, want errNotLoopback", err)
	}
}

func TestParseFlags_bounds(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"a duration over two minutes is refused", []string{"-d", "121s"}, "-d"},
		{"a request count over the cap is refused", []string{"-n", "10000001"}, "-n"},
		{"no concurrency is refused", []string{"-c", "0"}, "-c"},
		{"too much concurrency is refused", []string{"-c", "2001"}, "-c"},
		{"an unknown scenario is refused", []string{"-scenario", "nope"}, "-scenario"},
		{"client_credentials needs a secret", []string{"-scenario", "client_credentials"}, "-client-secret"},
		{"refresh needs a password", []string{"-scenario", "refresh"}, "-password"},
		{"a remote server is refused", []string{"-url", "http://203.0.113.9"}, "not loopback"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := parseFlags(tc.args, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseFlags(%q) = %v, want an error about %s", tc.args, err, tc.want)
			}
		})
	}
}

func TestParseStatCPU(t *testing.T) {
	// The command name may hold spaces and parentheses.
	stat := "4242 (inkpass (serve) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0 12345 0 0"
	got, err := parseStatCPU([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if want := 3250 * time.Millisecond; got != want {
		t.Errorf("CPU = %s, want %s (325 ticks)", got, want)
	}
	if _, err := parseStatCPU([]byte("4242 (x) S 1")); err == nil {
		t.Error("a truncated stat line parsed")
	}
}

func TestParseStatusKiB(t *testing.T) {
	status := "Name:\tinkpass\nVmPeak:\t  900000 kB\nVmHWM:\t  123456 kB\nVmRSS:\t   65432 kB\n"
	for name, want := range map[string]int64{"VmHWM": 123456, "VmRSS": 65432} {
		got, err := parseStatusKiB(strings.NewReader(status), name)
		if err != nil || got != want {
			t.Errorf("%s = %d, %v; want %d", name, got, err, want)
		}
	}
	if _, err := parseStatusKiB(strings.NewReader(status), "VmSwap"); err == nil {
		t.Error("a missing field gave no error")
	}
}

func TestProcCPU_readsThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if _, err := procCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if kib, err := procStatusKiB(os.Getpid(), "VmHWM"); err != nil || kib <= 0 {
		t.Fatalf("VmHWM = %d, %v", kib, err)
	}
}

func TestPercentiles(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := percentiles(ds)
	want := Latency{P50: 50, P95: 95, P99: 99, Max: 100}
	if got != want {
		t.Errorf("percentiles = %+v, want %+v", got, want)
	}
	if got := percentiles(nil); got != (Latency{}) {
		t.Errorf("percentiles(nil) = %+v", got)
	}
}

func TestExtractJSONField(t *testing.T) {
	var out bytes.Buffer
	in := `{"id":"load-cc","public":false,"client_secret":"s3cr3t"}`
	if err := extractJSONField(strings.NewReader(in), &out, "client_secret"); err != nil || out.String() != "s3cr3t\n" {
		t.Errorf("extract = %q, %v", out.String(), err)
	}
	for _, field := range []string{"missing", "public"} {
		if err := extractJSONField(strings.NewReader(in), io.Discard, field); err == nil {
			t.Errorf("field %q: no error", field)
		}
	}
}

func TestParseForm(t *testing.T) {
	page := `<html><body><form class="form" method="post" action="/login?req=a&amp;b=c">
<input type="hidden" name="csrf_token" value="tok&amp;en">
<input id="username" name="username" type="text" value="">
<input id="password" name="password" type="password" required>
<button class="button" type="submit">Sign in</button></form></body></html>`
	f, ok := parseForm([]byte(page))
	if !ok {
		t.Fatal("no form found")
	}
	if f.action != "/login?req=a&b=c" || f.hidden["csrf_token"] != "tok&en" || !f.names["password"] || !f.names["username"] {
		t.Errorf("form = %+v", f)
	}
	if _, ok := parseForm([]byte("<p>no form</p>")); ok {
		t.Error("found a form in a page without one")
	}
}

// TestRun drives each scenario against a small fake provider on loopback and
// checks that operations are counted, bounded and error-free.
func TestRun(t *testing.T) {
	idp := newFakeIdP()
	srv := httptest.NewServer(idp)
	defer srv.Close()
	for _, sc := range scenarios {
		t.Run(sc, func(t *testing.T) {
			args := []string{"-url", srv.URL, "-scenario", sc, "-c", "3", "-d", "5s", "-n", "30", "-json",
				"-client-secret", "cc-secret", "-password", "pw", "-pid", fmt.Sprint(os.Getpid()),
				"-ref=false", "-fail-on-error"}
			var out, errOut bytes.Buffer
			if code := run(context.Background(), args, nil, &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s\n%s", code, errOut.String(), out.String())
			}
			var res Result
			if err := json.Unmarshal(out.Bytes(), &res); err != nil {
				t.Fatalf("decode result: %v\n%s", err, out.String())
			}
			want := int64(30)
			if sc == scLoginBurst {
				want = 3 // one login per worker
			}
			if res.Ops != want || res.Errors != 0 {
				t.Errorf("ops %d, errors %d (%v); want %d ops and none", res.Ops, res.Errors, res.FirstErrors, want)
			}
			if res.Server == nil || res.Server.PID != os.Getpid() {
				t.Errorf("server figures missing: %+v", res.Server)
			}
		})
	}
	if n := idp.reused(); n != 0 {
		t.Errorf("%d refresh tokens were used twice: rotation is broken", n)
	}
}

func TestRun_countsServerErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/jwks" {
			http.Error(w, "database is locked", http.StatusInternalServerError)
			return
		}
		newFakeIdP().ServeHTTP(w, r)
	}))
	defer srv.Close()
	var out bytes.Buffer
	code := run(context.Background(), []string{"-url", srv.URL, "-scenario", "jwks", "-c", "2", "-n", "10", "-json", "-fail-on-error"}, nil, &out, io.Discard)
	if code != 1 {
		t.Errorf("exit %d, want 1 with -fail-on-error", code)
	}
	var res Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Errors != 10 || res.Status5xx != 10 || len(res.FirstErrors) != 1 || !strings.Contains(res.FirstErrors[0].Message, "HTTP 500") {
		t.Errorf("errors %d, 5xx %d, first %v; want 10, 10 and one distinct HTTP 500", res.Errors, res.Status5xx, res.FirstErrors)
	}
}

// fakeIdP is just enough of inkpass for the load generator: the same
// redirects, form, cookie, PKCE and rotation rules, without crypto or storage.
type fakeIdP struct {
	mu       sync.Mutex
	pending  map[string]string // req id -> code_challenge|redirect|state
	codes    map[string]string // code -> code_challenge
	refresh  map[string]bool   // live refresh tokens
	retired  map[string]bool
	reuses   int
	sequence int
}

func newFakeIdP() *fakeIdP {
	return &fakeIdP{pending: map[string]string{}, codes: map[string]string{}, refresh: map[string]bool{}, retired: map[string]bool{}}
}

func (f *fakeIdP) reused() int { f.mu.Lock(); defer f.mu.Unlock(); return f.reuses }

func (f *fakeIdP) next(prefix string) string {
	f.sequence++
	return fmt.Sprintf("%s%d", prefix, f.sequence)
}

func (f *fakeIdP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	writeJSON := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		writeJSON(map[string]any{"issuer": "http://" + r.Host, "id_token_signing_alg_values_supported": []string{"ES256"}})
	case "/jwks":
		writeJSON(map[string]any{"keys": []any{}})
	case "/authorize":
		q := r.URL.Query()
		id := f.next("req")
		f.pending[id] = q.Get("code_challenge") + "|" + q.Get("redirect_uri") + "|" + q.Get("state")
		http.SetCookie(w, &http.Cookie{Name: "browser", Value: "b-" + id, Path: "/"})
		http.Redirect(w, r, "/login?req="+id, http.StatusSeeOther)
	case "/login":
		id := r.URL.Query().Get("req")
		ck, err := r.Cookie("browser")
		if err != nil || ck.Value != "b-"+id {
			http.Error(w, "no browser cookie", http.StatusBadRequest)
			return
		}
		if r.Method == http.MethodGet {
			fmt.Fprintf(w, `<form method="post" action="/login?req=%s"><input type="hidden" name="csrf_token" value="csrf-%s"><input name="username"><input name="password" type="password"></form>`, id, id)
			return
		}
		r.ParseForm()
		if r.PostForm.Get("csrf_token") != "csrf-"+id || r.PostForm.Get("password") != "pw" {
			http.Error(w, "bad form", http.StatusForbidden)
			return
		}
		parts := strings.SplitN(f.pending[id], "|", 3)
		delete(f.pending, id)
		code := f.next("code")
		f.codes[code] = parts[0]
		http.Redirect(w, r, parts[1]+"?code="+code+"&state="+parts[2], http.StatusSeeOther)
	case "/token":
		r.ParseForm()
		refresh := f.next("rt")
		switch r.PostForm.Get("grant_type") {
		case "authorization_code":
			challenge, ok := f.codes[r.PostForm.Get("code")]
			delete(f.codes, r.PostForm.Get("code"))
			if !ok || s256(r.PostForm.Get("code_verifier")) != challenge {
				http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
				return
			}
		case "refresh_token":
			old := r.PostForm.Get("refresh_token")
			if f.retired[old] {
				f.reuses++
			}
			if !f.refresh[old] {
				http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
				return
			}
			delete(f.refresh, old)
			f.retired[old] = true
		case "client_credentials":
			if id, secret, ok := r.BasicAuth(); !ok || id != "load-cc" || secret != "cc-secret" {
				http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
				return
			}
			writeJSON(map[string]any{"access_token": f.next("at"), "token_type": "Bearer"})
			return
		}
		f.refresh[refresh] = true
		writeJSON(map[string]any{"access_token": f.next("at"), "refresh_token": refresh, "id_token": "x.y.z", "token_type": "Bearer"})
	case "/userinfo":
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer at") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		writeJSON(map[string]any{"sub": "1"})
	default:
		http.NotFound(w, r)
	}
}

func TestParseWriteCounters(t *testing.T) {
	text := `# HELP inkpass_db_write_jobs_total Writes carried.
# TYPE inkpass_db_write_jobs_total counter
inkpass_db_write_jobs_total 5430
inkpass_db_write_transactions_total 1000
inkpass_http_requests_total{method="GET",route="/jwks",status="200"} 7
`
	got := parseWriteCounters(strings.NewReader(text))
	if !got.ok || got.jobs != 5430 || got.transactions != 1000 {
		t.Fatalf("parsed %+v", got)
	}
	w := dbWrites(writeCounters{transactions: 400, jobs: 430, ok: true}, got)
	if w == nil || w.Transactions != 600 || w.Jobs != 5000 || w.JobsPerTx < 8.33 || w.JobsPerTx > 8.34 {
		t.Errorf("dbWrites = %+v, want 600 transactions carrying 5000 jobs", w)
	}
	for name, text := range map[string]string{
		"no counters":      "inkpass_http_requests_total 3\n",
		"one counter only": "inkpass_db_write_jobs_total 5\n",
		"a bad value":      "inkpass_db_write_jobs_total five\ninkpass_db_write_transactions_total 1\n",
	} {
		if c := parseWriteCounters(strings.NewReader(text)); c.ok {
			t.Errorf("%s: parsed as %+v", name, c)
		}
		if dbWrites(got, parseWriteCounters(strings.NewReader(text))) != nil {
			t.Errorf("%s: dbWrites reported figures without both readings", name)
		}
	}
}
