package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

// rounds repeats each race so that both orders, and the interleavings in
// between, get their chance; each round is a new grant.
const rounds = 8

func runGrants(t *testing.T, open Opener) {
	t.Run("a code is loaded with what it was issued with, redeemed once, and its tokens are live", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		_, sid := e.signIn(u)
		code, grantID := e.issueCode(c, u, sid)
		cg, err := e.peekCode(code)
		if err != nil || cg == nil {
			t.Fatalf("peek code = %v, %v", cg, err)
		}
		if cg.ClientID != c.ID || cg.UserID != u.ID || cg.RedirectURI != c.RedirectURIs[0] ||
			cg.Scope != "openid offline_access" || cg.ID != grantID || cg.SID != sid ||
			cg.Extension.Get("nonce") != "n-"+grantID || cg.AccessTTL != time.Hour {
			t.Errorf("code = %+v, want what issueCode stored", cg)
		}
		toks, err := e.redeem(code)
		if err != nil {
			t.Fatalf("redeem: %v", err)
		}
		if !e.accessLive(toks.Access) || !e.refreshLive(toks.Refresh) {
			t.Fatalf("fresh tokens are not live")
		}
		if e.codeLive(code) {
			t.Errorf("a redeemed code is still live")
		}
		ag, err := e.Tokens.AccessGrant(e.ctx, toks.Access)
		if err != nil || ag.ID != grantID || ag.UserID != u.ID || ag.SID != sid || ag.Extension.Get("nonce") != "n-"+grantID {
			t.Errorf("AccessGrant = %+v, %v; want the code's grant with its extension", ag, err)
		}
		rec, err := e.Store.TokenRecord(e.ctx, toks.Access, "")
		if err != nil || rec == nil || rec.Kind != "access_token" || rec.GrantID != grantID || rec.SID != sid || rec.UserID != itoa(u.ID) || !rec.Active {
			t.Errorf("TokenRecord(access) = %+v, %v", rec, err)
		}
	})

	t.Run("no code is issued in a session that has ended", func(t *testing.T) {
		// /authorize loads the session, then issues the code: a logout,
		// password change or deactivation in between must not leave a code
		// that outlives the session.
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		cookie, sid := e.signIn(u)
		if err := e.Store.RevokeSession(e.ctx, cookie); err != nil {
			t.Fatal(err)
		}
		if code, _, err := e.tryIssueCode(c, u, sid); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("code in a revoked session: err = %v, want session.ErrNotFound (live code: %v)", err, err == nil && e.codeLive(code))
		}
		_, expiring := e.signIn(u)
		e.clock.Advance(time.Hour)
		if _, _, err := e.tryIssueCode(c, u, expiring); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("code in an expired session: err = %v, want session.ErrNotFound", err)
		}
		_, live := e.signIn(u)
		if _, _, err := e.tryIssueCode(c, u, live); err != nil {
			t.Errorf("code in a live session: %v", err)
		}
	})

	t.Run("an expired code is refused without burning its grant", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		code, _ := e.issueCode(c, u, "")
		e.clock.Advance(time.Minute)
		if _, err := e.redeem(code); !errors.Is(err, errRefused) {
			t.Errorf("redeem an expired code: err = %v, want refused", err)
		}
		if evs := e.events(audit.CodeReplayed); len(evs) != 0 {
			t.Errorf("an expired code was taken for a replay: %v", evs)
		}
	})

	t.Run("a replayed code is refused and burns its grant: the first exchange's tokens are revoked and audited", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		code, _ := e.issueCode(c, u, "")
		toks, err := e.redeem(code)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.redeem(code); err == nil {
			t.Fatalf("second redemption succeeded")
		}
		if e.accessLive(toks.Access) || e.refreshLive(toks.Refresh) {
			t.Errorf("tokens of a replayed code are still live")
		}
		if evs := e.events(audit.CodeReplayed); len(evs) != 1 || evs[0].ClientID != c.ID || evs[0].UserID != u.ID {
			t.Errorf("code_replayed events = %+v, want one for %s and user %d", evs, c.ID, u.ID)
		}
	})

	t.Run("the store reports a replay or a reuse and writes nothing: the endpoint decides to revoke", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		code, grantID := e.issueCode(c, u, "")
		toks, err := e.redeem(code)
		if err != nil {
			t.Fatal(err)
		}
		var replayed *session.ReplayedError
		if _, err := e.Tokens.RedeemCode(e.ctx, code, func(*session.CodeGrant) error { return nil }); !errors.As(err, &replayed) || replayed.GrantID != grantID {
			t.Fatalf("RedeemCode of a used code: err = %v, want *session.ReplayedError of grant %s", err, grantID)
		}
		first, refreshGrant := e.mustRedeem(c, u, "")
		if _, err := e.refresh(first.Refresh, c.ID, 0); err != nil {
			t.Fatal(err)
		}
		var reused *session.ReusedError
		if _, err := e.Tokens.RefreshGrant(e.ctx, first.Refresh, c.ID, 0); !errors.As(err, &reused) || reused.GrantID != refreshGrant {
			t.Fatalf("RefreshGrant of a retired token: err = %v, want *session.ReusedError of grant %s", err, refreshGrant)
		}
		if !e.accessLive(toks.Access) || !e.refreshLive(toks.Refresh) {
			t.Errorf("reporting a replay revoked the grant: that is the endpoint's decision")
		}
		if n := len(e.events(audit.CodeReplayed)) + len(e.events(audit.RefreshReused)); n != 0 {
			t.Errorf("%d replay/reuse events written by a report, want none", n)
		}
		if err := e.Tokens.RevokeGrant(e.ctx, replayed.GrantID, session.ReasonCodeReplayed); err != nil {
			t.Fatal(err)
		}
		if e.accessLive(toks.Access) || e.refreshLive(toks.Refresh) {
			t.Errorf("RevokeGrant after a replay left the first exchange's tokens live")
		}
		if evs := e.events(audit.CodeReplayed); len(evs) != 1 || evs[0].UserID != u.ID {
			t.Errorf("code_replayed events = %+v, want one for user %d", evs, u.ID)
		}
	})

	t.Run("a code is checked before it is consumed: a refused accept leaves it redeemable", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		code, _ := e.issueCode(c, u, "")
		wrongVerifier := errors.New("PKCE verification failed")
		if _, err := e.Tokens.RedeemCode(e.ctx, code, func(*session.CodeGrant) error { return wrongVerifier }); !errors.Is(err, wrongVerifier) {
			t.Fatalf("RedeemCode with a refusing accept: err = %v, want accept's error", err)
		}
		if _, err := e.redeem(code); err != nil {
			t.Errorf("the code after a refused check: %v, want it still redeemable", err)
		}
	})

	t.Run("two concurrent redemptions of one code: exactly one passes, and the grant ends burned", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		for round := range rounds {
			code, grantID := e.issueCode(c, u, "")
			var wg sync.WaitGroup
			var mu sync.Mutex
			var passed int
			var issued []pair
			for range 2 {
				wg.Go(func() {
					cg, err := e.redeemOnly(code)
					if errors.Is(err, errRefused) {
						return
					}
					if err != nil {
						t.Errorf("RedeemCode: %v", err)
						return
					}
					mu.Lock()
					passed++
					mu.Unlock()
					if p, err := e.storeTokens(cg.Grant); err == nil {
						mu.Lock()
						issued = append(issued, p)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if passed != 1 {
				t.Fatalf("round %d: %d redemptions marked the code used, want exactly 1", round, passed)
			}
			for _, p := range issued {
				if e.accessLive(p.Access) || e.refreshLive(p.Refresh) {
					t.Errorf("round %d: the winner's tokens are live after a concurrent replay (RFC 6749 §4.1.2)", round)
				}
			}
			e.wantBurned(round, c.ID, u, grantID)
		}
	})

	t.Run("a code marked used just before a revocation cannot mint tokens after it", func(t *testing.T) {
		// The token endpoint marks the code used, then stores the tokens:
		// a revocation that lands in between (a password change, a
		// logout, the account page) must not be outlived by them.
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		for _, tc := range []struct {
			name   string
			revoke func(sid string) error
		}{
			{"password change", func(string) error { return e.Users.SetPasswordHash(e.ctx, u.ID, fakeHash) }},
			{"deactivation", func(string) error {
				if err := e.Users.SetUserActive(e.ctx, u.ID, false, nil); err != nil {
					return err
				}
				return e.Users.SetUserActive(e.ctx, u.ID, true, nil)
			}},
			{"session logout", func(sid string) error { return e.Store.RevokeSessionTokens(e.ctx, sid) }},
			{"app access revoked", func(string) error { return e.Accounts.RevokeClientAccess(e.ctx, u.ID, c.ID) }},
			{"client disabled and enabled again", func(string) error {
				c.Enabled = false
				if err := e.Clients.Update(e.ctx, c); err != nil {
					return err
				}
				c.Enabled = true
				return e.Clients.Update(e.ctx, c)
			}},
		} {
			_, sid := e.signIn(u)
			code, _ := e.issueCode(c, u, sid)
			cg, err := e.redeemOnly(code)
			if err != nil {
				t.Fatalf("%s: RedeemCode: %v", tc.name, err)
			}
			if err := tc.revoke(sid); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			p, err := e.storeTokens(cg.Grant)
			if err == nil && (e.accessLive(p.Access) || e.refreshLive(p.Refresh)) {
				t.Errorf("%s between RedeemCode and IssueTokens: the exchange stored live tokens", tc.name)
			}
		}
	})

	t.Run("a code exchange racing a password change never leaves live tokens behind it", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		for round := range rounds {
			code, _ := e.issueCode(c, u, "")
			var wg sync.WaitGroup
			var toks pair
			var redeemErr error
			wg.Go(func() { toks, redeemErr = e.redeem(code) })
			wg.Go(func() {
				if err := e.Users.SetPasswordHash(e.ctx, u.ID, fakeHash); err != nil {
					t.Errorf("SetPasswordHash: %v", err)
				}
			})
			wg.Wait()
			if redeemErr == nil && (e.accessLive(toks.Access) || e.refreshLive(toks.Refresh)) {
				t.Fatalf("round %d: tokens from an exchange that raced a password change are live", round)
			}
		}
	})

	t.Run("a rotated refresh token presented again burns its family", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		first, grantID := e.mustRedeem(c, u, "")
		second, err := e.refresh(first.Refresh, c.ID, 0)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if e.accessLive(first.Access) || e.refreshLive(first.Refresh) {
			t.Errorf("rotation left the old access or refresh token live")
		}
		if !e.accessLive(second.Access) || !e.refreshLive(second.Refresh) {
			t.Fatalf("the rotated pair is not live")
		}
		if _, err := e.refresh(first.Refresh, c.ID, 0); !errors.Is(err, errRefused) {
			t.Errorf("reuse of a rotated refresh token: err = %v, want refused", err)
		}
		if e.accessLive(second.Access) || e.refreshLive(second.Refresh) {
			t.Errorf("reuse left the family's newest pair live (RFC 9700 §4.14.2)")
		}
		if evs := e.events(audit.RefreshReused); len(evs) != 1 {
			t.Errorf("refresh_token_reused events = %d, want 1", len(evs))
		}
		e.wantBurned(0, c.ID, u, grantID)
	})

	t.Run("a rotated refresh token presented by another client within the reuse interval is reuse", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c, other := e.createClient(), e.createClient()
		first, grantID := e.mustRedeem(c, u, "")
		second, err := e.refresh(first.Refresh, c.ID, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.refresh(first.Refresh, other.ID, 10*time.Second); !errors.Is(err, errRefused) {
			t.Errorf("another client's reuse within the interval: err = %v, want refused", err)
		}
		if e.refreshLive(second.Refresh) {
			t.Errorf("another client's reuse left the family live")
		}
		e.wantBurned(0, c.ID, u, grantID)
	})

	t.Run("a rotated refresh token presented again after the reuse interval burns its family", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		first, grantID := e.mustRedeem(c, u, "")
		second, err := e.refresh(first.Refresh, c.ID, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(11 * time.Second)
		if _, err := e.refresh(first.Refresh, c.ID, 10*time.Second); !errors.Is(err, errRefused) {
			t.Errorf("reuse after the interval: err = %v, want refused", err)
		}
		if e.refreshLive(second.Refresh) {
			t.Errorf("reuse after the interval left the family live")
		}
		e.wantBurned(0, c.ID, u, grantID)
	})

	t.Run("a refresh token is refused at its family's expiry", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		toks, _ := e.mustRedeem(c, u, "")
		e.clock.Advance(24 * time.Hour)
		if _, err := e.refresh(toks.Refresh, c.ID, 0); !errors.Is(err, errRefused) {
			t.Errorf("refresh at the family's expiry: err = %v, want refused", err)
		}
	})

	t.Run("two concurrent rotations of one refresh token without a reuse interval: exactly one wins, and the family ends burned", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		for round := range rounds {
			toks, grantID := e.mustRedeem(c, u, "")
			results := e.raceRefresh(toks.Refresh, c.ID, 0)
			var won []pair
			for _, r := range results {
				if r.err == nil {
					won = append(won, r.pair)
				}
			}
			if len(won) != 1 {
				t.Fatalf("round %d: %d of 2 concurrent rotations succeeded, want exactly 1 (errors %v, %v)", round, len(won), results[0].err, results[1].err)
			}
			if e.accessLive(won[0].Access) || e.refreshLive(won[0].Refresh) {
				t.Errorf("round %d: the winner's pair is live after the loser reused the token", round)
			}
			e.wantBurned(round, c.ID, u, grantID)
		}
	})

	t.Run("two concurrent rotations of one refresh token within the reuse interval: both get live pairs of the same family", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		for round := range rounds {
			toks, grantID := e.mustRedeem(c, u, "")
			results := e.raceRefresh(toks.Refresh, c.ID, 10*time.Second)
			for i, r := range results {
				if r.err != nil {
					t.Fatalf("round %d: rotation %d: %v", round, i, r.err)
				}
				if !e.accessLive(r.pair.Access) || !e.refreshLive(r.pair.Refresh) {
					t.Errorf("round %d: rotation %d's pair is not live", round, i)
				}
				rec, err := e.Store.TokenRecord(e.ctx, r.pair.Refresh, "refresh_token")
				if err != nil || rec == nil || rec.GrantID != grantID {
					t.Errorf("round %d: rotation %d's refresh token is of grant %v, want %s", round, i, rec, grantID)
				}
			}
			if results[0].pair == results[1].pair {
				t.Errorf("round %d: both rotations returned the same pair", round)
			}
			if _, err := e.refresh(results[0].pair.Refresh, c.ID, 10*time.Second); err != nil {
				t.Errorf("round %d: the next rotation of one of the pairs: %v", round, err)
			}
		}
	})

	t.Run("RevokeGrant revokes every token of the grant, and no token of it can be stored afterwards", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		code, grantID := e.issueCode(c, u, "")
		loaded, err := e.redeemOnly(code)
		if err != nil {
			t.Fatal(err)
		}
		other, _ := e.mustRedeem(c, u, "")
		if err := e.Store.RevokeGrant(e.ctx, grantID, "revoked by client"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.storeTokens(loaded.Grant); !errors.Is(err, session.ErrGrantInvalid) {
			t.Errorf("tokens for a revoked grant: err = %v, want session.ErrGrantInvalid", err)
		}
		if !e.accessLive(other.Access) {
			t.Errorf("RevokeGrant revoked another grant's token")
		}
		toks, g2 := e.mustRedeem(c, u, "")
		next, err := e.refresh(toks.Refresh, c.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Store.RevokeGrant(e.ctx, g2, "revoked by client"); err != nil {
			t.Fatal(err)
		}
		if e.accessLive(next.Access) || e.refreshLive(next.Refresh) {
			t.Errorf("RevokeGrant left the family's newest pair live")
		}
	})

	t.Run("RevokeAccessToken ends one access token; its refresh token lives on", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		a, _ := e.mustRedeem(c, u, "")
		b, _ := e.mustRedeem(c, u, "")
		if err := e.Store.RevokeAccessToken(e.ctx, a.Access); err != nil {
			t.Fatal(err)
		}
		if err := e.Store.RevokeAccessToken(e.ctx, b.Access); err != nil {
			t.Fatal(err)
		}
		for _, p := range []pair{a, b} {
			if e.accessLive(p.Access) || !e.refreshLive(p.Refresh) {
				t.Errorf("after revoking the access token: access live %v, refresh live %v; want false, true", e.accessLive(p.Access), e.refreshLive(p.Refresh))
			}
			rec, err := e.Store.TokenRecord(e.ctx, p.Access, "refresh_token")
			if err != nil || rec == nil || rec.Kind != "access_token" || rec.Active {
				t.Errorf("TokenRecord of a revoked access token (wrong hint) = %+v, %v; want found, inactive", rec, err)
			}
		}
		if rec, err := e.Store.TokenRecord(e.ctx, "st_unknown", ""); rec != nil || err != nil {
			t.Errorf("TokenRecord of an unknown token = %+v, %v; want nil, nil", rec, err)
		}
	})

	t.Run("an access token past its expiry is not live", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		toks, _ := e.mustRedeem(c, u, "")
		e.clock.Advance(time.Hour)
		if e.accessLive(toks.Access) {
			t.Errorf("access token live at its expiry")
		}
		if rec, _ := e.Store.TokenRecord(e.ctx, toks.Access, ""); rec == nil || rec.Active {
			t.Errorf("TokenRecord at expiry = %+v, want inactive", rec)
		}
	})

	t.Run("a client_credentials token has no user and no refresh token", func(t *testing.T) {
		e := newEnv(t, open)
		c := e.createClient()
		g := session.Grant{ID: session.NewGrantID(), ClientID: c.ID}
		tok := session.IssuedTokens{Access: session.NewSortableToken(), AccessTTL: time.Hour, Scope: "profile"}
		if err := e.Tokens.IssueTokens(e.ctx, g, tok); err != nil {
			t.Fatalf("IssueTokens: %v", err)
		}
		ag, err := e.Tokens.AccessGrant(e.ctx, tok.Access)
		if err != nil || ag.UserID != 0 || ag.ClientID != c.ID || ag.Scope != "profile" {
			t.Errorf("AccessGrant = %+v, %v", ag, err)
		}
		if rec, err := e.Store.TokenRecord(e.ctx, tok.Access, ""); err != nil || rec == nil || rec.UserID != "" {
			t.Errorf("TokenRecord = %+v, %v; want no user", rec, err)
		}
	})
}

type refreshResult struct {
	pair pair
	err  error
}

// raceRefresh runs two refreshes of one token at once.
func (e *env) raceRefresh(refresh, clientID string, reuse time.Duration) [2]refreshResult {
	var out [2]refreshResult
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() { out[i].pair, out[i].err = e.refresh(refresh, clientID, reuse) })
	}
	wg.Wait()
	return out
}

// wantBurned checks that nothing can be issued for grantID any more: a
// token stored under it now is refused.
func (e *env) wantBurned(round int, clientID string, u *user.User, grantID string) {
	e.t.Helper()
	g := session.Grant{ID: grantID, ClientID: clientID, UserID: u.ID, Scope: "openid"}
	tok := session.IssuedTokens{Access: session.NewSortableToken(), AccessTTL: time.Hour, Scope: "openid"}
	if err := e.Tokens.IssueTokens(e.ctx, g, tok); !errors.Is(err, session.ErrGrantInvalid) {
		e.t.Errorf("round %d: storing a token for grant %s, which should be burned: err = %v, want session.ErrGrantInvalid", round, grantID, err)
	}
}

func (e *env) events(kind audit.Kind) []audit.Event {
	e.t.Helper()
	evs, err := e.Audit.AuditEvents(e.ctx, audit.Filter{Kind: kind})
	if err != nil {
		e.t.Fatalf("AuditEvents: %v", err)
	}
	return evs
}
