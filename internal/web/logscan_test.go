package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/inkpass/inkpass/internal/testsupport"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
)

// syncBuffer collects log output written from many handler goroutines.
type syncBuffer = testsupport.LogBuffer

// TestLogs_NeverHoldSecrets runs a full login, a code exchange, a refresh,
// userinfo and failed logins with every log line at debug level, then scans
// everything logged for each secret value that crossed the wire.
func TestLogs_NeverHoldSecrets(t *testing.T) {
	logs := &syncBuffer{}
	e := harness.NewServer(t, harness.Options{LogTo: logs})
	b := e.NewBrowser(t)
	p := e.AppRP(t, "openid", "profile", "email", "offline_access")

	const wrongPassword = "not-the-password-7731"
	// People type their password into the username field; that must not be
	// logged either.
	const passwordAsUsername = "artist_password-typed-as-username"
	_, form := b.ToLoginPage(p.Start(true).URL)
	if pg := b.SubmitLogin(form, "luna_artist", wrongPassword); pg.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password: status %d, want 401", pg.Status)
	}
	if pg := b.SubmitLogin(form, passwordAsUsername, wrongPassword); pg.Status != http.StatusUnauthorized {
		t.Fatalf("unknown user: status %d, want 401", pg.Status)
	}

	f := p.Start(true)
	q := b.SignIn(f, "luna_artist", "artist_password")
	code := q.Get("code")
	s := f.Redeem(t, code)
	refreshed, err := p.Refresh(t, s.Token.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	e.WantUserinfoOK(t, refreshed.AccessToken)
	e.WantInvalidToken(t, "forged-"+refreshed.AccessToken)

	base, _ := url.Parse(e.Issuer)
	var cookies []string
	for _, c := range b.Client.Jar.Cookies(base) {
		cookies = append(cookies, c.Value)
	}
	if len(cookies) == 0 {
		t.Fatal("the browser holds no cookies; the scan would prove nothing about them")
	}

	secrets := map[string]string{
		"password":                "artist_password",
		"wrong password":          wrongPassword,
		"password typed as user":  passwordAsUsername,
		"authorization code":      code,
		"first access token":      s.Token.AccessToken,
		"first refresh token":     s.Token.RefreshToken,
		"refreshed access token":  refreshed.AccessToken,
		"refreshed refresh token": refreshed.RefreshToken,
		"ID token":                s.Raw,
		"client secret":           harness.AppSecret,
		"PKCE verifier":           f.Verifier,
	}
	for i, c := range cookies {
		secrets["cookie "+string(rune('A'+i))] = c
	}
	out := logs.String()
	if !strings.Contains(out, `"msg":"request"`) || !strings.Contains(out, `"route":"/token"`) {
		t.Fatalf("the log holds no request lines for /token; the scan would prove nothing:\n%s", out)
	}
	for what, v := range secrets {
		if v == "" {
			t.Errorf("%s is empty: the scan cannot look for it", what)
			continue
		}
		if strings.Contains(out, v) {
			t.Errorf("the log contains the %s", what)
		}
	}
}
