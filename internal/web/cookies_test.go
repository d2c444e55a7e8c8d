package web_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/keys"
	op "github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/password"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
	"github.com/inkpass/inkpass/internal/user"
	"github.com/inkpass/inkpass/internal/web"
)

// TestCookies_HTTPSIssuer: with an https issuer, the browser cookie carries
// the __Host- prefix, Secure, HttpOnly and SameSite=Lax, and answers carry HSTS.
func TestCookies_HTTPSIssuer(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "c.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	hasher, err := password.NewTestHasher(password.Policy{Target: password.TargetArgon2id, Argon2: password.LowCostArgon2ForTests(), MemoryBudget: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	users := user.NewService(db, hasher, db, user.Options{Logger: log})
	keySet, _, err := keys.Open(keys.Options{Dir: filepath.Join(dir, "keys"), Algorithm: keys.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	clients, err := db.Clients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h := harness.WireHandler(t, op.Config{
		Issuer: "https://id.studio.example", CodeTTL: time.Minute, AccessTTL: time.Hour,
		IDTokenTTL: time.Hour, RefreshTTL: time.Hour, SessionTTL: time.Hour, Logger: log,
	}, web.Deps{Studio: web.Studio{Name: "S"}, SecureCookies: true, Logger: log}, db, clients, users, keySet)

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
