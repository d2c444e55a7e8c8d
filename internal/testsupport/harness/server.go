package harness

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/branding"
	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/metrics"
	"github.com/inkpass/inkpass/internal/mfa"
	op "github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/password"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/testsupport"
	"github.com/inkpass/inkpass/internal/user"
	"github.com/inkpass/inkpass/internal/userlink"
	"github.com/inkpass/inkpass/internal/web"
)

// Fixture users (testdata/studio-fixture.sql) the tests refer to by more
// than their username.
const (
	FrontDeskID       = 4 // front_desk, assistant, werkzeug scrypt N=16384
	FormerAssistant   = "former_assistant"
	FormerAssistantPW = "gone-but-kept" // right password, deactivated account
)

// The clients every server registers unless Options.NoStandardClients is
// set. Redirect URIs are never served: the browser stops at the redirect and
// the test reads the code from the Location header.
const (
	// AppID is the studio's own app: confidential, first-party, pinned to
	// basic auth, two redirect URIs (so redirect_uri can never be omitted).
	AppID        = "studio-app"
	AppSecret    = "studio-app-secret-0123456789abcdefghijklmnop"
	AppRedirect  = "http://localhost:8123/callback"
	AppRedirect2 = "http://127.0.0.1:8123/callback"

	// ToolID is a third-party tool (so it asks for consent): confidential,
	// client_secret_post, no phone or offline_access scope.
	ToolID       = "booking-tool"
	ToolSecret   = "booking-tool-secret-0123456789abcdefghijklmn"
	ToolRedirect = "http://127.0.0.1:9000/tool/callback"

	// SPAID is the studio's own single-page app: public (auth method none,
	// PKCE required), first-party.
	SPAID       = "studio-spa"
	SPARedirect = "http://localhost:3000/spa/callback"

	// ReporterID may only use client_credentials.
	ReporterID     = "nightly-reporter"
	ReporterSecret = "nightly-reporter-secret-0123456789abcdefghij"
)

// Token lifetimes, as config.Default sets them.
const (
	CodeTTL    = time.Minute
	AccessTTL  = time.Hour
	IDTokenTTL = time.Hour
	RefreshTTL = 30 * 24 * time.Hour
	SessionTTL = 12 * time.Hour
)

// StudioName is the studio's name at the top of every page.
const StudioName = "Ink & Needle Test Studio"

// Options vary the server. The zero value is the configuration most tests
// want: the studio fixture adopted, the four standard clients, RS256, the
// cheap test hasher, warnings logged to the test's output.
type Options struct {
	Alg keys.Algorithm // RS256 when empty
	// LogTo, when set, receives every log line as JSON at LogLevel (debug
	// when nil; the log scan test reads it); otherwise warnings go to the
	// test's output. Logger, when set, replaces both.
	LogTo    io.Writer
	LogLevel slog.Leveler
	Logger   *slog.Logger
	// Pending is the per-address limit on new sign-ins (defaults when zero).
	Pending web.PendingLimit
	// Store sets the store's options (the busy timeout and write budget);
	// Now is always the stack's clock.
	Store store.Options
	// TrustedProxies may set X-Forwarded-For, so a test can speak from
	// several client addresses.
	TrustedProxies []netip.Prefix
	// Throttle is the login throttle policy; zero fields take the defaults.
	Throttle user.ThrottlePolicy
	// RefreshReuse is the provider's refresh token reuse interval (0, none,
	// when unset).
	RefreshReuse time.Duration
	// MFARoles are mfa.required_roles; RememberDevice is
	// mfa.remember_device.
	MFARoles       []string
	RememberDevice time.Duration
	// PasskeyOrigin turns passkeys on for this origin (the server stays at
	// 127.0.0.1, whose address WebAuthn cannot use as relying party id).
	PasskeyOrigin string
	// Host, when set, is the issuer's host instead of 127.0.0.1 (the server
	// still listens there) and turns passkeys on at that origin: a WebAuthn
	// relying party id is a domain, so "localhost" makes them work.
	Host string
	// SeparateMFAClock gives the second factor a clock of its own
	// (Stack.MFAClock), so a test can step to a fresh TOTP window without
	// moving sessions and codes; otherwise it reads Stack.Clock.
	SeparateMFAClock bool

	// EmptyDB starts on a new database instead of a copy of the studio
	// fixture.
	EmptyDB bool
	// Clients are registered after the four standard ones, or instead of
	// them with NoStandardClients.
	Clients           []ClientSpec
	NoStandardClients bool
	// Hasher replaces the cheap test hasher (benchmarks measure production
	// costs).
	Hasher *password.Hasher
	// Metrics are given to the provider and the pages, as wire.go does when
	// metrics are on.
	Metrics *metrics.Metrics

	// Mail, when set, is the outbox of the single-use links' messages
	// (email configured: "Forgot password?" is offered); nil is email not
	// configured, as wire.go's linkMailer answers then.
	Mail userlink.Mailer
	// Studio is web.Deps.Studio, the fixed look the pages fall back on
	// ({Name: StudioName} when zero). wire.go gives it the branding
	// defaults' name; a test that sets the two apart shows which one a
	// page uses.
	Studio web.Studio
	// Branding varies the studio's look (web.Deps.Branding), which is
	// always wired, as cmd/inkpass/branding.go wires it.
	Branding BrandingOptions
}

// BrandingOptions vary the branding service of a stack.
type BrandingOptions struct {
	// Defaults are the config's look; Name is StudioName when empty.
	Defaults branding.Defaults
	// Options tune the service; Logger and Now are the stack's when nil.
	Options branding.Options
	// Repo, when set, is what the service reads and writes instead of the
	// store itself, which it is given (a test counts the reads).
	Repo func(*store.DB) branding.Repo
}

// ClientSpec is a client to register and its plain secret ("" for a public
// client).
type ClientSpec struct {
	Client client.Client
	Secret string
}

// Stack is the server wired as cmd/inkpass/wire.go wires it (keep the two in
// step: a Deps field wire.go sets belongs here too), over a real SQLite file
// in a temporary folder, without a listener.
type Stack struct {
	Handler http.Handler
	Issuer  string
	Dir     string // the temporary folder: the database and keys/
	DB      *store.DB
	Clients *store.Clients
	Keys    *keys.Set
	Users   *user.Service
	Hasher  *password.Hasher
	MFA     *mfa.Service
	// Links issues the single-use links (invitations, password resets,
	// email verification) under the issuer; Branding is the studio's look.
	Links    *userlink.Service
	Branding *branding.Service
	Logger   *slog.Logger
	// Clock is the store's, the provider's and (unless
	// Options.SeparateMFAClock) the second factor's: real time plus an
	// offset a test moves, so that nothing ever sleeps.
	Clock    *testsupport.OffsetClock
	MFAClock *testsupport.OffsetClock
}

// Wire builds the whole server for issuer: store.Open on a real SQLite file
// (the studio fixture adopted, unless EmptyDB), the hasher, user.Service,
// keys.Open, the clients, the second factor, the branding service, the
// single-use links, oidc.New and web.NewHandler.
func Wire(tb testing.TB, issuer string, opts Options) *Stack {
	tb.Helper()
	ctx := tb.Context()
	dir := tb.TempDir()
	dbPath := filepath.Join(dir, "inkpass.db")
	if !opts.EmptyDB {
		dbPath = testsupport.StudioDB(tb, dir)
	}

	clk := &testsupport.OffsetClock{}
	mfaClk := clk
	if opts.SeparateMFAClock {
		mfaClk = &testsupport.OffsetClock{}
	}
	storeOpts := opts.Store
	storeOpts.Now = clk.Now
	db, err := store.Open(ctx, dbPath, storeOpts)
	if err != nil {
		tb.Fatalf("store.Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	if !opts.EmptyDB && !db.Adopted() {
		tb.Fatalf("store.Open did not adopt the studio fixture's users table")
	}

	alg := opts.Alg
	if alg == "" {
		alg = keys.RS256
	}
	keySet, _, err := keys.Open(keys.Options{
		Dir:       filepath.Join(dir, "keys"),
		Algorithm: alg,
		RetainFor: max(keys.DefaultRetainFor, IDTokenTTL+time.Hour),
	})
	if err != nil {
		tb.Fatalf("keys.Open: %v", err)
	}

	hasher := opts.Hasher
	if hasher == nil {
		// The fixture's hashes are werkzeug's; TargetOff never rewrites
		// them, so a login costs one verification and leaves the row as it
		// was. New passwords are argon2id at the low test cost: these tests
		// are about flows and rules, not the hash (internal/password tests
		// that).
		hasher, err = password.NewTestHasher(password.Policy{
			Target:       password.TargetOff,
			Argon2:       password.LowCostArgon2ForTests(),
			MemoryBudget: 256 << 20,
		})
		if err != nil {
			tb.Fatalf("password.NewTestHasher: %v", err)
		}
	}
	logger := opts.Logger
	switch {
	case logger != nil:
	case opts.LogTo != nil:
		level := opts.LogLevel
		if level == nil {
			level = slog.LevelDebug
		}
		logger = slog.New(slog.NewJSONHandler(opts.LogTo, &slog.HandlerOptions{Level: level}))
	default:
		logger = slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if opts.Metrics != nil {
		m := opts.Metrics
		hasher.SetObserver(func(v password.Verification) { m.PasswordVerified(v.Took) })
	}
	users := user.NewService(db, hasher, db, user.Options{Logger: logger, Audit: db, Throttle: opts.Throttle})

	clients, err := db.Clients(ctx)
	if err != nil {
		tb.Fatalf("db.Clients: %v", err)
	}
	specs := opts.Clients
	if !opts.NoStandardClients {
		specs = append(standardClients(), specs...)
	}
	for _, s := range specs {
		c := s.Client
		c.Normalize()
		if err := c.Validate(); err != nil {
			tb.Fatalf("client %s: %v", c.ID, err)
		}
		if !c.Public {
			c.SetSecret(clients.HashKey(), s.Secret)
		}
		if err := clients.Create(ctx, &c); err != nil {
			tb.Fatalf("register client %s: %v", c.ID, err)
		}
	}

	mfaKey, err := mfa.LoadOrCreateKey(filepath.Join(dir, "keys", "mfa.key"))
	if err != nil {
		tb.Fatalf("mfa key: %v", err)
	}
	sealer, err := mfa.NewSealer(mfaKey)
	if err != nil {
		tb.Fatalf("mfa sealer: %v", err)
	}
	passkeyOrigin := opts.PasskeyOrigin
	if opts.Host != "" {
		passkeyOrigin = issuer
	}
	secondFactor := mfa.NewService(db, db, sealer, mfa.Options{Issuer: StudioName, RequiredRoles: opts.MFARoles, RememberDevice: opts.RememberDevice,
		Throttle: opts.Throttle, Now: mfaClk.Now, Audit: db, Logger: logger, WebAuthnOrigin: passkeyOrigin})

	bo := opts.Branding
	if bo.Defaults.Name == "" {
		bo.Defaults.Name = StudioName
	}
	if bo.Options.Logger == nil {
		bo.Options.Logger = logger
	}
	if bo.Options.Now == nil {
		bo.Options.Now = clk.Now
	}
	var brandRepo branding.Repo = db
	if bo.Repo != nil {
		brandRepo = bo.Repo(db)
	}
	look, err := branding.New(brandRepo, bo.Defaults, bo.Options)
	if err != nil {
		tb.Fatalf("branding.New: %v", err)
	}
	// The console may rename the studio: the messages take the current
	// name, as wire.go's newLinks does.
	links := userlink.New(db, hasher, userlink.Options{Issuer: issuer, StudioName: StudioName,
		Studio: func(ctx context.Context) string { return look.Current(ctx).Name },
		Mailer: opts.Mail, Audit: db, Logger: logger, Now: clk.Now})

	studio := opts.Studio
	if studio == (web.Studio{}) {
		studio = web.Studio{Name: StudioName}
	}

	cfg := op.Config{
		Issuer:     issuer,
		CodeTTL:    CodeTTL,
		AccessTTL:  AccessTTL,
		IDTokenTTL: IDTokenTTL,
		RefreshTTL: RefreshTTL,
		SessionTTL: SessionTTL,
		Now:        clk.Now,
		Logger:     logger,

		RefreshReuseInterval: opts.RefreshReuse,
	}
	deps := web.Deps{MFA: secondFactor, Links: links, Studio: studio, Branding: look, Logger: logger, PendingLimit: opts.Pending,
		Ready: db.WriteReady, TrustedProxies: opts.TrustedProxies,
		// config.IssuerIsHTTPS, as wire.go sets it.
		SecureCookies: strings.HasPrefix(issuer, "https://")}
	// Console and UploadLimits are left out: the console is tested where it
	// is wired, in cmd/inkpass, and no page here is reached through it.
	if opts.Metrics != nil {
		// A nil *Metrics must not become a non-nil interface (wire.go's
		// tokenMetrics).
		cfg.Metrics, deps.Metrics = opts.Metrics, opts.Metrics
	}
	h := wireHandler(tb, cfg, deps, db, clients, users, keySet)
	return &Stack{Handler: h, Issuer: issuer, Dir: dir, DB: db, Clients: clients, Keys: keySet, Users: users, Hasher: hasher,
		MFA: secondFactor, Links: links, Branding: look, Logger: logger, Clock: clk, MFAClock: mfaClk}
}

// wireHandler is the end of cmd/inkpass's newHandler: oidc.New over the
// store, the CSRF key, web.NewHandler with Accounts and Audit being the
// *store.DB. deps carries what varies (MFA, logger, limits).
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

// Server is a Stack served on httptest at 127.0.0.1, the issuer equal to its
// URL (or to Options.Host at the same port).
type Server struct {
	*Stack
	T    *testing.T
	HTTP *httptest.Server
}

// NewServer wires the stack and serves it.
func NewServer(t *testing.T, opts Options) *Server {
	t.Helper()
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	issuer := srv.URL
	if opts.Host != "" {
		issuer = "http://" + net.JoinHostPort(opts.Host, strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port))
	}
	st := Wire(t, issuer, opts)
	h = st.Handler
	return &Server{Stack: st, T: t, HTTP: srv}
}

// standardClients are the four clients of the constants above.
func standardClients() []ClientSpec {
	return []ClientSpec{
		{client.Client{
			ID: AppID, Name: "Studio App", FirstParty: true,
			RedirectURIs: []string{AppRedirect, AppRedirect2},
			GrantTypes:   []string{client.GrantAuthorizationCode, client.GrantRefreshToken},
			AuthMethod:   client.AuthSecretBasic, AuthMethodPinned: true, Enabled: true,
		}, AppSecret},
		{client.Client{
			ID: ToolID, Name: "Booking Tool",
			RedirectURIs: []string{ToolRedirect},
			GrantTypes:   []string{client.GrantAuthorizationCode},
			Scopes:       []string{"openid", "profile", "email"},
			AuthMethod:   client.AuthSecretPost, Enabled: true,
		}, ToolSecret},
		{client.Client{
			ID: SPAID, Name: "Studio SPA", Public: true, FirstParty: true,
			RedirectURIs: []string{SPARedirect},
			GrantTypes:   []string{client.GrantAuthorizationCode, client.GrantRefreshToken},
			AuthMethod:   client.AuthNone, Enabled: true,
		}, ""},
		{client.Client{
			ID: ReporterID, Name: "Nightly Reporter",
			GrantTypes: []string{client.GrantClientCredentials},
			Scopes:     []string{"profile"},
			AuthMethod: client.AuthSecretBasic, Enabled: true,
		}, ReporterSecret},
	}
}
