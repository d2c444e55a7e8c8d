package web

import (
	"crypto/sha256"
	"encoding/base64"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/inkpass/inkpass/templates"
)

// hostile is put in every text field a user, an admin or a client controls.
const hostile = `<script>alert(1)</script>" onfocus="alert(2)`

func mustNewRenderer(t *testing.T) *renderer {
	t.Helper()
	r, err := newRenderer()
	if err != nil {
		t.Fatalf("newRenderer: %v", err)
	}
	return r
}

// renderPage renders one page into a recorder, failing the test on error.
func renderPage(t *testing.T, r *renderer, status int, page string, data any, origins ...string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := r.render(rec, status, page, data, origins...); err != nil {
		t.Fatalf("render %s: %v", page, err)
	}
	return rec
}

var (
	formTagRE  = regexp.MustCompile(`<form\b`)
	csrfRE     = regexp.MustCompile(`<input type="hidden" name="csrf_token" value="tok-123">`)
	handlerRE  = regexp.MustCompile(`\son[a-z]+="`) // a real attribute; escaped text has =&#34;
	cspBaseFor = []string{
		"default-src 'none'",
		"style-src 'self'",
		"img-src 'self' https: data:",
		"form-action 'self'",
		"frame-ancestors 'none'",
		"base-uri 'none'",
	}
)

func TestRender_everyPage(t *testing.T) {
	r := mustNewRenderer(t)
	studio := Studio{Name: hostile, LogoURL: "javascript:alert(3)"}
	cases := []struct {
		page      string
		status    int
		data      any
		csrfForms int // forms that must carry csrf_token; -1 for none (form_post)
	}{
		{pageLogin, http.StatusOK, LoginPage{
			Studio: studio, Action: "/login?req=abc", CSRF: "tok-123", Username: hostile,
			Error: hostile, ClientName: hostile, RetryAfterSeconds: 30,
		}, 1},
		{pageError, http.StatusBadRequest, ErrorPage{
			Studio: studio, Title: hostile, Message: hostile, Status: 400, RequestID: hostile,
		}, 0},
		{pageSignedIn, http.StatusOK, SignedInPage{
			Studio: studio, Username: hostile, Name: hostile, LogoutAction: "/logout", CSRF: "tok-123",
		}, 1},
		{pageConsent, http.StatusOK, ConsentPage{
			Studio: studio, Action: "/consent?req=abc", CSRF: "tok-123", ClientName: hostile, Username: hostile,
			Scopes: []ScopeLine{{Name: "profile", Description: hostile, Claims: []string{hostile, "birthdate"}}},
		}, 1},
		{pageFormPost, http.StatusOK, FormPostPage{
			Studio: studio, RedirectURI: "https://app.example/cb",
			Params: []FormParam{{Name: "code", Value: hostile}, {Name: "state", Value: "s1"}},
		}, -1},
		{pageSignedOut, http.StatusOK, SignedOutPage{Studio: studio, Message: hostile}, 0},
		{pageAccount, http.StatusOK, AccountPage{
			Studio: studio, Username: hostile, Name: hostile, Role: "artist", ArtistName: hostile,
			Email: hostile, Phone: hostile, Instagram: hostile, Birthdate: hostile,
			CSRF: "tok-123", PasswordAction: "/account/password", Notice: hostile, Error: hostile,
			Apps: []AccountApp{
				{ClientID: "booking", ClientName: hostile, Scopes: "openid profile", RevokeAction: "/account/revoke"},
				{ClientID: "shop", Scopes: "openid", RevokeAction: "/account/revoke"},
			},
		}, 3},
	}
	for _, tc := range cases {
		t.Run(tc.page+" escapes hostile data and sets the security headers", func(t *testing.T) {
			rec := renderPage(t, r, tc.status, tc.page, tc.data)
			body := rec.Body.String()

			if rec.Code != tc.status {
				t.Errorf("status = %d, want %d", rec.Code, tc.status)
			}
			for header, want := range map[string]string{
				"Content-Type":           "text/html; charset=utf-8",
				"Cache-Control":          "no-store",
				"X-Content-Type-Options": "nosniff",
				"X-Frame-Options":        "DENY",
				"Referrer-Policy":        "no-referrer",
			} {
				if got := rec.Header().Get(header); got != want {
					t.Errorf("%s = %q, want %q", header, got, want)
				}
			}
			csp := rec.Header().Get("Content-Security-Policy")
			for _, want := range cspBaseFor {
				if !strings.Contains(csp, want) {
					t.Errorf("CSP %q lacks %q", csp, want)
				}
			}
			if tc.page != pageFormPost && strings.Contains(csp, "script-src") {
				t.Errorf("CSP %q allows scripts on %s", csp, tc.page)
			}

			if strings.Contains(body, "<script") {
				t.Errorf("body contains an unescaped <script>:\n%s", body)
			}
			if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("body does not show the hostile text escaped:\n%s", body)
			}
			if strings.Contains(body, "javascript:") || strings.Contains(body, "<img") {
				t.Errorf("body carries the javascript: logo URL:\n%s", body)
			}
			handlers := handlerRE.FindAllString(body, -1)
			if wantHandlers := map[bool]int{true: 1, false: 0}[tc.page == pageFormPost]; len(handlers) != wantHandlers {
				t.Errorf("event handler attributes = %q, want %d", handlers, wantHandlers)
			}

			for _, want := range []string{
				`<html lang="en">`,
				`<meta name="viewport" content="width=device-width, initial-scale=1">`,
				`<meta name="referrer" content="no-referrer">`,
				`<link rel="stylesheet" href="/static/inkpass.css?v=`,
				`Sign-in by <span class="footer-mark">inkpass</span>`,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("body lacks %q", want)
				}
			}

			forms := len(formTagRE.FindAllString(body, -1))
			tokens := len(csrfRE.FindAllString(body, -1))
			switch {
			case tc.csrfForms < 0 && tokens != 0:
				t.Errorf("csrf_token fields = %d, want none (the form posts to the client)", tokens)
			case tc.csrfForms >= 0 && (forms != tc.csrfForms || tokens != forms):
				t.Errorf("forms = %d and csrf_token fields = %d, want %d of each", forms, tokens, tc.csrfForms)
			}
		})
	}
}

func TestRender_login(t *testing.T) {
	r := mustNewRenderer(t)
	page := LoginPage{Studio: Studio{Name: "Black Lotus Tattoo"}, Action: "/login?req=abc", CSRF: "tok-123", Username: "mara"}

	t.Run("fields are labelled and autocomplete as a sign-in form", func(t *testing.T) {
		body := renderPage(t, r, http.StatusOK, pageLogin, page).Body.String()
		for _, want := range []string{
			`<form class="form" method="post" action="/login?req=abc">`,
			`<label for="username"`, `id="username" name="username" type="text" value="mara" autocomplete="username"`,
			`<label for="password"`, `id="password" name="password" type="password" autocomplete="current-password"`,
			`<button class="button button-primary" type="submit">Sign in</button>`,
			`<title>Sign in · Black Lotus Tattoo</title>`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("body lacks %q:\n%s", want, body)
			}
		}
	})

	t.Run("no error box without an error", func(t *testing.T) {
		body := renderPage(t, r, http.StatusOK, pageLogin, page).Body.String()
		if strings.Contains(body, `role="alert"`) {
			t.Errorf("error box shown without an error:\n%s", body)
		}
		if strings.Contains(body, "continue to") {
			t.Errorf("client line shown without a client name")
		}
	})

	t.Run("an error is shown in an alert box", func(t *testing.T) {
		p := page
		p.Error = "Wrong username or password."
		rec := renderPage(t, r, http.StatusUnauthorized, pageLogin, &p)
		body := rec.Body.String()
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("status = %d, want 401", rec.Code)
		}
		want := `<div class="alert" id="form-error" role="alert" aria-live="assertive">` + "\n<p>Wrong username or password.</p>"
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
		if strings.Count(body, `role="alert"`) != 1 {
			t.Errorf("want exactly one alert")
		}
	})

	t.Run("throttling says how long to wait", func(t *testing.T) {
		p := page
		p.RetryAfterSeconds = 120
		body := renderPage(t, r, http.StatusTooManyRequests, pageLogin, p).Body.String()
		if !strings.Contains(body, `role="alert"`) || !strings.Contains(body, "Please wait 2 minutes before trying again.") {
			t.Errorf("throttle message missing:\n%s", body)
		}
	})

	t.Run("the client name is announced", func(t *testing.T) {
		p := page
		p.ClientName = "Booking"
		body := renderPage(t, r, http.StatusOK, pageLogin, p).Body.String()
		if !strings.Contains(body, "Sign in to continue to <strong>Booking</strong>") {
			t.Errorf("client line missing:\n%s", body)
		}
	})

	t.Run("form-action allows the client's redirect origin and nothing else", func(t *testing.T) {
		rec := renderPage(t, r, http.StatusOK, pageLogin, page,
			"https://booking.example:8443/cb?x=1", "com.example.app:/oauth", "https://evil.example; script-src *", "*", "javascript:alert(1)")
		csp := rec.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "form-action 'self' https://booking.example:8443 com.example.app:;") {
			t.Errorf("CSP = %q", csp)
		}
		for _, bad := range []string{"evil", "*", "javascript"} {
			if strings.Contains(csp, bad) {
				t.Errorf("CSP %q contains %q", csp, bad)
			}
		}
	})
}

func TestRender_consent(t *testing.T) {
	r := mustNewRenderer(t)
	body := renderPage(t, r, http.StatusOK, pageConsent, ConsentPage{
		Action: "/consent", CSRF: "tok-123", ClientName: "Booking", Username: "mara",
		Scopes: []ScopeLine{
			{Name: "profile", Description: "See your name and date of birth", Claims: []string{"name", "birthdate"}},
			{Name: "email"},
		},
	}).Body.String()
	for _, want := range []string{
		`<button class="button button-primary" type="submit" name="decision" value="approve">Allow</button>`,
		`<button class="button button-secondary" type="submit" name="decision" value="deny">Deny</button>`,
		"See your name and date of birth",
		`<span class="claim">name</span><span class="visually-hidden">, </span><span class="claim">birthdate</span>`,
		`<p class="scope-title">email</p>`,
		"Signed in as <strong>mara</strong>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}

func TestRender_formPost(t *testing.T) {
	r := mustNewRenderer(t)
	rec := renderPage(t, r, http.StatusOK, pageFormPost, FormPostPage{
		RedirectURI: "https://app.example/cb?tenant=1",
		Params:      []FormParam{{Name: "code", Value: "c0de"}, {Name: "state", Value: "a&b"}, {Name: "iss", Value: "https://id.example"}},
	})
	body := rec.Body.String()

	t.Run("each parameter is a hidden input and a button is visible", func(t *testing.T) {
		for _, want := range []string{
			`<form class="form" method="post" action="https://app.example/cb?tenant=1">`,
			`<input type="hidden" name="code" value="c0de">`,
			`<input type="hidden" name="state" value="a&amp;b">`,
			`<input type="hidden" name="iss" value="https://id.example">`,
			`<button class="button button-primary" type="submit">Continue</button>`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("body lacks %q:\n%s", want, body)
			}
		}
	})

	t.Run("the onload handler is the one whose hash the CSP allows", func(t *testing.T) {
		if !strings.Contains(body, `<body onload="`+formPostOnload+`">`) {
			t.Errorf("body lacks the onload handler:\n%s", body)
		}
		sum := sha256.Sum256([]byte(formPostOnload))
		want := "script-src 'unsafe-hashes' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		csp := rec.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
		if !strings.Contains(csp, "form-action 'self' https://app.example;") {
			t.Errorf("CSP %q does not allow posting to the redirect URI's origin", csp)
		}
	})

	t.Run("a redirect URI with an unsafe scheme is neutralised", func(t *testing.T) {
		body := renderPage(t, r, http.StatusOK, pageFormPost, FormPostPage{RedirectURI: "javascript:alert(1)"}).Body.String()
		if strings.Contains(body, "javascript:") {
			t.Errorf("body carries a javascript: URL:\n%s", body)
		}
	})
}

func TestRender_account(t *testing.T) {
	r := mustNewRenderer(t)
	page := AccountPage{
		Username: "mara", Name: "Mara Ink", Role: "client", CSRF: "tok-123", PasswordAction: "/account/password",
		Apps: []AccountApp{{ClientID: "booking", ClientName: "Booking", Scopes: "openid profile", RevokeAction: "/account/revoke"}},
	}

	t.Run("password fields are labelled with the right autocomplete", func(t *testing.T) {
		body := renderPage(t, r, http.StatusOK, pageAccount, page).Body.String()
		for _, want := range []string{
			`<label for="current_password">`, `id="current_password" name="current_password" type="password" autocomplete="current-password"`,
			`<label for="new_password">`, `id="new_password" name="new_password" type="password" autocomplete="new-password"`,
			`<label for="confirm_password">`, `id="confirm_password" name="confirm_password" type="password" autocomplete="new-password"`,
			`<form method="post" action="/account/revoke">`,
			`<input type="hidden" name="client_id" value="booking">`,
			"<dt>Email</dt><dd><span class=\"muted\">Not set</span></dd>",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("body lacks %q:\n%s", want, body)
			}
		}
		if strings.Contains(body, `role="alert"`) || strings.Contains(body, `role="status"`) {
			t.Errorf("message boxes shown without messages")
		}
		if strings.Contains(body, "Artist name") {
			t.Errorf("artist name row shown for a user without one")
		}
	})

	t.Run("notice and error are shown", func(t *testing.T) {
		p := page
		p.Notice, p.Error = "Your password has been changed.", "The new passwords do not match."
		body := renderPage(t, r, http.StatusOK, pageAccount, p).Body.String()
		if !strings.Contains(body, `role="status"`) || !strings.Contains(body, "Your password has been changed.") {
			t.Errorf("notice missing")
		}
		if !strings.Contains(body, `role="alert"`) || !strings.Contains(body, "The new passwords do not match.") {
			t.Errorf("error missing")
		}
	})

	t.Run("no apps says so", func(t *testing.T) {
		p := page
		p.Apps = nil
		body := renderPage(t, r, http.StatusOK, pageAccount, p).Body.String()
		if !strings.Contains(body, "No apps have access to your account.") {
			t.Errorf("empty apps message missing")
		}
	})
}

func TestRender_errorPage(t *testing.T) {
	r := mustNewRenderer(t)
	body := renderPage(t, r, http.StatusNotFound, pageError, ErrorPage{Status: 404, RequestID: "req-42"}).Body.String()
	for _, want := range []string{"Error 404", "Something went wrong", "<code>req-42</code>"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}

func TestRender_failures(t *testing.T) {
	r := mustNewRenderer(t)

	t.Run("an unknown page is a plain 500", func(t *testing.T) {
		rec := httptest.NewRecorder()
		if err := r.render(rec, http.StatusOK, "nope", nil); err == nil {
			t.Fatal("want an error")
		}
		assertPlain500(t, rec)
	})

	t.Run("data of the wrong type is a plain 500", func(t *testing.T) {
		rec := httptest.NewRecorder()
		if err := r.render(rec, http.StatusOK, pageLogin, ErrorPage{}); err == nil {
			t.Fatal("want an error")
		}
		assertPlain500(t, rec)
	})

	t.Run("a template that fails half way writes nothing of the page", func(t *testing.T) {
		fsys := copyTemplates(t)
		fsys["broken.html"] = &fstest.MapFile{Data: []byte(
			`{{define "title"}}Broken{{end}}{{define "content"}}<p>before</p>{{.Missing}}{{end}}`)}
		r, err := newRendererFS(fsys)
		if err != nil {
			t.Fatalf("newRendererFS: %v", err)
		}
		rec := httptest.NewRecorder()
		if err := r.render(rec, http.StatusOK, "broken", SignedOutPage{}); err == nil {
			t.Fatal("want an error")
		}
		assertPlain500(t, rec)
	})
}

func assertPlain500(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", rec.Code)
	}
	if got := rec.Body.String(); got != "internal error\n" {
		t.Errorf("body = %q, want %q", got, "internal error\n")
	}
	if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "text/plain") {
		t.Errorf("Content-Type = %q, want text/plain", got)
	}
}

func TestNewRenderer(t *testing.T) {
	t.Run("a missing required page stops start-up", func(t *testing.T) {
		fsys := copyTemplates(t)
		delete(fsys, "consent.html")
		_, err := newRendererFS(fsys)
		if err == nil || !strings.Contains(err.Error(), "consent") {
			t.Fatalf("err = %v, want one naming consent", err)
		}
	})

	t.Run("a page naming a field its data lacks stops start-up", func(t *testing.T) {
		fsys := copyTemplates(t)
		fsys["signed_out.html"] = &fstest.MapFile{Data: []byte(
			`{{define "title"}}x{{end}}{{define "content"}}{{.Nope}}{{end}}`)}
		if _, err := newRendererFS(fsys); err == nil || !strings.Contains(err.Error(), "signed_out") {
			t.Fatalf("err = %v, want one naming signed_out", err)
		}
	})

	t.Run("a changed onload handler stops start-up", func(t *testing.T) {
		fsys := copyTemplates(t)
		f := fsys["form_post.html"]
		f.Data = []byte(strings.Replace(string(f.Data), formPostOnload, "document.forms[0].submit();", 1))
		if _, err := newRendererFS(fsys); err == nil || !strings.Contains(err.Error(), "onload") {
			t.Fatalf("err = %v, want one about the onload handler", err)
		}
	})
}

// copyTemplates returns a writable copy of templates.FS.
func copyTemplates(t *testing.T) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	err := fs.WalkDir(templates.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(templates.FS, p)
		out[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRenderer_staticHandler(t *testing.T) {
	r := mustNewRenderer(t)
	h := r.staticHandler()
	get := func(method, target string, header ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	rec := get(http.MethodGet, "/static/inkpass.css?v=whatever")
	t.Run("the stylesheet is served with caching headers", func(t *testing.T) {
		if rec.Code != http.StatusOK {
			t.Fatalf("status = %d, want 200", rec.Code)
		}
		if got := rec.Header().Get("Content-Type"); got != "text/css; charset=utf-8" {
			t.Errorf("Content-Type = %q", got)
		}
		if got := rec.Header().Get("Cache-Control"); got != "public, max-age=86400" {
			t.Errorf("Cache-Control = %q", got)
		}
		if got := rec.Header().Get("ETag"); len(got) < 10 || got[0] != '"' {
			t.Errorf("ETag = %q, want a strong ETag", got)
		}
		if !strings.Contains(rec.Body.String(), ":focus-visible") {
			t.Errorf("served CSS does not look like inkpass.css")
		}
	})

	t.Run("a matching If-None-Match gets 304", func(t *testing.T) {
		again := get(http.MethodGet, "/static/inkpass.css", "If-None-Match", rec.Header().Get("ETag"))
		if again.Code != http.StatusNotModified {
			t.Errorf("status = %d, want 304", again.Code)
		}
	})

	t.Run("the stylesheet the pages link to is the one served", func(t *testing.T) {
		body := renderPage(t, r, http.StatusOK, pageSignedOut, SignedOutPage{}).Body.String()
		m := regexp.MustCompile(`href="(/static/inkpass\.css\?v=([0-9a-f]+))"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no stylesheet link in:\n%s", body)
		}
		if !strings.HasPrefix(strings.Trim(rec.Header().Get("ETag"), `"`), m[2]) {
			t.Errorf("link version %s does not match ETag %s", m[2], rec.Header().Get("ETag"))
		}
	})

	for _, tc := range []struct {
		name, method, target string
		want                 int
	}{
		{"an unknown file is 404", http.MethodGet, "/static/nope.css", http.StatusNotFound},
		{"the directory is not listed", http.MethodGet, "/static/", http.StatusNotFound},
		{"a template is not served", http.MethodGet, "/static/../login.html", http.StatusNotFound},
		{"POST is refused", http.MethodPost, "/static/inkpass.css", http.StatusMethodNotAllowed},
		{"HEAD is allowed", http.MethodHead, "/static/inkpass.css", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := get(tc.method, tc.target).Code; got != tc.want {
				t.Errorf("status = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestHumanWait(t *testing.T) {
	for _, tc := range []struct {
		seconds int
		want    string
	}{
		{1, "1 second"},
		{45, "45 seconds"},
		{60, "1 minute"},
		{61, "2 minutes"},
		{900, "15 minutes"},
		{90 * 60, "2 hours"},
	} {
		if got := humanWait(tc.seconds); got != tc.want {
			t.Errorf("humanWait(%d) = %q, want %q", tc.seconds, got, tc.want)
		}
	}
}

func TestRender_logo(t *testing.T) {
	r := mustNewRenderer(t)
	for _, tc := range []struct {
		name, logo, want string // want "" means no <img>
	}{
		{"an https logo is shown", "https://cdn.example/lotus.png?s=2", `src="https://cdn.example/lotus.png?s=2"`},
		{"a logo on our own origin is shown", "/static/lotus.svg", `src="/static/lotus.svg"`},
		{"no logo shows no image", "", ""},
		{"a plain http logo elsewhere shows nothing (CSP img-src)", "http://cdn.example/lotus.png", ""},
		{"a data: URL shows no broken image", "data:image/png;base64,iVBORw0KGgo=", ""},
		{"a javascript: URL shows nothing", "javascript:alert(1)", ""},
		{"a protocol-relative URL shows nothing", "//cdn.example/lotus.png", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := renderPage(t, r, http.StatusOK, pageSignedOut, SignedOutPage{Studio: Studio{Name: "Lotus", LogoURL: tc.logo}}).Body.String()
			img := regexp.MustCompile(`<img class="brand-logo" [^>]*>`).FindString(body)
			switch {
			case tc.want == "" && img != "":
				t.Errorf("want no image, got %s", img)
			case tc.want != "" && !strings.Contains(img, tc.want):
				t.Errorf("image = %q, want it to contain %q", img, tc.want)
			case tc.want != "" && !strings.Contains(img, `alt=""`):
				t.Errorf("image = %q, want alt=\"\" (the studio name is right below it)", img)
			}
		})
	}
}
