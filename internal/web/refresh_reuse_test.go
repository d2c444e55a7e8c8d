package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
)

// TestRefreshReuseInterval is issue 13's parallel refresh: a relying party
// such as oauth2-proxy sends several refreshes with one refresh token at
// once. Within the reuse interval each is answered with a pair of the same
// family and nothing is revoked; after it, or from another client, the reuse
// revokes the family as before. (Interval 0 is the default env's behaviour,
// tested by TestE2E_ArtistSignsIn's "reusing a retired one revokes the whole
// family".)
func TestRefreshReuseInterval(t *testing.T) {
	t.Parallel()
	const interval = 10 * time.Second
	e := harness.NewServer(t, harness.Options{RefreshReuse: interval})
	b := e.NewBrowser(t)
	app := e.AppRP(t, "openid", "profile", "offline_access")
	first := app.Start(false)
	other := first.Redeem(t, b.SignIn(first, "luna_artist", "artist_password").Get("code"))
	grant := func(t *testing.T) *harness.SignedIn {
		t.Helper()
		f := app.Start(false)
		return f.Redeem(t, b.SSO(f).Get("code"))
	}
	events := func(t *testing.T, kind audit.Kind) []audit.Event {
		t.Helper()
		evs, err := e.DB.AuditEvents(t.Context(), audit.Filter{Kind: kind})
		if err != nil {
			t.Fatalf("AuditEvents(%s): %v", kind, err)
		}
		return evs
	}
	wantRefreshes := func(t *testing.T, what string, toks ...*oauth2.Token) {
		t.Helper()
		for i, tok := range toks {
			e.WantUserinfoOK(t, tok.AccessToken)
			if _, err := app.Refresh(t, tok.RefreshToken); err != nil {
				t.Errorf("%s %d: its refresh token no longer refreshes: %v", what, i, err)
			}
		}
	}

	t.Run("concurrent refreshes with one token all succeed and the family lives on", func(t *testing.T) {
		g := grant(t)
		allowed0, reused0 := len(events(t, audit.RefreshReuseAllowed)), len(events(t, audit.RefreshReused))
		const parallel = 4
		toks := make([]*oauth2.Token, parallel)
		errs := make([]error, parallel)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range parallel {
			wg.Go(func() {
				<-start
				toks[i], errs[i] = app.Refresh(t, g.Token.RefreshToken)
			})
		}
		close(start)
		wg.Wait()
		seen := map[string]bool{g.Token.RefreshToken: true}
		for i, err := range errs {
			if err != nil {
				t.Fatalf("refresh %d of %d with the same token: %v", i, parallel, err)
			}
			if r := toks[i].RefreshToken; r == "" || seen[r] {
				t.Fatalf("refresh %d: refresh token %q is empty or not new", i, r)
			}
			seen[toks[i].RefreshToken] = true
			harness.VerifyTokenResponse(t, app, toks[i])
		}
		// Every successor works, and using one leaves the others alone.
		wantRefreshes(t, "successor", toks...)
		// The user's other grant is untouched.
		wantRefreshes(t, "other grant", other.Token)

		allowed := events(t, audit.RefreshReuseAllowed)
		if n := len(allowed) - allowed0; n != parallel-1 {
			t.Errorf("%d %s events, want %d (one per answer after the first)", n, audit.RefreshReuseAllowed, parallel-1)
		}
		for _, ev := range allowed[:len(allowed)-allowed0] {
			if ev.ClientID != harness.AppID || ev.UserID == 0 || !strings.Contains(ev.Detail, "grant ") {
				t.Errorf("audit event %+v: want client %s, the user and the grant id", ev, harness.AppID)
			}
			if strings.Contains(ev.Detail, g.Token.RefreshToken) {
				t.Errorf("audit event %+v carries the refresh token", ev)
			}
		}
		if n := len(events(t, audit.RefreshReused)) - reused0; n != 0 {
			t.Errorf("%d %s events, want none", n, audit.RefreshReused)
		}
	})

	t.Run("a token presented again after the interval revokes the family", func(t *testing.T) {
		g := grant(t)
		next, err := app.Refresh(t, g.Token.RefreshToken)
		if err != nil {
			t.Fatalf("first refresh: %v", err)
		}
		e.Clock.Advance(interval + 2*time.Second)
		_, err = app.Refresh(t, g.Token.RefreshToken)
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		_, err = app.Refresh(t, next.RefreshToken)
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		e.WantInvalidToken(t, next.AccessToken)
	})

	t.Run("the interval counts from the first rotation, not from the reuse it allowed", func(t *testing.T) {
		g := grant(t)
		next, err := app.Refresh(t, g.Token.RefreshToken)
		if err != nil {
			t.Fatalf("first refresh: %v", err)
		}
		e.Clock.Advance(interval / 2)
		again, err := app.Refresh(t, g.Token.RefreshToken)
		if err != nil {
			t.Fatalf("a reuse %v after the rotation: %v", interval/2, err)
		}
		e.Clock.Advance(interval/2 + 2*time.Second)
		_, err = app.Refresh(t, g.Token.RefreshToken)
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		for _, tok := range []*oauth2.Token{next, again} {
			_, err = app.Refresh(t, tok.RefreshToken)
			harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		}
	})

	t.Run("once a successor has been used, the old token is no longer the one a parallel request holds", func(t *testing.T) {
		g := grant(t)
		next, err := app.Refresh(t, g.Token.RefreshToken)
		if err != nil {
			t.Fatalf("first refresh: %v", err)
		}
		after, err := app.Refresh(t, next.RefreshToken)
		if err != nil {
			t.Fatalf("refresh with the successor: %v", err)
		}
		_, err = app.Refresh(t, g.Token.RefreshToken)
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		_, err = app.Refresh(t, after.RefreshToken)
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
	})

	t.Run("another client presenting a just-rotated token gets invalid_grant and no grace", func(t *testing.T) {
		g := grant(t)
		next, err := app.Refresh(t, g.Token.RefreshToken)
		if err != nil {
			t.Fatalf("first refresh: %v", err)
		}
		allowed0 := len(events(t, audit.RefreshReuseAllowed))
		r := e.PostToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {g.Token.RefreshToken}, "client_id": {harness.SPAID}})
		if r.Status != http.StatusBadRequest || r.Str("error") != "invalid_grant" {
			t.Fatalf("the SPA presenting the app's rotated token: status %d %v, want 400 invalid_grant", r.Status, r.Body)
		}
		if n := len(events(t, audit.RefreshReuseAllowed)) - allowed0; n != 0 {
			t.Errorf("%d %s events for another client, want none", n, audit.RefreshReuseAllowed)
		}
		// Presented by a client it was not issued to, a retired token is
		// reuse as it always was: the family is revoked.
		_, err = app.Refresh(t, next.RefreshToken)
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		_, err = app.Refresh(t, g.Token.RefreshToken)
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
	})
}
