package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Bounds that no flag can lift: a load run on a shared machine must stop by
// itself.
const (
	maxDuration    = 120 * time.Second
	maxRequests    = 10_000_000
	maxConcurrency = 2000
	maxTimeout     = 120 * time.Second
	maxUsers       = 100_000
)

// Scenarios the load command knows.
const (
	scDiscovery         = "discovery"
	scJWKS              = "jwks"
	scClientCredentials = "client_credentials"
	scRefresh           = "refresh"
	scUserInfo          = "userinfo"
	scLogin             = "login"
	scLoginBurst        = "login-burst"
	scMixed             = "mixed"
)

var scenarios = []string{scDiscovery, scJWKS, scClientCredentials, scRefresh, scUserInfo, scLogin, scLoginBurst, scMixed}

// config is one load run.
type config struct {
	// bases are the servers (-url, comma-separated); base is the first.
	// Operations take turns over them (see loader.endpoint).
	bases    []*url.URL
	base     *url.URL
	scenario string
	c        int
	d        time.Duration
	n        int64
	timeout  time.Duration

	clientID, clientSecret      string
	publicClientID, redirectURI string
	alg                         string // the public client's ID-token algorithm; discovery's first when empty
	username, password          string
	// users is how many users the logins take turns with (see userPool).
	users int
	// clientAddrs, when valid, gives each simulated browser its own
	// address in X-Forwarded-For (see browserAddr).
	clientAddrs netip.Prefix
	// metrics is the server's /metrics URL; nil: the counters are not read.
	metrics *url.URL

	// pids are the server processes (-pid, comma-separated): their CPU
	// time is summed. dbPID is a PostgreSQL postmaster (-db-pid): its and
	// its children's CPU time is reported apart, as the database's share.
	pids      []int
	dbPID     int
	serverLog string

	ref                  bool
	argon2MemoryKiB      uint
	argon2Time           uint
	argon2Threads        uint
	jsonOut, failOnError bool
}

type modeKind int

const (
	modeLoad modeKind = iota
	modeExtract
	modeFreePort
	modeWaitReady
)

type mode struct {
	kind  modeKind
	field string
	wait  time.Duration
}

func parseFlags(args []string, stderr io.Writer) (*config, mode, error) {
	fs := flag.NewFlagSet("inkpass-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg                              config
		rawURL, secretFile, passwordFile string
		rawMetrics, rawClientAddrs       string
		rawPIDs                          string
		extract                          string
		freePort                         bool
		wait                             time.Duration
	)
	fs.StringVar(&rawURL, "url", "http://localhost:8080", "inkpass base URL (the issuer, as make run sets it); loopback hosts only. Several servers on one database, comma-separated: operations take turns over them")
	fs.StringVar(&cfg.scenario, "scenario", scDiscovery, "one of "+strings.Join(scenarios, ", "))
	fs.IntVar(&cfg.c, "c", 16, fmt.Sprintf("concurrent workers, each with its own state (at most %d); for login-burst, the number of simultaneous logins", maxConcurrency))
	fs.DurationVar(&cfg.d, "d", 10*time.Second, fmt.Sprintf("how long to send requests (at most %s)", maxDuration))
	fs.Int64Var(&cfg.n, "n", 0, fmt.Sprintf("stop after this many operations (0: only -d bounds the run; at most %d)", maxRequests))
	fs.DurationVar(&cfg.timeout, "timeout", 60*time.Second, "per-request timeout")
	fs.StringVar(&cfg.clientID, "client-id", "load-cc", "confidential client for client_credentials")
	fs.StringVar(&cfg.clientSecret, "client-secret", "", "its secret (prefer -client-secret-file)")
	fs.StringVar(&secretFile, "client-secret-file", "", "file holding the confidential client's secret")
	fs.StringVar(&cfg.publicClientID, "public-client-id", "load-public", "public client for the login, refresh and userinfo flows (PKCE)")
	fs.StringVar(&cfg.alg, "alg", "", "the public client's ID-token algorithm (its --id-token-alg), for the signing reference; default: the first in discovery, RS256")
	fs.StringVar(&cfg.redirectURI, "redirect-uri", "http://127.0.0.1:1/cb", "the public client's registered redirect URI (never requested, only parsed)")
	fs.StringVar(&cfg.username, "username", "loadtest", "user that signs in")
	fs.StringVar(&cfg.password, "password", "", "that user's password (prefer -password-file)")
	fs.StringVar(&passwordFile, "password-file", "", "file holding the user's password")
	fs.IntVar(&cfg.users, "users", 1, "sign in as this many users in turn, named -username followed by 1…N (1: -username itself), all with -password; no user has two logins at once, since the server checks one password per username at a time")
	fs.StringVar(&rawClientAddrs, "client-addrs", "", "an IPv4 prefix such as 10.0.0.0/16: each simulated browser sends its own address from it in X-Forwarded-For, so that the server's per-address limits see many clients (it must trust loopback: throttle.trusted_proxies); traffic still goes only to -url")
	fs.StringVar(&rawMetrics, "metrics", "", "the server's metrics URL (its metrics.listen), e.g. http://127.0.0.1:9464/metrics: group-commit counters are read before and after the run; loopback only; empty: not read")
	fs.StringVar(&rawPIDs, "pid", "", "server pid, or several comma-separated: report their CPU time per operation (summed) and peak RSS (the largest) from /proc")
	fs.IntVar(&cfg.dbPID, "db-pid", 0, "PostgreSQL postmaster pid: report the CPU time it and its children (the backends) use per operation, apart from the servers'")
	fs.StringVar(&cfg.serverLog, "server-log", "", "server log file: count \"database is locked\" lines written during the run")
	fs.BoolVar(&cfg.ref, "ref", true, "measure reference costs in the same run: the signing algorithm (refresh) and the raw argon2id rate (login)")
	fs.UintVar(&cfg.argon2MemoryKiB, "argon2-memory-kib", 19456, "argon2id memory of the login reference; match the server's password.argon2_memory_kib")
	fs.UintVar(&cfg.argon2Time, "argon2-time", 2, "argon2id passes of the login reference")
	fs.UintVar(&cfg.argon2Threads, "argon2-threads", 1, "argon2id lanes of the login reference")
	fs.BoolVar(&cfg.jsonOut, "json", false, "print the result as one JSON object")
	fs.BoolVar(&cfg.failOnError, "fail-on-error", false, "exit 1 when any operation failed or the server answered 5xx or 429")
	fs.StringVar(&extract, "extract-json-field", "", "helper: print this string field of the JSON object on stdin, then exit")
	fs.BoolVar(&freePort, "free-port", false, "helper: print a free TCP port on 127.0.0.1, then exit")
	fs.DurationVar(&wait, "wait-ready", 0, "helper: poll -url's /readyz until it answers 200 or this time passes, then exit")
	if err := fs.Parse(args); err != nil {
		return nil, mode{}, err
	}
	if fs.NArg() > 0 {
		return nil, mode{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case extract != "":
		return &cfg, mode{kind: modeExtract, field: extract}, nil
	case freePort:
		return &cfg, mode{kind: modeFreePort}, nil
	}

	for _, raw := range strings.Split(rawURL, ",") {
		base, err := checkTarget("-url", strings.TrimSpace(raw))
		if err != nil {
			return nil, mode{}, err
		}
		cfg.bases = append(cfg.bases, base)
	}
	cfg.base = cfg.bases[0]
	if wait > 0 {
		if wait > maxDuration {
			return nil, mode{}, fmt.Errorf("-wait-ready %s is above %s", wait, maxDuration)
		}
		return &cfg, mode{kind: modeWaitReady, wait: wait}, nil
	}

	var problems []error
	bad := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }
	if !slices.Contains(scenarios, cfg.scenario) {
		bad("-scenario %q is not one of %s", cfg.scenario, strings.Join(scenarios, ", "))
	}
	if cfg.c < 1 || cfg.c > maxConcurrency {
		bad("-c %d must be between 1 and %d", cfg.c, maxConcurrency)
	}
	if cfg.d <= 0 || cfg.d > maxDuration {
		bad("-d %s must be positive and at most %s", cfg.d, maxDuration)
	}
	if cfg.n < 0 || cfg.n > maxRequests {
		bad("-n %d must be between 0 and %d", cfg.n, maxRequests)
	}
	if cfg.timeout <= 0 || cfg.timeout > maxTimeout {
		bad("-timeout %s must be positive and at most %s", cfg.timeout, maxTimeout)
	}
	var err error
	if cfg.pids, err = parsePIDs(rawPIDs); err != nil {
		bad("-pid: %v", err)
	}
	if cfg.dbPID < 0 {
		bad("-db-pid %d is not a process id", cfg.dbPID)
	}
	if cfg.users < 1 || cfg.users > maxUsers {
		bad("-users %d must be between 1 and %d", cfg.users, maxUsers)
	}
	if rawClientAddrs != "" {
		if cfg.clientAddrs, err = parseClientAddrs(rawClientAddrs, cfg.c); err != nil {
			bad("-client-addrs: %v", err)
		}
	}
	if rawMetrics != "" {
		if cfg.metrics, err = checkTarget("-metrics", rawMetrics); err != nil {
			bad("%v", err)
		}
	}
	if secretFile != "" {
		if cfg.clientSecret, err = readSecretFile(secretFile); err != nil {
			bad("-client-secret-file: %v", err)
		}
	}
	if passwordFile != "" {
		if cfg.password, err = readSecretFile(passwordFile); err != nil {
			bad("-password-file: %v", err)
		}
	}
	needs := scenarioNeeds(cfg.scenario)
	if needs.confidential && (cfg.clientID == "" || cfg.clientSecret == "") {
		bad("-scenario %s needs -client-id and -client-secret (or -client-secret-file)", cfg.scenario)
	}
	if needs.user {
		if cfg.publicClientID == "" || cfg.redirectURI == "" || cfg.username == "" || cfg.password == "" {
			bad("-scenario %s needs -public-client-id, -redirect-uri, -username and -password (or -password-file)", cfg.scenario)
		} else if _, err := url.Parse(cfg.redirectURI); err != nil {
			bad("-redirect-uri: %v", err)
		}
	}
	if err := errors.Join(problems...); err != nil {
		return nil, mode{}, err
	}
	return &cfg, mode{kind: modeLoad}, nil
}

type needs struct{ confidential, user bool }

func scenarioNeeds(s string) needs {
	switch s {
	case scClientCredentials:
		return needs{confidential: true}
	case scRefresh, scUserInfo, scLogin, scLoginBurst:
		return needs{user: true}
	case scMixed:
		return needs{confidential: true, user: true}
	}
	return needs{}
}

// checkTarget accepts only http(s) URLs whose host is loopback: 127.0.0.0/8,
// ::1 or localhost. The dialer checks the resolved address again (see
// loopbackDialer), so a hosts-file trick cannot send traffic elsewhere. flag
// names the flag in errors.
func checkTarget(flag, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%s %q: want an http or https URL", flag, raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%s %q: want scheme://host:port[/path] and nothing else", flag, raw)
	}
	if !isLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("%s %q: refusing a host that is not loopback (127.0.0.0/8, ::1, localhost)", flag, raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

var loopbackV4 = netip.MustParsePrefix("127.0.0.0/8")

// parseClientAddrs reads -client-addrs: an IPv4 prefix with room for one
// address per browser after the first. IPv6 is refused because the server
// counts an IPv6 client by its /64, so addresses from one /64 would all be one
// client; loopback is refused because the server, trusting loopback as a
// proxy, skips trusted addresses in X-Forwarded-For.
func parseClientAddrs(raw string, browsers int) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(raw)
	if err != nil {
		return netip.Prefix{}, err
	}
	p = p.Masked()
	if !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("%s is not an IPv4 prefix (the server counts IPv6 clients by /64)", p)
	}
	if p.Overlaps(loopbackV4) {
		return netip.Prefix{}, fmt.Errorf("%s is loopback, which the server trusts as a proxy and skips", p)
	}
	if size := uint64(1) << (32 - p.Bits()); size <= uint64(browsers) {
		return netip.Prefix{}, fmt.Errorf("%s has %d addresses, fewer than one per browser after the first (-c %d)", p, size, browsers)
	}
	return p, nil
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", errors.New("the file is empty")
	}
	return s, nil
}

// parsePIDs reads -pid: empty, or process ids separated by commas.
func parsePIDs(raw string) ([]int, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	var pids []int
	for _, f := range strings.Split(raw, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a process id", f)
		}
		pids = append(pids, n)
	}
	return pids, nil
}
