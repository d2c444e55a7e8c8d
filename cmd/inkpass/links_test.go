package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/inkpass/inkpass/internal/password"
)

var printedLink = regexp.MustCompile(`(?m)^(http://127\.0\.0\.1:1)(/link/[A-Za-z0-9_-]{43})$`)

// linkBrowser is a cookie-keeping client that stops at redirects.
func linkBrowser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func getBody(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)

// usePrintedLink opens the printed link on the running server (the issuer
// in the test config is not where it listens: the path is what counts),
// sets pw and returns the answer's status and Location.
func usePrintedLink(t *testing.T, base, path, pw string) (int, string) {
	t.Helper()
	c := linkBrowser(t)
	status, body := getBody(t, c, base+path)
	m := csrfInput.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		t.Fatalf("GET %s: status %d, no form:\n%s", path, status, body)
	}
	resp, err := c.PostForm(base+path, url.Values{"csrf_token": {m[1]}, "new_password": {pw}, "confirm_password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

// TestUserInviteAndResetLink: `user add --invite`, `user invite` and `user
// reset-link` print a link that works on the running server, once.
func TestUserInviteAndResetLink(t *testing.T) {
	c := newCLI(t, "inkpass.db", "listen: \"127.0.0.1:0\"\nissuer: \"http://127.0.0.1:1\"\nmetrics:\n  listen: \"127.0.0.1:0\"\n")

	if code, _, errOut := c.run(t, strings.NewReader("pw\n"), "user", "add", "--username", "x", "--role", "assistant", "--invite", "--password-stdin"); code == 0 || !strings.Contains(errOut, "exclude") {
		t.Errorf("--invite with --password-stdin: exit %d, stderr %q; want a usage error", code, errOut)
	}
	out := c.ok(t, "", "user", "add", "--username", "newbie", "--role", "assistant", "--email", "newbie@studio.example", "--invite")
	invite := printedLink.FindStringSubmatch(out)
	if invite == nil || !strings.Contains(out, "without a password") {
		t.Fatalf("user add --invite printed no link under the issuer:\n%s", out)
	}
	if strings.Contains(out, "also sent") {
		t.Errorf("claims to have emailed without email configured:\n%s", out)
	}
	if show := c.ok(t, "", "user", "show", "newbie"); !strings.Contains(show, password.Describe(password.Unset)) {
		t.Errorf("user show of the invited user does not say %q:\n%s", password.Describe(password.Unset), show)
	}
	if weak := c.ok(t, "", "user", "list", "--weak-hashes"); strings.Contains(weak, "newbie") {
		t.Errorf("the invited user is listed among weak hashes:\n%s", weak)
	}
	// A second invitation replaces the first.
	again := printedLink.FindStringSubmatch(c.ok(t, "", "user", "invite", "newbie"))
	if again == nil || again[2] == invite[2] {
		t.Fatalf("user invite printed no new link")
	}
	reset := printedLink.FindStringSubmatch(c.ok(t, "", "user", "reset-link", "newbie"))
	if reset == nil {
		t.Fatalf("user reset-link printed no link")
	}
	if code, _, errOut := c.run(t, nil, "user", "invite", "nobody-here"); code == 0 || !strings.Contains(errOut, "no user") {
		t.Errorf("user invite of an unknown user: exit %d, stderr %q", code, errOut)
	}

	srv := c.serve(t)
	base := srv.listening(t)
	client := linkBrowser(t)
	if status, _ := getBody(t, client, base+invite[2]); status != http.StatusGone {
		t.Errorf("the superseded invitation: status %d, want 410", status)
	}
	if status, loc := usePrintedLink(t, base, again[2], "newbie-first-password"); status != http.StatusSeeOther || loc != "/account?done=password-set" {
		t.Fatalf("use the invitation: status %d to %q", status, loc)
	}
	// Setting the password killed the reset link issued before it.
	if status, _ := getBody(t, client, base+reset[2]); status != http.StatusGone {
		t.Errorf("the reset link after the password was set: status %d, want 410", status)
	}
	if status, _ := getBody(t, client, base+again[2]); status != http.StatusGone {
		t.Errorf("the used invitation: status %d, want 410", status)
	}
	// The new password signs in.
	login := linkBrowser(t)
	_, body := getBody(t, login, base+"/login")
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no login form")
	}
	resp, err := login.PostForm(base+"/login", url.Values{"csrf_token": {m[1]}, "username": {"newbie"}, "password": {"newbie-first-password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account" {
		t.Errorf("sign in with the new password: status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	c.ok(t, "", "user", "deactivate", "newbie")
	if code, _, errOut := c.run(t, nil, "user", "reset-link", "newbie"); code == 0 || !strings.Contains(errOut, "deactivated") {
		t.Errorf("reset-link of a deactivated user: exit %d, stderr %q", code, errOut)
	}
	srv.stop(t)
	for _, l := range [][]string{invite, again, reset} {
		if strings.Contains(srv.logs.String(), strings.TrimPrefix(l[2], "/link/")) {
			t.Errorf("serve's log carries a link's token")
		}
	}
}
