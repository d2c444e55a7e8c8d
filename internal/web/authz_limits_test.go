package web_test

import (
	"database/sql"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	op "github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
	"github.com/inkpass/inkpass/internal/web"
)

// azAuthRequests counts pending authorization requests in the database.
func azAuthRequests(e *harness.Server, t *testing.T) int {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+e.DB.Path()+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM inkpass_auth_requests`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAuthorizePendingRequestsAreBounded: each GET /authorize that needs the
// login page stores a pending request; one client address cannot store them
// without limit, and one browser holds at most op.MaxPendingPerBrowser.
func TestAuthorizePendingRequestsAreBounded(t *testing.T) {
	t.Parallel()
	app := func(e *harness.Server) *harness.RP {
		return e.NewRP(t, harness.AppID, harness.AppSecret, harness.AppRedirect, "openid")
	}

	t.Run("one address beyond its burst gets a 429 page with Retry-After, and stores nothing more", func(t *testing.T) {
		const burst, sent = 10, 40
		// One request a minute after the burst: however slowly this test
		// runs, at most a couple more are let through.
		e := harness.NewServer(t, harness.Options{Pending: web.PendingLimit{PerMinute: 1, Burst: burst}})
		p := app(e)
		var allowed, limited int
		for range sent {
			// A new browser each time, as a script without cookies is.
			r := e.NewBrowser(t).Get(p.Start(false).URL)
			switch r.Status {
			case http.StatusSeeOther:
				allowed++
			case http.StatusTooManyRequests:
				limited++
				ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
				if err != nil || ra < 1 || ra > 60 {
					t.Errorf("429 with Retry-After %q, want 1-60 seconds", r.Header.Get("Retry-After"))
				}
				if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || r.Location() != "" {
					t.Errorf("429 answer: Content-Type %q Location %q, want an HTML page", ct, r.Location())
				}
			default:
				t.Fatalf("GET /authorize: status %d, want 303 or 429", r.Status)
			}
		}
		if allowed < burst || allowed > burst+2 || limited != sent-allowed {
			t.Errorf("%d let through and %d refused of %d, want %d (+2 at most) let through and the rest refused", allowed, limited, sent, burst)
		}
		if n := azAuthRequests(e, t); n != allowed {
			t.Errorf("%d pending requests stored, want %d (one per request let through)", n, allowed)
		}
		// A browser with a session is not a new pending request: single
		// sign-on still works for this address.
		bw := e.NewBrowser(t)
		ana := e.NewUser(t, "ana.azbound", "ana-azbound-pass-1", nil)
		login := bw.Get("/login")
		bw.SubmitLogin(harness.ParseLoginForm(t, login), ana.Username, ana.Password)
		bw.SSO(p.Start(false))
	})

	t.Run("a request with the largest values it may carry stores under 3 KB", func(t *testing.T) {
		e := harness.NewServer(t, harness.Options{})
		f := app(e).Start(false,
			slParam("login_hint", strings.Repeat("h", 4000)),
			slParam("nonce", strings.Repeat("n", 512)))
		u, _ := url.Parse(f.URL)
		q := u.Query()
		q.Set("state", strings.Repeat("s", 2048))
		azLoginPath(t, e.NewBrowser(t).Get("/authorize?"+q.Encode()))
		db, err := sql.Open("sqlite3", "file:"+e.DB.Path()+"?mode=ro&_busy_timeout=5000")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var size int
		if err := db.QueryRowContext(t.Context(), `SELECT max(length(data)) FROM inkpass_auth_requests`).Scan(&size); err != nil {
			t.Fatal(err)
		}
		if size >= 3000 {
			t.Errorf("a pending request stores %d bytes, want under 3000 (a login_hint that cannot be a username is not kept)", size)
		}
	})

	t.Run("one browser keeps its newest pending requests, and the oldest expire", func(t *testing.T) {
		e := harness.NewServer(t, harness.Options{})
		p := app(e)
		b := e.NewBrowser(t)
		const sent = 30
		var paths []string
		for range sent {
			loginPath, _ := azLoginPath(t, b.Get(p.Start(false).URL))
			paths = append(paths, loginPath)
		}
		if n := azAuthRequests(e, t); n != op.MaxPendingPerBrowser {
			t.Errorf("%d pending requests stored for one browser after %d, want %d", n, sent, op.MaxPendingPerBrowser)
		}
		if g := b.Get(paths[0]); g.Status != http.StatusBadRequest || !strings.Contains(g.Body, "This sign-in has expired") {
			t.Errorf("GET the oldest login page: status %d, want 400 expired", g.Status)
		}
		if g := b.Get(paths[sent-1]); g.Status != http.StatusOK {
			t.Errorf("GET the newest login page: status %d, want 200", g.Status)
		}
	})
}
