package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRender_PasskeyPagesLoadOneScript: a page that runs a passkey
// ceremony loads static/webauthn.js and allows exactly script-src 'self'
// (no inline script, no handler, no 'unsafe-*'); the options reach the
// script escaped in a data attribute; the same page without a ceremony
// allows no script at all; and the script is served as JavaScript.
func TestRender_PasskeyPagesLoadOneScript(t *testing.T) {
	r, err := newRenderer()
	if err != nil {
		t.Fatal(err)
	}
	hostileJSON := `{"challenge":"x\"><script>alert(1)</script>"}`
	cases := []struct {
		name, page    string
		with, without any
		attr          string
	}{
		{"login", pageLogin, LoginPage{Action: "/login?req=r", CSRF: "t", PasskeyAction: "/login/passkey?req=r", PasskeyOptions: hostileJSON},
			LoginPage{Action: "/login?req=r", CSRF: "t"}, "data-webauthn-get="},
		{"factor", pageFactor, FactorPage{Action: "/login/factor?req=r", CSRF: "t", PasskeyOptions: hostileJSON},
			FactorPage{Action: "/login/factor?req=r", CSRF: "t"}, "data-webauthn-get="},
		{"account", pageAccount, AccountPage{CSRF: "t", MFAAction: "/account/mfa", PasskeysEnabled: true, PasskeyCreate: hostileJSON},
			AccountPage{CSRF: "t", MFAAction: "/account/mfa", PasskeysEnabled: true}, "data-webauthn-create="},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := renderPage(t, r, http.StatusOK, tc.page, tc.with)
			csp, body := rec.Header().Get("Content-Security-Policy"), rec.Body.String()
			if !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe") {
				t.Errorf("CSP %q, want script-src 'self' and nothing unsafe", csp)
			}
			if n := strings.Count(body, "<script"); n != 1 || !strings.Contains(body, `<script src="/static/webauthn.js?v=`) {
				t.Errorf("%d script tags, want the one static/webauthn.js:\n%s", n, body)
			}
			if strings.Contains(body, "<script>") || len(handlerRE.FindAllString(body, -1)) != 0 {
				t.Errorf("inline script or handler in:\n%s", body)
			}
			if !strings.Contains(body, tc.attr) || strings.Contains(body, `x"><script>`) {
				t.Errorf("options not escaped into %s:\n%s", tc.attr, body)
			}
			rec = renderPage(t, r, http.StatusOK, tc.page, tc.without)
			if csp := rec.Header().Get("Content-Security-Policy"); strings.Contains(csp, "script-src") || strings.Contains(rec.Body.String(), "<script") {
				t.Errorf("without a ceremony: CSP %q and a script tag: the page should run none", csp)
			}
		})
	}
	rec := httptest.NewRecorder()
	r.staticHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/static/webauthn.js", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/javascript; charset=utf-8" || !strings.Contains(rec.Body.String(), "navigator.credentials") {
		t.Errorf("GET /static/webauthn.js: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}
