package web

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/inkpass/inkpass/internal/branding"
)

// Every page (login, consent, account, error, signed in and out, the second
// factor, form_post) shows the studio's name, logo and accent stylesheet;
// the login and error pages also the support contact. Each page's data is
// its sample with the Studio that StudioFrom makes of stored settings.
func TestRender_everyPageShowsTheStudiosLook(t *testing.T) {
	r := mustNewRenderer(t)
	studio := StudioFrom(branding.Settings{Name: "Lotus & Co", AccentColor: "#1e90ff", Version: 3,
		SupportContact: "https://lotus.example/help", HasLogo: true, LogoVersion: 2})
	withSupport := map[string]bool{pageLogin: true, pageError: true}
	for _, page := range slices.Sorted(maps.Keys(pageSamples)) {
		t.Run(page, func(t *testing.T) {
			v := reflect.New(reflect.TypeOf(pageSamples[page])).Elem()
			v.Set(reflect.ValueOf(pageSamples[page]))
			v.FieldByName("Studio").Set(reflect.ValueOf(studio))
			body := renderPage(t, r, 200, page, v.Interface()).Body.String()
			for _, want := range []string{
				`<title>`, `· Lotus &amp; Co</title>`,
				`<p class="brand-name">Lotus &amp; Co</p>`,
				`<img class="brand-logo" src="/branding/logo?v=2"`,
				`<link rel="stylesheet" href="/branding/theme.css?v=3-1e90ff">`,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("%s page lacks %q", page, want)
				}
			}
			support := strings.Contains(body, `<p class="support">Need help? Contact <a href="https://lotus.example/help">lotus.example/help</a></p>`)
			if support != withSupport[page] {
				t.Errorf("%s page shows the support contact: %v; want %v", page, support, withSupport[page])
			}
		})
	}
}

// With no settings at all the pages look as they always did: inkpass's own
// stylesheet only, no logo, no support line.
func TestRender_defaultLookAddsNothing(t *testing.T) {
	r := mustNewRenderer(t)
	studio := StudioFrom(branding.Settings{Name: "Tattoo Studio"})
	body := renderPage(t, r, 200, pageLogin, LoginPage{Studio: studio, Action: "/login", CSRF: "tok-123"}).Body.String()
	if strings.Count(body, `<link rel="stylesheet"`) != 1 || strings.Contains(body, "<img") || strings.Contains(body, `class="support"`) {
		t.Fatalf("default login page:\n%s", body)
	}
}
