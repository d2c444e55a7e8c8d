package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

func runClients(t *testing.T, open Opener) {
	t.Run("Create then Get and List return the client; a taken id is ErrExists", func(t *testing.T) {
		e := newEnv(t, open)
		c := e.createClient()
		got, err := e.Clients.Get(e.ctx, c.ID)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if got.Name != c.Name || got.RedirectURIs[0] != c.RedirectURIs[0] || got.BackchannelLogoutURI != c.BackchannelLogoutURI ||
			got.AuthMethod != c.AuthMethod || !got.Enabled || len(got.Scopes) != len(c.Scopes) {
			t.Errorf("Get = %+v, want the fields of %+v", got, c)
		}
		list, err := e.Clients.List(e.ctx)
		if err != nil || len(list) != 1 || list[0].ID != c.ID {
			t.Errorf("List = %v, %v; want the one client", list, err)
		}
		if err := e.Clients.Create(e.ctx, c); !errors.Is(err, client.ErrExists) {
			t.Errorf("Create of a taken id: err = %v, want client.ErrExists", err)
		}
		if _, err := e.Clients.Get(e.ctx, "st_nope"); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("Get of an unknown id: err = %v, want client.ErrNotFound", err)
		}
	})

	t.Run("a change made through one handle is seen at once through another that cached the client", func(t *testing.T) {
		e := newEnv(t, open)
		c := e.createClient()
		if _, err := e.OtherClients.Get(e.ctx, c.ID); err != nil { // caches it
			t.Fatal(err)
		}
		c.Name = "Renamed"
		if err := e.Clients.Update(e.ctx, c); err != nil {
			t.Fatalf("Update: %v", err)
		}
		if got, err := e.OtherClients.Get(e.ctx, c.ID); err != nil || got.Name != "Renamed" {
			t.Errorf("other handle after Update: %v, %v; want the new name", got, err)
		}
		if err := e.Clients.Remove(e.ctx, c.ID); err != nil {
			t.Fatalf("Remove: %v", err)
		}
		if _, err := e.OtherClients.Get(e.ctx, c.ID); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("other handle's Get after Remove: err = %v, want client.ErrNotFound", err)
		}
		if _, _, err := e.OtherClients.GetWithLock(e.ctx, c.ID, "192.0.2.1"); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("other handle's GetWithLock after Remove: err = %v, want client.ErrNotFound", err)
		}
		if err := e.Clients.Remove(e.ctx, c.ID); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("second Remove: err = %v, want client.ErrNotFound", err)
		}
		if err := e.Clients.Update(e.ctx, c); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("Update of a removed client: err = %v, want client.ErrNotFound", err)
		}
	})

	t.Run("disabling a client kills its tokens and codes, and Get reports it disabled", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		toks, _ := e.mustRedeem(c, u, "")
		code, _ := e.issueCode(c, u, "")
		c.Enabled = false
		if err := e.Clients.Update(e.ctx, c); err != nil {
			t.Fatalf("Update(disabled): %v", err)
		}
		if got, err := e.OtherClients.Get(e.ctx, c.ID); err != nil || got.Enabled {
			t.Errorf("Get of a disabled client = %v, %v; want it, disabled", got, err)
		}
		if e.accessLive(toks.Access) || e.refreshLive(toks.Refresh) || e.codeLive(code) {
			t.Errorf("a disabled client's token or code is still live")
		}
		c.Enabled = true
		if err := e.Clients.Update(e.ctx, c); err != nil {
			t.Fatal(err)
		}
		if e.accessLive(toks.Access) || e.refreshLive(toks.Refresh) || e.codeLive(code) {
			t.Errorf("re-enabling a client brought a token or code back")
		}
	})

	t.Run("removing a client kills its tokens, and no code or token can be stored for it afterwards", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		toks, _ := e.mustRedeem(c, u, "")
		code, _ := e.issueCode(c, u, "")
		loaded, err := e.peekCode(code)
		if err != nil || loaded == nil {
			t.Fatalf("peek code = %v, %v", loaded, err)
		}
		if err := e.Clients.Remove(e.ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if e.accessLive(toks.Access) || e.refreshLive(toks.Refresh) {
			t.Errorf("a removed client's tokens are live")
		}
		// A request in flight when the client went: its code was loaded
		// before, the tokens are stored after.
		if _, err := e.Tokens.RedeemCode(e.ctx, code, func(*session.CodeGrant) error { return nil }); !errors.Is(err, session.ErrGrantInvalid) {
			t.Errorf("RedeemCode of a removed client's code: err = %v, want session.ErrGrantInvalid", err)
		}
		if _, err := e.storeTokens(loaded.Grant); !errors.Is(err, session.ErrClientGone) {
			t.Errorf("storing tokens for a removed client: err = %v, want session.ErrClientGone", err)
		}
		if err := e.Clients.Create(e.ctx, c); err != nil { // same id, new registration
			t.Fatal(err)
		}
		if e.accessLive(toks.Access) || e.refreshLive(toks.Refresh) {
			t.Errorf("re-registering the client id brought the old tokens back")
		}
	})

	t.Run("IssueCode for an unknown client fails with ErrClientGone", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		if err := e.Clients.Remove(e.ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		_, _, err := e.tryIssueCode(c, u, "")
		if !errors.Is(err, session.ErrClientGone) {
			t.Errorf("storing a code for a removed client: err = %v, want session.ErrClientGone", err)
		}
	})

	t.Run("concurrent failed client authentications are all counted", func(t *testing.T) {
		e := newEnv(t, open)
		c := e.createClient()
		now := e.clock.Now()
		const n = 12
		// Locks only from the n-th failure: any lost count leaves it open.
		lock := func(k int) time.Duration {
			if k >= n {
				return time.Minute
			}
			return 0
		}
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				if err := e.Store.RecordClientFailure(e.ctx, c.ID, "192.0.2.8", now, time.Hour, lock, lock); err != nil {
					t.Errorf("RecordClientFailure: %v", err)
				}
			})
		}
		wg.Wait()
		if _, until, err := e.Clients.GetWithLock(e.ctx, c.ID, "198.51.100.2"); err != nil || until.IsZero() {
			t.Errorf("after %d concurrent failures the client is not locked (lock %v, err %v)", n, until, err)
		}
		if _, until, _ := e.Clients.GetWithLock(e.ctx, "st_unknown", "192.0.2.8"); until.IsZero() {
			t.Errorf("after %d concurrent failures the address is not locked", n)
		}
	})

	t.Run("failed client authentications lock the client and the address", func(t *testing.T) {
		e := newEnv(t, open)
		c := e.createClient()
		now := e.clock.Now()
		lock := func(n int) time.Duration {
			if n >= 2 {
				return time.Minute
			}
			return 0
		}
		for range 2 {
			if err := e.Store.RecordClientFailure(e.ctx, c.ID, "192.0.2.7", now, time.Hour, lock, lock); err != nil {
				t.Fatalf("RecordClientFailure: %v", err)
			}
		}
		_, until, err := e.Clients.GetWithLock(e.ctx, c.ID, "198.51.100.1")
		if err != nil || !until.Equal(now.Add(time.Minute)) {
			t.Errorf("GetWithLock(client) lock = %v, %v; want %v", until, err, now.Add(time.Minute))
		}
		_, until, err = e.Clients.GetWithLock(e.ctx, "st_unknown", "192.0.2.7")
		if !errors.Is(err, client.ErrNotFound) || !until.Equal(now.Add(time.Minute)) {
			t.Errorf("GetWithLock(unknown client, locked address) = %v, %v; want the address's lock and ErrNotFound", until, err)
		}
		other := e.createClient()
		if _, until, err := e.Clients.GetWithLock(e.ctx, other.ID, "198.51.100.1"); err != nil || !until.IsZero() {
			t.Errorf("GetWithLock(another client, another address) lock = %v, %v; want none", until, err)
		}
	})
}
