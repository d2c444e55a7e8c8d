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
)

var (
	secretText    = regexp.MustCompile(`<code class="secret" id="totp-secret">([A-Z2-7 ]+)</code>`)
	factorIDField = regexp.MustCompile(`<input type="hidden" name="factor_id" value="(\d+)">`)
	recoveryText  = regexp.MustCompile(`<li><code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code></li>`)
	continueLink  = regexp.MustCompile(`<a class="button button-primary" href="([^"]*)">Continue</a>`)
)

// accountLogin signs the browser in at inkpass itself (no client) with the
// password alone and returns the page the login answered with.
func accountLogin(b *browser, username, password string) *page {
	b.t.Helper()
	form := parseLoginForm(b.t, b.get("/login"))
	return b.submitLogin(form, username, password)
}

// csrfOf returns the page's CSRF token.
func csrfOf(t *testing.T, p *page) string {
	t.Helper()
	c := csrfField.FindStringSubmatch(p.body)
	if c == nil {
		t.Fatalf("page has no csrf_token:\n%s", p.body)
	}
	return html.UnescapeString(c[1])
}

// enrolment reads the secret (the text a person would type into an app) and
// the factor id from an enrolment page.
func enrolment(t *testing.T, p *page) (key []byte, factorID string) {
	t.Helper()
	// The enrolment's form comes after the listed factors' forms.
	s, ids := secretText.FindStringSubmatch(p.body), factorIDField.FindAllStringSubmatch(p.body, -1)
	if s == nil || ids == nil {
		t.Fatalf("no enrolment (secret and factor_id) on the page (status %d):\n%s", p.status, p.body)
	}
	if !strings.Contains(p.body, `src="data:image/png;base64,`) {
		t.Errorf("the enrolment page shows no inline QR code")
	}
	key, err := mfa.ParseSecretText(s[1])
	if err != nil {
		t.Fatalf("secret %q: %v", s[1], err)
	}
	return key, ids[len(ids)-1][1]
}

func recoveryCodes(p *page) []string {
	var out []string
	for _, m := range recoveryText.FindAllStringSubmatch(p.body, -1) {
		out = append(out, m[1])
	}
	return out
}

// enrolOnAccount adds an authenticator app on /account for the signed-in
// browser and returns its key and the recovery codes shown (ten with the
// first app, none with a later one).
func enrolOnAccount(b *browser) ([]byte, []string) {
	b.t.Helper()
	acct := b.get("/account")
	p := b.post("/account/mfa", url.Values{"csrf_token": {csrfOf(b.t, acct)}, "op": {"begin"}})
	key, id := enrolment(b.t, p)
	b.e.clock.Advance(mfa.Period)
	done := b.post("/account/mfa", url.Values{"csrf_token": {csrfOf(b.t, p)}, "op": {"confirm"}, "factor_id": {id},
		"name": {"My phone"}, "code": {mfa.Code(key, b.e.clock.Now())}})
	codes := recoveryCodes(done)
	if done.status != http.StatusOK || (len(codes) != mfa.RecoveryCodeCount && len(codes) != 0) {
		b.t.Fatalf("confirm enrolment: status %d, %d recovery codes; body:\n%s", done.status, len(codes), done.body)
	}
	if !strings.Contains(done.body, "My phone") {
		b.t.Errorf("the account page does not list the new factor by name")
	}
	return key, codes
}

// wantFactorPage checks that p sends the browser to the second factor's page
// (and not to the client) and opens it.
func wantFactorPage(b *browser, p *page, redirectURI string) *page {
	b.t.Helper()
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/login/factor") {
		b.t.Fatalf("status %d Location %q, want 303 to /login/factor", p.status, p.location())
	}
	if strings.HasPrefix(p.location(), redirectURI) || strings.Contains(p.location(), "code=") {
		b.t.Fatalf("a code was issued before the second factor: %q", p.location())
	}
	fp := b.get(p.location())
	if fp.status != http.StatusOK || !strings.Contains(fp.body, `name="code"`) {
		b.t.Fatalf("GET %s: status %d, want the code form:\n%s", p.location(), fp.status, fp.body)
	}
	return fp
}

// factorAction is the action of the code form on the factor page fp.
func factorAction(t *testing.T, fp *page) string {
	t.Helper()
	a := formAction.FindStringSubmatch(fp.body)
	if a == nil {
		t.Fatalf("the factor page has no code form:\n%s", fp.body)
	}
	return html.UnescapeString(a[1])
}

// submitCode posts a code on the factor page fp.
func submitCode(b *browser, fp *page, action string, extra url.Values) *page {
	b.t.Helper()
	form := url.Values{"csrf_token": {csrfOf(b.t, fp)}}
	for k, v := range extra {
		form[k] = v
	}
	return b.post(action, form)
}

func wantMFAClaims(t *testing.T, s *signedIn, amr []string, acr string) {
	t.Helper()
	var got []string
	for _, v := range s.claims["amr"].([]any) {
		got = append(got, v.(string))
	}
	if !slices.Equal(got, amr) {
		t.Errorf("amr = %v, want %v", got, amr)
	}
	if s.claims["acr"] != acr {
		t.Errorf("acr = %v, want %s", s.claims["acr"], acr)
	}
}

func TestMFAEnrolAndSignIn(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.newBrowser(t)
	if p := accountLogin(b, "luna_artist", "artist_password"); p.location() != "/account" {
		t.Fatalf("login: %d %q", p.status, p.location())
	}
	key, _ := enrolOnAccount(b)

	// A new browser: the password alone no longer signs in.
	b2 := e.newBrowser(t)
	rp := e.appRP(t, "openid", "profile")
	f := rp.start(true)
	_, form := b2.toLoginPage(f.url)
	fp := wantFactorPage(b2, b2.submitLogin(form, "luna_artist", "artist_password"), rp.conf.RedirectURL)
	action := factorAction(t, fp)

	// A wrong code is refused and shows the form again.
	if p := submitCode(b2, fp, action, url.Values{"code": {"000000"}}); p.status != http.StatusUnauthorized {
		t.Fatalf("wrong code: status %d, want 401", p.status)
	}
	e.clock.Advance(mfa.Period)
	at := e.clock.Now()
	p := submitCode(b2, fp, action, url.Values{"code": {mfa.Code(key, at)}})
	s := f.redeem(t, b2.callback(f, p).Get("code"))
	wantMFAClaims(t, s, []string{"pwd", "otp", "mfa"}, oidc.ACRMFA)
	if got := int64(s.claims["auth_time"].(float64)); got != at.Unix() {
		t.Errorf("auth_time = %v, want the moment the code was given, %v", got, at)
	}

	// The same code in a third browser is refused: one use.
	b3 := e.newBrowser(t)
	f3 := rp.start(true)
	_, form3 := b3.toLoginPage(f3.url)
	fp3 := wantFactorPage(b3, b3.submitLogin(form3, "luna_artist", "artist_password"), rp.conf.RedirectURL)
	action3 := factorAction(t, fp3)
	if p := submitCode(b3, fp3, action3, url.Values{"code": {mfa.Code(key, at)}}); p.status != http.StatusUnauthorized {
		t.Fatalf("replayed code: status %d, want 401", p.status)
	}

	// Signing in at inkpass itself (no app) asks for the code too, and
	// the account page opens only after it.
	b4 := e.newBrowser(t)
	p4 := accountLogin(b4, "luna_artist", "artist_password")
	if p4.status != http.StatusSeeOther || p4.location() != "/login/factor" {
		t.Fatalf("login at inkpass: status %d Location %q, want /login/factor", p4.status, p4.location())
	}
	if acct := b4.get("/account"); acct.status != http.StatusSeeOther {
		t.Fatalf("/account before the code: status %d, want a redirect", acct.status)
	}
	fp4 := b4.get("/login/factor")
	e.clock.Advance(mfa.Period)
	if done := submitCode(b4, fp4, "/login/factor", url.Values{"code": {mfa.Code(key, e.clock.Now())}}); done.location() != "/account" {
		t.Fatalf("code at inkpass: status %d Location %q, want /account", done.status, done.location())
	}
	if acct := b4.get("/account"); acct.status != http.StatusOK {
		t.Fatalf("/account after the code: status %d, want 200", acct.status)
	}

	// Discovery advertises the acr values.
	var disc struct {
		ACR []string `json:"acr_values_supported"`
	}
	if err := rp.provider.Claims(&disc); err != nil || !slices.Equal(disc.ACR, []string{oidc.ACRPassword, oidc.ACRMFA}) {
		t.Errorf("acr_values_supported = %v (%v)", disc.ACR, err)
	}
}

// TestMFABypassByURL: after the password alone, editing the URL to the
// consent page (or the login page again) gets no code and no session.
func TestMFABypassByURL(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.newBrowser(t)
	accountLogin(b, "luna_artist", "artist_password")
	enrolOnAccount(b)

	b2 := e.newBrowser(t)
	rp := e.toolRP(t, "openid", "profile")
	f := rp.start(false)
	_, form := b2.toLoginPage(f.url)
	p := b2.submitLogin(form, "luna_artist", "artist_password")
	wantFactorPage(b2, p, rp.conf.RedirectURL)
	reqID, _ := url.Parse(p.location())
	consent := "/consent?" + url.Values{"req": {reqID.Query().Get("req")}}.Encode()
	for _, try := range []*page{
		b2.get(consent),
		b2.post(consent, url.Values{"csrf_token": {csrfOf(t, b2.get("/login"))}, "decision": {"approve"}}),
	} {
		if try.status != http.StatusSeeOther || !strings.HasPrefix(try.location(), "/login/factor?") {
			t.Fatalf("/consent after the password alone: status %d Location %q, want 303 to /login/factor", try.status, try.location())
		}
	}
	// No session either: the account page sends the browser to sign in.
	if acct := b2.get("/account"); acct.status != http.StatusSeeOther || acct.location() != "/login" {
		t.Fatalf("/account after the password alone: status %d Location %q, want 303 to /login", acct.status, acct.location())
	}
	// And SSO at /authorize with the same browser finds no session.
	again := b2.get(rp.start(false).url)
	if again.status != http.StatusSeeOther || !strings.HasPrefix(again.location(), "/login?") {
		t.Fatalf("/authorize after the password alone: status %d Location %q, want the login page", again.status, again.location())
	}
}

// TestMFAPolicyForcesEnrolment: an admin without a factor (mfa.required_roles)
// is sent to enrol right after the password; no code before it is done.
func TestMFAPolicyForcesEnrolment(t *testing.T) {
	e := newEnv(t, envOptions{mfaRoles: []string{"admin"}})
	b := e.newBrowser(t)
	rp := e.appRP(t, "openid")
	f := rp.start(true)
	_, form := b.toLoginPage(f.url)
	fp := wantFactorPage(b, b.submitLogin(form, "admin", "secure_password"), rp.conf.RedirectURL)
	key, id := enrolment(t, fp)
	action := factorAction(t, fp)

	// No way around it: the login page again asks for the password, and a
	// second password leads back here.
	if p := b.get(strings.Replace(action, "/login/factor", "/login", 1)); p.status != http.StatusOK || !strings.Contains(p.body, `name="password"`) {
		t.Fatalf("/login?req= during enrolment: status %d, want the password form", p.status)
	}
	if acct := b.get("/account"); acct.status != http.StatusSeeOther {
		t.Fatalf("/account during enrolment: status %d, want a redirect to sign in", acct.status)
	}

	e.clock.Advance(mfa.Period)
	done := submitCode(b, fp, action, url.Values{"factor_id": {id}, "code": {mfa.Code(key, e.clock.Now())}})
	if codes := recoveryCodes(done); len(codes) != mfa.RecoveryCodeCount {
		t.Fatalf("after enrolment: status %d, %d recovery codes, want %d:\n%s", done.status, len(codes), mfa.RecoveryCodeCount, done.body)
	}
	next := continueLink.FindStringSubmatch(done.body)
	if next == nil {
		t.Fatalf("recovery codes page has no Continue link:\n%s", done.body)
	}
	p := b.get(html.UnescapeString(next[1]))
	s := f.redeem(t, b.callback(f, p).Get("code"))
	wantMFAClaims(t, s, []string{"pwd", "otp", "mfa"}, oidc.ACRMFA)

	// The last factor of an admin cannot be removed.
	acct := b.get("/account")
	fid := factorIDField.FindStringSubmatch(acct.body)
	if fid == nil {
		t.Fatalf("account page lists no factor:\n%s", acct.body)
	}
	rm := b.post("/account/mfa", url.Values{"csrf_token": {csrfOf(t, acct)}, "op": {"remove"}, "factor_id": {fid[1]}, "password": {"secure_password"}})
	if rm.status != http.StatusForbidden {
		t.Fatalf("removing an admin's last factor: status %d, want 403", rm.status)
	}
}

// TestMFAStepUp: a session that has only the password answers a request for
// urn:inkpass:acr:mfa by asking for the code, and then says so.
func TestMFAStepUp(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.newBrowser(t)
	rp := e.appRP(t, "openid")
	f := rp.start(true)
	s := f.redeem(t, b.signIn(f, "luna_artist", "artist_password").Get("code"))
	wantMFAClaims(t, s, []string{"pwd"}, oidc.ACRPassword)
	key, _ := enrolOnAccount(b)

	up := rp.start(true, oauth2.SetAuthURLParam("acr_values", oidc.ACRMFA))
	fp := wantFactorPage(b, b.get(up.url), rp.conf.RedirectURL)
	if secretText.MatchString(fp.body) {
		t.Fatal("step-up of an enrolled user shows an enrolment")
	}
	action := factorAction(t, fp)
	e.clock.Advance(mfa.Period)
	s2 := up.redeem(t, b.callback(up, submitCode(b, fp, action, url.Values{"code": {mfa.Code(key, e.clock.Now())}})).Get("code"))
	wantMFAClaims(t, s2, []string{"pwd", "otp", "mfa"}, oidc.ACRMFA)
	if s2.claims["auth_time"].(float64) <= s.claims["auth_time"].(float64) {
		t.Errorf("auth_time after step-up %v, want later than %v", s2.claims["auth_time"], s.claims["auth_time"])
	}
	// The stepped-up session now satisfies it without asking again.
	again := rp.start(true, oauth2.SetAuthURLParam("acr_values", oidc.ACRMFA))
	wantMFAClaims(t, again.redeem(t, b.sso(again).Get("code")), []string{"pwd", "otp", "mfa"}, oidc.ACRMFA)
}

// TestMFARecoveryCodeAndRemoval: a recovery code signs in once; the last
// factor goes only with the password, and then the password alone signs in.
func TestMFARecoveryCodeAndRemoval(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.newBrowser(t)
	accountLogin(b, "luna_artist", "artist_password")
	_, codes := enrolOnAccount(b)

	rp := e.appRP(t, "openid")
	signInWithCode := func(code string) (*flow, *browser, *page) {
		nb := e.newBrowser(t)
		f := rp.start(true)
		_, form := nb.toLoginPage(f.url)
		fp := wantFactorPage(nb, nb.submitLogin(form, "luna_artist", "artist_password"), rp.conf.RedirectURL)
		action := factorAction(t, fp)
		return f, nb, submitCode(nb, fp, action, url.Values{"code": {code}})
	}
	f, nb, p := signInWithCode(strings.ToUpper(codes[0]))
	wantMFAClaims(t, f.redeem(t, nb.callback(f, p).Get("code")), []string{"pwd", "otp", "mfa"}, oidc.ACRMFA)
	if _, _, p := signInWithCode(codes[0]); p.status != http.StatusUnauthorized {
		t.Fatalf("a used recovery code: status %d, want 401", p.status)
	}
	if acct := nb.get("/account"); !strings.Contains(acct.body, "Recovery codes left: 9.") || !strings.Contains(acct.body, "Used: 1.") {
		t.Errorf("account page does not show 9 recovery codes left and 1 used")
	}

	acct := b.get("/account")
	fid := factorIDField.FindStringSubmatch(acct.body)[1]
	rename := b.post("/account/mfa", url.Values{"csrf_token": {csrfOf(t, acct)}, "op": {"rename"}, "factor_id": {fid}, "name": {"Old phone"}})
	if rename.status != http.StatusSeeOther || !strings.Contains(b.get("/account").body, "Old phone") {
		t.Fatalf("rename: status %d", rename.status)
	}
	if rm := b.post("/account/mfa", url.Values{"csrf_token": {csrfOf(t, acct)}, "op": {"remove"}, "factor_id": {fid}, "password": {"wrong"}}); rm.status != http.StatusBadRequest {
		t.Fatalf("remove the last factor with a wrong password: status %d, want 400", rm.status)
	}
	if rm := b.post("/account/mfa", url.Values{"csrf_token": {csrfOf(t, acct)}, "op": {"remove"}, "factor_id": {fid}, "password": {"artist_password"}}); rm.status != http.StatusSeeOther {
		t.Fatalf("remove the last factor: status %d, want 303", rm.status)
	}
	f2 := rp.start(true)
	wantMFAClaims(t, f2.redeem(t, e.newBrowser(t).signIn(f2, "luna_artist", "artist_password").Get("code")), []string{"pwd"}, oidc.ACRPassword)
}

// TestMFARequiredByClient: a client registered with require_mfa makes a user
// without a factor enrol before it gets a code; the audit trail has the
// enrolment, the refused code and the success.
func TestMFARequiredByClient(t *testing.T) {
	e := newEnv(t, envOptions{})
	c, err := e.clients.Get(t.Context(), appID)
	if err != nil {
		t.Fatal(err)
	}
	c.RequireMFA = true
	if err := e.clients.Update(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	b := e.newBrowser(t)
	rp := e.appRP(t, "openid")
	f := rp.start(true)
	_, form := b.toLoginPage(f.url)
	fp := wantFactorPage(b, b.submitLogin(form, "luna_artist", "artist_password"), rp.conf.RedirectURL)
	key, id := enrolment(t, fp)
	action := factorAction(t, fp)
	if p := submitCode(b, fp, action, url.Values{"factor_id": {id}, "code": {"123"}}); p.status != http.StatusUnauthorized {
		t.Fatalf("bad enrolment code: status %d, want 401", p.status)
	}
	// The page shown again (and reloaded) keeps the same secret: nothing
	// to scan anew after a typo.
	fp = b.get(action)
	if again, againID := enrolment(t, fp); string(again) != string(key) || againID != id {
		t.Fatalf("the enrolment changed after a wrong code")
	}
	e.clock.Advance(mfa.Period)
	done := submitCode(b, fp, action, url.Values{"factor_id": {id}, "code": {mfa.Code(key, e.clock.Now())}})
	next := continueLink.FindStringSubmatch(done.body)
	if next == nil {
		t.Fatalf("no Continue link after enrolment:\n%s", done.body)
	}
	s := f.redeem(t, b.callback(f, b.get(html.UnescapeString(next[1]))).Get("code"))
	wantMFAClaims(t, s, []string{"pwd", "otp", "mfa"}, oidc.ACRMFA)

	events, err := e.db.AuditEvents(t.Context(), audit.Filter{})
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
	e := newEnv(t, envOptions{})
	b := e.newBrowser(t)
	accountLogin(b, "luna_artist", "artist_password")
	key, _ := enrolOnAccount(b)
	rp := e.appRP(t, "openid")
	f := rp.start(true, oauth2.SetAuthURLParam("max_age", "0"))
	e.clock.Advance(time.Second)
	_, form := b.toLoginPage(f.url)
	fp := wantFactorPage(b, b.submitLogin(form, "luna_artist", "artist_password"), rp.conf.RedirectURL)
	action := factorAction(t, fp)
	e.clock.Advance(mfa.Period)
	s := f.redeem(t, b.callback(f, submitCode(b, fp, action, url.Values{"code": {mfa.Code(key, e.clock.Now())}})).Get("code"))
	wantMFAClaims(t, s, []string{"pwd", "otp", "mfa"}, oidc.ACRMFA)
}

// TestMFARememberDevice: with mfa.remember_device, a browser that ticked
// "remember" signs in with the password alone (and amr says so) until the
// user's factors change; a request asking for mfa still gets the code page,
// and another browser is asked as before.
func TestMFARememberDevice(t *testing.T) {
	e := newEnv(t, envOptions{rememberDevice: 24 * time.Hour})
	b := e.newBrowser(t)
	accountLogin(b, "luna_artist", "artist_password")
	key, _ := enrolOnAccount(b)

	rp := e.appRP(t, "openid")
	dev := e.newBrowser(t)
	f := rp.start(true)
	_, form := dev.toLoginPage(f.url)
	fp := wantFactorPage(dev, dev.submitLogin(form, "luna_artist", "artist_password"), rp.conf.RedirectURL)
	if !strings.Contains(fp.body, `name="remember"`) {
		t.Fatalf("the code page offers no remember checkbox:\n%s", fp.body)
	}
	action := factorAction(t, fp)
	e.clock.Advance(mfa.Period)
	f.redeem(t, dev.callback(f, submitCode(dev, fp, action, url.Values{"code": {mfa.Code(key, e.clock.Now())}, "remember": {"on"}})).Get("code"))

	// prompt=login: the password again, and no code page on this device.
	f2 := rp.start(true, oauth2.SetAuthURLParam("prompt", "login"))
	wantMFAClaims(t, f2.redeem(t, dev.signIn(f2, "luna_artist", "artist_password").Get("code")), []string{"pwd"}, oidc.ACRPassword)

	// A request that asks for a second factor is not satisfied by the device.
	f3 := rp.start(true, oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("acr_values", oidc.ACRMFA))
	_, form3 := dev.toLoginPage(f3.url)
	wantFactorPage(dev, dev.submitLogin(form3, "luna_artist", "artist_password"), rp.conf.RedirectURL)

	// Another browser is asked.
	other := e.newBrowser(t)
	f4 := rp.start(true)
	_, form4 := other.toLoginPage(f4.url)
	wantFactorPage(other, other.submitLogin(form4, "luna_artist", "artist_password"), rp.conf.RedirectURL)

	// A new factor forgets the device.
	enrolOnAccount(b)
	f5 := rp.start(true, oauth2.SetAuthURLParam("prompt", "login"))
	_, form5 := dev.toLoginPage(f5.url)
	wantFactorPage(dev, dev.submitLogin(form5, "luna_artist", "artist_password"), rp.conf.RedirectURL)
}
