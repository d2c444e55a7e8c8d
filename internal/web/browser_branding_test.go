package web_test

// The studio's look in a real browser: the login page with no settings at
// all, and with an uploaded logo, an accent colour and a support contact,
// at phone and desktop width. The stylesheet and logo must load under the
// page's CSP (harness.NewChrome fails the test on any CSP message), the button
// must take the accent with the label colour chosen by contrast, nothing
// may overflow the phone, and the screenshots (saved in t.TempDir()) must
// not be blank.

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/inkpass/inkpass/internal/branding"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
)

// brandSizes are the widths the screenshots are taken at.
var brandSizes = []struct {
	name          string
	width, height int64
	mobile        bool
}{
	{"phone", 390, 844, true},
	{"desktop", 1280, 800, false},
}

// brandLook is what the login page shows, read in the browser.
type brandLook struct {
	ButtonBG    string `json:"buttonBg"`
	ButtonColor string `json:"buttonColor"`
	LogoWidth   int    `json:"logoWidth"` // naturalWidth once loaded; -1 without a logo
	Name        string `json:"name"`
	Support     string `json:"support"`
	Overflow    int    `json:"overflow"`
}

const brandLookJS = `(() => {
	const btn = document.querySelector('form.form button[type=submit]');
	const cs = getComputedStyle(btn);
	const img = document.querySelector('img.brand-logo');
	const sup = document.querySelector('.support a');
	return {buttonBg: cs.backgroundColor, buttonColor: cs.color,
		logoWidth: img ? (img.complete ? img.naturalWidth : 0) : -1,
		name: document.querySelector('.brand-name').innerText,
		support: sup ? sup.getAttribute('href') : "",
		overflow: document.documentElement.scrollWidth - window.innerWidth};
})()`

// cssRGB writes "#rrggbb" as getComputedStyle does.
func cssRGB(hex string) string {
	var r, g, b uint8
	fmt.Sscanf(hex, "#%02x%02x%02x", &r, &g, &b)
	return fmt.Sprintf("rgb(%d, %d, %d)", r, g, b)
}

// screenshotCheck decodes a screenshot and fails the test when it is blank:
// too few colours, or none of the accent's pixels (the button).
func screenshotCheck(t *testing.T, name string, data []byte, accent string, wantWidth int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: screenshot is not a PNG: %v", name, err)
	}
	if w := img.Bounds().Dx(); w != wantWidth {
		t.Errorf("%s: screenshot is %d px wide; want %d", name, w, wantWidth)
	}
	var ar, ag, ab uint8
	fmt.Sscanf(accent, "#%02x%02x%02x", &ar, &ag, &ab)
	colours := map[[3]uint8]bool{}
	accentPixels := 0
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 2 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			c := [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
			colours[c] = true
			if near(c[0], ar) && near(c[1], ag) && near(c[2], ab) {
				accentPixels++
			}
		}
	}
	if len(colours) < 20 {
		t.Errorf("%s: screenshot has %d colours; it looks blank", name, len(colours))
	}
	if accentPixels < 500 {
		t.Errorf("%s: screenshot has %d pixels (of every fourth) of the accent %s; the button is not drawn in it", name, accentPixels, accent)
	}
}

// near allows the few steps of colour management and antialiasing.
func near(a, b uint8) bool { return max(a, b)-min(a, b) <= 3 }

func TestBrowser_BrandingOnTheLoginPage(t *testing.T) {
	e := newBrandEnv(t, branding.Defaults{})
	b := harness.NewChrome(t)
	dir := t.TempDir()

	look := func(t *testing.T, label, accent string, withLogo bool) {
		b.Open(e.Issuer + "/login")
		for _, s := range brandSizes {
			opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
			if s.mobile {
				opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
			}
			b.Do("viewport "+s.name, chromedp.EmulateViewport(s.width, s.height, opts...))
			got := harness.ChromeRun(b, "read the look", chromedp.Evaluate[brandLook](brandLookJS))
			cur := e.Branding.Current(t.Context())
			if got.ButtonBG != cssRGB(accent) {
				t.Errorf("%s %s: button background %s; want the accent %s", label, s.name, got.ButtonBG, cssRGB(accent))
			}
			if want := cssRGB(branding.TextColor(accent)); got.ButtonColor != want {
				t.Errorf("%s %s: button label %s; want %s", label, s.name, got.ButtonColor, want)
			}
			if withLogo && got.LogoWidth != 64 || !withLogo && got.LogoWidth != -1 {
				t.Errorf("%s %s: logo width %d (want %v)", label, s.name, got.LogoWidth, withLogo)
			}
			if !strings.EqualFold(got.Name, cur.Name) {
				t.Errorf("%s %s: name %q; want %q", label, s.name, got.Name, cur.Name)
			}
			if href, _ := cur.Support(); got.Support != href {
				t.Errorf("%s %s: support link %q; want %q", label, s.name, got.Support, href)
			}
			if s.mobile && got.Overflow > 0 {
				t.Errorf("%s: the login page is %d px wider than a %d px phone", label, got.Overflow, s.width)
			}
			shot := harness.ChromeRun(b, "screenshot", chromedp.FullScreenshot(100))
			file := filepath.Join(dir, fmt.Sprintf("login-%s-%s.png", label, s.name))
			if err := os.WriteFile(file, shot, 0o644); err != nil {
				t.Fatal(err)
			}
			screenshotCheck(t, label+" "+s.name, shot, accent, int(s.width))
		}
		b.Do("desktop viewport", chromedp.EmulateViewport(1280, 800))
	}

	t.Run("no settings at all", func(t *testing.T) {
		look(t, "default", branding.DefaultAccent, false)
	})
	t.Run("a logo, a light accent and a support contact", func(t *testing.T) {
		ctx := t.Context()
		if err := e.Branding.Update(ctx, branding.Settings{Name: "Lotus Tattoo", AccentColor: "#ffcf5c", SupportContact: "help@lotus.example"}, "ana.admin"); err != nil {
			t.Fatal(err)
		}
		if err := e.Branding.SetLogo(ctx, brandLogoPNG(t, 64, 64), "ana.admin"); err != nil {
			t.Fatal(err)
		}
		look(t, "branded", "#ffcf5c", true)
	})
	t.Run("a dark accent", func(t *testing.T) {
		if err := e.Branding.Update(t.Context(), branding.Settings{Name: "Lotus Tattoo", AccentColor: "#1a237e"}, "ana.admin"); err != nil {
			t.Fatal(err)
		}
		look(t, "dark", "#1a237e", true)
	})
	t.Logf("screenshots in %s", dir)
}
