package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/inkpass/inkpass/internal/testsupport/pgtest"
	"github.com/inkpass/inkpass/internal/user"
)

// Two inkpass servers on one PostgreSQL database behave as one provider: the
// sign-in on A, the code redeemed on B, the refresh token rotated on each in
// turn, a key rotated through A used by B, a logout on A ending the session
// on B, a user deactivated through B refused on A. A round-robin proxy in
// front of them is the issuer, as a load balancer would be; the relying party
// is go-oidc verifying every ID token's signature.
func TestReplicas_OnePostgreSQL(t *testing.T) {
	// serve reloads keys on SIGHUP; keep the signal from ending the binary
	// should one arrive before serve listens for it.
	guard := make(chan os.Signal, 1)
	signal.Notify(guard, syscall.SIGHUP)
	defer signal.Stop(guard)

	dsn := pgtest.NewDatabase(t)
	kek := make([]byte, 32)
	rand.Read(kek)
	env := map[string]string{"INKPASS_KEY_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(kek)}

	var backends atomic.Pointer[[]*url.URL]
	var turn atomic.Uint64
	var fivexx atomic.Int64
	lb := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			list := *backends.Load()
			r.SetURL(list[turn.Add(1)%uint64(len(list))])
			r.Out.Host = r.In.Host
		},
		ModifyResponse: func(resp *http.Response) error {
			if resp.StatusCode >= 500 {
				fivexx.Add(1)
			}
			return nil
		},
	})
	defer lb.Close()
	issuer := lb.URL
	body := fmt.Sprintf("listen: \"127.0.0.1:0\"\nissuer: %q\n", issuer)
	a, b := newCLI(t, dsn, body), newCLI(t, dsn, body)
	a.env, b.env = env, env

	a.ok(t, "pw-ines-replicas-1\n", "user", "add", "--username", "ines", "--role", "assistant", "--email", "ines@studio.example", "--password-stdin")
	const redirect, bye = "http://127.0.0.1:9/cb", "http://127.0.0.1:9/bye"
	cl := jsonObject(t, a.ok(t, "", "client", "add", "--id", "booking", "--first-party", "--redirect-uri", redirect,
		"--post-logout-redirect-uri", bye, "--grant", "authorization_code", "--grant", "refresh_token",
		"--scope", "openid", "--scope", "profile", "--scope", "email", "--scope", "offline_access", "--json"))
	secret, _ := cl["client_secret"].(string)
	if secret == "" {
		t.Fatalf("client add printed no secret: %v", cl)
	}

	srvA, srvB := a.serve(t), b.serve(t)
	baseA, baseB := srvA.listening(t), srvB.listening(t)
	ua, _ := url.Parse(baseA)
	ub, _ := url.Parse(baseB)
	backends.Store(&[]*url.URL{ua, ub})
	defer func() {
		if n := fivexx.Load(); n != 0 {
			t.Errorf("%d answers through the load balancer were 5xx", n)
		}
	}()

	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovery through the load balancer: %v", err)
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: "booking"})
	conf := func(base string) *oauth2.Config {
		return &oauth2.Config{ClientID: "booking", ClientSecret: secret, RedirectURL: redirect,
			Scopes:   []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess},
			Endpoint: oauth2.Endpoint{AuthURL: base + "/authorize", TokenURL: base + "/token", AuthStyle: oauth2.AuthStyleInHeader}}
	}
	br := newReplicaBrowser(t, "http://127.0.0.1:9/")

	// 1. Sign in on A.
	verifierPKCE := oauth2.GenerateVerifier()
	cb := br.signIn(t, baseA, conf(baseA).AuthCodeURL("st-1", oauth2.S256ChallengeOption(verifierPKCE)), "ines", "pw-ines-replicas-1")
	if cb.Get("state") != "st-1" || cb.Get("code") == "" {
		t.Fatalf("callback after sign-in on A: %v", cb)
	}

	// 2. Redeem the code on B.
	tok, err := conf(baseB).Exchange(ctx, cb.Get("code"), oauth2.VerifierOption(verifierPKCE))
	if err != nil {
		t.Fatalf("code from A redeemed on B: %v", err)
	}
	idt := verifyID(t, verifier, tok)
	var claims struct {
		Sub, Email, Role string
		Sid              string `json:"sid"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Email != "ines@studio.example" || claims.Role != "assistant" {
		t.Errorf("ID token claims from B: %+v", claims)
	}

	// 3. Rotate the refresh token on A, B, A, B: each new one works on the
	// other server, and userinfo answers on both.
	rt := tok.RefreshToken
	for i, base := range []string{baseA, baseB, baseA, baseB} {
		next, err := conf(base).TokenSource(ctx, &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Hour)}).Token()
		if err != nil {
			t.Fatalf("refresh %d on %s: %v", i, base, err)
		}
		if next.RefreshToken == "" || next.RefreshToken == rt {
			t.Fatalf("refresh %d: no new refresh token", i)
		}
		verifyID(t, verifier, next)
		rt, tok = next.RefreshToken, next
		for _, other := range []string{baseA, baseB} {
			if code := userinfoStatus(t, other, next.AccessToken); code != http.StatusOK {
				t.Errorf("userinfo on %s with the access token of refresh %d: %d", other, i, code)
			}
		}
	}

	// 4. A key rotated through A's command line is used by B once B reloads
	// (every 30 s, or at once on SIGHUP, which both servers of this process
	// receive).
	before := kidOf(t, tok.Extra("id_token").(string))
	a.ok(t, "", "keys", "rotate")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var after string
	for i := 0; i < 50; i++ {
		time.Sleep(100 * time.Millisecond)
		next, err := conf(baseB).TokenSource(ctx, &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Hour)}).Token()
		if err != nil {
			t.Fatalf("refresh on B after the rotation: %v", err)
		}
		rt, tok = next.RefreshToken, next
		verifyID(t, verifier, next) // go-oidc fetches the new key from the JWKS
		if after = kidOf(t, next.Extra("id_token").(string)); after != before {
			break
		}
	}
	if after == before {
		t.Errorf("B still signs with %s after A rotated the key", before)
	}
	if _, jwks := getBody(t, http.DefaultClient, baseA+"/jwks"); !strings.Contains(jwks, after) {
		t.Errorf("A's JWKS lacks the new key %s", after)
	}

	// 5. A logout on A ends the session on B: B's prompt=none is answered
	// login_required.
	logout := baseA + "/logout?" + url.Values{"id_token_hint": {tok.Extra("id_token").(string)}, "post_logout_redirect_uri": {bye}}.Encode()
	if loc := br.get(t, logout); !strings.HasPrefix(loc, bye) {
		t.Fatalf("logout on A went to %q, want %s", loc, bye)
	}
	none := conf(baseB).AuthCodeURL("st-2", oauth2.S256ChallengeOption(verifierPKCE), oauth2.SetAuthURLParam("prompt", "none"))
	loc := br.get(t, none)
	if u, _ := url.Parse(loc); !strings.HasPrefix(loc, redirect) || u.Query().Get("error") != "login_required" {
		t.Errorf("prompt=none on B after logout on A went to %q, want %s?error=login_required", loc, redirect)
	}

	// 6. Ines deactivated through B's command line is refused on A: her
	// refresh token and her password.
	b.ok(t, "", "user", "deactivate", "ines")
	if _, err := conf(baseA).TokenSource(ctx, &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Hour)}).Token(); err == nil {
		t.Error("A refreshed the token of a user deactivated through B")
	} else if re := (*oauth2.RetrieveError)(nil); !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("refresh on A after deactivation: %v, want invalid_grant", err)
	}
	if code := userinfoStatus(t, baseA, tok.AccessToken); code != http.StatusUnauthorized {
		t.Errorf("userinfo on A for a deactivated user: %d, want 401", code)
	}
	page := br.loginPage(t, baseA, conf(baseA).AuthCodeURL("st-3", oauth2.S256ChallengeOption(verifierPKCE)))
	if loc := br.postLogin(t, baseA, page, "ines", "pw-ines-replicas-1"); loc != "" {
		t.Errorf("A signed in a user deactivated through B (went to %q)", loc)
	}

	srvA.stop(t)
	srvB.stop(t)
}

func verifyID(t *testing.T, v *oidc.IDTokenVerifier, tok *oauth2.Token) *oidc.IDToken {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	idt, err := v.Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("ID token does not verify: %v", err)
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			t.Fatalf("at_hash: %v", err)
		}
	}
	return idt
}

func kidOf(t *testing.T, jwt string) string {
	t.Helper()
	head, err := base64.RawURLEncoding.DecodeString(strings.SplitN(jwt, ".", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Kid string }
	if err := json.Unmarshal(head, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

func userinfoStatus(t *testing.T, base, access string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// replicaBrowser is a cookie-keeping HTTP client that stops at the relying
// party (whose URIs all start with rp). Both servers listen on 127.0.0.1, so one jar carries
// the session cookie to either, as a browser behind a load balancer would.
type replicaBrowser struct {
	c        *http.Client
	redirect string
}

func newReplicaBrowser(t *testing.T, rp string) *replicaBrowser {
	jar, _ := cookiejar.New(nil)
	return &replicaBrowser{redirect: rp, c: &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), rp) || len(via) > 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}}}
}

// get follows redirects on inkpass and returns where it stopped: the
// redirect URI (with its query), or "" when a page was answered.
func (b *replicaBrowser) get(t *testing.T, u string) string {
	t.Helper()
	resp, err := b.c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode >= 500 {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

type loginPage struct{ action, csrf string }

// formAction is the login form's target (csrfField, its token, is the
// console tests').
var formAction = regexp.MustCompile(`<form class="form" method="post" action="([^"]+)"`)

func (b *replicaBrowser) loginPage(t *testing.T, base, authURL string) loginPage {
	t.Helper()
	resp, err := b.c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	a, c := formAction.FindSubmatch(body), csrfField.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || a == nil || c == nil {
		t.Fatalf("GET %s: %d, no login form:\n%s", authURL, resp.StatusCode, body)
	}
	return loginPage{action: base + html.UnescapeString(string(a[1])), csrf: html.UnescapeString(string(c[1]))}
}

// postLogin submits the form; it returns the redirect URI reached, or ""
// when the login page answered again (a refusal).
func (b *replicaBrowser) postLogin(t *testing.T, base string, p loginPage, username, password string) string {
	t.Helper()
	resp, err := b.c.PostForm(p.action, url.Values{"csrf_token": {p.csrf}, "username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode >= 500 {
		t.Fatalf("POST %s: %d", p.action, resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, b.redirect) {
		return ""
	}
	return loc
}

func (b *replicaBrowser) signIn(t *testing.T, base, authURL, username, password string) url.Values {
	t.Helper()
	loc := b.postLogin(t, base, b.loginPage(t, base, authURL), username, password)
	if loc == "" {
		t.Fatalf("sign-in of %s on %s did not reach the redirect URI", username, base)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// Two servers starting at once on one new database both find no admin and
// both create "admin": one wins, and the other, refused the username, must
// see the winner's admin and start rather than fail. (Seen with two replicas
// on PostgreSQL; the race is the same on one SQLite file, so the test runs
// there, where it needs no server.)
func TestEnsureAdmin_TwoServersAtOnce(t *testing.T) {
	for round := 0; round < 8; round++ {
		c := newCLI(t, "inkpass.db", "")
		var apps [2]*app
		for i := range apps {
			e := &env{getenv: func(string) string { return "" }, stdout: io.Discard, stderr: io.Discard}
			a, err := openApp(context.Background(), e, flag.NewFlagSet("test", flag.ContinueOnError), c.config, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			apps[i] = a
		}
		errs := make(chan error, 2)
		start := make(chan struct{})
		for _, a := range apps {
			go func() {
				<-start
				e := &env{getenv: func(string) string { return "" }, stdout: io.Discard, stderr: io.Discard}
				errs <- ensureAdmin(context.Background(), e, a)
			}()
		}
		close(start)
		for range apps {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: a server starting beside another failed: %v", round, err)
			}
		}
		active := true
		admins, err := apps[0].users.List(context.Background(), user.Filter{Role: user.RoleAdmin, Active: &active})
		if err != nil || len(admins) != 1 {
			t.Fatalf("round %d: %d admins (%v), want exactly 1", round, len(admins), err)
		}
	}
}
