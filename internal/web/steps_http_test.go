package web_test

import (
	"database/sql"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/inkpass/inkpass/internal/testsupport/harness"
)

// TestSignInSteps_ConsentBeforeLoginIsRefused: a browser without any session
// that jumps from /login?req=X to /consent?req=X, by GET or by POST, is sent
// back to the first step it has not done, and the request is still answered
// by the real login and consent afterwards.
func TestSignInSteps_ConsentBeforeLoginIsRefused(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	ana := e.NewUser(t, "ana.stepjump", "ana-stepjump-pass-1", nil)
	tool := e.ClockedRP(t, harness.ToolID, harness.ToolSecret, harness.ToolRedirect, "openid", "profile")

	b := e.NewBrowser(t)
	f := tool.Start(false)
	loginPath, reqID := azLoginPath(t, b.Get(f.URL))
	consentPath := "/consent?" + url.Values{"req": {reqID}}.Encode()

	g := b.Get(consentPath)
	azNoCode(t, "GET "+consentPath, g, harness.ToolRedirect)
	if g.Status != http.StatusSeeOther || g.Location() != loginPath {
		t.Fatalf("GET /consent before any login: status %d to %q, want 303 to %s", g.Status, g.Location(), loginPath)
	}
	login := b.Get(loginPath)
	form := harness.ParseLoginForm(t, login)
	post := b.Post(consentPath, url.Values{"csrf_token": {form.CSRF}, "decision": {"approve"}})
	azNoCode(t, "POST "+consentPath, post, harness.ToolRedirect)
	if post.Status != http.StatusSeeOther || post.Location() != loginPath {
		t.Fatalf("POST /consent before any login: status %d to %q, want 303 to %s", post.Status, post.Location(), loginPath)
	}

	p := b.SubmitLogin(form, ana.Username, ana.Password)
	if got := harness.ConsentRedirect(t, p); got != consentPath {
		t.Fatalf("after the login: to %q, want %q", got, consentPath)
	}
	s := f.Redeem(t, b.Callback(f, b.ApproveConsent(consentPath)).Get("code"))
	if s.Claims["sub"] != ana.Sub {
		t.Errorf("sub = %v, want %s", s.Claims["sub"], ana.Sub)
	}
}

// TestSignInSteps_AMRComesFromTheSession: the ID token's amr is what the
// session records, not a constant. A password sign-in records ["pwd"]; a
// session whose row says "pwd otp" (as a second factor will write it) gives
// ["pwd","otp"] to the codes issued under it, and to the tokens refreshed
// from them; auth_time stays the session's.
func TestSignInSteps_AMRComesFromTheSession(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	kim := e.NewUser(t, "kim.stepamr", "kim-stepamr-pass-1", nil)
	app := e.ClockedRP(t, harness.AppID, harness.AppSecret, harness.AppRedirect, "openid", "offline_access")

	b := e.NewBrowser(t)
	f := app.Start(false)
	first := f.Redeem(t, b.SignIn(f, kim.Username, kim.Password).Get("code"))
	wantAMR(t, "password sign-in", first.Claims, "pwd")
	sid, _ := first.Claims["sid"].(string)
	if sid == "" {
		t.Fatalf("ID token has no sid: %v", first.Claims)
	}

	db, err := sql.Open("sqlite3", "file:"+e.DB.Path()+"?_busy_timeout=5000")
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

	e.Clock.Advance(10 * time.Second)
	s := b.Grant(app, oauth2.AccessTypeOffline)
	wantAMR(t, "single sign-on under the session", s.Claims, "pwd", "otp")
	if got, want := harness.AuthTime(t, s), harness.AuthTime(t, first); !got.Equal(want) {
		t.Errorf("auth_time = %v, want the session's %v", got, want)
	}
	if s.Token.RefreshToken == "" {
		t.Fatal("no refresh token for offline_access")
	}
	tok, err := app.Refresh(t, s.Token.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	refreshed := harness.VerifyTokenResponse(t, app, tok)
	wantAMR(t, "refreshed", refreshed.Claims, "pwd", "otp")
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
