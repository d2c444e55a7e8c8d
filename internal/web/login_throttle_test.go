package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
	"github.com/inkpass/inkpass/internal/user"
)

// addrBrowser is a browser that speaks from one client address, given to
// inkpass through X-Forwarded-For by a trusted proxy (the test's loopback).
// Its methods return errors rather than fail the test, so that many of them
// can run at once.
type addrBrowser struct {
	e    *harness.Server
	addr string
	c    *http.Client
	form harness.LoginForm
}

func newAddrBrowser(e *harness.Server, t *testing.T, addr string) *addrBrowser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &addrBrowser{e: e, addr: addr, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       60 * time.Second,
	}}
	p, err := b.do(t, http.MethodGet, "/login", nil)
	if err != nil {
		t.Fatal(err)
	}
	b.form = harness.ParseLoginForm(t, p)
	return b
}

func (b *addrBrowser) do(t *testing.T, method, path string, form url.Values) (*harness.Page, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, b.e.Issuer+path, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Forwarded-For", b.addr)
	resp, err := b.c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &harness.Page{Status: resp.StatusCode, Header: resp.Header, Body: string(raw)}, nil
}

// login posts the sign-in form this browser loaded.
func (b *addrBrowser) login(t *testing.T, username, password string) (*harness.Page, error) {
	return b.do(t, http.MethodPost, b.form.Action, url.Values{"username": {username}, "password": {password}, "csrf_token": {b.form.CSRF}})
}

// lockForAnHour is the default policy with locks long enough never to
// expire while a test runs, however slowly (the race detector makes each
// verification take seconds).
var lockForAnHour = user.ThrottlePolicy{BaseLock: time.Hour, MaxLock: time.Hour}

// passwordChecks counts the password verifications inkpass made for a user,
// from the audit trail: every evaluated attempt leaves exactly one event,
// and refused ones (throttled, or concurrent with another) leave none.
func passwordChecks(e *harness.Server, t *testing.T, userID int64, kinds ...audit.Kind) int {
	t.Helper()
	n := 0
	for _, k := range kinds {
		evs, err := e.DB.AuditEvents(t.Context(), audit.Filter{UserID: userID, Kind: k})
		if err != nil {
			t.Fatal(err)
		}
		n += len(evs)
	}
	return n
}

// TestLogin_ConcurrentBurstIsThrottled is the race from the security review:
// a synchronised burst of wrong passwords for one username must not get more
// guesses evaluated than a sequential attacker gets (the free failures and
// the one that earns the first lock), the right password sent after it must
// not win, and other people must keep signing in while it runs.
//
// The right password is sent after the burst, not inside it: inside, whether
// it runs before or after the lock is a matter of scheduling, and a success
// clears the username's count as it does for a sequential attacker who
// guessed right, so no fixed number could be asserted.
func TestLogin_ConcurrentBurstIsThrottled(t *testing.T) {
	e := harness.NewServer(t, harness.Options{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")},
		Throttle:       lockForAnHour,
	})
	const password = "burst-target-pass-1"
	target := e.NewUser(t, "burst.target", password, nil)
	const burst = 60
	policy := user.DefaultThrottlePolicy()
	maxEvaluated := policy.FreeFailuresPerUsername + 1

	// Each attacker request comes from its own browser (its own CSRF token),
	// half from one address and half from addresses of one IPv6 /64.
	attackers := make([]*addrBrowser, burst)
	for i := range attackers {
		addr := "198.51.100.7"
		if i%2 == 1 {
			addr = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0x42, 0, 0, 0, 0, 0, 0, byte(i >> 8), byte(i)}).String()
		}
		attackers[i] = newAddrBrowser(e, t, addr)
	}
	bystander := newAddrBrowser(e, t, "203.0.113.9")

	start := make(chan struct{})
	pages := make([]*harness.Page, len(attackers))
	errs := make([]error, len(attackers))
	var wg sync.WaitGroup
	for i, b := range attackers {
		wg.Go(func() {
			<-start
			pages[i], errs[i] = b.login(t, target.Username, "wrong-guess-"+string(rune('a'+i%26)))
		})
	}
	var other *harness.Page
	var otherErr error
	wg.Go(func() {
		<-start
		other, otherErr = bystander.login(t, "luna_artist", "artist_password")
	})
	close(start)
	wg.Wait()

	statuses := map[int]int{}
	for i, p := range pages {
		if errs[i] != nil {
			t.Fatalf("attempt %d: %v", i, errs[i])
		}
		statuses[p.Status]++
		switch p.Status {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			if p.Header.Get("Retry-After") == "" {
				t.Errorf("attempt %d: 429 without Retry-After", i)
			}
		default:
			t.Errorf("attempt %d: status %d, want 401 or 429; error box %q", i, p.Status, harness.LoginError(p))
		}
	}
	evaluated := passwordChecks(e, t, target.ID, audit.LoginFailed, audit.LoginSucceeded)
	t.Logf("burst of %d: statuses %v, %d passwords evaluated", len(attackers), statuses, evaluated)
	if evaluated > maxEvaluated {
		t.Errorf("a concurrent burst got %d passwords evaluated for one username, want at most %d (as many as a sequential attacker)", evaluated, maxEvaluated)
	}
	if otherErr != nil {
		t.Fatalf("bystander: %v", otherErr)
	}
	if other.Status != http.StatusSeeOther {
		t.Errorf("another user's sign-in during the burst: status %d (%q), want 303", other.Status, harness.LoginError(other))
	}

	// However the burst went (many of its requests may have been refused
	// only for running at the same time), the attacker's next guesses are
	// counted against the same username: a sequence of them ends locked
	// with no more than a sequential attacker's guesses evaluated in all.
	b := attackers[0]
	locked := false
	for range maxEvaluated + 1 {
		p, err := b.login(t, target.Username, "yet-another-guess")
		if err != nil {
			t.Fatal(err)
		}
		if p.Status == http.StatusTooManyRequests {
			locked = true
			break
		}
	}
	if !locked {
		t.Errorf("%d more sequential guesses were all evaluated, want a 429", maxEvaluated+1)
	}
	if n := passwordChecks(e, t, target.ID, audit.LoginFailed, audit.LoginSucceeded); n != maxEvaluated {
		t.Errorf("%d passwords evaluated in all, want exactly %d: the free failures and the one that earns the lock", n, maxEvaluated)
	}
	// The right password does not win now.
	p, err := attackers[1].login(t, target.Username, password)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != http.StatusTooManyRequests {
		t.Errorf("the right password after the burst: status %d, want 429 (locked)", p.Status)
	}
}
