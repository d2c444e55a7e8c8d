package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/testsupport"
	"github.com/inkpass/inkpass/internal/user"
)

// reuseEnv is a store on a real file with a clock the test moves, two
// clients allowed to refresh, and the token endpoint's refresh steps
// (load, then Create with the rotated token) as functions.
type reuseEnv struct {
	db     *store.DB
	tokens *store.Tokens
	userID int64
	clock  *testsupport.Clock
}

func newReuseEnv(t *testing.T) *reuseEnv {
	t.Helper()
	e := &reuseEnv{clock: testsupport.NewClock(time.Unix(1_800_000_000, 0))}
	e.db = mustOpen(t, filepath.Join(t.TempDir(), "inkpass.db"), store.Options{Now: e.clock.Now})
	e.tokens = e.db.Tokens()
	uid, err := e.db.CreateUser(t.Context(), &user.User{Username: "reuse", PasswordHash: "x", Role: user.RoleAssistant, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	e.userID = uid
	clients, err := e.db.Clients(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"app", "other"} {
		c := &client.Client{ID: id, Name: id, Public: true, RedirectURIs: []string{"https://" + id + ".example/cb"},
			GrantTypes: []string{client.GrantAuthorizationCode, client.GrantRefreshToken}, AuthMethod: client.AuthNone, Enabled: true}
		c.Normalize()
		if err := clients.Create(t.Context(), c); err != nil {
			t.Fatalf("create client %s: %v", id, err)
		}
	}
	return e
}

// issue stores a first access and refresh token of a new grant of "app" and
// returns the refresh token and the grant id.
func (e *reuseEnv) issue(t *testing.T) (refresh, grantID string) {
	t.Helper()
	grantID = session.NewGrantID()
	tok := session.IssuedTokens{Access: session.NewSortableToken(), AccessTTL: time.Hour,
		Refresh: session.NewSortableToken(), RefreshTTL: 24 * time.Hour, Scope: "openid offline_access"}
	if err := e.tokens.IssueTokens(t.Context(), session.Grant{ID: grantID, ClientID: "app", UserID: e.userID, Scope: tok.Scope}, tok); err != nil {
		t.Fatalf("issue: %v", err)
	}
	return tok.Refresh, grantID
}

// load is the token endpoint's lookup of a presented refresh token: a reuse
// revokes the grant, as the endpoint does, and loads nothing.
func (e *reuseEnv) load(t *testing.T, refresh, clientID string, reuse time.Duration) *session.RefreshGrant {
	t.Helper()
	rg, err := e.tokens.RefreshGrant(t.Context(), refresh, clientID, reuse)
	if err != nil {
		if err := e.endpoint(t.Context(), err); !isReused(err) && !errors.Is(err, session.ErrGrantInvalid) {
			t.Fatalf("RefreshGrant: %v", err)
		}
		return nil
	}
	return rg
}

// rotate stores a new pair for a loaded token, as the token endpoint's
// refresh does, and returns the new refresh token.
func (e *reuseEnv) rotate(ctx context.Context, rg *session.RefreshGrant) (string, error) {
	refresh := session.NewSortableToken()
	tok := session.IssuedTokens{Access: session.NewSortableToken(), AccessTTL: time.Hour, Refresh: refresh, Scope: rg.Scope}
	return refresh, e.endpoint(ctx, e.tokens.RotateRefresh(ctx, rg, tok))
}

// endpoint is the token endpoint's answer to a reuse: it revokes the grant.
func (e *reuseEnv) endpoint(ctx context.Context, err error) error {
	var reused *session.ReusedError
	if errors.As(err, &reused) {
		if rerr := e.tokens.RevokeGrant(ctx, reused.GrantID, session.ReasonRefreshReused); rerr != nil {
			return rerr
		}
	}
	return err
}

func isReused(err error) bool {
	var reused *session.ReusedError
	return errors.As(err, &reused)
}

// live reports whether a refresh token that is not retired still refreshes
// (a retired one is reported as reuse, without revoking anything).
func (e *reuseEnv) live(t *testing.T, refresh string) bool {
	t.Helper()
	_, err := e.tokens.RefreshGrant(t.Context(), refresh, "", 0)
	if err != nil && !isReused(err) && !errors.Is(err, session.ErrGrantInvalid) {
		t.Fatalf("RefreshGrant: %v", err)
	}
	return err == nil
}

func (e *reuseEnv) events(t *testing.T, kind audit.Kind) []audit.Event {
	t.Helper()
	evs, err := e.db.AuditEvents(t.Context(), audit.Filter{Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func wantReuseRefused(t *testing.T, err error) {
	t.Helper()
	if !isReused(err) {
		t.Fatalf("RotateRefresh for a reused refresh token: err = %v, want *session.ReusedError", err)
	}
}

// TestTokens_RefreshReuse is the store's half of the reuse interval: the
// rotating transaction decides, so a refresh that lost the race with another
// of the same token is answered in the family within the interval and burns
// the family outside it.
func TestTokens_RefreshReuse(t *testing.T) {
	const reuse = 10 * time.Second

	t.Run("two refreshes that loaded the token before either rotated it both get a pair of the family", func(t *testing.T) {
		e := newReuseEnv(t)
		r0, grantID := e.issue(t)
		first, second := e.load(t, r0, "app", reuse), e.load(t, r0, "app", reuse)
		r1, err := e.rotate(t.Context(), first)
		if err != nil {
			t.Fatalf("first rotation: %v", err)
		}
		r2, err := e.rotate(t.Context(), second)
		if err != nil {
			t.Fatalf("the rotation that lost the race: %v", err)
		}
		if !e.live(t, r1) || !e.live(t, r2) {
			t.Fatalf("successors live = %v, %v; want both", e.live(t, r1), e.live(t, r2))
		}
		evs := e.events(t, audit.RefreshReuseAllowed)
		if len(evs) != 1 {
			t.Fatalf("%d %s events, want 1", len(evs), audit.RefreshReuseAllowed)
		}
		if ev := evs[0]; ev.ClientID != "app" || ev.UserID != e.userID || !strings.Contains(ev.Detail, grantID) || strings.Contains(ev.Detail, r0) {
			t.Errorf("audit event %+v: want client app, user %d, the grant id and no token", ev, e.userID)
		}
		if n := len(e.events(t, audit.RefreshReused)); n != 0 {
			t.Errorf("%d %s events, want none", n, audit.RefreshReused)
		}
	})

	t.Run("with no interval the refresh that lost the race revokes the family", func(t *testing.T) {
		e := newReuseEnv(t)
		r0, _ := e.issue(t)
		first, second := e.load(t, r0, "app", 0), e.load(t, r0, "app", 0)
		r1, err := e.rotate(t.Context(), first)
		if err != nil {
			t.Fatalf("first rotation: %v", err)
		}
		_, err = e.rotate(t.Context(), second)
		wantReuseRefused(t, err)
		if e.live(t, r1) {
			t.Error("the first successor survived the reuse")
		}
		if n := len(e.events(t, audit.RefreshReused)); n != 1 {
			t.Errorf("%d %s events, want 1", n, audit.RefreshReused)
		}
	})

	t.Run("after the interval the refresh that lost the race revokes the family", func(t *testing.T) {
		e := newReuseEnv(t)
		r0, _ := e.issue(t)
		first, second := e.load(t, r0, "app", reuse), e.load(t, r0, "app", reuse)
		r1, err := e.rotate(t.Context(), first)
		if err != nil {
			t.Fatalf("first rotation: %v", err)
		}
		e.clock.Advance(reuse + 2*time.Second)
		_, err = e.rotate(t.Context(), second)
		wantReuseRefused(t, err)
		if e.live(t, r1) {
			t.Error("the first successor survived a reuse after the interval")
		}
		if n := len(e.events(t, audit.RefreshReuseAllowed)); n != 0 {
			t.Errorf("%d %s events, want none", n, audit.RefreshReuseAllowed)
		}
	})

	t.Run("a token loaded for another client is never spared", func(t *testing.T) {
		e := newReuseEnv(t)
		r0, _ := e.issue(t)
		mine, theirs := e.load(t, r0, "app", reuse), e.load(t, r0, "other", reuse)
		r1, err := e.rotate(t.Context(), mine)
		if err != nil {
			t.Fatalf("first rotation: %v", err)
		}
		_, err = e.rotate(t.Context(), theirs)
		wantReuseRefused(t, err)
		if e.live(t, r1) {
			t.Error("the successor survived another client's reuse")
		}

		e2 := newReuseEnv(t)
		r0, _ = e2.issue(t)
		r1, err = e2.rotate(t.Context(), e2.load(t, r0, "app", reuse))
		if err != nil {
			t.Fatalf("first rotation: %v", err)
		}
		if ti := e2.load(t, r0, "other", reuse); ti != nil {
			t.Error("RefreshGrant returned a retired token to another client")
		}
		if e2.live(t, r1) {
			t.Error("the successor survived another client's reuse")
		}
	})

	t.Run("concurrent refreshes with one token all succeed in one family", func(t *testing.T) {
		e := newReuseEnv(t)
		r0, _ := e.issue(t)
		const parallel = 8
		got := make([]string, parallel)
		errs := make([]error, parallel)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range parallel {
			wg.Go(func() {
				<-start
				ti, err := e.tokens.RefreshGrant(t.Context(), r0, "app", reuse)
				if err != nil {
					errs[i] = errors.Join(err, errors.New("no token loaded"))
					return
				}
				got[i], errs[i] = e.rotate(t.Context(), ti)
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("refresh %d: %v", i, err)
			}
			if !e.live(t, got[i]) {
				t.Errorf("successor %d is not live", i)
			}
		}
		if n := len(e.events(t, audit.RefreshReuseAllowed)); n != parallel-1 {
			t.Errorf("%d %s events, want %d", n, audit.RefreshReuseAllowed, parallel-1)
		}
	})
}
