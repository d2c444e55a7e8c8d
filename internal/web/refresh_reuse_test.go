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
	e := newEnv(t, envOptions{refreshReuse: interval})
	b := e.newBrowser(t)
	app := e.appRP(t, "openid", "profile", "offline_access")
	first := app.start(false)
	other := first.redeem(t, b.signIn(first, "luna_artist", "artist_password").Get("code"))
	grant := func(t *testing.T) *signedIn {
		t.Helper()
		f := app.start(false)
		return f.redeem(t, b.sso(f).Get("code"))
	}
	events := func(t *testing.T, kind audit.Kind) []audit.Event {
		t.Helper()
		evs, err := e.db.AuditEvents(t.Context(), audit.Filter{Kind: kind})
		if err != nil {
			t.Fatalf("AuditEvents(%s): %v", kind, err)
		}
		return evs
	}
	wantRefreshes := func(t *testing.T, what string, toks ...*oauth2.Token) {
		t.Helper()
		for i, tok := range toks {
			e.wantUserinfoOK(t, tok.AccessToken)
			if _, err := app.refresh(t, tok.RefreshToken); err != nil {
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
				toks[i], errs[i] = app.refresh(t, g.token.RefreshToken)
			})
		}
		close(start)
		wg.Wait()
		seen := map[string]bool{g.token.RefreshToken: true}
		for i, err := range errs {
			if err != nil {
				t.Fatalf("refresh %d of %d with the same token: %v", i, parallel, err)
			}
			if r := toks[i].RefreshToken; r == "" || seen[r] {
				t.Fatalf("refresh %d: refresh token %q is empty or not new", i, r)
			}
			seen[toks[i].RefreshToken] = true
			verifyTokenResponse(t, app, toks[i])
		}
		// Every successor works, and using one leaves the others alone.
		wantRefreshes(t, "successor", toks...)
		// The user's other grant is untouched.
		wantRefreshes(t, "other grant", other.token)

		allowed := events(t, audit.RefreshReuseAllowed)
		if n := len(allowed) - allowed0; n != parallel-1 {
			t.Errorf("%d %s events, want %d (one per answer after the first)", n, audit.RefreshReuseAllowed, parallel-1)
		}
		for _, ev := range allowed[:len(allowed)-allowed0] {
			if ev.ClientID != appID || ev.UserID == 0 || !strings.Contains(ev.Detail, "grant ") {
				t.Errorf("audit event %+v: want client %s, the user and the grant id", ev, appID)
			}
			if strings.Contains(ev.Detail, g.token.RefreshToken) {
				t.Errorf("audit event %+v carries the refresh token", ev)
			}
		}
		if n := len(events(t, audit.RefreshReused)) - reused0; n != 0 {
			t.Errorf("%d %s events, want none", n, audit.RefreshReused)
		}
	})

	t.Run("a token presented again after the interval revokes the family", func(t *testing.T) {
		g := grant(t)
		next, err := app.refresh(t, g.token.RefreshToken)
		if err != nil {
			t.Fatalf("first refresh: %v", err)
		}
		e.clock.Advance(interval + 2*time.Second)
		_, err = app.refresh(t, g.token.RefreshToken)
		wantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		_, err = app.refresh(t, next.RefreshToken)
		wantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		e.wantInvalidToken(t, next.AccessToken)
	})

	t.Run("the interval counts from the first rotation, not from the reuse it allowed", func(t *testing.T) {
		g := grant(t)
		next, err := app.refresh(t, g.token.RefreshToken)
		if err != nil {
			t.Fatalf("first refresh: %v", err)
		}
		e.clock.Advance(interval / 2)
		again, err := app.refresh(t, g.token.RefreshToken)
		if err != nil {
			t.Fatalf("a reuse %v after the rotation: %v", interval/2, err)
		}
		e.clock.Advance(interval/2 + 2*time.Second)
		_, err = app.refresh(t, g.token.RefreshToken)
		wantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		for _, tok := range []*oauth2.Token{next, again} {
			_, err = app.refresh(t, tok.RefreshToken)
			wantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		}
	})

	t.Run("once a successor has been used, the old token is no longer the one a parallel request holds", func(t *testing.T) {
		g := grant(t)
		next, err := app.refresh(t, g.token.RefreshToken)
		if err != nil {
			t.Fatalf("first refresh: %v", err)
		}
		after, err := app.refresh(t, next.RefreshToken)
		if err != nil {
			t.Fatalf("refresh with the successor: %v", err)
		}
		_, err = app.refresh(t, g.token.RefreshToken)
		wantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		_, err = app.refresh(t, after.RefreshToken)
		wantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
	})

	t.Run("another client presenting a just-rotated token gets invalid_grant and no grace", func(t *testing.T) {
		g := grant(t)
		next, err := app.refresh(t, g.token.RefreshToken)
		if err != nil {
			t.Fatalf("first refresh: %v", err)
		}
		allowed0 := len(events(t, audit.RefreshReuseAllowed))
		r := e.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {g.token.RefreshToken}, "client_id": {spaID}})
		if r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
			t.Fatalf("the SPA presenting the app's rotated token: status %d %v, want 400 invalid_grant", r.status, r.body)
		}
		if n := len(events(t, audit.RefreshReuseAllowed)) - allowed0; n != 0 {
			t.Errorf("%d %s events for another client, want none", n, audit.RefreshReuseAllowed)
		}
		// Presented by a client it was not issued to, a retired token is
		// reuse as it always was: the family is revoked.
		_, err = app.refresh(t, next.RefreshToken)
		wantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		_, err = app.refresh(t, g.token.RefreshToken)
		wantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
	})
}
