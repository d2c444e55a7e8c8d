package web

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/inkpass/inkpass/internal/branding"
	"github.com/inkpass/inkpass/internal/oidc"
)

// routes is the whole HTTP API on one page.
func (s *server) routes() http.Handler {
	r := mux.NewRouter()
	r.NotFoundHandler = http.HandlerFunc(s.notFound)
	r.MethodNotAllowedHandler = http.HandlerFunc(s.methodNotAllowed)

	// mux tries routes in this order: the endpoints machines call most come first.
	r.Handle(oidc.PathToken, cors(s.withClientAddr(s.Provider.TokenHandler()))).Methods(http.MethodPost, http.MethodOptions)
	r.Handle(oidc.PathUserInfo, cors(s.Provider.UserInfoHandler())).Methods(http.MethodGet, http.MethodPost, http.MethodOptions)
	r.Handle("/healthz", http.HandlerFunc(s.healthz)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", http.HandlerFunc(s.readyz)).Methods(http.MethodGet, http.MethodHead)

	r.Handle(oidc.PathDiscovery, s.Provider.DiscoveryHandler()).Methods(http.MethodGet, http.MethodHead)
	r.Handle(oidc.PathJWKS, s.Provider.JWKSHandler()).Methods(http.MethodGet, http.MethodHead)
	r.Handle(oidc.PathAuthorize, http.HandlerFunc(s.authorize)).Methods(http.MethodGet, http.MethodPost)

	r.Handle("/login", http.HandlerFunc(s.loginForm)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/login", http.HandlerFunc(s.loginSubmit)).Methods(http.MethodPost)
	r.Handle(pathPasskeyLogin, http.HandlerFunc(s.passkeyLoginSubmit)).Methods(http.MethodPost)
	r.Handle(pathFactor, http.HandlerFunc(s.factorForm)).Methods(http.MethodGet, http.MethodHead)
	r.Handle(pathFactor, http.HandlerFunc(s.factorSubmit)).Methods(http.MethodPost)
	r.Handle(oidc.PathRevoke, cors(s.withClientAddr(s.Provider.RevokeHandler()))).Methods(http.MethodPost, http.MethodOptions)
	r.Handle(oidc.PathIntrospect, s.withClientAddr(s.Provider.IntrospectHandler())).Methods(http.MethodPost)
	r.Handle(oidc.PathEndSession, http.HandlerFunc(s.logout)).Methods(http.MethodGet, http.MethodPost)
	r.Handle("/consent", http.HandlerFunc(s.consentForm)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/consent", http.HandlerFunc(s.consentSubmit)).Methods(http.MethodPost)
	r.Handle("/account", http.HandlerFunc(s.account)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/account/password", http.HandlerFunc(s.accountPassword)).Methods(http.MethodPost)
	r.Handle("/account/revoke", http.HandlerFunc(s.accountRevoke)).Methods(http.MethodPost)
	r.Handle("/account/mfa", http.HandlerFunc(s.accountMFA)).Methods(http.MethodPost)
	if s.Console != nil {
		r.Handle("/admin", s.Console).Methods(http.MethodGet, http.MethodHead, http.MethodPost)
		r.PathPrefix("/admin/").Handler(s.Console).Methods(http.MethodGet, http.MethodHead, http.MethodPost)
	}
	r.Handle("/", http.HandlerFunc(s.home)).Methods(http.MethodGet, http.MethodHead)
	// Browsers ask for /favicon.ico whatever the page says; answer with
	// nothing, cached, rather than a logged 404 on every page view.
	r.Handle("/favicon.ico", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.WriteHeader(http.StatusNoContent)
	})).Methods(http.MethodGet, http.MethodHead)
	r.Handle(branding.LogoPath, http.HandlerFunc(s.brandingLogo)).Methods(http.MethodGet, http.MethodHead)
	r.Handle(branding.ThemePath, http.HandlerFunc(s.brandingTheme)).Methods(http.MethodGet, http.MethodHead)
	r.PathPrefix("/static/").Handler(s.pages.staticHandler()).Methods(http.MethodGet, http.MethodHead)

	r.Use(s.noteRoute, s.recoverPanics, s.limitBodies, s.securityHeaders)
	// The request log wraps the router so that it sees 404 and 405 too.
	return s.documents(s.requestLog(r))
}
