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
	e := newEnv(t, envOptions{store: store.Options{BusyTimeout: 20 * time.Millisecond, WriteBudget: 300 * time.Millisecond}})
	b := e.newBrowser(t)
	app := e.appRP(t, "openid", "profile")
	f := app.start(true)
	signed := f.redeem(t, b.signIn(f, "luna_artist", "artist_password").Get("code"))
	// A second code, issued before the hold, to redeem during it.
	f2 := app.start(true)
	code2 := b.sso(f2).Get("code")
	// A second browser's login form, fetched before the hold.
	b2 := e.newBrowser(t)
	form := parseLoginForm(t, b2.get("/login"))

	release := holdWriteLock(t, e.db.Path())

	t.Run("the login form answers 503 with Retry-After and a busy page, even with the right password", func(t *testing.T) {
		p := b2.submitLogin(form, "luna_artist", "artist_password")
		if p.status != http.StatusServiceUnavailable {
			t.Fatalf("POST /login status = %d, want 503; body:\n%s", p.status, p.body)
		}
		wantRetryAfter(t, p.header)
		if !strings.Contains(p.body, "inkpass is busy") || strings.Contains(p.body, "Something went wrong") {
			t.Errorf("busy page does not say inkpass is busy:\n%s", p.body)
		}
	})
	t.Run("the token endpoint answers 503 temporarily_unavailable with Retry-After", func(t *testing.T) {
		r := e.postToken(t, url.Values{
			"grant_type": {"authorization_code"}, "code": {code2},
			"redirect_uri": {appRedirect}, "code_verifier": {f2.verifier},
		}, appID, appSecret)
		if r.status != http.StatusServiceUnavailable || r.str("error") != "temporarily_unavailable" {
			t.Fatalf("POST /token = %d %v, want 503 temporarily_unavailable", r.status, r.body)
		}
		wantRetryAfter(t, r.header)
	})
	t.Run("userinfo is served while writes wait", func(t *testing.T) {
		if got := e.wantUserinfoOK(t, signed.token.AccessToken); got["preferred_username"] != "luna_artist" {
			t.Errorf("userinfo = %v", got)
		}
	})
	t.Run("introspection of an existing token is served while writes wait", func(t *testing.T) {
		r := e.slIntrospect(t, signed.token.AccessToken, "")
		if r.body["active"] != true {
			t.Errorf("introspection = %s, want active", r.raw)
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
		form := parseLoginForm(t, b2.get("/login"))
		if p := b2.submitLogin(form, "luna_artist", "artist_password"); p.status != http.StatusSeeOther {
			t.Fatalf("POST /login after the release: status %d, want 303; body:\n%s", p.status, p.body)
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
	e := newEnv(t, envOptions{store: store.Options{BusyTimeout: 20 * time.Millisecond, WriteBudget: time.Minute}})
	b := e.newBrowser(t)
	form := parseLoginForm(t, b.get("/login"))
	release := holdWriteLock(t, e.db.Path())
	done := make(chan *page, 1)
	go func() { done <- b.submitLogin(form, "luna_artist", "artist_password") }()
	// Release once the login's write has met the lock and been retried.
	// Bounded in count, not in time.
	for i := 0; e.db.BusyRetries() < 3; i++ {
		if i == 20000 {
			t.Fatal("the login's write never waited for the lock")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case p := <-done:
		t.Fatalf("the login finished while the lock was held: status %d", p.status)
	default:
	}
	release()
	if p := <-done; p.status != http.StatusSeeOther {
		t.Errorf("POST /login after a short hold: status %d, want 303; body:\n%s", p.status, p.body)
	}
}
