package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/session"
)

// TestClientsWatchSeesOtherProcess checks the cache Clients keeps between
// reads (walwatch.go) against a second *DB on the same file, which is what
// the CLI in another process is: every change it commits must be seen by
// the first handle's very next lookup. The first handle's cache is warmed
// until a lookup is answered without a read (asserted, so that the cache is
// really in play), then the other handle changes something, and the next
// lookup must see it: at once, and also after the first handle's own writer
// has committed in between (which the watch must not take for its own).
func TestClientsWatchSeesOtherProcess(t *testing.T) {
	const addr = "192.0.2.10"
	lockAlways := func(int) time.Duration { return time.Hour }
	cases := []struct {
		name string
		// change is made through the other handle.
		change func(t *testing.T, other *DB, others *Clients, c *client.Client)
		// check inspects the first handle's next lookup.
		check func(t *testing.T, c *client.Client, until time.Time, err error)
	}{
		{"removed", func(t *testing.T, _ *DB, others *Clients, c *client.Client) {
			if err := others.Remove(context.Background(), c.ID); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, c *client.Client, _ time.Time, err error) {
			if err != client.ErrNotFound {
				t.Errorf("lookup of a client removed by another process = %v, %v; want client.ErrNotFound", c, err)
			}
		}},
		{"disabled", func(t *testing.T, _ *DB, others *Clients, c *client.Client) {
			c.Enabled = false
			if err := others.Update(context.Background(), c); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, c *client.Client, _ time.Time, err error) {
			if err != nil || c.Enabled {
				t.Errorf("lookup of a client disabled by another process = %+v, %v; want it disabled", c, err)
			}
		}},
		{"secret rotated", func(t *testing.T, _ *DB, others *Clients, c *client.Client) {
			c.SetSecret(others.HashKey(), "rotated-secret")
			if err := others.Update(context.Background(), c); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, c *client.Client, _ time.Time, err error) {
			if err != nil || c.VerifySecret("first-secret") || !c.VerifySecret("rotated-secret") {
				t.Errorf("after another process rotated the secret, the old one still verifies (err %v)", err)
			}
		}},
		{"client locked", func(t *testing.T, other *DB, _ *Clients, c *client.Client) {
			if err := other.RecordClientFailure(context.Background(), c.ID, "198.51.100.9", time.Now(), time.Hour, lockAlways, lockAlways); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, _ *client.Client, until time.Time, err error) {
			if err != nil || !until.After(time.Now()) {
				t.Errorf("lock on a client set by another process = %v, %v; want a lock", until, err)
			}
		}},
		{"address locked", func(t *testing.T, other *DB, _ *Clients, _ *client.Client) {
			if err := other.RecordClientFailure(context.Background(), "", addr, time.Now(), time.Hour, lockAlways, lockAlways); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, _ *client.Client, until time.Time, err error) {
			if err != nil || !until.After(time.Now()) {
				t.Errorf("lock on an address set by another process = %v, %v; want a lock", until, err)
			}
		}},
	}
	for _, tc := range cases {
		for _, ownWriteBetween := range []bool{false, true} {
			name := tc.name
			if ownWriteBetween {
				name += ", then an own commit"
			}
			t.Run(name, func(t *testing.T) {
				ctx := t.Context()
				path := filepath.Join(t.TempDir(), "inkpass.db")
				db, err := Open(ctx, path, Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				other, err := Open(ctx, path, Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { other.Close() })
				cs, err := db.Clients(ctx)
				if err != nil {
					t.Fatal(err)
				}
				others, err := other.Clients(ctx)
				if err != nil {
					t.Fatal(err)
				}
				c := &client.Client{ID: "machine", Name: "Machine", GrantTypes: []string{client.GrantClientCredentials},
					Scopes: []string{"profile"}, AuthMethod: client.AuthSecretBasic, Enabled: true}
				c.SetSecret(cs.HashKey(), "first-secret")
				if err := cs.Create(ctx, c); err != nil {
					t.Fatal(err)
				}
				issue := func() {
					t.Helper()
					err := db.Tokens().IssueTokens(ctx, session.Grant{ID: session.NewGrantID(), ClientID: c.ID},
						session.IssuedTokens{Access: session.NewToken(), AccessTTL: time.Hour, Scope: "profile"})
					if err != nil && err != session.ErrClientGone {
						t.Fatalf("issue a token: %v", err)
					}
				}
				// As under load: this process's writer commits between
				// lookups, and the lookups stop reading.
				for range 3 {
					issue()
					if _, _, err := cs.GetWithLock(ctx, c.ID, addr); err != nil {
						t.Fatal(err)
					}
				}
				before := cs.reads.Load()
				if _, until, err := cs.GetWithLock(ctx, c.ID, addr); err != nil || !until.IsZero() {
					t.Fatalf("warm lookup = %v, %v", until, err)
				}
				if _, err := cs.Get(ctx, c.ID); err != nil {
					t.Fatal(err)
				}
				if cs.reads.Load() != before {
					t.Fatalf("a warm lookup read the database: the cache under test is not in use")
				}

				tc.change(t, other, others, c)
				if ownWriteBetween {
					issue()
				}
				got, until, err := cs.GetWithLock(ctx, c.ID, addr)
				tc.check(t, got, until, err)
				if tc.name != "client locked" && tc.name != "address locked" {
					got, err := cs.Get(ctx, c.ID)
					tc.check(t, got, time.Time{}, err)
				}
			})
		}
	}
}

// TestClientsWatchSeesOwnChanges: a change made through another Clients
// handle of the same process, or a lock this process records, is seen by a
// warm handle's next lookup although no other process committed.
func TestClientsWatchSeesOwnChanges(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "inkpass.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cs, err := db.Clients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := db.Clients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := &client.Client{ID: "machine", Name: "Machine", GrantTypes: []string{client.GrantClientCredentials},
		Scopes: []string{"profile"}, AuthMethod: client.AuthSecretBasic, Enabled: true}
	c.SetSecret(cs.HashKey(), "first-secret")
	if err := admin.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	warm := func() {
		t.Helper()
		for range 2 {
			if _, _, err := cs.GetWithLock(ctx, c.ID, "192.0.2.1"); err != nil {
				t.Fatal(err)
			}
		}
		before := cs.reads.Load()
		if _, _, err := cs.GetWithLock(ctx, c.ID, "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		if cs.reads.Load() != before {
			t.Fatalf("a warm lookup read the database: the cache under test is not in use")
		}
	}
	warm()
	lockAlways := func(int) time.Duration { return time.Hour }
	if err := db.RecordClientFailure(ctx, c.ID, "198.51.100.1", time.Now(), time.Hour, lockAlways, lockAlways); err != nil {
		t.Fatal(err)
	}
	if _, until, err := cs.GetWithLock(ctx, c.ID, "192.0.2.1"); err != nil || !until.After(time.Now()) {
		t.Errorf("lock recorded by this process = %v, %v; want a lock", until, err)
	}
	warm()
	c.Enabled = false
	if err := admin.Update(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, _, err := cs.GetWithLock(ctx, c.ID, "192.0.2.1"); err != nil || got.Enabled {
		t.Errorf("client disabled through another handle = %+v, %v; want it disabled", got, err)
	}
}

// TestClientsWatchDistrustsAStillHeader: were the mapping not the live
// wal-index (a stale -shm beside a symlink, say), its header would never
// change, and the watch must then never vouch for the caches: a header that
// this process's own commit left unchanged is not trusted.
func TestClientsWatchDistrustsAStillHeader(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "inkpass.db")
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	other, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	cs, err := db.Clients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	others, err := other.Clients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := &client.Client{ID: "machine", Name: "Machine", GrantTypes: []string{client.GrantClientCredentials},
		Scopes: []string{"profile"}, AuthMethod: client.AuthSecretBasic, Enabled: true}
	if err := cs.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	live := db.watch.shm.Load()
	if live == nil {
		t.Fatal("no wal-index mapping")
	}
	// A copy of the header as it is now, which nothing will change again.
	db.watch.shm.Store(&shmMap{b: append([]byte(nil), live.b...)})
	for range 3 {
		err := db.Tokens().IssueTokens(ctx, session.Grant{ID: session.NewGrantID(), ClientID: c.ID},
			session.IssuedTokens{Access: session.NewToken(), AccessTTL: time.Hour, Scope: "profile"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := cs.GetWithLock(ctx, c.ID, "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := others.Remove(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if got, _, err := cs.GetWithLock(ctx, c.ID, "192.0.2.1"); err != client.ErrNotFound {
		t.Errorf("lookup of a client removed by another process, over a still header = %v, %v; want client.ErrNotFound", got, err)
	}
}
