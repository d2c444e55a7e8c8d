package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// scopes are what the demo asks for: openid brings sub, role, artist_id and
// artist_name; the others bring the profile, email and phone claims. The
// demo never calls an API on the user's behalf later, so it does not ask
// for offline_access (a refresh token).
var scopes = []string{oidc.ScopeOpenID, "profile", "email", "phone"}

// Lifetimes of the demo's own state.
const (
	loginTTL   = 10 * time.Minute // from /login to /callback
	sessionTTL = 8 * time.Hour    // a signed-in session in the demo
	logoutTTL  = 10 * time.Minute // from sign-out to the return from inkpass
	maxPending = 10000            // bound on pending logins and on sessions
)

// config is what newApp needs. Provider comes from discovery (see discover).
type config struct {
	Provider     *oidc.Provider
	ClientID     string
	ClientSecret string // empty for a public client
	RedirectURL  string
	HTTPClient   *http.Client     // for token and userinfo; nil means http.DefaultClient
	Logger       *slog.Logger     // nil discards
	Now          func() time.Time // nil means time.Now
}

// providerMetadata are the discovery fields go-oidc does not expose.
type providerMetadata struct {
	Issuer string `json:"issuer"`
	// OpenID Connect RP-Initiated Logout 1.0 §2.1.
	EndSessionEndpoint string `json:"end_session_endpoint"`
	// RFC 9207 §3: when true, every authorization response carries iss.
	ISSParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
}

// app is the demo web app: handlers are its methods, all routes are in
// routes.
type app struct {
	provider   *oidc.Provider
	oauth2     oauth2.Config
	verifier   *oidc.IDTokenVerifier
	httpClient *http.Client
	log        *slog.Logger
	now        func() time.Time

	issuer             string
	issParamRequired   bool
	endSession         string // empty when inkpass does not advertise one
	baseURL            string // origin of the redirect URL: the URL to open
	callbackPath       string
	postLogoutRedirect string

	cookies  cookieNames
	logins   *store[pendingLogin]
	sessions *store[session]
}

// newApp checks cfg and builds the app. It makes no network calls.
func newApp(cfg config) (*app, error) {
	if cfg.Provider == nil {
		return nil, errors.New("new app: no provider")
	}
	if cfg.ClientID == "" {
		return nil, errors.New("new app: client id is empty")
	}
	redirect, err := url.Parse(cfg.RedirectURL)
	if err != nil || (redirect.Scheme != "http" && redirect.Scheme != "https") || redirect.Host == "" || redirect.RawQuery != "" || redirect.Fragment != "" {
		return nil, fmt.Errorf("new app: redirect url %q must be an absolute http(s) URL without query or fragment", cfg.RedirectURL)
	}
	switch redirect.Path {
	case "", "/", "/login", "/logout":
		return nil, fmt.Errorf("new app: redirect url %q needs a path of its own, such as /callback", cfg.RedirectURL)
	}
	var meta providerMetadata
	if err := cfg.Provider.Claims(&meta); err != nil {
		return nil, fmt.Errorf("new app: read discovery document: %w", err)
	}
	if meta.EndSessionEndpoint != "" {
		u, err := url.Parse(meta.EndSessionEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("new app: discovery's end_session_endpoint %q is not an absolute http(s) URL", meta.EndSessionEndpoint)
		}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}

	endpoint := cfg.Provider.Endpoint()
	// Say how the client authenticates instead of letting x/oauth2 guess:
	// its guess tries HTTP Basic first, which a public client cannot pass.
	if cfg.ClientSecret == "" {
		endpoint.AuthStyle = oauth2.AuthStyleInParams // token_endpoint_auth_method none
	} else {
		endpoint.AuthStyle = oauth2.AuthStyleInHeader // client_secret_basic
	}
	baseURL := redirect.Scheme + "://" + redirect.Host
	return &app{
		provider: cfg.Provider,
		oauth2: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     endpoint,
			RedirectURL:  cfg.RedirectURL,
			Scopes:       scopes,
		},
		verifier:   cfg.Provider.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: cfg.Now}),
		httpClient: cfg.HTTPClient,
		log:        cfg.Logger,
		now:        cfg.Now,

		issuer:             meta.Issuer,
		issParamRequired:   meta.ISSParameterSupported,
		endSession:         meta.EndSessionEndpoint,
		baseURL:            baseURL,
		callbackPath:       redirect.Path,
		postLogoutRedirect: baseURL + "/",

		cookies:  newCookieNames(redirect.Scheme == "https"),
		logins:   newStore[pendingLogin](loginTTL, maxPending, cfg.Now),
		sessions: newStore[session](sessionTTL, maxPending, cfg.Now),
	}, nil
}

// routes is the whole HTTP surface of the demo.
func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET "+a.callbackPath, a.callback)
	mux.HandleFunc("POST /logout", a.logout)
	return a.logRequests(securityHeaders(mux))
}

// securityHeaders apply to every answer. The pages need no script, no frame
// and no outside resource; the callback URL carries a code, so no Referer.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// logRequests writes one line per request. It logs the path only: the
// callback's query holds the authorization code.
func (a *app) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		a.log.InfoContext(r.Context(), "request",
			"method", r.Method,
			"path", r.URL.Path,
			"status", sw.status,
			"duration", time.Since(start).Round(time.Microsecond))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
