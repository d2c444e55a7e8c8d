package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// throttledIdP puts inkpass's login throttle in front of fakeIdP: one
// password check in flight per username, at most maxPerAddr per client
// address (X-Forwarded-For, which the fake trusts, or the peer), 429 with
// Retry-After beyond that.
type throttledIdP struct {
	idp        *fakeIdP
	maxPerAddr int
	always429  bool

	mu      sync.Mutex
	byUser  map[string]int
	byAddr  map[string]int
	users   map[string]bool
	addrs   map[string]bool
	refused int
}

func newThrottledIdP() *throttledIdP {
	return &throttledIdP{idp: newFakeIdP(), maxPerAddr: 8,
		byUser: map[string]int{}, byAddr: map[string]int{}, users: map[string]bool{}, addrs: map[string]bool{}}
}

func (t *throttledIdP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/login" || r.Method != http.MethodPost {
		t.idp.ServeHTTP(w, r)
		return
	}
	r.ParseForm()
	user := r.PostForm.Get("username")
	addr := r.Header.Get("X-Forwarded-For")
	if addr == "" {
		addr, _, _ = strings.Cut(r.RemoteAddr, ":")
	}
	t.mu.Lock()
	t.users[user], t.addrs[addr] = true, true
	if t.always429 || t.byUser[user] > 0 || t.byAddr[addr] >= t.maxPerAddr {
		t.refused++
		t.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		http.Error(w, "another sign-in for this account is in progress", http.StatusTooManyRequests)
		return
	}
	t.byUser[user]++
	t.byAddr[addr]++
	t.mu.Unlock()
	time.Sleep(3 * time.Millisecond) // a password check, so that logins overlap
	t.mu.Lock()
	t.byUser[user]--
	t.byAddr[addr]--
	t.mu.Unlock()
	if !strings.HasPrefix(user, "loadtest") {
		http.Error(w, "unknown user", http.StatusForbidden)
		return
	}
	t.idp.ServeHTTP(w, r)
}

func (t *throttledIdP) seen() (users, addrs []string, refused int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for u := range t.users {
		users = append(users, u)
	}
	for a := range t.addrs {
		addrs = append(addrs, a)
	}
	slices.Sort(users)
	return users, addrs, t.refused
}

func runJSON(t *testing.T, args ...string) (Result, int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, nil, &out, &errOut)
	var res Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("exit %d, decode result: %v\n%s\n%s", code, err, out.String(), errOut.String())
	}
	return res, code, errOut.String()
}

// TestRun_spreadsLoginsOverUsersAndAddresses: against a server that allows
// one password check per username and eight per address, the login
// scenarios sign in as -users users, never one twice at once, each browser
// claiming its own -client-addrs address, and see no 429.
func TestRun_spreadsLoginsOverUsersAndAddresses(t *testing.T) {
	for _, sc := range []string{scLogin, scLoginBurst, scMixed} {
		t.Run(sc, func(t *testing.T) {
			fake := newThrottledIdP()
			srv := httptest.NewServer(fake)
			defer srv.Close()
			res, code, stderr := runJSON(t, "-url", srv.URL, "-scenario", sc, "-c", "12", "-d", "5s", "-n", "60", "-json",
				"-client-secret", "cc-secret", "-username", "loadtest", "-password", "pw",
				"-users", "4", "-client-addrs", "10.9.0.0/16", "-ref=false", "-fail-on-error")
			users, addrs, refused := fake.seen()
			if code != 0 || res.Errors != 0 || res.Status429 != 0 || refused != 0 {
				t.Fatalf("exit %d, %d errors, %d answers 429 (%d refused by the fake), first %v; want none\n%s",
					code, res.Errors, res.Status429, refused, res.FirstErrors, stderr)
			}
			if want := []string{"loadtest1", "loadtest2", "loadtest3", "loadtest4"}; !slices.Equal(users, want) {
				t.Errorf("signed in as %q, want %q", users, want)
			}
			prefix := netip.MustParsePrefix("10.9.0.0/16")
			for _, a := range addrs {
				if ip, err := netip.ParseAddr(a); err != nil || !prefix.Contains(ip) {
					t.Errorf("login from %q, want an address in %s", a, prefix)
				}
			}
			if len(addrs) < 2 {
				t.Errorf("logins came from %q, want one address per browser", addrs)
			}
		})
	}
}

func TestRun_counts429(t *testing.T) {
	fake := newThrottledIdP()
	fake.always429 = true
	srv := httptest.NewServer(fake)
	defer srv.Close()
	var out bytes.Buffer
	code := run(context.Background(), []string{"-url", srv.URL, "-scenario", scLogin, "-c", "2", "-n", "6",
		"-password", "pw", "-ref=false", "-fail-on-error"}, nil, &out, io.Discard)
	if code != 1 {
		t.Errorf("exit %d, want 1 with -fail-on-error", code)
	}
	if !strings.Contains(out.String(), "s429=6") || !strings.Contains(out.String(), "429 throttled: 6") {
		t.Errorf("the output does not count six 429s:\n%s", out.String())
	}
}

// TestRun_readsMetricsFromTheirOwnListener: the counters come from -metrics,
// not from the main listener, which serves no /metrics.
func TestRun_readsMetricsFromTheirOwnListener(t *testing.T) {
	srv := httptest.NewServer(newFakeIdP())
	defer srv.Close()
	var reads atomic.Int64
	metrics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		n := reads.Add(1)
		fmt.Fprintf(w, "inkpass_db_write_transactions_total %d\ninkpass_db_write_jobs_total %d\n", 10*n, 30*n)
	}))
	defer metrics.Close()
	res, code, stderr := runJSON(t, "-url", srv.URL, "-scenario", scJWKS, "-c", "2", "-n", "10", "-json",
		"-metrics", metrics.URL+"/metrics", "-fail-on-error")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if res.DBWrites == nil || res.DBWrites.Transactions != 10 || res.DBWrites.Jobs != 30 {
		t.Errorf("db writes %+v, want 10 transactions carrying 30 jobs (two reads of -metrics)", res.DBWrites)
	}
	res, _, _ = runJSON(t, "-url", srv.URL, "-scenario", scJWKS, "-c", "2", "-n", "10", "-json")
	if res.DBWrites != nil {
		t.Errorf("without -metrics: db writes %+v, want none", res.DBWrites)
	}
}

func TestParseFlags_identitiesAndMetrics(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string // "" : accepted
	}{
		{"a metrics listener on loopback", []string{"-metrics", "http://127.0.0.1:9464/metrics"}, ""},
		{"a remote metrics URL is refused", []string{"-metrics", "http://192.0.2.1:9464/metrics"}, "-metrics"},
		{"a metrics URL with a query is refused", []string{"-metrics", "http://127.0.0.1:9464/metrics?x=1"}, "-metrics"},
		{"an IPv4 prefix with room for every browser", []string{"-c", "255", "-client-addrs", "10.0.0.0/24"}, ""},
		{"a prefix too small for the browsers", []string{"-c", "256", "-client-addrs", "10.0.0.0/24"}, "-client-addrs"},
		{"IPv6 is refused: the server counts a /64 as one client", []string{"-client-addrs", "fd00::/48"}, "IPv4"},
		{"loopback is refused: the server skips trusted proxies", []string{"-client-addrs", "127.0.0.0/16"}, "loopback"},
		{"a prefix covering loopback is refused", []string{"-client-addrs", "64.0.0.0/2"}, "loopback"},
		{"not a prefix", []string{"-client-addrs", "10.0.0.1"}, "-client-addrs"},
		{"no users is refused", []string{"-users", "0"}, "-users"},
		{"too many users is refused", []string{"-users", "100001"}, "-users"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, err := parseFlags(append([]string{"-url", "http://127.0.0.1:1"}, tc.args...), io.Discard)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("parseFlags(%q) = %v, want ok", tc.args, err)
				}
				if cfg.metrics == nil && cfg.clientAddrs == (netip.Prefix{}) {
					t.Errorf("parseFlags(%q) kept neither", tc.args)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseFlags(%q) = %v, want an error about %s", tc.args, err, tc.want)
			}
		})
	}
}

func TestBrowserAddr(t *testing.T) {
	p := netip.MustParsePrefix("10.1.0.0/16")
	// Worker i gets the (i+1)th address: the network address is skipped.
	for i, want := range map[int]string{0: "10.1.0.1", 255: "10.1.1.0", 299: "10.1.1.44"} {
		if got := browserAddr(p, i); got != want {
			t.Errorf("browserAddr(%s, %d) = %s, want %s", p, i, got, want)
		}
	}
	if got := browserAddr(netip.Prefix{}, 3); got != "" {
		t.Errorf("without a prefix: %q, want no address", got)
	}
}

func TestUsernames(t *testing.T) {
	if got := usernames("loadtest", 1); !slices.Equal(got, []string{"loadtest"}) {
		t.Errorf("one user: %q", got)
	}
	if got := usernames("lt", 3); !slices.Equal(got, []string{"lt1", "lt2", "lt3"}) {
		t.Errorf("three users: %q", got)
	}
}
