package web_test

import (
	"database/sql"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestSignInSteps_ConsentBeforeLoginIsRefused: a browser without any session
// that jumps from /login?req=X to /consent?req=X, by GET or by POST, is sent
// back to the first step it has not done, and the request is still answered
// by the real login and consent afterwards.
func TestSignInSteps_ConsentBeforeLoginIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ana := e.slNewUser(t, "ana.stepjump", "ana-stepjump-pass-1", nil)
	tool := e.slRP(t, toolID, toolSecret, toolRedirect, "openid", "profile")

	b := e.newBrowser(t)
	f := tool.start(false)
	loginPath, reqID := azLoginPath(t, b.get(f.url))
	consentPath := "/consent?" + url.Values{"req": {reqID}}.Encode()

	g := b.get(consentPath)
	azNoCode(t, "GET "+consentPath, g, toolRedirect)
	if g.status != http.StatusSeeOther || g.location() != loginPath {
		t.Fatalf("GET /consent before any login: status %d to %q, want 303 to %s", g.status, g.location(), loginPath)
	}
	login := b.get(loginPath)
	form := parseLoginForm(t, login)
	post := b.post(consentPath, url.Values{"csrf_token": {form.csrf}, "decision": {"approve"}})
	azNoCode(t, "POST "+consentPath, post, toolRedirect)
	if post.status != http.StatusSeeOther || post.location() != loginPath {
		t.Fatalf("POST /consent before any login: status %d to %q, want 303 to %s", post.status, post.location(), loginPath)
	}

	p := b.submitLogin(form, ana.username, ana.password)
	if got := slConsentRedirect(t, p); got != consentPath {
		t.Fatalf("after the login: to %q, want %q", got, consentPath)
	}
	s := f.redeem(t, b.callback(f, b.approveConsent(consentPath)).Get("code"))
	if s.claims["sub"] != ana.sub {
		t.Errorf("sub = %v, want %s", s.claims["sub"], ana.sub)
	}
}

// TestSignInSteps_AMRComesFromTheSession: the ID token's amr is what the
// session records, not a constant. A password sign-in records ["pwd"]; a
// session whose row says "pwd otp" (as a second factor will write it) gives
// ["pwd","otp"] to the codes issued under it, and to the tokens refreshed
// from them; auth_time stays the session's.
func TestSignInSteps_AMRComesFromTheSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	kim := e.slNewUser(t, "kim.stepamr", "kim-stepamr-pass-1", nil)
	app := e.slRP(t, appID, appSecret, appRedirect, "openid", "offline_access")

	b := e.newBrowser(t)
	f := app.start(false)
	first := f.redeem(t, b.signIn(f, kim.username, kim.password).Get("code"))
	wantAMR(t, "password sign-in", first.claims, "pwd")
	sid, _ := first.claims["sid"].(string)
	if sid == "" {
		t.Fatalf("ID token has no sid: %v", first.claims)
	}

	db, err := sql.Open("sqlite3", "file:"+e.db.Path()+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var stored string
	if err := db.QueryRowContext(t.Context(), `SELECT amr FROM inkpass_sessions WHERE sid = ?`, sid).Scan(&stored); err != nil {
		t.Fatalf("read the session's amr: %v", err)
	}
	if stored != "pwd" {
		t.Errorf("session row amr = %q after a password sign-in, want \"pwd\"", stored)
	}
	if _, err := db.ExecContext(t.Context(), `UPDATE inkpass_sessions SET amr = 'pwd otp' WHERE sid = ?`, sid); err != nil {
		t.Fatalf("set the session's amr: %v", err)
	}

	e.clock.Advance(10 * time.Second)
	s := b.slGrant(app, oauth2.AccessTypeOffline)
	wantAMR(t, "single sign-on under the session", s.claims, "pwd", "otp")
	if got, want := slAuthTime(t, s), slAuthTime(t, first); !got.Equal(want) {
		t.Errorf("auth_time = %v, want the session's %v", got, want)
	}
	if s.token.RefreshToken == "" {
		t.Fatal("no refresh token for offline_access")
	}
	tok, err := app.refresh(t, s.token.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	refreshed := verifyTokenResponse(t, app, tok)
	wantAMR(t, "refreshed", refreshed.claims, "pwd", "otp")
}

func wantAMR(t *testing.T, what string, claims map[string]any, want ...string) {
	t.Helper()
	raw, _ := claims["amr"].([]any)
	var got []string
	for _, v := range raw {
		s, _ := v.(string)
		got = append(got, s)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: amr = %v, want %v", what, claims["amr"], want)
	}
}
