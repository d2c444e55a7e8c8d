package web_test

import (
	"context"
	"html"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/mail"
	"github.com/inkpass/inkpass/internal/mfa"
	"github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/password"
	"github.com/inkpass/inkpass/internal/testsupport"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
	"github.com/inkpass/inkpass/internal/user"
)

// mailRecorder is the mail port of the tests: it keeps every queued
// message, and wait blocks (boundedly) until there are enough.
type mailRecorder struct {
	mu     sync.Mutex
	sent   []mail.Message
	notify chan struct{}
}

func (r *mailRecorder) Enqueue(_ context.Context, m mail.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, m)
	if r.notify == nil {
		r.notify = make(chan struct{}, 1)
	}
	select {
	case r.notify <- struct{}{}:
	default:
	}
	return nil
}

func (r *mailRecorder) messages() []mail.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sent)
}

// wait returns the messages once there are at least n, or fails after a
// generous bound (the queue runs behind the page's answer).
func (r *mailRecorder) wait(t *testing.T, n int) []mail.Message {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if got := r.messages(); len(got) >= n {
			return got
		}
		r.mu.Lock()
		if r.notify == nil {
			r.notify = make(chan struct{}, 1)
		}
		ch := r.notify
		r.mu.Unlock()
		select {
		case <-ch:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("waited for %d messages, have %d", n, len(r.messages()))
		}
	}
}

var linkInText = regexp.MustCompile(`https?://[^\s"<>]+/link/[A-Za-z0-9_-]{43}`)

// linkOf is the link a message carries, the same in its text and HTML.
func linkOf(t *testing.T, m mail.Message) string {
	t.Helper()
	link := linkInText.FindString(m.Text)
	if link == "" || !strings.Contains(m.HTML, link) {
		t.Fatalf("message %q carries no link (or not in both bodies):\n%s", m.Subject, m.Text)
	}
	return link
}

func tokenOf(link string) string { return link[strings.LastIndex(link, "/")+1:] }

// requestRef is the error page's support reference, which differs per request.
var requestRef = regexp.MustCompile(`<code>[0-9a-f]+</code>`)

// setPassword opens link in b and posts its form with next (twice).
func setPassword(t *testing.T, b *harness.Browser, link, next string) *harness.Page {
	t.Helper()
	p := b.Get(link)
	if p.Status != http.StatusOK {
		t.Fatalf("GET link: status %d, want the form; body:\n%s", p.Status, p.Body)
	}
	f := harness.FormTo(t, p, mustPath(t, link), "")
	return b.Post(f.Action, url.Values{"csrf_token": f.Fields["csrf_token"], "new_password": {next}, "confirm_password": {next}})
}

func mustPath(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

// signInThroughRP signs username in through the studio's app in a new
// browser and returns the verified ID token's claims.
func signInThroughRP(t *testing.T, e *harness.Server, username, pw string, scopes ...string) map[string]any {
	t.Helper()
	f := e.AppRP(t, append([]string{"openid"}, scopes...)...).Start(true)
	q := e.NewBrowser(t).SignIn(f, username, pw)
	return f.Redeem(t, q.Get("code")).Claims
}

func wantDead(t *testing.T, p *harness.Page) {
	t.Helper()
	if p.Status != http.StatusGone || !strings.Contains(p.Body, "This link can no longer be used") {
		t.Errorf("status %d, want 410 and the dead-link page; body:\n%s", p.Status, p.Body)
	}
	if p.Header.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(p.Header.Get("Cache-Control"), "no-store") {
		t.Errorf("dead-link page headers: Referrer-Policy %q, Cache-Control %q", p.Header.Get("Referrer-Policy"), p.Header.Get("Cache-Control"))
	}
}

// TestLinks_Invitation: an invited user (no usable password) opens the
// link, sets a password, is signed in, and signs in again through a relying
// party; the link then works no more, and the token is never logged.
func TestLinks_Invitation(t *testing.T) {
	var logs testsupport.LogBuffer
	e := harness.NewServer(t, harness.Options{LogTo: &logs})
	ctx := t.Context()
	u, err := e.Users.CreateInvited(ctx, user.User{Username: "newbie", Role: user.RoleAssistant, Email: "newbie@studio.example"}, password.Unset)
	if err != nil {
		t.Fatal(err)
	}
	link, expires, err := e.Links.Invite(ctx, u.ID, "admin")
	if err != nil {
		t.Fatalf("Invite: %v", err)
	}
	if !strings.HasPrefix(link, e.Issuer+"/link/") || expires.Before(e.Clock.Now().Add(71*time.Hour)) {
		t.Fatalf("Invite = %q, %v; want a link under the issuer, 72 h", link, expires)
	}
	const newPW = "first-password-of-newbie"
	b := e.NewBrowser(t)

	t.Run("the invited user cannot sign in before", func(t *testing.T) {
		for _, pw := range []string{password.Unset, "anything-at-all"} {
			p := b.SubmitLogin(harness.ParseLoginForm(t, b.Get("/login")), "newbie", pw)
			if p.Status != http.StatusUnauthorized {
				t.Errorf("sign in with %q: status %d, want 401", pw, p.Status)
			}
		}
	})

	t.Run("GET shows the form, with no-referrer and no-store, and does not use the link", func(t *testing.T) {
		for range 2 {
			p := b.Get(link)
			if p.Status != http.StatusOK || !strings.Contains(p.Body, `name="new_password"`) || !strings.Contains(p.Body, "newbie") {
				t.Fatalf("GET link: status %d; body:\n%s", p.Status, p.Body)
			}
			if p.Header.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(p.Header.Get("Cache-Control"), "no-store") {
				t.Errorf("headers: Referrer-Policy %q, Cache-Control %q", p.Header.Get("Referrer-Policy"), p.Header.Get("Cache-Control"))
			}
		}
	})

	t.Run("a bad form changes nothing", func(t *testing.T) {
		f := harness.FormTo(t, b.Get(link), mustPath(t, link), "")
		cases := []struct {
			name   string
			form   url.Values
			status int
		}{
			{"without the CSRF token", url.Values{"new_password": {newPW}, "confirm_password": {newPW}}, http.StatusForbidden},
			{"with a different confirmation", url.Values{"csrf_token": f.Fields["csrf_token"], "new_password": {newPW}, "confirm_password": {newPW + "x"}}, http.StatusBadRequest},
			{"with a password below the policy", url.Values{"csrf_token": f.Fields["csrf_token"], "new_password": {"short"}, "confirm_password": {"short"}}, http.StatusBadRequest},
			{"with the username as password", url.Values{"csrf_token": f.Fields["csrf_token"], "new_password": {"newbie"}, "confirm_password": {"newbie"}}, http.StatusBadRequest},
		}
		for _, tc := range cases {
			if p := b.Post(f.Action, tc.form); p.Status != tc.status {
				t.Errorf("%s: status %d, want %d", tc.name, p.Status, tc.status)
			}
		}
		if got, _ := e.Users.Get(ctx, u.ID); got.PasswordHash != password.Unset {
			t.Errorf("a refused form changed the password hash")
		}
	})

	t.Run("the form sets the password and signs the person in", func(t *testing.T) {
		p := setPassword(t, b, link, newPW)
		if p.Status != http.StatusSeeOther || p.Location() != "/account?done=password-set" {
			t.Fatalf("POST link: status %d to %q; body:\n%s", p.Status, p.Location(), p.Body)
		}
		acc := b.Get("/account?done=password-set")
		if acc.Status != http.StatusOK || !strings.Contains(acc.Body, "newbie") || !strings.Contains(acc.Body, "Your password is set") {
			t.Fatalf("GET /account: status %d to %q", acc.Status, acc.Location())
		}
		// The session is a password session: the studio's app signs in
		// with it (single sign-on) and reads amr pwd.
		f := e.AppRP(t, "openid").Start(true)
		got := f.Redeem(t, b.SSO(f).Get("code"))
		if got.IDToken.Subject != strconv.FormatInt(u.ID, 10) {
			t.Errorf("sub = %q, want %d", got.IDToken.Subject, u.ID)
		}
		if amr, _ := got.Claims["amr"].([]any); !slices.Contains(amr, any("pwd")) {
			t.Errorf("amr = %v, want pwd", got.Claims["amr"])
		}
	})

	t.Run("the new password signs in through a relying party", func(t *testing.T) {
		claims := signInThroughRP(t, e, "newbie", newPW)
		if claims["sub"] != strconv.FormatInt(u.ID, 10) {
			t.Errorf("sub = %v", claims["sub"])
		}
	})

	t.Run("a second use is refused", func(t *testing.T) {
		wantDead(t, b.Get(link))
		b2 := e.NewBrowser(t)
		f := harness.FormTo(t, b2.Get("/login"), "/login", "")
		wantDead(t, b2.Post(mustPath(t, link), url.Values{"csrf_token": f.Fields["csrf_token"], "new_password": {"another-long-password"}, "confirm_password": {"another-long-password"}}))
		signInThroughRP(t, e, "newbie", newPW)
	})

	t.Run("the issue and the use are audited, without the token", func(t *testing.T) {
		events, err := e.DB.AuditEvents(ctx, audit.Filter{UserID: u.ID})
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, ev := range events {
			kinds = append(kinds, string(ev.Kind)+":"+ev.Detail)
			if strings.Contains(ev.Detail, tokenOf(link)) {
				t.Errorf("event %s carries the token", ev.Kind)
			}
		}
		for _, want := range []string{"invitation_issued:by admin", "password_changed:by invitation link"} {
			if !slices.Contains(kinds, want) {
				t.Errorf("audit %v lacks %s", kinds, want)
			}
		}
	})

	if strings.Contains(logs.String(), tokenOf(link)) {
		t.Errorf("the token appears in the log")
	}
	if !strings.Contains(logs.String(), `"route":"/link/{token}"`) {
		t.Errorf("the log has no request line for the link route (the check above would prove nothing)")
	}
}

// TestLinks_DeadLinksLookAlike: an unknown, malformed, used, expired or
// superseded link, or a reset link after the password changed, all get the
// same page and status.
func TestLinks_DeadLinksLookAlike(t *testing.T) {
	e := harness.NewServer(t, harness.Options{})
	ctx := t.Context()
	acc := e.NewUser(t, "deadlinks", "deadlinks-password-1", nil)
	b := e.NewBrowser(t)
	reset := func() string {
		link, _, err := e.Links.PasswordReset(ctx, acc.ID, "cli")
		if err != nil {
			t.Fatal(err)
		}
		return link
	}
	var bodies []string
	check := func(name, link string) {
		t.Run(name, func(t *testing.T) {
			p := b.Get(link)
			wantDead(t, p)
			bodies = append(bodies, requestRef.ReplaceAllString(p.Body, ""))
		})
	}
	check("unknown", e.Issuer+"/link/"+strings.Repeat("A", 43))
	check("malformed", e.Issuer+"/link/not-a-token")

	used := reset()
	if p := setPassword(t, b, used, "deadlinks-password-2"); p.Status != http.StatusSeeOther {
		t.Fatalf("use the reset link: status %d", p.Status)
	}
	check("used", used)

	expired := reset()
	e.Clock.Advance(time.Hour)
	check("expired after 1 h", expired)

	superseded := reset()
	reset()
	check("superseded by a newer one", superseded)

	changed := reset()
	if err := e.Users.SetPassword(ctx, acc.ID, "deadlinks-password-3"); err != nil {
		t.Fatal(err)
	}
	check("a reset link after the password changed", changed)

	deactivated := reset()
	if err := e.Users.Deactivate(ctx, acc.ID); err != nil {
		t.Fatal(err)
	}
	check("of a deactivated user", deactivated)

	for i := 1; i < len(bodies); i++ {
		if bodies[i] != bodies[0] {
			t.Errorf("dead link %d's page differs from the first:\n%s\n---\n%s", i, bodies[i], bodies[0])
		}
	}
}

// TestLinks_ConcurrentUse: two browsers post the same link at once; one
// sets its password, the other gets the dead-link page.
func TestLinks_ConcurrentUse(t *testing.T) {
	e := harness.NewServer(t, harness.Options{})
	acc := e.NewUser(t, "raced", "raced-password-1", nil)
	link, _, err := e.Links.PasswordReset(t.Context(), acc.ID, "cli")
	if err != nil {
		t.Fatal(err)
	}
	type attempt struct {
		b    *harness.Browser
		form harness.Form
		pw   string
	}
	var attempts []attempt
	for i := range 2 {
		b := e.NewBrowser(t)
		attempts = append(attempts, attempt{b, harness.FormTo(t, b.Get(link), mustPath(t, link), ""), "raced-password-new-" + strconv.Itoa(i)})
	}
	statuses := make([]int, len(attempts))
	var wg sync.WaitGroup
	for i, a := range attempts {
		wg.Go(func() {
			p := a.b.Post(a.form.Action, url.Values{"csrf_token": a.form.Fields["csrf_token"], "new_password": {a.pw}, "confirm_password": {a.pw}})
			statuses[i] = p.Status
		})
	}
	wg.Wait()
	slices.Sort(statuses)
	if statuses[0] != http.StatusSeeOther || statuses[1] != http.StatusGone {
		t.Fatalf("statuses = %v, want one 303 and one 410", statuses)
	}
}

// TestLinks_InvitationWithRequiredSecondFactor: a role that must have a second
// factor is sent to enrol one after setting the password, before any
// session exists.
func TestLinks_InvitationWithRequiredSecondFactor(t *testing.T) {
	e := harness.NewServer(t, harness.Options{MFARoles: []string{"assistant"}})
	u, err := e.Users.CreateInvited(t.Context(), user.User{Username: "mfa.newbie", Role: user.RoleAssistant}, password.Unset)
	if err != nil {
		t.Fatal(err)
	}
	link, _, err := e.Links.Invite(t.Context(), u.ID, "cli")
	if err != nil {
		t.Fatal(err)
	}
	b := e.NewBrowser(t)
	p := setPassword(t, b, link, "mfa-newbie-password")
	if p.Status != http.StatusSeeOther || p.Location() != "/login/factor" {
		t.Fatalf("POST link: status %d to %q, want the second factor's page", p.Status, p.Location())
	}
	if acc := b.Get("/account"); acc.Status != http.StatusSeeOther {
		t.Errorf("GET /account before the factor: status %d, want a redirect to sign in", acc.Status)
	}
	fp := b.Get("/login/factor")
	if fp.Status != http.StatusOK || !strings.Contains(fp.Body, `id="totp-secret"`) {
		t.Fatalf("factor page: status %d, want the enrolment; body:\n%s", fp.Status, fp.Body)
	}
	key, id := enrolment(t, fp)
	e.Clock.Advance(mfa.Period)
	done := submitCode(b, fp, factorAction(t, fp), url.Values{"factor_id": {id}, "code": {mfa.Code(key, e.Clock.Now())}})
	next := continueLink.FindStringSubmatch(done.Body)
	if len(recoveryCodes(done)) != mfa.RecoveryCodeCount || next == nil || html.UnescapeString(next[1]) != "/account" {
		t.Fatalf("after enrolment: status %d, want the recovery codes and Continue to /account:\n%s", done.Status, done.Body)
	}
	if acc := b.Get("/account"); acc.Status != http.StatusOK || !strings.Contains(acc.Body, "mfa.newbie") {
		t.Errorf("GET /account after the enrolment: status %d", acc.Status)
	}
	// The session is the second factor's: the app reads pwd otp mfa.
	f := e.AppRP(t, "openid").Start(true)
	wantMFAClaims(t, f.Redeem(t, b.SSO(f).Get("code")), []string{"pwd", "otp", "mfa"}, oidc.ACRMFA)
}

// TestForgotPassword: one answer for every account, a link only to the
// active account's own email; the link resets the password.
func TestForgotPassword(t *testing.T) {
	var logs testsupport.LogBuffer
	outbox := &mailRecorder{}
	e := harness.NewServer(t, harness.Options{Mail: outbox, LogTo: &logs})
	acc := e.NewUser(t, "forgetful", "forgetful-old-password", nil)
	b := e.NewBrowser(t)

	login := b.Get("/login")
	if !strings.Contains(login.Body, `href="/login/forgot"`) {
		t.Fatalf("the login page offers no Forgot password? link")
	}
	form := harness.FormTo(t, b.Get("/login/forgot"), "/login/forgot", "")
	ask := func(name string) *harness.Page {
		return b.Post(form.Action, url.Values{"csrf_token": form.Fields["csrf_token"], "login": {name}})
	}
	if p := b.Post(form.Action, url.Values{"login": {"forgetful"}}); p.Status != http.StatusForbidden {
		t.Errorf("without CSRF: status %d, want 403", p.Status)
	}
	// Unknown, deactivated (former_assistant), without email (front_desk),
	// then the real one by its email.
	var first *harness.Page
	for _, name := range []string{"nobody-here", harness.FormerAssistant, "front_desk", "Forgetful@Studio.Example"} {
		p := ask(name)
		if first == nil {
			first = p
		}
		if p.Status != http.StatusOK || p.Body != first.Body {
			t.Errorf("%s: status %d, body differs from the first answer: %v", name, p.Status, p.Body != first.Body)
		}
		if !strings.Contains(p.Body, "If an active account with an email address matches") {
			t.Errorf("%s: the answer is not the one sentence", name)
		}
	}
	// The queue runs in order: when the last ask's message is there, the
	// others were handled.
	msgs := outbox.wait(t, 1)
	if len(msgs) != 1 || msgs[0].To != acc.Username+"@studio.example" || msgs[0].Kind != "password_reset" {
		t.Fatalf("messages = %+v, want one reset to %s", msgs, acc.Username+"@studio.example")
	}
	link := linkOf(t, msgs[0])
	if p := setPassword(t, e.NewBrowser(t), link, "forgetful-new-password"); p.Status != http.StatusSeeOther {
		t.Fatalf("use the reset link: status %d", p.Status)
	}
	signInThroughRP(t, e, "forgetful", "forgetful-new-password")
	old := b.SubmitLogin(harness.ParseLoginForm(t, b.Get("/login")), "forgetful", "forgetful-old-password")
	if old.Status != http.StatusUnauthorized {
		t.Errorf("the old password: status %d, want 401", old.Status)
	}
	if strings.Contains(logs.String(), tokenOf(link)) {
		t.Errorf("the token appears in the log")
	}
}

// blockingMailer holds every Enqueue until release is closed, and says on
// entered when one has begun.
type blockingMailer struct {
	entered chan struct{}
	release chan struct{}
}

func (m *blockingMailer) Enqueue(ctx context.Context, _ mail.Message) error {
	select {
	case m.entered <- struct{}{}:
	default:
	}
	select {
	case <-m.release:
	case <-ctx.Done():
	}
	return nil
}

// TestForgotPassword_AnswersBeforeTheLookup: the answer for an account that
// gets a link does not wait for the lookup and the send (here held until
// the test lets them go), so its time cannot tell that the account exists.
// The answer must arrive while the send is still held.
func TestForgotPassword_AnswersBeforeTheLookup(t *testing.T) {
	mailer := &blockingMailer{entered: make(chan struct{}, 1), release: make(chan struct{})}
	e := harness.NewServer(t, harness.Options{Mail: mailer})
	t.Cleanup(func() { close(mailer.release) }) // before the server stops: LIFO
	e.NewUser(t, "heldback", "heldback-password-1", nil)
	b := e.NewBrowser(t)
	form := harness.FormTo(t, b.Get("/login/forgot"), "/login/forgot", "")
	answered := make(chan *harness.Page, 1)
	go func() {
		answered <- b.Post(form.Action, url.Values{"csrf_token": form.Fields["csrf_token"], "login": {"heldback"}})
	}()
	select {
	case p := <-answered:
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "If an active account with an email address matches") {
			t.Errorf("status %d: want the one answer", p.Status)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the answer waited for the held send")
	}
	// The send was asked for: the account was looked up behind the answer.
	select {
	case <-mailer.entered:
	case <-time.After(20 * time.Second):
		t.Fatal("no reset message was queued for an account that has an email")
	}
}

// TestForgotPassword_Limits: per client address (429 past the budget) and
// per account (a few links an hour, silently).
func TestForgotPassword_Limits(t *testing.T) {
	outbox := &mailRecorder{}
	e := harness.NewServer(t, harness.Options{Mail: outbox, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	e.NewUser(t, "limited", "limited-password-1", nil)
	e.NewUser(t, "other", "other-password-1", nil)
	b := e.NewBrowser(t)
	form := harness.FormTo(t, b.Get("/login/forgot"), "/login/forgot", "")
	ask := func(addr, name string) *harness.Page {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.Issuer+"/login/forgot",
			strings.NewReader(url.Values{"csrf_token": form.Fields["csrf_token"], "login": {name}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", addr)
		return b.Do(req)
	}
	for i := 1; i <= 5; i++ {
		if p := ask("198.51.100.7", "limited"); p.Status != http.StatusOK {
			t.Fatalf("ask %d: status %d, want 200", i, p.Status)
		}
	}
	p := ask("198.51.100.7", "limited")
	if p.Status != http.StatusTooManyRequests || p.Header.Get("Retry-After") == "" {
		t.Errorf("6th ask from one address: status %d, Retry-After %q; want 429", p.Status, p.Header.Get("Retry-After"))
	}
	// Another address for another account: its message comes after the
	// five asks were handled (one queue, in order).
	if p := ask("203.0.113.9", "other"); p.Status != http.StatusOK {
		t.Fatalf("ask from another address: status %d", p.Status)
	}
	msgs := outbox.wait(t, 4)
	var limited int
	for _, m := range msgs {
		if m.To == "limited@studio.example" {
			limited++
		}
	}
	if limited != 3 || len(msgs) != 4 {
		t.Errorf("%d messages, %d to limited@; want 3 to limited@ (the per-account limit) and 1 to other@", len(msgs), limited)
	}
}

// TestForgotPassword_WithoutEmail: without a mail outbox there is no
// "Forgot password?" and no page behind it.
func TestForgotPassword_WithoutEmail(t *testing.T) {
	e := harness.NewServer(t, harness.Options{})
	b := e.NewBrowser(t)
	if p := b.Get("/login"); strings.Contains(p.Body, "/login/forgot") {
		t.Errorf("the login page offers Forgot password? without email")
	}
	if p := b.Get("/login/forgot"); p.Status != http.StatusNotFound {
		t.Errorf("GET /login/forgot: status %d, want 404", p.Status)
	}
}

// TestEmailVerification: "Verify my email" sends a link to the current
// email; using it makes email_verified true in the ID token a relying party
// gets.
func TestEmailVerification(t *testing.T) {
	outbox := &mailRecorder{}
	e := harness.NewServer(t, harness.Options{Mail: outbox})
	acc := e.NewUser(t, "verifier", "verifier-password-1", nil)
	if c := signInThroughRP(t, e, "verifier", "verifier-password-1", "email"); c["email_verified"] != false || c["email"] != acc.Username+"@studio.example" {
		t.Fatalf("before: email %v, email_verified %v; want unverified", c["email"], c["email_verified"])
	}
	b := e.NewBrowser(t)
	signInDirect(t, b, "verifier", "verifier-password-1")
	f := harness.FormTo(t, b.Get("/account"), "/account/email", "")
	if p := b.Post(f.Action, url.Values{"csrf_token": f.Fields["csrf_token"]}); p.Status != http.StatusSeeOther || p.Location() != "/account?done=verify-sent" {
		t.Fatalf("POST /account/email: status %d to %q", p.Status, p.Location())
	}
	msgs := outbox.wait(t, 1)
	if msgs[0].To != acc.Username+"@studio.example" || msgs[0].Kind != "email_verification" {
		t.Fatalf("message to %q kind %q", msgs[0].To, msgs[0].Kind)
	}
	link := linkOf(t, msgs[0])
	// Opened in another browser (a phone's mail app): no session needed.
	other := e.NewBrowser(t)
	page := other.Get(link)
	if page.Status != http.StatusOK || !strings.Contains(page.Body, "Confirm my email") {
		t.Fatalf("GET link: status %d; body:\n%s", page.Status, page.Body)
	}
	if got, _ := e.Users.Get(t.Context(), acc.ID); got.EmailVerified {
		t.Fatalf("GET verified the email: it must not use the link")
	}
	lf := harness.FormTo(t, page, mustPath(t, link), "")
	done := other.Post(lf.Action, url.Values{"csrf_token": lf.Fields["csrf_token"]})
	if done.Status != http.StatusOK || !strings.Contains(done.Body, "now confirmed") {
		t.Fatalf("POST link: status %d; body:\n%s", done.Status, done.Body)
	}
	wantDead(t, other.Post(lf.Action, url.Values{"csrf_token": lf.Fields["csrf_token"]}))
	if c := signInThroughRP(t, e, "verifier", "verifier-password-1", "email"); c["email_verified"] != true {
		t.Errorf("after: email_verified %v, want true", c["email_verified"])
	}
	if acc := b.Get("/account"); !strings.Contains(acc.Body, "(verified)") || strings.Contains(acc.Body, `action="/account/email"`) {
		t.Errorf("the account page does not show the email verified")
	}
}
