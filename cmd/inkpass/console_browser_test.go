package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The console in headless Chromium (chromedp): the console works with
// plain forms, so the test clicks and types as a person would, with no
// script of ours on the pages.

// consoleChromium is the browser to drive: CHROME_PATH, or chromium on
// PATH. Without one the test skips, except under CI=true, where the
// browser tests must run (as in internal/web's browser tests).
func consoleChromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the browser tests run under make test")
	}
	names := []string{"chromium", "chromium-browser", "google-chrome"}
	if p := os.Getenv("CHROME_PATH"); p != "" {
		names = []string{p}
	}
	for _, n := range names {
		if full, err := exec.LookPath(n); err == nil {
			return full
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("chromium not installed (tried %s): CI must run the browser tests", strings.Join(names, ", "))
	}
	t.Skipf("BROWSER TEST SKIPPED: none of %s found; install chromium or set CHROME_PATH", strings.Join(names, ", "))
	return ""
}

// consoleTab is one headless Chromium with one tab.
type consoleTab struct {
	t   *testing.T
	ctx context.Context
}

func newConsoleTab(t *testing.T) *consoleTab {
	t.Helper()
	execPath := consoleChromium(t)
	profile := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,AutofillServerCommunication"),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Env("XDG_CONFIG_HOME="+filepath.Join(profile, "xdg-config"), "XDG_CACHE_HOME="+filepath.Join(profile, "xdg-cache")),
	}
	parent, cancelTimeout := context.WithTimeout(context.Background(), 90*time.Second)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelTimeout()
		killProfileProcesses(profile)
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("start %s: %v", execPath, err)
	}
	return &consoleTab{t: t, ctx: ctx}
}

// killProfileProcesses kills, by pid, a process left running whose command
// line names the test's own profile folder: only the Chromium this test
// started can.
func killProfileProcesses(profile string) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && bytes.Contains(cmdline, []byte("--user-data-dir="+profile)) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func (c *consoleTab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		c.t.Fatalf("%s: %v (at %s)", what, err, c.location())
	}
}

func consoleRun[T any](c *consoleTab, what string, a chromedp.Action[T]) T {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		c.t.Fatalf("%s: %v (at %s)", what, err, c.location())
	}
	return v
}

func (c *consoleTab) location() string {
	ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

// submit clicks a form's button and waits for the page the form leads to.
func (c *consoleTab) submit(sel string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		c.t.Fatalf("click %s: %v (at %s)", sel, err, c.location())
	}
}

func (c *consoleTab) open(url string) {
	c.t.Helper()
	consoleRun(c, "open "+url, chromedp.NavigateResponse(url))
}

func (c *consoleTab) text(sel string) string {
	c.t.Helper()
	return consoleRun(c, "read "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// checkLabels fails the test for a visible form field that no <label>
// names: every field must be announced by a screen reader.
func (c *consoleTab) checkLabels(name string) {
	c.t.Helper()
	bare := consoleRun(c, "check labels", chromedp.Evaluate[[]string](`[...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
		.filter(el => el.offsetParent !== null && !(el.labels && el.labels.length))
		.map(el => el.id || el.name || el.outerHTML)`))
	if len(bare) > 0 {
		c.t.Errorf("%s page: fields without a label: %v", name, bare)
	}
}

// screenshots saves the page at a phone's and a desktop's width, into the
// test's temp folder (or $INKPASS_SCREENSHOTS), and fails on a blank one:
// a rendered page has text, borders and buttons, so many colours.
func (c *consoleTab) screenshots(dir, name string) {
	c.t.Helper()
	c.checkLabels(name)
	for _, s := range []struct {
		label         string
		width, height int64
		mobile        bool
	}{{"390", 390, 844, true}, {"1280", 1280, 800, false}} {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
		if s.mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
		}
		c.do("viewport "+s.label, chromedp.EmulateViewport(s.width, s.height, opts...))
		if s.mobile {
			if over := consoleRun(c, "measure width", chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`)); over > 0 {
				c.t.Errorf("%s on a %dpx phone is %dpx wider than the screen", name, s.width, over)
			}
		}
		shot := consoleRun(c, "screenshot "+name, chromedp.FullScreenshot(100))
		img, err := png.Decode(bytes.NewReader(shot))
		if err != nil {
			c.t.Fatalf("screenshot %s-%s is no PNG: %v", name, s.label, err)
		}
		colours := map[[4]uint32]bool{}
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y += 2 {
			for x := b.Min.X; x < b.Max.X; x += 2 {
				r, g, bl, a := img.At(x, y).RGBA()
				colours[[4]uint32{r, g, bl, a}] = true
			}
		}
		if len(colours) < 40 {
			c.t.Errorf("screenshot %s-%s has %d colours: blank", name, s.label, len(colours))
		}
		file := filepath.Join(dir, fmt.Sprintf("console-%s-%s.png", name, s.label))
		if err := os.WriteFile(file, shot, 0o644); err != nil {
			c.t.Fatal(err)
		}
		c.t.Logf("screenshot %s (%d colours)", file, len(colours))
	}
	c.do("desktop viewport", chromedp.EmulateViewport(1280, 800))
}

// TestConsoleBrowser: an admin signs in from /admin, adds an artist and an
// artist user for it, and deactivates that user, in Chromium; the
// dashboard and the people list are photographed at 390px and 1280px.
func TestConsoleBrowser(t *testing.T) {
	tab := newConsoleTab(t)
	site := newConsoleSite(t)
	shots := os.Getenv("INKPASS_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	tab.open(site.base + "/admin")
	if loc := tab.location(); !strings.HasPrefix(loc, site.base+"/login?return=%2Fadmin") {
		t.Fatalf("/admin without a session went to %s, want the login page", loc)
	}
	tab.do("type credentials", chromedp.SendKeys(chromedp.CSS("#username"), "boss"), chromedp.SendKeys(chromedp.CSS("#password"), consolePassword))
	tab.submit(`form.form button[type="submit"]`)
	if loc := tab.location(); loc != site.base+"/admin" {
		t.Fatalf("after signing in the browser is at %s, want /admin", loc)
	}
	if h1 := tab.text("h1"); h1 != "Dashboard" {
		t.Fatalf("h1 = %q", h1)
	}
	tab.screenshots(shots, "dashboard")

	// An artist record, then an account for it.
	tab.open(site.base + "/admin/artists")
	tab.do("name the artist", chromedp.SendKeys(chromedp.CSS("#new-artist"), "Rin Ito"))
	tab.submit(`form[action="/admin/artists"] button`)
	if n := tab.text(".notice"); !strings.Contains(n, "The artist is added.") {
		t.Fatalf("after adding the artist: notice %q", n)
	}
	tab.checkLabels("artists")
	artistID := consoleRun(tab, "find the artist", chromedp.Evaluate[string](
		`[...document.querySelectorAll('#artists input[name="name"]')].find(i => i.value === "Rin Ito").id.replace("artist-", "")`))

	tab.open(site.base + "/admin/people/new")
	tab.do("fill the person",
		chromedp.SetValue(chromedp.CSS("#role"), "artist"),
		chromedp.SetValue(chromedp.CSS("#artist_id"), artistID),
		chromedp.SendKeys(chromedp.CSS("#username"), "rin"),
		chromedp.SendKeys(chromedp.CSS("#name"), "Rin Ito"),
		chromedp.SendKeys(chromedp.CSS("#instagram"), "@rin.ink"),
		chromedp.SendKeys(chromedp.CSS("#password"), "a fine long password"))
	tab.submit(`form[action="/admin/people"] button[type="submit"]`)
	if loc := tab.location(); !strings.Contains(loc, "/admin/people/") || !strings.HasSuffix(loc, "?done=person-saved") {
		body := consoleRun(tab, "read page", chromedp.Text(chromedp.CSS("main")))
		t.Fatalf("after adding the person the browser is at %s\n%s", loc, body)
	}
	if h1 := tab.text("h1"); h1 != "rin" {
		t.Fatalf("person page h1 = %q", h1)
	}
	tab.checkLabels("person")

	tab.submit(`form[action$="/deactivate"] button`)
	if n := tab.text(".notice"); !strings.Contains(n, "deactivated") {
		t.Fatalf("after deactivating: notice %q", n)
	}
	u := jsonObject(t, site.cli.ok(t, "", "user", "show", "rin", "--json"))
	if u["is_active"] != false || u["role"] != "artist" || u["artist_name"] != "Rin Ito" || u["instagram"] != "rin.ink" {
		t.Errorf("rin after the console: %v", u)
	}

	// An invitation: a person added without a password, the link shown
	// once, accepted in another browser (a Chromium of its own, with no
	// cookie of the admin's), where the person sets a password and is
	// signed in.
	tab.open(site.base + "/admin/people/new")
	tab.do("fill the invited person",
		chromedp.SetValue(chromedp.CSS("#role"), "assistant"),
		chromedp.SendKeys(chromedp.CSS("#username"), "noor"),
		chromedp.SendKeys(chromedp.CSS("#email"), "noor@studio.test"))
	tab.submit(`form[action="/admin/people"] button[type="submit"]`)
	link := consoleRun(tab, "read the invitation link", chromedp.Evaluate[string](`document.querySelector("#link").value`))
	path, ok := strings.CutPrefix(link, "http://127.0.0.1:1")
	if !ok || !strings.HasPrefix(path, "/link/") {
		t.Fatalf("the console showed %q, want an invitation link", link)
	}
	invited := newConsoleTab(t)
	invited.open(site.base + path)
	invited.do("choose a password",
		chromedp.SendKeys(chromedp.CSS("#new_password"), "noor's own long password"),
		chromedp.SendKeys(chromedp.CSS("#confirm_password"), "noor's own long password"))
	invited.submit(`form button[type="submit"]`)
	if loc := invited.location(); !strings.HasPrefix(loc, site.base+"/account") {
		t.Fatalf("after accepting the invitation the second browser is at %s, want /account", loc)
	}
	if got := invited.text("main"); !strings.Contains(got, "noor") {
		t.Errorf("the account page after the invitation does not name noor:\n%s", got)
	}

	tab.open(site.base + "/admin/people")
	if got := tab.text("#people"); !strings.Contains(got, "rin") || !strings.Contains(got, "deactivated") || !strings.Contains(got, "noor") {
		t.Errorf("people list: %q", got)
	}
	tab.screenshots(shots, "people")
}
