package main

import (
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleSectionsBrowser: in Chromium, an admin registers an app with
// the form (typing, ticking, choosing), reads its secret, rotates a signing
// key, reads the activity chart and the sessions; each section is
// photographed at 390px and 1280px (console_browser_test.go's
// screenshots: not blank, no sideways scrolling on the phone), into
// $INKPASS_SCREENSHOTS when set.
func TestConsoleSectionsBrowser(t *testing.T) {
	tab := newConsoleTab(t)
	site := newConsoleSite(t)
	shots := os.Getenv("INKPASS_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	// A month of sign-ins for the chart: a steady studio, a bad Monday.
	raw := site.rawDB(t)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	rng := rand.New(rand.NewPCG(15, 30))
	for d := range 30 {
		at := today.AddDate(0, 0, -d).Add(10 * time.Hour).Unix()
		ok, bad := 4+rng.IntN(9), rng.IntN(3)
		if d == 9 {
			bad = 14
		}
		for i := range ok + bad {
			kind := "login_succeeded"
			if i >= ok {
				kind = "login_failed"
			}
			if _, err := raw.Exec(`INSERT INTO inkpass_audit (at, kind, username, client_id) VALUES (?, ?, 'desk', 'booking')`, at+int64(i), kind); err != nil {
				t.Fatal(err)
			}
		}
	}

	tab.open(site.base + "/admin")
	tab.do("type credentials", chromedp.SendKeys(chromedp.CSS("#username"), "boss"), chromedp.SendKeys(chromedp.CSS("#password"), consolePassword))
	tab.submit(`form.form button[type="submit"]`)
	if loc := tab.location(); loc != site.base+"/admin" {
		t.Fatalf("after signing in the browser is at %s, want /admin", loc)
	}

	tab.open(site.base + "/admin/apps/new")
	tab.screenshots(shots, "app-new")
	tab.do("fill the app",
		chromedp.SendKeys(chromedp.CSS("#id"), "booking"),
		chromedp.SendKeys(chromedp.CSS("#name"), "Booking"),
		chromedp.SendKeys(chromedp.CSS("#redirect_uris"), "https://booking.studio.test/callback"),
		chromedp.Click(chromedp.CSS(`input[name="first_party"]`)),
		chromedp.SetValue(chromedp.CSS("#id_token_alg"), "ES256"))
	tab.submit(`form[action="/admin/apps/new"] button[type="submit"]`)
	secret := tab.text("#client-secret")
	if h1 := tab.text("h1"); h1 != "App registered" || len(secret) != 43 {
		t.Fatalf("after registering: h1 %q, secret %q", h1, secret)
	}
	app := jsonObject(t, site.cli.ok(t, "", "client", "show", "booking", "--json"))
	if app["first_party"] != true || app["id_token_signed_response_alg"] != "ES256" {
		t.Errorf("the registered app: %v", app)
	}
	site.cli.ok(t, "", "client", "add", "--id", "studio-site", "--name", "Studio website", "--public", "--redirect-uri", "http://localhost:5173/cb")
	tab.open(site.base + "/admin/apps")
	if got := tab.text("#apps"); !strings.Contains(got, "Booking") || !strings.Contains(got, "Studio website") {
		t.Errorf("apps list: %q", got)
	}
	tab.screenshots(shots, "apps")

	tab.open(site.base + "/admin/keys")
	tab.do("choose ES256", chromedp.SetValue(chromedp.CSS("#alg"), "ES256"))
	tab.submit(`form[action="/admin/keys/rotate"] button`)
	if n := tab.text(".notice"); !strings.Contains(n, "A new key is active.") {
		t.Fatalf("after rotating: notice %q", n)
	}
	if got := tab.text("#keys"); strings.Count(got, "retiring") != 1 || strings.Count(got, "active") != 2 {
		t.Errorf("keys table after rotating ES256: %q", got)
	}
	tab.screenshots(shots, "keys")

	tab.open(site.base + "/admin/activity")
	if n := consoleRun(tab, "count bars", chromedp.Evaluate[int](`document.querySelectorAll("svg.chart rect > title").length`)); n != 60 {
		t.Errorf("the chart has %d bars, want 60 (30 days, two series)", n)
	}
	// The picture: the chart over a short, mixed trail (today's events of
	// the app, not the month's hundreds).
	tab.open(site.base + "/admin/activity?client=booking&kind=login_failed&from=" + today.AddDate(0, 0, -4).Format(time.DateOnly))
	tab.screenshots(shots, "activity")

	tab.open(site.base + "/admin/sessions")
	tab.do("search desk", chromedp.SendKeys(chromedp.CSS("#q"), "boss"))
	tab.submit(`form[action="/admin/sessions"] button`)
	if got := tab.text("main"); !strings.Contains(got, "this browser") {
		t.Errorf("boss's sessions page does not mark this browser: %q", got)
	}
	tab.screenshots(shots, "sessions")

	tab.open(site.base + "/admin/settings")
	tab.screenshots(shots, "settings")
}
