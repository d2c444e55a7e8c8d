package web_test

import (
	"net/http"
	"testing"

	"github.com/inkpass/inkpass/internal/keys"
	op "github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/user"
	"github.com/inkpass/inkpass/internal/web"
)

// wireHandler builds the provider and the handler over opened parts, the way
// cmd/inkpass/wire.go newHandler does, for every test harness of this package
// (end-to-end, browser, benchmarks). cfg carries the harness's issuer, clock,
// lifetimes, logger and metrics; deps its studio name, logger, metrics and
// readiness. The rest is filled in here, so all harnesses wire alike.
func wireHandler(tb testing.TB, cfg op.Config, deps web.Deps, db *store.DB, clients *store.Clients, users *user.Service, keySet *keys.Set) http.Handler {
	tb.Helper()
	cfg.Audit = db
	provider, err := op.New(cfg, clients, db.Tokens(), db, db, keySet)
	if err != nil {
		tb.Fatalf("oidc.New: %v", err)
	}
	csrfKey, err := db.InstallSecret(tb.Context(), "csrf")
	if err != nil {
		tb.Fatalf("InstallSecret: %v", err)
	}
	deps.Provider, deps.Users, deps.Accounts, deps.Audit, deps.CSRFKey = provider, users, db, db, csrfKey
	h, err := web.NewHandler(deps)
	if err != nil {
		tb.Fatalf("web.NewHandler: %v", err)
	}
	return h
}
