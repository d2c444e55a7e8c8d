package web_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
)

// holdWriteLock opens a second connection on the database file, as the
// studio's Python app does, and takes the write lock (BEGIN IMMEDIATE) until
// the returned func is called.
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	other, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatalf("BEGIN IMMEDIATE on a second connection: %v", err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			if _, err := conn.ExecContext(context.Background(), `ROLLBACK`); err != nil {
				t.Errorf("release the write lock: %v", err)
			}
			conn.Close()
		})
	}
	t.Cleanup(release)
	return release
}

func wantRetryAfter(t *testing.T, h http.Header) {
	t.Helper()
	if ra := h.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After = %q, want a number of seconds", ra)
	}
}

// TestBusyDatabase: the studio's app holds a write transaction for longer
// than inkpass's write budget. Writes must be answered 503 with Retry-After
// (a page at /login, temporarily_unavailable at /token), never 500; reads
// must go on being served; /readyz must say why it is not ready; and all of
// it must recover once the lock is released.
func TestBusyDatabase(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{Store: store.Options{BusyTimeout: 20 * time.Millisecond, WriteBudget: 300 * time.Millisecond}})
	b := e.NewBrowser(t)
	app := e.AppRP(t, "openid", "profile")
	f := app.Start(true)
	signed := f.Redeem(t, b.SignIn(f, "luna_artist", "artist_password").Get("code"))
	// A second code, issued before the hold, to redeem during it.
	f2 := app.Start(true)
	code2 := b.SSO(f2).Get("code")
	// A second browser's login form, fetched before the hold.
	b2 := e.NewBrowser(t)
	form := harness.ParseLoginForm(t, b2.Get("/login"))

	release := holdWriteLock(t, e.DB.Path())

	t.Run("the login form answers 503 with Retry-After and a busy page, even with the right password", func(t *testing.T) {
		p := b2.SubmitLogin(form, "luna_artist", "artist_password")
		if p.Status != http.StatusServiceUnavailable {
			t.Fatalf("POST /login status = %d, want 503; body:\n%s", p.Status, p.Body)
		}
		wantRetryAfter(t, p.Header)
		if !strings.Contains(p.Body, "inkpass is busy") || strings.Contains(p.Body, "Something went wrong") {
			t.Errorf("busy page does not say inkpass is busy:\n%s", p.Body)
		}
	})
	t.Run("the token endpoint answers 503 temporarily_unavailable with Retry-After", func(t *testing.T) {
		r := e.PostToken(t, url.Values{
			"grant_type": {"authorization_code"}, "code": {code2},
			"redirect_uri": {harness.AppRedirect}, "code_verifier": {f2.Verifier},
		}, harness.AppID, harness.AppSecret)
		if r.Status != http.StatusServiceUnavailable || r.Str("error") != "temporarily_unavailable" {
			t.Fatalf("POST /token = %d %v, want 503 temporarily_unavailable", r.Status, r.Body)
		}
		wantRetryAfter(t, r.Header)
	})
	t.Run("userinfo is served while writes wait", func(t *testing.T) {
		if got := e.WantUserinfoOK(t, signed.Token.AccessToken); got["preferred_username"] != "luna_artist" {
			t.Errorf("userinfo = %v", got)
		}
	})
	t.Run("introspection of an existing token is served while writes wait", func(t *testing.T) {
		r := e.Introspect(t, signed.Token.AccessToken, "")
		if r.Body["active"] != true {
			t.Errorf("introspection = %s, want active", r.Raw)
		}
	})
	t.Run("discovery and JWKS are served while writes wait", func(t *testing.T) {
		for _, path := range []string{"/.well-known/openid-configuration", "/jwks"} {
			if resp, body := get(e, t, http.MethodGet, path, nil); resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s = %d %s", path, resp.StatusCode, body)
			}
		}
	})
	t.Run("readyz answers 503 with the reason", func(t *testing.T) {
		resp, body := get(e, t, http.MethodGet, "/readyz", nil)
		if status := resp.StatusCode; status != http.StatusServiceUnavailable || !strings.HasPrefix(body, "not ready: database") || !strings.Contains(body, "busy") {
			t.Errorf("GET /readyz = %d %q, want 503 saying the database is busy", resp.StatusCode, body)
		}
	})

	release()

	t.Run("after the release, the same login succeeds and readyz is ready", func(t *testing.T) {
		form := harness.ParseLoginForm(t, b2.Get("/login"))
		if p := b2.SubmitLogin(form, "luna_artist", "artist_password"); p.Status != http.StatusSeeOther {
			t.Fatalf("POST /login after the release: status %d, want 303; body:\n%s", p.Status, p.Body)
		}
		if resp, body := get(e, t, http.MethodGet, "/readyz", nil); resp.StatusCode != http.StatusOK {
			t.Errorf("GET /readyz after the release = %d %q, want 200", resp.StatusCode, body)
		}
	})
}

// TestBusyDatabase_ShortHoldWaits: a hold shorter than the write budget only
// delays the write: the login that arrived during it succeeds once the lock
// is released, though SQLite's busy timeout (20 ms) ran out many times.
func TestBusyDatabase_ShortHoldWaits(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{Store: store.Options{BusyTimeout: 20 * time.Millisecond, WriteBudget: time.Minute}})
	b := e.NewBrowser(t)
	form := harness.ParseLoginForm(t, b.Get("/login"))
	release := holdWriteLock(t, e.DB.Path())
	done := make(chan *harness.Page, 1)
	go func() { done <- b.SubmitLogin(form, "luna_artist", "artist_password") }()
	// Release once the login's write has met the lock and been retried.
	// Bounded in count, not in time.
	for i := 0; e.DB.BusyRetries() < 3; i++ {
		if i == 20000 {
			t.Fatal("the login's write never waited for the lock")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case p := <-done:
		t.Fatalf("the login finished while the lock was held: status %d", p.Status)
	default:
	}
	release()
	if p := <-done; p.Status != http.StatusSeeOther {
		t.Errorf("POST /login after a short hold: status %d, want 303; body:\n%s", p.Status, p.Body)
	}
}
