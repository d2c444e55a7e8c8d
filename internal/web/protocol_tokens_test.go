package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/client"
	op "github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
)

// ptGatewayID is a resource server: client_credentials only, registered to
// introspect other clients' access tokens.
const (
	ptGatewayID     = "pt-gateway"
	ptGatewaySecret = "pt-gateway-secret-0123456789abcdefghijklmnop"
)

// ptRegister registers c, enabled, with secret when it is confidential.
func ptRegister(t *testing.T, cs *store.Clients, c *client.Client, secret string) {
	t.Helper()
	c.Enabled = true
	c.Normalize()
	if err := c.Validate(); err != nil {
		t.Fatalf("client %s: %v", c.ID, err)
	}
	if !c.Public {
		c.SetSecret(cs.HashKey(), secret)
	}
	if err := cs.Create(t.Context(), c); err != nil {
		t.Fatalf("register client %s: %v", c.ID, err)
	}
}

func ptRegisterGateway(e *harness.Server, t *testing.T) {
	t.Helper()
	ptRegister(t, e.Clients, &client.Client{
		ID: ptGatewayID, Name: "API gateway", GrantTypes: []string{client.GrantClientCredentials},
		Scopes: []string{"profile"}, Introspect: true,
	}, ptGatewaySecret)
}

// ptIntrospect calls /introspect as client id (HTTP Basic) and wants 200.
func ptIntrospect(e *harness.Server, t *testing.T, id, secret, token string) *harness.Resp {
	t.Helper()
	r := e.Post(t, "/introspect", harness.TokenForm(token, ""), id, secret)
	if r.Status != http.StatusOK {
		t.Fatalf("POST /introspect as %s: status %d %s, want 200", id, r.Status, r.Raw)
	}
	harness.WantNoStore(t, r.Header)
	return r
}

// ptOtherProcess opens a second handle on the env's database file, as
// `inkpass client ...` does from another process: its writes reach the
// server only through the file.
func ptOtherProcess(e *harness.Server, t *testing.T) *store.Clients {
	t.Helper()
	db, err := store.Open(t.Context(), e.DB.Path(), store.Options{})
	if err != nil {
		t.Fatalf("open a second handle: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	cs, err := db.Clients(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// ptClientCredentials asks for a client_credentials token by hand.
func ptClientCredentials(e *harness.Server, t *testing.T, id, secret string) *harness.TokenResponse {
	t.Helper()
	return e.PostToken(t, url.Values{"grant_type": {"client_credentials"}}, id, secret)
}

// TestIntrospectionIsForResourceServers: /introspect answers a client about
// its own tokens, and a registered resource server about other clients'
// access tokens; everyone else hears {"active": false}. Refresh tokens are
// described only to their own client, and only the claims the token's scope
// releases are stated.
func TestIntrospectionIsForResourceServers(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	ptRegisterGateway(e, t)
	finn := e.NewUser(t, "finn.rs", "finn-rs-pass-1", nil)
	app := e.ClockedRP(t, harness.AppID, harness.AppSecret, harness.AppRedirect, "openid", "profile", "offline_access")
	bw := e.NewBrowser(t)
	f := app.Start(false)
	s := f.Redeem(t, bw.SignIn(f, finn.Username, finn.Password).Get("code"))
	// The same user and client, without the profile scope.
	bare := e.ClockedRP(t, harness.AppID, harness.AppSecret, harness.AppRedirect, "openid")
	g := bare.Start(false)
	narrow := g.Redeem(t, bw.SSO(g).Get("code"))
	cc, err := (&clientcredentials.Config{ClientID: harness.ReporterID, ClientSecret: harness.ReporterSecret, TokenURL: e.Issuer + "/token",
		Scopes: []string{"profile"}, AuthStyle: oauth2.AuthStyleInHeader}).Token(t.Context())
	if err != nil {
		t.Fatalf("client_credentials: %v", err)
	}

	t.Run("a client without the flag learns nothing about another client's tokens", func(t *testing.T) {
		for _, tok := range []string{s.Token.AccessToken, s.Token.RefreshToken} {
			harness.WantInactive(t, ptIntrospect(e, t, harness.ReporterID, harness.ReporterSecret, tok))
			r := e.Post(t, "/introspect", url.Values{"token": {tok}, "client_id": {harness.ToolID}, "client_secret": {harness.ToolSecret}})
			if r.Status != http.StatusOK {
				t.Fatalf("tool: status %d %s", r.Status, r.Raw)
			}
			harness.WantInactive(t, r)
		}
		harness.WantInactive(t, ptIntrospect(e, t, harness.AppID, harness.AppSecret, cc.AccessToken))
	})

	t.Run("a client without the flag introspects its own tokens", func(t *testing.T) {
		r := ptIntrospect(e, t, harness.AppID, harness.AppSecret, s.Token.AccessToken)
		harness.CheckClaims(t, "own access token", r.Body, map[string]any{
			"active": true, "client_id": harness.AppID, "sub": finn.Sub, "username": finn.Username, "role": "assistant",
		}, nil)
		r = ptIntrospect(e, t, harness.AppID, harness.AppSecret, s.Token.RefreshToken)
		harness.CheckClaims(t, "own refresh token", r.Body, map[string]any{
			"active": true, "token_type": "refresh_token", "client_id": harness.AppID, "sub": finn.Sub,
		}, nil)
		r = ptIntrospect(e, t, harness.ReporterID, harness.ReporterSecret, cc.AccessToken)
		harness.CheckClaims(t, "own client_credentials token", r.Body, map[string]any{"active": true, "client_id": harness.ReporterID},
			[]string{"sub", "username", "role"})
	})

	t.Run("no username without the profile scope", func(t *testing.T) {
		for _, tc := range []struct{ id, secret string }{{harness.AppID, harness.AppSecret}, {ptGatewayID, ptGatewaySecret}} {
			r := ptIntrospect(e, t, tc.id, tc.secret, narrow.Token.AccessToken)
			harness.CheckClaims(t, "introspection by "+tc.id, r.Body, map[string]any{
				"active": true, "sub": finn.Sub, "role": "assistant", "scope": "openid",
			}, []string{"username"})
		}
	})

	t.Run("a resource server introspects other clients' access tokens", func(t *testing.T) {
		r := ptIntrospect(e, t, ptGatewayID, ptGatewaySecret, s.Token.AccessToken)
		harness.CheckClaims(t, "app's access token", r.Body, map[string]any{
			"active": true, "client_id": harness.AppID, "sub": finn.Sub, "username": finn.Username, "role": "assistant",
		}, nil)
		r = ptIntrospect(e, t, ptGatewayID, ptGatewaySecret, cc.AccessToken)
		harness.CheckClaims(t, "reporter's access token", r.Body, map[string]any{"active": true, "client_id": harness.ReporterID}, nil)
	})

	t.Run("a resource server gets active false for another client's refresh token", func(t *testing.T) {
		harness.WantInactive(t, ptIntrospect(e, t, ptGatewayID, ptGatewaySecret, s.Token.RefreshToken))
	})
}

// TestDisabledClientIsDead: disabling a client from another process (the
// CLI) ends it at the server's next request: no token, no refresh, and its
// tokens fail at /userinfo and /introspect, re-enabled or not.
func TestDisabledClientIsDead(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	ptRegisterGateway(e, t)
	const (
		id       = "pt-disabled"
		secret   = "pt-disabled-secret-0123456789abcdefghijklmn"
		redirect = "http://127.0.0.1:7300/cb"
	)
	ptRegister(t, e.Clients, &client.Client{
		ID: id, FirstParty: true, RedirectURIs: []string{redirect},
		GrantTypes: []string{client.GrantAuthorizationCode, client.GrantRefreshToken, client.GrantClientCredentials},
		Scopes:     []string{"openid", "profile", "offline_access"},
	}, secret)
	ivy := e.NewUser(t, "ivy.dis", "ivy-dis-pass-1", nil)
	p := e.ClockedRP(t, id, secret, redirect, "openid", "profile", "offline_access")
	f := p.Start(false)
	s := f.Redeem(t, e.NewBrowser(t).SignIn(f, ivy.Username, ivy.Password).Get("code"))
	e.WantUserinfoOK(t, s.Token.AccessToken)
	// The server has just read the client: any cache of it is warm.
	if r := ptClientCredentials(e, t, id, secret); r.Status != http.StatusOK {
		t.Fatalf("client_credentials before: %d %v", r.Status, r.Body)
	}

	cli := ptOtherProcess(e, t)
	c, err := cli.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	c.Enabled = false
	if err := cli.Update(t.Context(), c); err != nil {
		t.Fatalf("disable: %v", err)
	}

	if r := ptClientCredentials(e, t, id, secret); r.Status != http.StatusUnauthorized || r.Str("error") != "invalid_client" {
		t.Errorf("client_credentials right after disabling: %d %v, want 401 invalid_client", r.Status, r.Body)
	}
	_, err = p.Refresh(t, s.Token.RefreshToken)
	harness.WantRetrieveError(t, err, "invalid_client", http.StatusUnauthorized)
	e.WantInvalidToken(t, s.Token.AccessToken)
	harness.WantInactive(t, ptIntrospect(e, t, ptGatewayID, ptGatewaySecret, s.Token.AccessToken))

	// Enabled again, it may get new tokens; the old ones stay dead.
	c.Enabled = true
	if err := cli.Update(t.Context(), c); err != nil {
		t.Fatalf("enable: %v", err)
	}
	if r := ptClientCredentials(e, t, id, secret); r.Status != http.StatusOK {
		t.Errorf("client_credentials after enabling again: %d %v, want 200", r.Status, r.Body)
	}
	e.WantInvalidToken(t, s.Token.AccessToken)
	harness.WantInactive(t, ptIntrospect(e, t, ptGatewayID, ptGatewaySecret, s.Token.AccessToken))
	harness.WantInactive(t, ptIntrospect(e, t, id, secret, s.Token.RefreshToken))
	_, err = p.Refresh(t, s.Token.RefreshToken)
	harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
}

// TestRemovedClientIsDead: `inkpass client remove` in another process
// stops issuance at once, and no token of the removed client is valid.
func TestRemovedClientIsDead(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	ptRegisterGateway(e, t)

	t.Run("the next request after the removal fails", func(t *testing.T) {
		const (
			id       = "pt-removed"
			secret   = "pt-removed-secret-0123456789abcdefghijklmno"
			redirect = "http://127.0.0.1:7301/cb"
		)
		ptRegister(t, e.Clients, &client.Client{
			ID: id, FirstParty: true, RedirectURIs: []string{redirect},
			GrantTypes: []string{client.GrantAuthorizationCode, client.GrantRefreshToken, client.GrantClientCredentials},
			Scopes:     []string{"openid", "profile", "offline_access"},
		}, secret)
		jo := e.NewUser(t, "jo.rm", "jo-rm-pass-1", nil)
		p := e.ClockedRP(t, id, secret, redirect, "openid", "profile", "offline_access")
		f := p.Start(false)
		s := f.Redeem(t, e.NewBrowser(t).SignIn(f, jo.Username, jo.Password).Get("code"))
		before := ptClientCredentials(e, t, id, secret)
		if before.Status != http.StatusOK {
			t.Fatalf("client_credentials before: %d %v", before.Status, before.Body)
		}

		if err := ptOtherProcess(e, t).Remove(t.Context(), id); err != nil {
			t.Fatalf("remove: %v", err)
		}

		if r := ptClientCredentials(e, t, id, secret); r.Status != http.StatusUnauthorized || r.Str("error") != "invalid_client" {
			t.Errorf("client_credentials right after removal: %d %v, want 401 invalid_client", r.Status, r.Body)
		}
		_, err := p.Refresh(t, s.Token.RefreshToken)
		harness.WantRetrieveError(t, err, "invalid_client", http.StatusUnauthorized)
		e.WantInvalidToken(t, s.Token.AccessToken)
		for _, tok := range []string{s.Token.AccessToken, before.Str("access_token")} {
			harness.WantInactive(t, ptIntrospect(e, t, ptGatewayID, ptGatewaySecret, tok))
		}
	})

	t.Run("a removal racing with issuance leaves no live token", func(t *testing.T) {
		const (
			id     = "pt-raced"
			secret = "pt-raced-secret-0123456789abcdefghijklmnopq"
		)
		ptRegister(t, e.Clients, &client.Client{ID: id, GrantTypes: []string{client.GrantClientCredentials}, Scopes: []string{"profile"}}, secret)
		cli := ptOtherProcess(e, t)
		const workers, maxPerWorker = 4, 150
		var (
			removed  atomic.Bool
			issued   atomic.Int64
			mu       sync.Mutex
			tokens   []string
			afterRem int
			wg       sync.WaitGroup
		)
		hc := e.HTTP.Client()
		for range workers {
			wg.Go(func() {
				for range maxPerWorker {
					startedAfter := removed.Load()
					req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.Issuer+"/token",
						strings.NewReader("grant_type=client_credentials"))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.SetBasicAuth(id, secret)
					resp, err := hc.Do(req)
					if err != nil {
						t.Errorf("POST /token: %v", err)
						return
					}
					var body struct {
						AccessToken string `json:"access_token"`
					}
					err = ptDecode(resp, &body)
					if resp.StatusCode != http.StatusOK {
						if !startedAfter && !removed.Load() {
							t.Errorf("POST /token before the removal: status %d", resp.StatusCode)
						}
						return // the removal has taken effect
					}
					if err != nil {
						t.Errorf("token response: %v", err)
						return
					}
					issued.Add(1)
					mu.Lock()
					tokens = append(tokens, body.AccessToken)
					if startedAfter {
						afterRem++
					}
					mu.Unlock()
				}
			})
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		// Remove once issuance is in full swing (or the workers gave up).
	wait:
		for issued.Load() < 20 {
			select {
			case <-done:
				break wait
			case <-time.After(time.Millisecond):
			}
		}
		err := cli.Remove(t.Context(), id)
		removed.Store(true)
		<-done
		if err != nil {
			t.Fatalf("remove: %v", err)
		}
		if issued.Load() < 20 {
			t.Fatalf("only %d tokens were issued before the removal", issued.Load())
		}
		if afterRem > 0 {
			t.Errorf("%d tokens were issued to requests that started after the removal returned", afterRem)
		}
		live := 0
		for _, tok := range tokens {
			if r := ptIntrospect(e, t, ptGatewayID, ptGatewaySecret, tok); r.Body["active"] != false {
				live++
			}
		}
		if live > 0 {
			t.Errorf("%d of %d tokens of the removed client are still active", live, len(tokens))
		}
	})
}

// TestPKCEFailureKeepsTheCode: a wrong code_verifier is refused before the
// code is consumed, so the legitimate holder can still redeem it, and the
// failure is not audited as a replay.
func TestPKCEFailureKeepsTheCode(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	kim := e.NewUser(t, "kim.pkce", "kim-pkce-pass-1", nil)
	spa := e.SPARP(t, "openid")
	f := spa.Start(true)
	code := e.NewBrowser(t).SignIn(f, kim.Username, kim.Password).Get("code")

	_, err := spa.Conf.Exchange(t.Context(), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
	_, err = spa.Conf.Exchange(t.Context(), code)
	harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
	s := f.Redeem(t, code)
	e.WantUserinfoOK(t, s.Token.AccessToken)
	events, _ := e.AuditJSON(t)
	for _, ev := range events {
		if ev.Kind == audit.CodeReplayed {
			t.Errorf("audit trail has %s (%s) after a wrong verifier", ev.Kind, ev.Detail)
		}
	}
}

// TestRevokedCodesAreNotReplays: a code voided by a revocation is refused
// with invalid_grant, and is not recorded as a replayed code; a used code
// presented again still is.
func TestRevokedCodesAreNotReplays(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	app := e.AppRP(t, "openid", "profile")
	replays := func(t *testing.T, userID int64) int {
		t.Helper()
		events, _ := e.AuditJSON(t)
		n := 0
		for _, ev := range events {
			if ev.Kind == audit.CodeReplayed && ev.UserID == userID {
				n++
			}
		}
		return n
	}

	for i, tc := range []struct {
		name   string
		revoke func(t *testing.T, u harness.Account, first *harness.SignedIn)
	}{
		{"the user signed out", func(t *testing.T, _ harness.Account, first *harness.SignedIn) {
			sid, _ := first.Claims["sid"].(string)
			if err := e.DB.RevokeSessionTokens(t.Context(), sid); err != nil {
				t.Fatal(err)
			}
		}},
		{"the user revoked the app", func(t *testing.T, u harness.Account, _ *harness.SignedIn) {
			if err := e.DB.RevokeClientAccess(t.Context(), u.ID, harness.AppID); err != nil {
				t.Fatal(err)
			}
		}},
		{"the user was deactivated", func(t *testing.T, u harness.Account, _ *harness.SignedIn) {
			if err := e.Users.Deactivate(t.Context(), u.ID); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := strconv.Itoa(i)
			u := e.NewUser(t, "lee.rv"+n, "lee-rv-pass-"+n, nil)
			b := e.NewBrowser(t)
			f := app.Start(false)
			first := f.Redeem(t, b.SignIn(f, u.Username, u.Password).Get("code"))
			g := app.Start(false)
			code := b.SSO(g).Get("code")
			tc.revoke(t, u, first)
			_, err := g.Exchange(t, code)
			harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
			if got := replays(t, u.ID); got != 0 {
				t.Errorf("a revoked code was audited as %d replays", got)
			}
		})
	}

	t.Run("a used code presented again is a replay", func(t *testing.T) {
		u := e.NewUser(t, "lee.replay", "lee-replay-pass-1", nil)
		f := app.Start(false)
		code := e.NewBrowser(t).SignIn(f, u.Username, u.Password).Get("code")
		s := f.Redeem(t, code)
		_, err := f.Exchange(t, code)
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		if got := replays(t, u.ID); got != 1 {
			t.Errorf("replays audited = %d, want 1", got)
		}
		e.WantInvalidToken(t, s.Token.AccessToken)
	})
}

// TestTokenErrorsDoNotDescribeTheUser: the token endpoint says invalid_grant
// and nothing about the account behind the grant.
func TestTokenErrorsDoNotDescribeTheUser(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	app := e.AppRP(t, "openid", "offline_access")
	mo := e.NewUser(t, "mo.err", "mo-err-pass-1", nil)
	f := app.Start(false)
	s := f.Redeem(t, e.NewBrowser(t).SignIn(f, mo.Username, mo.Password).Get("code"))
	e.DeactivateBehindOurBack(t, mo.ID)
	r := e.PostToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {s.Token.RefreshToken}}, harness.AppID, harness.AppSecret)
	if r.Status != http.StatusBadRequest || r.Str("error") != "invalid_grant" {
		t.Fatalf("refresh for a deactivated user: %d %v, want 400 invalid_grant", r.Status, r.Body)
	}
	desc := strings.ToLower(r.Str("error_description"))
	for _, leak := range []string{"deactivat", "no longer exist", "user"} {
		if strings.Contains(desc, leak) {
			t.Errorf("error_description %q mentions %q", r.Str("error_description"), leak)
		}
	}
}

// ptDecode reads a JSON body and closes it.
func ptDecode(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// ptFailures counts the client_auth_failed events of the audit trail for a
// client ("" for any) from addr.
func ptFailures(e *harness.Server, t *testing.T, clientID, addr string) int {
	t.Helper()
	events, _ := e.AuditJSON(t)
	n := 0
	for _, ev := range events {
		if ev.Kind == audit.ClientAuthFailed && (clientID == "" || ev.ClientID == clientID) && ev.Addr == addr {
			n++
		}
	}
	return n
}

// ptWantLocked asserts a 401 invalid_client that carries Retry-After.
func ptWantLocked(t *testing.T, what string, r *harness.TokenResponse) {
	t.Helper()
	if r.Status != http.StatusUnauthorized || r.Str("error") != "invalid_client" {
		t.Errorf("%s: %d %v, want 401 invalid_client", what, r.Status, r.Body)
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("%s: Retry-After = %q, want a number of seconds", what, r.Header.Get("Retry-After"))
	}
}

// TestClientAuthenticationIsThrottled: failed client authentications are
// counted per client and per address, audited, and after a few of them the
// token endpoint refuses before it looks at the secret, with Retry-After.
func TestClientAuthenticationIsThrottled(t *testing.T) {
	t.Parallel()
	policy := op.DefaultClientThrottle()

	t.Run("per client", func(t *testing.T) {
		t.Parallel()
		e := harness.NewServer(t, harness.Options{})
		const (
			id     = "pt-guessed"
			secret = "pt-guessed-secret-0123456789abcdefghijklmno"
		)
		ptRegister(t, e.Clients, &client.Client{ID: id, GrantTypes: []string{client.GrantClientCredentials}, Scopes: []string{"profile"}}, secret)
		for i := range policy.FreeFailuresPerClient + 1 {
			r := ptClientCredentials(e, t, id, "wrong-secret-"+strconv.Itoa(i))
			if r.Status != http.StatusUnauthorized || r.Str("error") != "invalid_client" {
				t.Fatalf("wrong secret %d: %d %v, want 401 invalid_client", i, r.Status, r.Body)
			}
		}
		ptWantLocked(t, "the right secret while locked", ptClientCredentials(e, t, id, secret))
		if got, want := ptFailures(e, t, id, "127.0.0.1"), policy.FreeFailuresPerClient+1; got != want {
			t.Errorf("audited client_auth_failed for %s = %d, want %d", id, got, want)
		}
		// Other clients from the same address are not locked out yet.
		if r := ptClientCredentials(e, t, harness.ReporterID, harness.ReporterSecret); r.Status != http.StatusOK {
			t.Errorf("another client: %d %v, want 200", r.Status, r.Body)
		}
		e.Clock.Advance(policy.MaxLock + time.Second)
		if r := ptClientCredentials(e, t, id, secret); r.Status != http.StatusOK {
			t.Errorf("the right secret after the lock: %d %v, want 200", r.Status, r.Body)
		}
	})

	t.Run("per address", func(t *testing.T) {
		t.Parallel()
		e := harness.NewServer(t, harness.Options{})
		for i := range policy.FreeFailuresPerAddress + 1 {
			r := ptClientCredentials(e, t, "no-such-client-"+strconv.Itoa(i), "some-secret-0123456789")
			if r.Status != http.StatusUnauthorized || r.Str("error") != "invalid_client" {
				t.Fatalf("unknown client %d: %d %v, want 401 invalid_client", i, r.Status, r.Body)
			}
		}
		ptWantLocked(t, "a good client from the locked address", ptClientCredentials(e, t, harness.ReporterID, harness.ReporterSecret))
		if got, want := ptFailures(e, t, "", "127.0.0.1"), policy.FreeFailuresPerAddress+1; got != want {
			t.Errorf("audited client_auth_failed from 127.0.0.1 = %d, want %d", got, want)
		}
		e.Clock.Advance(policy.MaxLock + time.Second)
		if r := ptClientCredentials(e, t, harness.ReporterID, harness.ReporterSecret); r.Status != http.StatusOK {
			t.Errorf("after the lock: %d %v, want 200", r.Status, r.Body)
		}
	})
}
