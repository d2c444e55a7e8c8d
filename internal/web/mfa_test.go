package web_test

// Second factor (issue 14) through real HTTP: enrolment on /account, the
// sign-in step at /login/factor, the policy that forces enrolment, step-up by
// acr_values, recovery codes, removal, and the bypass by URL editing.

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/mfa"
	"github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
)

var (
	secretText    = regexp.MustCompile(`<code class="secret" id="totp-secret">([A-Z2-7 ]+)</code>`)
	factorIDField = regexp.MustCompile(`<input type="hidden" name="factor_id" value="(\d+)">`)
	recoveryText  = regexp.MustCompile(`<li><code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code></li>`)
	continueLink  = regexp.MustCompile(`<a class="button button-primary" href="([^"]*)">Continue</a>`)
)

// accountLogin signs the browser in at inkpass itself (no client) with the
// password alone and returns the page the login answered with.
func accountLogin(b *harness.Browser, username, password string) *harness.Page {
	b.T.Helper()
	form := harness.ParseLoginForm(b.T, b.Get("/login"))
	return b.SubmitLogin(form, username, password)
}

// csrfOf returns the page's CSRF token.
func csrfOf(t *testing.T, p *harness.Page) string {
	t.Helper()
	c := harness.CSRFField.FindStringSubmatch(p.Body)
	if c == nil {
		t.Fatalf("page has no csrf_token:\n%s", p.Body)
	}
	return html.UnescapeString(c[1])
}

// enrolment reads the secret (the text a person would type into an app) and
// the factor id from an enrolment page.
func enrolment(t *testing.T, p *harness.Page) (key []byte, factorID string) {
	t.Helper()
	// The enrolment's form comes after the listed factors' forms.
	s, ids := secretText.FindStringSubmatch(p.Body), factorIDField.FindAllStringSubmatch(p.Body, -1)
	if s == nil || ids == nil {
		t.Fatalf("no enrolment (secret and factor_id) on the page (status %d):\n%s", p.Status, p.Body)
	}
	if !strings.Contains(p.Body, `src="data:image/png;base64,`) {
		t.Errorf("the enrolment page shows no inline QR code")
	}
	key, err := mfa.ParseSecretText(s[1])
	if err != nil {
		t.Fatalf("secret %q: %v", s[1], err)
	}
	return key, ids[len(ids)-1][1]
}

func recoveryCodes(p *harness.Page) []string {
	var out []string
	for _, m := range recoveryText.FindAllStringSubmatch(p.Body, -1) {
		out = append(out, m[1])
	}
	return out
}

// enrolOnAccount adds an authenticator app on /account for the signed-in
// browser and returns its key and the recovery codes shown (ten with the
// first app, none with a later one).
func enrolOnAccount(b *harness.Browser) ([]byte, []string) {
	b.T.Helper()
	acct := b.Get("/account")
	p := b.Post("/account/mfa", url.Values{"csrf_token": {csrfOf(b.T, acct)}, "op": {"begin"}})
	key, id := enrolment(b.T, p)
	b.Server.Clock.Advance(mfa.Period)
	done := b.Post("/account/mfa", url.Values{"csrf_token": {csrfOf(b.T, p)}, "op": {"confirm"}, "factor_id": {id},
		"name": {"My phone"}, "code": {mfa.Code(key, b.Server.Clock.Now())}})
	codes := recoveryCodes(done)
	if done.Status != http.StatusOK || (len(codes) != mfa.RecoveryCodeCount && len(codes) != 0) {
		b.T.Fatalf("confirm enrolment: status %d, %d recovery codes; body:\n%s", done.Status, len(codes), done.Body)
	}
	if !strings.Contains(done.Body, "My phone") {
		b.T.Errorf("the account page does not list the new factor by name")
	}
	return key, codes
}

// wantFactorPage checks that p sends the browser to the second factor's page
// (and not to the client) and opens it.
func wantFactorPage(b *harness.Browser, p *harness.Page, redirectURI string) *harness.Page {
	b.T.Helper()
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location(), "/login/factor") {
		b.T.Fatalf("status %d Location %q, want 303 to /login/factor", p.Status, p.Location())
	}
	if strings.HasPrefix(p.Location(), redirectURI) || strings.Contains(p.Location(), "code=") {
		b.T.Fatalf("a code was issued before the second factor: %q", p.Location())
	}
	fp := b.Get(p.Location())
	if fp.Status != http.StatusOK || !strings.Contains(fp.Body, `name="code"`) {
		b.T.Fatalf("GET %s: status %d, want the code form:\n%s", p.Location(), fp.Status, fp.Body)
	}
	return fp
}

// factorAction is the action of the code form on the factor page fp.
func factorAction(t *testing.T, fp *harness.Page) string {
	t.Helper()
	a := harness.FormAction.FindStringSubmatch(fp.Body)
	if a == nil {
		t.Fatalf("the factor page has no code form:\n%s", fp.Body)
	}
	return html.UnescapeString(a[1])
}

// submitCode posts a code on the factor page fp.
func submitCode(b *harness.Browser, fp *harness.Page, action string, extra url.Values) *harness.Page {
	b.T.Helper()
	form := url.Values{"csrf_token": {csrfOf(b.T, fp)}}
	for k, v := range extra {
		form[k] = v
	}
	return b.Post(action, form)
}

func wantMFAClaims(t *testing.T, s *harness.SignedIn, amr []string, acr string) {
	t.Helper()
	var got []string
	for _, v := range s.Claims["amr"].([]any) {
		got = append(got, v.(string))
	}
	if !slices.Equal(got, amr) {
		t.Errorf("amr = %v, want %v", got, amr)
	}
	if s.Claims["acr"] != acr {
		t.Errorf("acr = %v, want %s", s.Claims["acr"], acr)
	}
}

func TestMFAEnrolAndSignIn(t *testing.T) {
	e := harness.NewServer(t, harness.Options{})
	b := e.NewBrowser(t)
	if p := accountLogin(b, "luna_artist", "artist_password"); p.Location() != "/account" {
		t.Fatalf("login: %d %q", p.Status, p.Location())
	}
	key, _ := enrolOnAccount(b)

	// A new browser: the password alone no longer signs in.
	b2 := e.NewBrowser(t)
	rp := e.AppRP(t, "openid", "profile")
	f := rp.Start(true)
	_, form := b2.ToLoginPage(f.URL)
	fp := wantFactorPage(b2, b2.SubmitLogin(form, "luna_artist", "artist_password"), rp.Conf.RedirectURL)
	action := factorAction(t, fp)

	// A wrong code is refused and shows the form again.
	if p := submitCode(b2, fp, action, url.Values{"code": {"000000"}}); p.Status != http.StatusUnauthorized {
		t.Fatalf("wrong code: status %d, want 401", p.Status)
	}
	e.Clock.Advance(mfa.Period)
	at := e.Clock.Now()
	p := submitCode(b2, fp, action, url.Values{"code": {mfa.Code(key, at)}})
	s := f.Redeem(t, b2.Callback(f, p).Get("code"))
	wantMFAClaims(t, s, []string{"pwd", "otp", "mfa"}, oidc.ACRMFA)
	if got := int64(s.Claims["auth_time"].(float64)); got != at.Unix() {
		t.Errorf("auth_time = %v, want the moment the code was given, %v", got, at)
	}

	// The same code in a third browser is refused: one use.
	b3 := e.NewBrowser(t)
	f3 := rp.Start(true)
	_, form3 := b3.ToLoginPage(f3.URL)
	fp3 := wantFactorPage(b3, b3.SubmitLogin(form3, "luna_artist", "artist_password"), rp.Conf.RedirectURL)
	action3 := factorAction(t, fp3)
	if p := submitCode(b3, fp3, action3, url.Values{"code": {mfa.Code(key, at)}}); p.Status != http.StatusUnauthorized {
		t.Fatalf("replayed code: status %d, want 401", p.Status)
	}

	// Signing in at inkpass itself (no app) asks for the code too, and
	// the account page opens only after it.
	b4 := e.NewBrowser(t)
	p4 := accountLogin(b4, "luna_artist", "artist_password")
	if p4.Status != http.StatusSeeOther || p4.Location() != "/login/factor" {
		t.Fatalf("login at inkpass: status %d Location %q, want /login/factor", p4.Status, p4.Location())
	}
	if acct := b4.Get("/account"); acct.Status != http.StatusSeeOther {
		t.Fatalf("/account before the code: status %d, want a redirect", acct.Status)
	}
	fp4 := b4.Get("/login/factor")
	e.Clock.Advance(mfa.Period)
	if done := submitCode(b4, fp4, "/login/factor", url.Values{"code": {mfa.Code(key, e.Clock.Now())}}); done.Location() != "/account" {
		t.Fatalf("code at inkpass: status %d Location %q, want /account", done.Status, done.Location())
	}
	if acct := b4.Get("/account"); acct.Status != http.StatusOK {
		t.Fatalf("/account after the code: status %d, want 200", acct.Status)
	}

	// Discovery advertises the acr values.
	var disc struct {
		ACR []string `json:"acr_values_supported"`
	}
	if err := rp.Provider.Claims(&disc); err != nil || !slices.Equal(disc.ACR, []string{oidc.ACRPassword, oidc.ACRMFA}) {
		t.Errorf("acr_values_supported = %v (%v)", disc.ACR, err)
	}
}

// TestMFABypassByURL: after the password alone, editing the URL to the
// consent page (or the login page again) gets no code and no session.
func TestMFABypassByURL(t *testing.T) {
	e := harness.NewServer(t, harness.Options{})
	b := e.NewBrowser(t)
	accountLogin(b, "luna_artist", "artist_password")
	enrolOnAccount(b)

	b2 := e.NewBrowser(t)
	rp := e.ToolRP(t, "openid", "profile")
	f := rp.Start(false)
	_, form := b2.ToLoginPage(f.URL)
	p := b2.SubmitLogin(form, "luna_artist", "artist_password")
	wantFactorPage(b2, p, rp.Conf.RedirectURL)
	reqID, _ := url.Parse(p.Location())
	consent := "/consent?" + url.Values{"req": {reqID.Query().Get("req")}}.Encode()
	for _, try := range []*harness.Page{
		b2.Get(consent),
		b2.Post(consent, url.Values{"csrf_token": {csrfOf(t, b2.Get("/login"))}, "decision": {"approve"}}),
	} {
		if try.Status != http.StatusSeeOther || !strings.HasPrefix(try.Location(), "/login/factor?") {
			t.Fatalf("/consent after the password alone: status %d Location %q, want 303 to /login/factor", try.Status, try.Location())
		}
	}
	// No session either: the account page sends the browser to sign in.
	if acct := b2.Get("/account"); acct.Status != http.StatusSeeOther || acct.Location() != "/login" {
		t.Fatalf("/account after the password alone: status %d Location %q, want 303 to /login", acct.Status, acct.Location())
	}
	// And SSO at /authorize with the same browser finds no session.
	again := b2.Get(rp.Start(false).URL)
	if again.Status != http.StatusSeeOther || !strings.HasPrefix(again.Location(), "/login?") {
		t.Fatalf("/authorize after the password alone: status %d Location %q, want the login page", again.Status, again.Location())
	}
}

// TestMFAPolicyForcesEnrolment: an admin without a factor (mfa.required_roles)
// is sent to enrol right after the password; no code before it is done.
func TestMFAPolicyForcesEnrolment(t *testing.T) {
	e := harness.NewServer(t, harness.Options{MFARoles: []string{"admin"}})
	b := e.NewBrowser(t)
	rp := e.AppRP(t, "openid")
	f := rp.Start(true)
	_, form := b.ToLoginPage(f.URL)
	fp := wantFactorPage(b, b.SubmitLogin(form, "admin", "secure_password"), rp.Conf.RedirectURL)
	key, id := enrolment(t, fp)
	action := factorAction(t, fp)

	// No way around it: the login page again asks for the password, and a
	// second password leads back here.
	if p := b.Get(strings.Replace(action, "/login/factor", "/login", 1)); p.Status != http.StatusOK || !strings.Contains(p.Body, `name="password"`) {
		t.Fatalf("/login?req= during enrolment: status %d, want the password form", p.Status)
	}
	if acct := b.Get("/account"); acct.Status != http.StatusSeeOther {
		t.Fatalf("/account during enrolment: status %d, want a redirect to sign in", acct.Status)
	}

	e.Clock.Advance(mfa.Period)
	done := submitCode(b, fp, action, url.Values{"factor_id": {id}, "code": {mfa.Code(key, e.Clock.Now())}})
	if codes := recoveryCodes(done); len(codes) != mfa.RecoveryCodeCount {
		t.Fatalf("after enrolment: status %d, %d recovery codes, want %d:\n%s", done.Status, len(codes), mfa.RecoveryCodeCount, done.Body)
	}
	next := continueLink.FindStringSubmatch(done.Body)
	if next == nil {
		t.Fatalf("recovery codes page has no Continue link:\n%s", done.Body)
	}
	p := b.Get(html.UnescapeString(next[1]))
	s := f.Redeem(t, b.Callback(f, p).Get("code"))
	wantMFAClaims(t, s, []string{"pwd", "otp", "mfa"}, oidc.ACRMFA)

	// The last factor of an admin cannot be removed.
	acct := b.Get("/account")
	fid := factorIDField.FindStringSubmatch(acct.Body)
	if fid == nil {
		t.Fatalf("account page lists no factor:\n%s", acct.Body)
	}
	rm := b.Post("/account/mfa", url.Values{"csrf_token": {csrfOf(t, acct)}, "op": {"remove"}, "factor_id": {fid[1]}, "password": {"secure_password"}})
	if rm.Status != http.StatusForbidden {
		t.Fatalf("removing an admin's last factor: status %d, want 403", rm.Status)
	}
}

// TestMFAStepUp: a session that has only the password answers a request for
// urn:inkpass:acr:mfa by asking for the code, and then says so.
func TestMFAStepUp(t *testing.T) {
	e := harness.NewServer(t, harness.Options{})
	b := e.NewBrowser(t)
	rp := e.AppRP(t, "openid")
	f := rp.Start(true)
	s := f.Redeem(t, b.SignIn(f, "luna_artist", "artist_password").Get("code"))
	wantMFAClaims(t, s, []string{"pwd"}, oidc.ACRPassword)
	key, _ := enrolOnAccount(b)

	up := rp.Start(true, oauth2.SetAuthURLParam("acr_values", oidc.ACRMFA))
	fp := wantFactorPage(b, b.Get(up.URL), rp.Conf.RedirectURL)
	if secretText.MatchString(fp.Body) {
		t.Fatal("step-up of an enrolled user shows an enrolment")
	}
	action := factorAction(t, fp)
	e.Clock.Advance(mfa.Period)
	s2 := up.Redeem(t, b.Callback(up, submitCode(b, fp, action, url.Values{"code": {mfa.Code(key, e.Clock.Now())}})).Get("code"))
	wantMFAClaims(t, s2, []string{"pwd", "otp", "mfa"}, oidc.ACRMFA)
	if s2.Claims["auth_time"].(float64) <= s.Claims["auth_time"].(float64) {
		t.Errorf("auth_time after step-up %v, want later than %v", s2.Claims["auth_time"], s.Claims["auth_time"])
	}
	// The stepped-up session now satisfies it without asking again.
	again := rp.Start(true, oauth2.SetAuthURLParam("acr_values", oidc.ACRMFA))
	wantMFAClaims(t, again.Redeem(t, b.SSO(again).Get("code")), []string{"pwd", "otp", "mfa"}, oidc.ACRMFA)
}

// TestMFARecoveryCodeAndRemoval: a recovery code signs in once; the last
// factor goes only with the password, and then the password alone signs in.
func TestMFARecoveryCodeAndRemoval(t *testing.T) {
	e := harness.NewServer(t, harness.Options{})
	b := e.NewBrowser(t)
	accountLogin(b, "luna_artist", "artist_password")
	_, codes := enrolOnAccount(b)

	rp := e.AppRP(t, "openid")
	signInWithCode := func(code string) (*harness.Flow, *harness.Browser, *harness.Page) {
		nb := e.NewBrowser(t)
		f := rp.Start(true)
		_, form := nb.ToLoginPage(f.URL)
		fp := wantFactorPage(nb, nb.SubmitLogin(form, "luna_artist", "artist_password"), rp.Conf.RedirectURL)
		action := factorAction(t, fp)
		return f, nb, submitCode(nb, fp, action, url.Values{"code": {code}})
	}
	f, nb, p := signInWithCode(strings.ToUpper(codes[0]))
	wantMFAClaims(t, f.Redeem(t, nb.Callback(f, p).Get("code")), []string{"pwd", "otp", "mfa"}, oidc.ACRMFA)
	if _, _, p := signInWithCode(codes[0]); p.Status != http.StatusUnauthorized {
		t.Fatalf("a used recovery code: status %d, want 401", p.Status)
	}
	if acct := nb.Get("/account"); !strings.Contains(acct.Body, "Recovery codes left: 9.") || !strings.Contains(acct.Body, "Used: 1.") {
		t.Errorf("account page does not show 9 recovery codes left and 1 used")
	}

	acct := b.Get("/account")
	fid := factorIDField.FindStringSubmatch(acct.Body)[1]
	rename := b.Post("/account/mfa", url.Values{"csrf_token": {csrfOf(t, acct)}, "op": {"rename"}, "factor_id": {fid}, "name": {"Old phone"}})
	if rename.Status != http.StatusSeeOther || !strings.Contains(b.Get("/account").Body, "Old phone") {
		t.Fatalf("rename: status %d", rename.Status)
	}
	if rm := b.Post("/account/mfa", url.Values{"csrf_token": {csrfOf(t, acct)}, "op": {"remove"}, "factor_id": {fid}, "password": {"wrong"}}); rm.Status != http.StatusBadRequest {
		t.Fatalf("remove the last factor with a wrong password: status %d, want 400", rm.Status)
	}
	if rm := b.Post("/account/mfa", url.Values{"csrf_token": {csrfOf(t, acct)}, "op": {"remove"}, "factor_id": {fid}, "password": {"artist_password"}}); rm.Status != http.StatusSeeOther {
		t.Fatalf("remove the last factor: status %d, want 303", rm.Status)
	}
	f2 := rp.Start(true)
	wantMFAClaims(t, f2.Redeem(t, e.NewBrowser(t).SignIn(f2, "luna_artist", "artist_password").Get("code")), []string{"pwd"}, oidc.ACRPassword)
}

// TestMFARequiredByClient: a client registered with require_mfa makes a user
// without a factor enrol before it gets a code; the audit trail has the
// enrolment, the refused code and the success.
func TestMFARequiredByClient(t *testing.T) {
	e := harness.NewServer(t, harness.Options{})
	c, err := e.Clients.Get(t.Context(), harness.AppID)
	if err != nil {
		t.Fatal(err)
	}
	c.RequireMFA = true
	if err := e.Clients.Update(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	b := e.NewBrowser(t)
	rp := e.AppRP(t, "openid")
	f := rp.Start(true)
	_, form := b.ToLoginPage(f.URL)
	fp := wantFactorPage(b, b.SubmitLogin(form, "luna_artist", "artist_password"), rp.Conf.RedirectURL)
	key, id := enrolment(t, fp)
	action := factorAction(t, fp)
	if p := submitCode(b, fp, action, url.Values{"factor_id": {id}, "code": {"123"}}); p.Status != http.StatusUnauthorized {
		t.Fatalf("bad enrolment code: status %d, want 401", p.Status)
	}
	// The page shown again (and reloaded) keeps the same secret: nothing
	// to scan anew after a typo.
	fp = b.Get(action)
	if again, againID := enrolment(t, fp); string(again) != string(key) || againID != id {
		t.Fatalf("the enrolment changed after a wrong code")
	}
	e.Clock.Advance(mfa.Period)
	done := submitCode(b, fp, action, url.Values{"factor_id": {id}, "code": {mfa.Code(key, e.Clock.Now())}})
	next := continueLink.FindStringSubmatch(done.Body)
	if next == nil {
		t.Fatalf("no Continue link after enrolment:\n%s", done.Body)
	}
	s := f.Redeem(t, b.Callback(f, b.Get(html.UnescapeString(next[1]))).Get("code"))
	wantMFAClaims(t, s, []string{"pwd", "otp", "mfa"}, oidc.ACRMFA)

	events, err := e.DB.AuditEvents(t.Context(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[audit.Kind]int{}
	for _, ev := range events {
		kinds[ev.Kind]++
	}
	for _, k := range []audit.Kind{audit.MFAEnrolled, audit.MFAFailed, audit.MFARecoveryRegenerated, audit.LoginSucceeded} {
		if kinds[k] == 0 {
			t.Errorf("no %s audit event; got %v", k, kinds)
		}
	}
}

// TestMFAMaxAge: max_age=0 asks a user with a factor for the password and
// then the code again.
func TestMFAMaxAge(t *testing.T) {
	e := harness.NewServer(t, harness.Options{})
	b := e.NewBrowser(t)
	accountLogin(b, "luna_artist", "artist_password")
	key, _ := enrolOnAccount(b)
	rp := e.AppRP(t, "openid")
	f := rp.Start(true, oauth2.SetAuthURLParam("max_age", "0"))
	e.Clock.Advance(time.Second)
	_, form := b.ToLoginPage(f.URL)
	fp := wantFactorPage(b, b.SubmitLogin(form, "luna_artist", "artist_password"), rp.Conf.RedirectURL)
	action := factorAction(t, fp)
	e.Clock.Advance(mfa.Period)
	s := f.Redeem(t, b.Callback(f, submitCode(b, fp, action, url.Values{"code": {mfa.Code(key, e.Clock.Now())}})).Get("code"))
	wantMFAClaims(t, s, []string{"pwd", "otp", "mfa"}, oidc.ACRMFA)
}

// TestMFARememberDevice: with mfa.remember_device, a browser that ticked
// "remember" signs in with the password alone (and amr says so) until the
// user's factors change; a request asking for mfa still gets the code page,
// and another browser is asked as before.
func TestMFARememberDevice(t *testing.T) {
	e := harness.NewServer(t, harness.Options{RememberDevice: 24 * time.Hour})
	b := e.NewBrowser(t)
	accountLogin(b, "luna_artist", "artist_password")
	key, _ := enrolOnAccount(b)

	rp := e.AppRP(t, "openid")
	dev := e.NewBrowser(t)
	f := rp.Start(true)
	_, form := dev.ToLoginPage(f.URL)
	fp := wantFactorPage(dev, dev.SubmitLogin(form, "luna_artist", "artist_password"), rp.Conf.RedirectURL)
	if !strings.Contains(fp.Body, `name="remember"`) {
		t.Fatalf("the code page offers no remember checkbox:\n%s", fp.Body)
	}
	action := factorAction(t, fp)
	e.Clock.Advance(mfa.Period)
	f.Redeem(t, dev.Callback(f, submitCode(dev, fp, action, url.Values{"code": {mfa.Code(key, e.Clock.Now())}, "remember": {"on"}})).Get("code"))

	// prompt=login: the password again, and no code page on this device.
	f2 := rp.Start(true, oauth2.SetAuthURLParam("prompt", "login"))
	wantMFAClaims(t, f2.Redeem(t, dev.SignIn(f2, "luna_artist", "artist_password").Get("code")), []string{"pwd"}, oidc.ACRPassword)

	// A request that asks for a second factor is not satisfied by the device.
	f3 := rp.Start(true, oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("acr_values", oidc.ACRMFA))
	_, form3 := dev.ToLoginPage(f3.URL)
	wantFactorPage(dev, dev.SubmitLogin(form3, "luna_artist", "artist_password"), rp.Conf.RedirectURL)

	// Another browser is asked.
	other := e.NewBrowser(t)
	f4 := rp.Start(true)
	_, form4 := other.ToLoginPage(f4.URL)
	wantFactorPage(other, other.SubmitLogin(form4, "luna_artist", "artist_password"), rp.Conf.RedirectURL)

	// A new factor forgets the device.
	enrolOnAccount(b)
	f5 := rp.Start(true, oauth2.SetAuthURLParam("prompt", "login"))
	_, form5 := dev.ToLoginPage(f5.URL)
	wantFactorPage(dev, dev.SubmitLogin(form5, "luna_artist", "artist_password"), rp.Conf.RedirectURL)
}
