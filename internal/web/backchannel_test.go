package web_test

// OpenID Connect Back-Channel Logout 1.0 end to end: a relying party's
// back-channel endpoint on httptest receives the logout token when a session
// it took part in ends, delivered by the same worker `inkpass serve` runs.

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/inkpass/inkpass/internal/backchannel"
	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/password"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
	"github.com/inkpass/inkpass/internal/user"
)

const (
	bcPortalID        = "bc-portal"
	bcPortalSecret    = "bc-portal-secret-0123456789abcdefghijklmnopq"
	bcPortalRedirect  = "http://localhost:7300/portal/callback"
	bcPortalSignedOut = "http://localhost:7300/portal/signed-out"
	// bcBystanderID has a back-channel URI too but never takes part in the
	// test's sessions: it must get nothing.
	bcBystanderID       = "bc-bystander"
	bcBystanderSecret   = "bc-bystander-secret-0123456789abcdefghijklm"
	bcBystanderRedirect = "http://localhost:7301/callback"
)

// bcEndpoint is one relying party's back-channel logout endpoint.
type bcEndpoint struct {
	srv *httptest.Server
	mu  sync.Mutex
	// fail answers 500 to that many deliveries before answering 200.
	fail int
	// hold, when set, keeps each answer back until it is closed (or a
	// safety minute passes, so a broken build fails instead of hanging).
	hold   chan struct{}
	tokens []string
	events []string // what happened, in order, for ordering assertions
	got    chan string
}

func newBCEndpoint(t *testing.T) *bcEndpoint {
	ep := &bcEndpoint{got: make(chan string, 16)}
	ep.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("back-channel request: %s with Content-Type %q, want a form POST", r.Method, r.Header.Get("Content-Type"))
		}
		tok := r.PostFormValue("logout_token")
		ep.mu.Lock()
		ep.tokens = append(ep.tokens, tok)
		ep.events = append(ep.events, "rp received")
		fail := len(ep.tokens) <= ep.fail
		hold := ep.hold
		ep.mu.Unlock()
		if hold != nil {
			select {
			case <-hold:
			case <-time.After(time.Minute):
			}
		}
		ep.mu.Lock()
		ep.events = append(ep.events, "rp answered")
		ep.mu.Unlock()
		if fail {
			w.WriteHeader(http.StatusInternalServerError)
		}
		ep.got <- tok
	}))
	t.Cleanup(ep.srv.Close)
	return ep
}

func (ep *bcEndpoint) note(event string) {
	ep.mu.Lock()
	ep.events = append(ep.events, event)
	ep.mu.Unlock()
}

func (ep *bcEndpoint) count() int {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	return len(ep.tokens)
}

// wait returns the next token delivered, failing after a generous bound.
func (ep *bcEndpoint) wait(t *testing.T) string {
	t.Helper()
	select {
	case tok := <-ep.got:
		return tok
	case <-time.After(30 * time.Second):
		t.Fatal("no logout token reached the relying party")
		return ""
	}
}

// bcEnv is an env with the portal and the bystander registered, their
// endpoints, and the back-channel worker running.
type bcEnv struct {
	*harness.Server
	portal, bystander *bcEndpoint
}

func newBCEnv(t *testing.T, backoff []time.Duration) *bcEnv {
	t.Helper()
	e := harness.NewServer(t, harness.Options{})
	be := &bcEnv{Server: e, portal: newBCEndpoint(t), bystander: newBCEndpoint(t)}
	for _, c := range []struct {
		c      *client.Client
		secret string
	}{
		{&client.Client{
			ID: bcPortalID, Name: "Back-channel Portal", FirstParty: true,
			RedirectURIs: []string{bcPortalRedirect}, PostLogoutRedirectURIs: []string{bcPortalSignedOut},
			AuthMethod: client.AuthSecretBasic, Enabled: true, BackchannelLogoutURI: be.portal.srv.URL + "/backchannel?tenant=1",
			// Not the default: the logout token must come in the client's
			// own algorithm, as its ID tokens do.
			IDTokenAlg: keys.ES256,
		}, bcPortalSecret},
		{&client.Client{
			ID: bcBystanderID, Name: "Bystander", FirstParty: true,
			RedirectURIs: []string{bcBystanderRedirect},
			AuthMethod:   client.AuthSecretBasic, Enabled: true, BackchannelLogoutURI: be.bystander.srv.URL + "/bc",
		}, bcBystanderSecret},
	} {
		c.c.Normalize()
		if err := c.c.Validate(); err != nil {
			t.Fatalf("client %s: %v", c.c.ID, err)
		}
		c.c.SetSecret(e.Clients.HashKey(), c.secret)
		if err := e.Clients.Create(t.Context(), c.c); err != nil {
			t.Fatalf("register client %s: %v", c.c.ID, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := backchannel.New(e.DB, e.Keys, backchannel.Options{
		Issuer: e.Issuer, Now: e.Clock.Now, Wake: e.DB.LogoutNoticeQueued(),
		// Another process's notices are found by polling; keep it short.
		Poll: 20 * time.Millisecond, Backoff: backoff,
	})
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return be
}

func (be *bcEnv) portalRP(t *testing.T) *harness.RP {
	return be.ClockedRP(t, bcPortalID, bcPortalSecret, bcPortalRedirect, "openid", "offline_access")
}

// bcSignOut signs b out through /logout's confirmation form.
func bcSignOut(t *testing.T, b *harness.Browser) {
	t.Helper()
	form := harness.FormTo(t, b.Get("/logout"), "/logout", "")
	if p := b.Post(form.Action, form.Fields); p.Status >= 400 {
		t.Fatalf("POST /logout: status %d", p.Status)
	}
}

// waitDrained waits until the worker has dealt with every queued notice:
// after it, a notice that was going to be sent has been.
func (be *bcEnv) waitDrained(t *testing.T) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+be.DB.Path()+"?_busy_timeout=5000&mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for range 3000 {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM inkpass_backchannel_outbox`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the back-channel outbox never drained")
}

// logoutClaims verifies a logout token as a relying party must (§2.6):
// signature against the published JWKS, typ, iss, aud, iat/exp, jti, events,
// no nonce. It returns the claims.
func (be *bcEnv) logoutClaims(t *testing.T, raw, clientID string) map[string]any {
	t.Helper()
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatalf("logout token is not a JWS: %v", err)
	}
	if typ := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType]; typ != backchannel.TokenType {
		t.Errorf("typ header = %v, want %s", typ, backchannel.TokenType)
	}
	payload, err := oidc.NewRemoteKeySet(t.Context(), be.Issuer+"/jwks").VerifySignature(t.Context(), raw)
	if err != nil {
		t.Fatalf("logout token signature does not verify against the JWKS: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	if c["iss"] != be.Issuer {
		t.Errorf("iss = %v, want %s", c["iss"], be.Issuer)
	}
	if c["aud"] != clientID {
		t.Errorf("aud = %v, want %s", c["aud"], clientID)
	}
	iat, _ := c["iat"].(float64)
	exp, _ := c["exp"].(float64)
	now := float64(be.Clock.Now().Unix())
	if iat == 0 || iat > now+1 || exp <= now || exp-iat > 300 {
		t.Errorf("iat %v, exp %v at %v: want issued now and expiring within minutes", iat, exp, now)
	}
	if s, _ := c["jti"].(string); s == "" {
		t.Error("no jti")
	}
	events, _ := c["events"].(map[string]any)
	if ev, ok := events[backchannel.EventLogout].(map[string]any); !ok || len(ev) != 0 || len(events) != 1 {
		t.Errorf("events = %v, want {%q: {}}", c["events"], backchannel.EventLogout)
	}
	if _, ok := c["nonce"]; ok {
		t.Error("a logout token must not carry a nonce")
	}
	return c
}

// TestBackchannelLogout_RPInitiated: signing out at /logout sends the portal,
// which took part in the session, a logout token naming the session's sid,
// without holding the user's page; the bystander, which did not, gets nothing.
func TestBackchannelLogout_RPInitiated(t *testing.T) {
	t.Parallel()
	be := newBCEnv(t, nil)
	ana := be.NewUser(t, "ana.bc", "ana-bc-pass-1", nil)
	b := be.NewBrowser(t)
	f := be.portalRP(t).Start(false)
	s := f.Redeem(t, b.SignIn(f, ana.Username, ana.Password).Get("code"))
	sid, _ := s.Claims["sid"].(string)
	if sid == "" {
		t.Fatal("the ID token has no sid")
	}

	be.portal.mu.Lock()
	be.portal.hold = make(chan struct{})
	be.portal.mu.Unlock()
	q := url.Values{"id_token_hint": {s.Raw}, "post_logout_redirect_uri": {bcPortalSignedOut}}
	p := b.Get("/logout?" + q.Encode())
	be.portal.note("page returned")
	close(be.portal.hold)
	if p.Status != http.StatusSeeOther || p.Location() != bcPortalSignedOut {
		t.Fatalf("GET /logout: status %d to %q, want 303 to %s", p.Status, p.Location(), bcPortalSignedOut)
	}
	raw := be.portal.wait(t)
	be.waitDrained(t)

	be.portal.mu.Lock()
	events := strings.Join(be.portal.events, ", ")
	be.portal.mu.Unlock()
	if page, answered := strings.Index(events, "page returned"), strings.Index(events, "rp answered"); page < 0 || answered < page {
		t.Errorf("events %q: the sign-out page waited for the relying party's answer", events)
	}
	c := be.logoutClaims(t, raw, bcPortalID)
	if jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}); err != nil {
		t.Errorf("logout token: %v", err)
	} else if alg := jws.Signatures[0].Header.Algorithm; alg != string(keys.ES256) {
		t.Errorf("logout token alg = %s, want the portal's ES256", alg)
	}
	if c["sid"] != sid {
		t.Errorf("sid = %v, want the ID token's %s", c["sid"], sid)
	}
	if c["sub"] != ana.Sub {
		t.Errorf("sub = %v, want %s", c["sub"], ana.Sub)
	}
	if n := be.portal.count(); n != 1 {
		t.Errorf("the portal got %d logout tokens, want 1", n)
	}
	if n := be.bystander.count(); n != 0 {
		t.Errorf("the bystander, which took no part in the session, got %d logout tokens", n)
	}

	// Signing out again (no session now) sends nothing more.
	if p := b.Get("/logout"); p.Status != http.StatusOK {
		t.Errorf("GET /logout without a session: status %d", p.Status)
	}
	be.waitDrained(t)
	if n := be.portal.count(); n != 1 {
		t.Errorf("after a second sign-out the portal got %d logout tokens, want still 1", n)
	}
}

// TestBackchannelLogout_Retries: a 500 is retried with a fresh token until
// the relying party answers 200, and a notice is dropped after the last
// attempt.
func TestBackchannelLogout_Retries(t *testing.T) {
	t.Parallel()
	be := newBCEnv(t, []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond})
	bo := be.NewUser(t, "bo.bc", "bo-bc-pass-1", nil)
	signInAndOut := func() {
		b := be.NewBrowser(t)
		f := be.portalRP(t).Start(false)
		f.Redeem(t, b.SignIn(f, bo.Username, bo.Password).Get("code"))
		bcSignOut(t, b)
	}
	t.Run("a 500 then success", func(t *testing.T) {
		be.portal.mu.Lock()
		be.portal.fail = 2
		be.portal.mu.Unlock()
		b := be.NewBrowser(t)
		f := be.portalRP(t).Start(false)
		f.Redeem(t, b.SignIn(f, bo.Username, bo.Password).Get("code"))
		// Ending the session from /account's password form needs no
		// confirmation step: it is the simplest way to end it here.
		if p := changePassword(t, b, bo.Password, "bo-bc-pass-2"); p.Status != http.StatusSeeOther {
			t.Fatalf("change password: status %d", p.Status)
		}
		bo.Password = "bo-bc-pass-2"
		be.waitDrained(t)
		be.portal.mu.Lock()
		tokens := append([]string(nil), be.portal.tokens...)
		be.portal.mu.Unlock()
		if len(tokens) != 3 {
			t.Fatalf("the portal saw %d attempts, want 3 (two 500s, then 200)", len(tokens))
		}
		jtis := map[any]bool{}
		for _, raw := range tokens {
			jtis[be.logoutClaims(t, raw, bcPortalID)["jti"]] = true
		}
		if len(jtis) != 3 {
			t.Errorf("%d distinct jti over 3 attempts, want a fresh one each time", len(jtis))
		}
	})
	t.Run("given up after the last attempt", func(t *testing.T) {
		be.portal.mu.Lock()
		be.portal.fail, be.portal.tokens = 1000, nil
		be.portal.mu.Unlock()
		signInAndOut()
		be.waitDrained(t)
		if n := be.portal.count(); n != 4 {
			t.Errorf("the portal saw %d attempts, want 4 (one, then one per backoff step)", n)
		}
	})
}

// TestBackchannelLogout_SessionEnds: every other way a session ends sends the
// logout token too: a password change, a deactivation by `inkpass user
// deactivate` (another process, on the same database file), the studio's app
// deactivating the user behind inkpass's back, and revoking the app on
// /account.
func TestBackchannelLogout_SessionEnds(t *testing.T) {
	t.Parallel()
	be := newBCEnv(t, nil)
	portal := be.portalRP(t)
	signIn := func(t *testing.T, u harness.Account) (*harness.Browser, string) {
		b := be.NewBrowser(t)
		f := portal.Start(false)
		s := f.Redeem(t, b.SignIn(f, u.Username, u.Password).Get("code"))
		return b, s.Claims["sid"].(string)
	}
	want := func(t *testing.T, u harness.Account, sid string) {
		t.Helper()
		c := be.logoutClaims(t, be.portal.wait(t), bcPortalID)
		if c["sid"] != sid || c["sub"] != u.Sub {
			t.Errorf("logout token for sid %v sub %v, want sid %s sub %s", c["sid"], c["sub"], sid, u.Sub)
		}
		be.waitDrained(t)
	}

	t.Run("password change", func(t *testing.T) {
		u := be.NewUser(t, "cy.bc", "cy-bc-pass-1", nil)
		b, sid := signIn(t, u)
		if p := changePassword(t, b, u.Password, "cy-bc-pass-2"); p.Status != http.StatusSeeOther {
			t.Fatalf("change password: status %d", p.Status)
		}
		want(t, u, sid)
	})
	t.Run("deactivated by the CLI in another process", func(t *testing.T) {
		u := be.NewUser(t, "di.bc", "di-bc-pass-1", nil)
		_, sid := signIn(t, u)
		// What `inkpass user deactivate` does: its own store on the file.
		other, err := store.Open(t.Context(), be.DB.Path(), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		hasher, err := password.NewHasher(password.Policy{Target: password.TargetOff, Argon2: password.OWASPArgon2(), MemoryBudget: 64 << 20})
		if err != nil {
			t.Fatal(err)
		}
		if err := user.NewService(other, hasher, other, user.Options{}).Deactivate(t.Context(), u.ID); err != nil {
			t.Fatalf("deactivate: %v", err)
		}
		want(t, u, sid)
	})
	t.Run("deactivated in the users table behind inkpass's back", func(t *testing.T) {
		u := be.NewUser(t, "ed.bc", "ed-bc-pass-1", nil)
		b, sid := signIn(t, u)
		be.DeactivateBehindOurBack(t, u.ID)
		b.Get("/account") // the session lookup finds the user inactive
		want(t, u, sid)
	})
	t.Run("app revoked on /account", func(t *testing.T) {
		u := be.NewUser(t, "fa.bc", "fa-bc-pass-1", nil)
		b, sid := signIn(t, u)
		acc := b.Get("/account")
		form := harness.FormTo(t, acc, "/account/revoke", bcPortalID)
		if p := b.Post(form.Action, form.Fields); p.Status != http.StatusSeeOther {
			t.Fatalf("revoke: status %d", p.Status)
		}
		want(t, u, sid)
		// The session goes on, and ending it later does not tell the
		// portal a second time.
		bcSignOut(t, b)
		be.waitDrained(t)
		select {
		case <-be.portal.got:
			t.Error("the portal was told again at sign-out, after its access was revoked")
		default:
		}
	})
	if n := be.bystander.count(); n != 0 {
		t.Errorf("the bystander got %d logout tokens", n)
	}
}
