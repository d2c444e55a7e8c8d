package web_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
)

// TestCookies_HTTPSIssuer: with an https issuer, the browser cookie carries
// the __Host- prefix, Secure, HttpOnly and SameSite=Lax, and answers carry HSTS.
func TestCookies_HTTPSIssuer(t *testing.T) {
	// An https issuer: Wire sets SecureCookies as wire.go does.
	h := harness.Wire(t, "https://id.studio.example", harness.Options{
		EmptyDB: true, Alg: keys.EdDSA, Logger: slog.New(slog.DiscardHandler),
	}).Handler

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://id.studio.example/login", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /login: %d", rec.Code)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies = %v, want the browser cookie", cookies)
	}
	c := cookies[0]
	if c.Name != "__Host-inkpass_browser" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
		t.Errorf("cookie = %+v, want __Host- prefix, Secure, HttpOnly, SameSite=Lax, Path=/ and no Domain", c)
	}
	if hsts := rec.Header().Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=") {
		t.Errorf("Strict-Transport-Security = %q, want HSTS under an https issuer", hsts)
	}
}
