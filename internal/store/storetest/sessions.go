package storetest

import (
	"cmp"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

func runSessions(t *testing.T, open Opener) {
	t.Run("CreateSession then SessionByTokenHash returns it; RevokeSession ends it and may be repeated", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		cookie, sid := e.signIn(u)
		s, err := e.Store.SessionByTokenHash(e.ctx, cookie)
		if err != nil {
			t.Fatalf("SessionByTokenHash: %v", err)
		}
		now := e.clock.Now()
		if s.SID != sid || s.UserID != u.ID || !s.AuthTime.Equal(now) || !s.ExpiresAt.Equal(now.Add(time.Hour)) {
			t.Errorf("session = %+v, want sid %s, user %d, auth_time %v", s, sid, u.ID, now)
		}
		if _, err := e.Store.SessionByTokenHash(e.ctx, session.Hash("st_unknown")); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("unknown cookie: err = %v, want session.ErrNotFound", err)
		}
		for range 2 {
			if err := e.Store.RevokeSession(e.ctx, cookie); err != nil {
				t.Fatalf("RevokeSession: %v", err)
			}
		}
		if e.sessionLive(cookie) {
			t.Errorf("revoked session still live")
		}
	})

	t.Run("a session past its expiry is not found", func(t *testing.T) {
		e := newEnv(t, open)
		cookie, _ := e.signIn(e.createUser(user.RoleAssistant))
		e.clock.Advance(time.Hour)
		if e.sessionLive(cookie) {
			t.Errorf("session live at its expiry")
		}
	})

	t.Run("RevokeSession queues one back-channel logout per client that took part, exactly once", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c1, c2, absent := e.createClient(), e.createClient(), e.createClient()
		cookie, sid := e.signIn(u)
		e.mustRedeem(c1, u, sid)
		e.issueCode(c2, u, sid) // took part even though never redeemed
		e.mustRedeem(absent, u, "")
		if got := e.claimAll(); len(got) != 0 {
			t.Fatalf("notices before any logout: %v", got)
		}
		if err := e.Store.RevokeSession(e.ctx, cookie); err != nil {
			t.Fatal(err)
		}
		if err := e.Store.RevokeSession(e.ctx, cookie); err != nil {
			t.Fatal(err)
		}
		got := e.claimAll()
		want := []noticeKey{{c1.ID, sid, itoa(u.ID)}, {c2.ID, sid, itoa(u.ID)}}
		slices.SortFunc(got, func(a, b noticeKey) int { return cmp.Compare(a.ClientID, b.ClientID) })
		slices.SortFunc(want, func(a, b noticeKey) int { return cmp.Compare(a.ClientID, b.ClientID) })
		if !slices.Equal(got, want) {
			t.Errorf("notices = %v, want %v", got, want)
		}
	})

	t.Run("a claimed notice is leased: not claimed again until the lease ends or Retry says when", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		cookie, sid := e.signIn(u)
		e.mustRedeem(c, u, sid)
		if err := e.Store.RevokeSession(e.ctx, cookie); err != nil {
			t.Fatal(err)
		}
		first, err := e.Outbox.ClaimLogoutNotices(e.ctx, 10, time.Minute)
		if err != nil || len(first) != 1 || first[0].Attempt != 1 || first[0].URI != c.BackchannelLogoutURI {
			t.Fatalf("first claim = %+v, %v; want one notice, attempt 1, to %s", first, err, c.BackchannelLogoutURI)
		}
		if again := e.claimAll(); len(again) != 0 {
			t.Errorf("claimed again within the lease: %v", again)
		}
		e.clock.Advance(time.Minute)
		second, err := e.Outbox.ClaimLogoutNotices(e.ctx, 10, time.Minute)
		if err != nil || len(second) != 1 || second[0].Attempt != 2 {
			t.Fatalf("claim after the lease = %+v, %v; want the notice again, attempt 2", second, err)
		}
		if err := e.Outbox.RetryLogoutNotice(e.ctx, second[0].ID, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		third, err := e.Outbox.ClaimLogoutNotices(e.ctx, 10, time.Minute)
		if err != nil || len(third) != 1 || third[0].Attempt != 3 {
			t.Fatalf("claim after Retry(now) = %+v, %v; want attempt 3", third, err)
		}
		if err := e.Outbox.DeleteLogoutNotice(e.ctx, third[0].ID); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Hour)
		if got := e.claimAll(); len(got) != 0 {
			t.Errorf("a deleted notice came back: %v", got)
		}
	})

	t.Run("two concurrent claims never hand out one notice twice", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		const n = 6
		for range n {
			c := e.createClient()
			cookie, sid := e.signIn(u)
			e.mustRedeem(c, u, sid)
			if err := e.Store.RevokeSession(e.ctx, cookie); err != nil {
				t.Fatal(err)
			}
		}
		seen := make(chan int64, 2*n)
		done := make(chan error, 2)
		for range 2 {
			go func() {
				ns, err := e.Outbox.ClaimLogoutNotices(e.ctx, n, time.Minute)
				for _, x := range ns {
					seen <- x.ID
				}
				done <- err
			}()
		}
		for range 2 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		close(seen)
		ids := map[int64]int{}
		for id := range seen {
			ids[id]++
		}
		for id, k := range ids {
			if k != 1 {
				t.Errorf("notice %d claimed %d times", id, k)
			}
		}
		if len(ids) != n {
			t.Errorf("%d distinct notices claimed, want %d", len(ids), n)
		}
	})

	t.Run("RevokeSessionTokens ends the tokens and codes issued under that session only", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		_, sid := e.signIn(u)
		_, otherSID := e.signIn(u)
		toks, _ := e.mustRedeem(c, u, sid)
		code, _ := e.issueCode(c, u, sid)
		kept, _ := e.mustRedeem(c, u, otherSID)
		if err := e.Store.RevokeSessionTokens(e.ctx, sid); err != nil {
			t.Fatal(err)
		}
		if e.accessLive(toks.Access) || e.refreshLive(toks.Refresh) || e.codeLive(code) {
			t.Errorf("a token or code of the session is still live")
		}
		if !e.accessLive(kept.Access) || !e.refreshLive(kept.Refresh) {
			t.Errorf("another session's tokens were revoked")
		}
	})
}

func runAuthRequests(t *testing.T, open Opener) {
	t.Run("a saved request is found only by the browser that made it, until it expires", func(t *testing.T) {
		e := newEnv(t, open)
		id, browser, other := session.Hash("st_req"), session.Hash("st_browser"), session.Hash("st_other")
		if err := e.Store.SaveAuthRequest(e.ctx, id, browser, []byte(`{"client_id":"x"}`), "", e.clock.Now().Add(time.Minute), 5); err != nil {
			t.Fatalf("SaveAuthRequest: %v", err)
		}
		data, sid, err := e.Store.AuthRequest(e.ctx, id, browser)
		if err != nil || string(data) != `{"client_id":"x"}` || sid != "" {
			t.Errorf("AuthRequest = %q, %q, %v", data, sid, err)
		}
		if _, _, err := e.Store.AuthRequest(e.ctx, id, other); !errors.Is(err, session.ErrAuthRequestNotFound) {
			t.Errorf("AuthRequest from another browser: err = %v, want ErrAuthRequestNotFound", err)
		}
		if err := e.Store.SetAuthRequestLogin(e.ctx, id, other, "st_sid"); !errors.Is(err, session.ErrAuthRequestNotFound) {
			t.Errorf("SetAuthRequestLogin from another browser: err = %v, want ErrAuthRequestNotFound", err)
		}
		if err := e.Store.SetAuthRequestLogin(e.ctx, id, browser, "st_sid"); err != nil {
			t.Fatalf("SetAuthRequestLogin: %v", err)
		}
		if _, sid, _ := e.Store.AuthRequest(e.ctx, id, browser); sid != "st_sid" {
			t.Errorf("login sid = %q, want st_sid", sid)
		}
		e.clock.Advance(time.Minute)
		if _, _, err := e.Store.AuthRequest(e.ctx, id, browser); !errors.Is(err, session.ErrAuthRequestNotFound) {
			t.Errorf("AuthRequest at its expiry: err = %v, want ErrAuthRequestNotFound", err)
		}
		if err := e.Store.SetAuthRequestLogin(e.ctx, id, browser, "st_sid"); !errors.Is(err, session.ErrAuthRequestNotFound) {
			t.Errorf("SetAuthRequestLogin at its expiry: err = %v, want ErrAuthRequestNotFound", err)
		}
	})

	t.Run("a request is answered once: DeleteAuthRequest twice is ErrAuthRequestNotFound", func(t *testing.T) {
		e := newEnv(t, open)
		id, browser := session.Hash("st_req"), session.Hash("st_browser")
		if err := e.Store.SaveAuthRequest(e.ctx, id, browser, []byte("{}"), "st_sid", e.clock.Now().Add(time.Minute), 5); err != nil {
			t.Fatal(err)
		}
		if err := e.Store.DeleteAuthRequest(e.ctx, id); err != nil {
			t.Fatalf("DeleteAuthRequest: %v", err)
		}
		if err := e.Store.DeleteAuthRequest(e.ctx, id); !errors.Is(err, session.ErrAuthRequestNotFound) {
			t.Errorf("second DeleteAuthRequest: err = %v, want ErrAuthRequestNotFound", err)
		}
		if _, _, err := e.Store.AuthRequest(e.ctx, id, browser); !errors.Is(err, session.ErrAuthRequestNotFound) {
			t.Errorf("AuthRequest after delete: err = %v", err)
		}
	})

	t.Run("a browser keeps at most keep pending requests, its newest; other browsers are untouched", func(t *testing.T) {
		e := newEnv(t, open)
		browser, other := session.Hash("st_browser"), session.Hash("st_other")
		exp := e.clock.Now().Add(time.Minute)
		otherID := session.Hash("st_other_req")
		if err := e.Store.SaveAuthRequest(e.ctx, otherID, other, []byte("{}"), "", exp, 3); err != nil {
			t.Fatal(err)
		}
		var ids [][]byte
		for i := range 5 {
			id := session.Hash(unique("req"))
			ids = append(ids, id)
			if err := e.Store.SaveAuthRequest(e.ctx, id, browser, []byte("{}"), "", exp, 3); err != nil {
				t.Fatalf("SaveAuthRequest %d: %v", i, err)
			}
		}
		for i, id := range ids {
			_, _, err := e.Store.AuthRequest(e.ctx, id, browser)
			if kept := i >= 2; kept != (err == nil) {
				t.Errorf("request %d of 5: err = %v, want kept %v", i, err, kept)
			}
		}
		if _, _, err := e.Store.AuthRequest(e.ctx, otherID, other); err != nil {
			t.Errorf("another browser's request was dropped: %v", err)
		}
	})
}

func runConsents(t *testing.T, open Opener) {
	t.Run("GrantConsent adds to what was approved before; none is nil", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		if got, err := e.Store.ConsentScopes(e.ctx, u.ID, c.ID); err != nil || got != nil {
			t.Errorf("ConsentScopes with none = %v, %v; want nil, nil", got, err)
		}
		for _, s := range [][]string{{"openid", "profile"}, {"openid", "email"}} {
			if err := e.Store.GrantConsent(e.ctx, u.ID, c.ID, s); err != nil {
				t.Fatal(err)
			}
		}
		got, err := e.Store.ConsentScopes(e.ctx, u.ID, c.ID)
		slices.Sort(got)
		if err != nil || !slices.Equal(got, []string{"email", "openid", "profile"}) {
			t.Errorf("ConsentScopes = %v, %v; want email openid profile", got, err)
		}
	})

	t.Run("concurrent GrantConsent calls lose no scope", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		scopes := []string{"openid", "profile", "email", "phone", "address", "offline_access"}
		var wg sync.WaitGroup
		for _, s := range scopes {
			wg.Go(func() {
				if err := e.Store.GrantConsent(e.ctx, u.ID, c.ID, []string{s}); err != nil {
					t.Errorf("GrantConsent(%s): %v", s, err)
				}
			})
		}
		wg.Wait()
		got, err := e.Store.ConsentScopes(e.ctx, u.ID, c.ID)
		slices.Sort(got)
		want := slices.Clone(scopes)
		slices.Sort(want)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ConsentScopes after concurrent grants = %v, %v; want %v", got, err, want)
		}
	})

	t.Run("RevokeClientAccess withdraws one client's consent and tokens and queues its logouts; other clients keep theirs", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		revoked, kept := e.createClient(), e.createClient()
		cookie, sid := e.signIn(u)
		for _, c := range []string{revoked.ID, kept.ID} {
			if err := e.Store.GrantConsent(e.ctx, u.ID, c, []string{"openid"}); err != nil {
				t.Fatal(err)
			}
		}
		gone, _ := e.mustRedeem(revoked, u, sid)
		code, _ := e.issueCode(revoked, u, sid)
		stay, _ := e.mustRedeem(kept, u, sid)
		apps, err := e.Accounts.ConnectedApps(e.ctx, u.ID)
		if err != nil || len(apps) != 2 {
			t.Fatalf("ConnectedApps = %v, %v; want both clients", apps, err)
		}
		if err := e.Accounts.RevokeClientAccess(e.ctx, u.ID, revoked.ID); err != nil {
			t.Fatalf("RevokeClientAccess: %v", err)
		}
		if got, _ := e.Store.ConsentScopes(e.ctx, u.ID, revoked.ID); got != nil {
			t.Errorf("consent after RevokeClientAccess = %v", got)
		}
		if e.accessLive(gone.Access) || e.refreshLive(gone.Refresh) || e.codeLive(code) {
			t.Errorf("the revoked client's token or code is still live")
		}
		if !e.accessLive(stay.Access) || !e.sessionLive(cookie) {
			t.Errorf("RevokeClientAccess ended another client's token or the session")
		}
		if got, want := e.claimAll(), []noticeKey{{revoked.ID, sid, itoa(u.ID)}}; !slices.Equal(got, want) {
			t.Errorf("notices = %v, want %v", got, want)
		}
		apps, err = e.Accounts.ConnectedApps(e.ctx, u.ID)
		if err != nil || len(apps) != 1 || apps[0].ClientID != kept.ID {
			t.Errorf("ConnectedApps after revoking one = %v, %v; want only %s", apps, err, kept.ID)
		}
	})
}
