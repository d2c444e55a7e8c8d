package web_test

// The studio's look over HTTP: the logo and theme endpoints, the pages that
// show the name, logo, accent and support contact, and a change made in the
// console (here, the branding service) showing on the next page view, from
// this process or another. The server is the shared harness's on a fresh
// SQLite file, its branding service's reads counted (brandRepo) and its
// clock moved by hand (brandClock).

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/branding"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
	"github.com/inkpass/inkpass/internal/user"
	"github.com/inkpass/inkpass/internal/web"
)

// brandRepo is the real store with its branding reads counted.
type brandRepo struct {
	*store.DB
	versions, loads atomic.Int64
}

func (c *brandRepo) BrandingVersion(ctx context.Context) (int64, error) {
	c.versions.Add(1)
	return c.DB.BrandingVersion(ctx)
}

func (c *brandRepo) LoadBranding(ctx context.Context) (branding.Record, error) {
	c.loads.Add(1)
	return c.DB.LoadBranding(ctx)
}

// brandClock moves only when told.
type brandClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *brandClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *brandClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// brandEnv is a server of the shared harness on a fresh SQLite file, its
// branding service reading through brandRepo and on brandClock.
type brandEnv struct {
	*harness.Server
	repo  *brandRepo
	clock *brandClock
}

const (
	brandStudio   = harness.StudioName
	brandUser     = "ana.admin"
	brandPassword = "correct horse battery staple"
)

func newBrandEnv(t *testing.T, defaults branding.Defaults) *brandEnv {
	t.Helper()
	clk := &brandClock{t: time.Now()}
	var repo *brandRepo
	if defaults.Name == "" {
		defaults.Name = brandStudio
	}
	e := harness.NewServer(t, harness.Options{
		EmptyDB: true,
		Studio:  web.Studio{Name: "the fixed name, never shown when Branding is set"},
		Branding: harness.BrandingOptions{
			Defaults: defaults,
			Options:  branding.Options{Recheck: 5 * time.Second, Now: clk.Now},
			Repo:     func(db *store.DB) branding.Repo { repo = &brandRepo{DB: db}; return repo },
		},
	})
	if _, err := e.Users.Create(t.Context(), user.User{Username: brandUser, Role: user.RoleAdmin, Name: "Ana"}, brandPassword); err != nil {
		t.Fatal(err)
	}
	return &brandEnv{Server: e, repo: repo, clock: clk}
}

// get fetches path with c (a plain client when nil) and returns the
// response with its body read.
func (e *brandEnv) get(t *testing.T, c *http.Client, path string, header ...string) (*http.Response, string) {
	t.Helper()
	if c == nil {
		c = e.HTTP.Client()
	}
	req, err := http.NewRequest(http.MethodGet, e.Issuer+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// signIn signs brandUser in through the login form and returns the
// browser (a client with a cookie jar) and the page it lands on.
func (e *brandEnv) signIn(t *testing.T) (*http.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := e.HTTP.Client()
	c.Jar = jar
	_, login := e.get(t, c, "/login")
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(login)
	if m == nil {
		t.Fatalf("login page without a csrf_token:\n%s", login)
	}
	resp, err := c.PostForm(e.Issuer+"/login", url.Values{"csrf_token": {m[1]}, "username": {brandUser}, "password": {brandPassword}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Ana") {
		t.Fatalf("sign-in answered %d:\n%s", resp.StatusCode, body)
	}
	return c, string(body)
}

func brandLogoPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = 0x1e, 0x90, 0xff, 0xff
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBranding_LogoIsServedStrictly(t *testing.T) {
	e := newBrandEnv(t, branding.Defaults{})
	ctx := t.Context()

	t.Run("404 when there is no logo", func(t *testing.T) {
		resp, _ := e.get(t, nil, branding.LogoPath+"?v=0")
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("GET logo with none = %d; want 404", resp.StatusCode)
		}
	})

	data := brandLogoPNG(t, 96, 32)
	if err := e.Branding.SetLogo(ctx, data, "ana.admin"); err != nil {
		t.Fatal(err)
	}
	src := e.Branding.Current(ctx).LogoSrc()
	if src != branding.LogoPath+"?v=1" {
		t.Fatalf("LogoSrc = %q", src)
	}

	t.Run("the versioned URL: the image, its sniffed type, locked down, cached a year", func(t *testing.T) {
		resp, body := e.get(t, nil, src)
		h := resp.Header
		switch {
		case resp.StatusCode != http.StatusOK:
			t.Fatalf("status %d", resp.StatusCode)
		case body != string(data):
			t.Fatalf("body is not the uploaded logo (%d bytes, want %d)", len(body), len(data))
		case h.Get("Content-Type") != "image/png":
			t.Errorf("Content-Type = %q; want image/png", h.Get("Content-Type"))
		case h.Get("X-Content-Type-Options") != "nosniff":
			t.Errorf("X-Content-Type-Options = %q", h.Get("X-Content-Type-Options"))
		case !strings.HasPrefix(h.Get("Content-Security-Policy"), "default-src 'none'"):
			t.Errorf("Content-Security-Policy = %q", h.Get("Content-Security-Policy"))
		case h.Get("Cache-Control") != "public, max-age=31536000, immutable":
			t.Errorf("Cache-Control = %q", h.Get("Cache-Control"))
		}
		etag := h.Get("ETag")
		resp, _ = e.get(t, nil, src, "If-None-Match", etag)
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("GET with If-None-Match %s = %d; want 304", etag, resp.StatusCode)
		}
	})

	t.Run("an old or missing version is revalidated, not cached a year", func(t *testing.T) {
		for _, p := range []string{branding.LogoPath, branding.LogoPath + "?v=0"} {
			resp, _ := e.get(t, nil, p)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-cache" {
				t.Errorf("GET %s = %d, Cache-Control %q; want 200 no-cache", p, resp.StatusCode, resp.Header.Get("Cache-Control"))
			}
		}
	})

	t.Run("a refused upload changes nothing served", func(t *testing.T) {
		html := []byte("<!doctype html><script>alert(document.cookie)</script>")
		if err := e.Branding.SetLogo(ctx, html, "ana.admin"); err == nil {
			t.Fatal("SetLogo took HTML")
		}
		resp, body := e.get(t, nil, src)
		if resp.Header.Get("Content-Type") != "image/png" || body != string(data) {
			t.Fatalf("after a refused upload the logo is %q, %d bytes", resp.Header.Get("Content-Type"), len(body))
		}
	})

	t.Run("404 once removed", func(t *testing.T) {
		if err := e.Branding.RemoveLogo(ctx, "ana.admin"); err != nil {
			t.Fatal(err)
		}
		resp, _ := e.get(t, nil, src)
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("GET removed logo = %d; want 404", resp.StatusCode)
		}
		_, page := e.get(t, nil, "/login")
		if strings.Contains(page, branding.LogoPath) {
			t.Fatal("the login page still links the removed logo")
		}
	})
}

// theme is the <link> of the accent stylesheet in a page, or "".
var themeLink = regexp.MustCompile(`<link rel="stylesheet" href="(/branding/theme\.css\?v=[^"]+)">`)

func TestBranding_PagesShowTheLook(t *testing.T) {
	e := newBrandEnv(t, branding.Defaults{})
	ctx := t.Context()

	t.Run("with nothing set, the defaults: the config's name, no logo, no theme, no support line", func(t *testing.T) {
		_, page := e.get(t, nil, "/login")
		if !strings.Contains(page, "Ink &amp; Needle Test Studio") || strings.Contains(page, "the fixed name") {
			t.Errorf("login page does not show the configured name:\n%s", page)
		}
		for _, absent := range []string{"<img", "/branding/theme.css", `class="support"`} {
			if strings.Contains(page, absent) {
				t.Errorf("login page with no settings has %q", absent)
			}
		}
	})

	if err := e.Branding.Update(ctx, branding.Settings{Name: "Lotus <Tattoo>", AccentColor: "#1E90FF", SupportContact: "help@lotus.example"}, "ana.admin"); err != nil {
		t.Fatal(err)
	}
	if err := e.Branding.SetLogo(ctx, brandLogoPNG(t, 64, 64), "ana.admin"); err != nil {
		t.Fatal(err)
	}

	checkPage := func(t *testing.T, name, page string, support bool) {
		t.Helper()
		if !strings.Contains(page, "Lotus &lt;Tattoo&gt;") {
			t.Errorf("%s page does not show the studio's name (escaped)", name)
		}
		if !strings.Contains(page, `<img class="brand-logo" src="/branding/logo?v=1"`) {
			t.Errorf("%s page does not show the uploaded logo", name)
		}
		if themeLink.FindString(page) == "" {
			t.Errorf("%s page does not link the accent stylesheet", name)
		}
		hasSupport := strings.Contains(page, `<a href="mailto:help@lotus.example">help@lotus.example</a>`)
		if hasSupport != support {
			t.Errorf("%s page shows the support contact: %v; want %v", name, hasSupport, support)
		}
	}

	t.Run("login", func(t *testing.T) {
		resp, page := e.get(t, nil, "/login")
		checkPage(t, "login", page, true)
		// The accent comes as a stylesheet of our own origin: the page's
		// CSP allows no inline style.
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("login CSP = %q", csp)
		}
		if strings.Contains(page, "<style") || strings.Contains(page, "style=") {
			t.Error("login page carries inline style, which its CSP blocks")
		}
	})
	t.Run("error", func(t *testing.T) {
		resp, page := e.get(t, nil, "/no/such/page")
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d", resp.StatusCode)
		}
		checkPage(t, "error", page, true)
	})
	t.Run("signed in and account", func(t *testing.T) {
		c, home := e.signIn(t)
		checkPage(t, "signed-in", home, false)
		_, account := e.get(t, c, "/account")
		checkPage(t, "account", account, false)
	})
	t.Run("the theme stylesheet", func(t *testing.T) {
		_, page := e.get(t, nil, "/login")
		link := themeLink.FindStringSubmatch(page)
		if link == nil {
			t.Fatal("no theme link")
		}
		resp, css := e.get(t, nil, link[1])
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/css; charset=utf-8" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("GET %s = %d %q", link[1], resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("Cache-Control = %q", resp.Header.Get("Cache-Control"))
		}
		// #1e90ff: black reads at 6.6:1, white at 3.2:1.
		for _, want := range []string{"--primary: #1e90ff;", "--on-primary: #000000;"} {
			if !strings.Contains(css, want) {
				t.Errorf("theme.css lacks %q:\n%s", want, css)
			}
		}
	})
}

// A change shows on the very next page view in this process, and within
// the recheck interval in another process sharing the database, and page
// views in between read nothing.
func TestBranding_ChangeShowsOnNextPageView(t *testing.T) {
	e := newBrandEnv(t, branding.Defaults{})
	ctx := t.Context()
	for range 20 {
		e.get(t, nil, "/login")
	}
	if v, l := e.repo.versions.Load(), e.repo.loads.Load(); v != 0 || l != 1 {
		t.Fatalf("20 login page views: %d version reads, %d loads; want 0 and 1", v, l)
	}

	if err := e.Branding.Update(ctx, branding.Settings{Name: "Lotus Tattoo"}, "ana.admin"); err != nil {
		t.Fatal(err)
	}
	if _, page := e.get(t, nil, "/login"); !strings.Contains(page, "Lotus Tattoo") {
		t.Fatal("the login page right after the change does not show the new name")
	}

	// Another process: its own handle on the file, its own service.
	other, err := store.Open(ctx, e.DB.Path(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	otherLook, err := branding.New(other, branding.Defaults{Name: brandStudio}, branding.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := otherLook.Update(ctx, branding.Settings{Name: "Rose & Thorn", AccentColor: "#ffcf5c"}, "ben.admin"); err != nil {
		t.Fatal(err)
	}
	if _, page := e.get(t, nil, "/login"); !strings.Contains(page, "Lotus Tattoo") {
		t.Fatal("within the recheck interval the page should still show the cached name")
	}
	e.clock.Advance(6 * time.Second)
	_, page := e.get(t, nil, "/login")
	if !strings.Contains(page, "Rose &amp; Thorn") || !strings.Contains(page, "ffcf5c") {
		t.Fatal("after the recheck interval the page does not show the other process's change")
	}
	if v := e.repo.versions.Load(); v != 1 {
		t.Fatalf("%d version reads; want 1", v)
	}
}
