package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/inkpass/inkpass/internal/branding"
	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/config"
	"github.com/inkpass/inkpass/internal/console"
	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/metrics"
	"github.com/inkpass/inkpass/internal/mfa"
	"github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/password"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/userlink"
	"github.com/inkpass/inkpass/internal/web"
)

// keyRetention is how long a retired signing key stays in JWKS: longer than any
// ID token it signed lives, with a margin for clocks and cached JWKS.
func keyRetention(cfg *config.Config) time.Duration {
	return max(keys.DefaultRetainFor, cfg.Tokens.IDToken.D()+time.Hour)
}

// openKeys opens the signing keys in the store keys.store names; in an empty
// store it makes an RS256 key. Keys of the other algorithms come from
// ensureClientKeys (serve), the client registry (client add/update) and keys
// rotate --alg.
func openKeys(a *app, announce bool) (*keys.Set, error) {
	opts := keys.Options{Dir: a.cfg.KeysDir, Algorithm: keys.RS256, RetainFor: keyRetention(a.cfg)}
	where := []any{"dir", a.cfg.KeysDir}
	if a.cfg.Keys.Store == config.KeyStoreDatabase {
		st, err := databaseKeys(context.Background(), a)
		if err != nil {
			return nil, err
		}
		opts.Store = st
		where = []any{"store", "database"}
	}
	set, created, err := keys.Open(opts)
	if err != nil {
		return nil, err
	}
	if created && announce {
		active := set.Active()
		a.log.Info("generated the first signing key", append([]any{"kid", active.KID, "alg", string(active.Algorithm)}, where...)...)
	}
	return set, nil
}

// databaseKeys is the database key store under the key-encryption key of
// keys.kek_file, or keys_dir/kek. That default file is generated (and the
// log says so) only while the database holds no signing keys: a missing KEK
// for existing keys is a lost file to restore, not one to replace. A file
// the operator named is never generated.
func databaseKeys(ctx context.Context, a *app) (*store.SigningKeys, error) {
	kek, where, created, err := loadKEK(a, func(path string) error {
		n, err := a.db.CountSigningKeys(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("the database holds %d signing keys but their key-encryption key %s is missing: restore it from its backup, or name it in keys.kek_file", n, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if created {
		a.log.Info("generated the key-encryption key of the database key store: back it up, apart from the database", "path", where)
	}
	sealer, err := keys.NewSealer(kek)
	if err != nil {
		return nil, err
	}
	return a.db.SigningKeys(sealer), nil
}

// loadKEK reads the key-encryption key of the database key store: from
// INKPASS_KEK, else keys.kek_file, else keys_dir/kek, which is generated
// when missing if mayCreate (when not nil) allows it. where names the
// source for messages; created reports a key generated now.
func loadKEK(a *app, mayCreate func(path string) error) (kek []byte, where string, created bool, err error) {
	if a.getenv != nil {
		if text := a.getenv(config.EnvKEK); text != "" {
			if kek, err = keys.DecodeKEK(text); err != nil {
				return nil, "", false, fmt.Errorf("%s: %w", config.EnvKEK, err)
			}
			return kek, config.EnvKEK, false, nil
		}
	}
	path, configured := a.cfg.KEKPath()
	kek, err = keys.ReadKEK(path)
	if errors.Is(err, fs.ErrNotExist) && !configured {
		if mayCreate != nil {
			if err := mayCreate(path); err != nil {
				return nil, "", false, err
			}
		}
		kek, err = keys.CreateKEK(path)
		created = err == nil
	}
	if err != nil {
		return nil, "", false, err
	}
	return kek, path, created, nil
}

// hasStoredKeys reports whether the configured key store holds keys yet,
// without making any.
func hasStoredKeys(ctx context.Context, a *app) (bool, error) {
	if a.cfg.Keys.Store == config.KeyStoreDatabase {
		n, err := a.db.CountSigningKeys(ctx)
		return n > 0, err
	}
	_, err := os.Stat(filepath.Join(a.cfg.KeysDir, "keys.json"))
	return err == nil, nil
}

// fillIDTokenAlgs gives the clients registered before each client had its
// own ID-token algorithm (migration 0009) the algorithm their tokens were
// signed with until then: that of the one active key, so upgrading changes
// nothing a relying party receives. set may be nil: the keys are then opened
// only if there are such clients and a key folder.
func fillIDTokenAlgs(ctx context.Context, a *app, cs *store.Clients, set *keys.Set) error {
	unset, err := cs.HasUnsetIDTokenAlg(ctx)
	if err != nil || !unset {
		return err
	}
	alg := keys.RS256
	if set == nil {
		has, err := hasStoredKeys(ctx, a)
		if err != nil {
			return err
		}
		if has {
			if set, err = openKeys(a, false); err != nil {
				return err
			}
		}
	}
	if set != nil {
		if act := set.ActiveKeys(); len(act) == 1 {
			alg = act[0].Algorithm
		}
	}
	n, err := cs.FillIDTokenAlg(ctx, string(alg))
	if err != nil {
		return err
	}
	a.log.Info("clients registered before per-client ID-token algorithms keep the one they received", "alg", string(alg), "clients", n)
	return nil
}

// ensureClientKeys gives RS256 and every algorithm an enabled client uses an
// active key, so the JWKS publishes each before the first token it signs.
func ensureClientKeys(ctx context.Context, a *app, cs *store.Clients, set *keys.Set) error {
	if alg := a.cfg.Signing.Algorithm; alg != "" && alg != string(keys.RS256) {
		a.log.Warn("signing.algorithm is deprecated and has no effect: each client's id_token_signed_response_alg (RS256 unless set) chooses; see config.yaml",
			"signing_algorithm", alg)
	}
	list, err := cs.List(ctx)
	if err != nil {
		return err
	}
	algs := []keys.Algorithm{keys.RS256}
	for _, c := range list {
		if c.Enabled && !slices.Contains(algs, c.IDTokenAlg) {
			algs = append(algs, c.IDTokenAlg)
		}
	}
	made, err := set.Ensure(algs...)
	if err != nil {
		return err
	}
	for _, k := range made {
		a.log.Info("generated a signing key for the clients' ID-token algorithm", "kid", k.KID, "alg", string(k.Algorithm))
	}
	return nil
}

// reloadKeys picks up `inkpass keys rotate` run by another process: every
// 30 seconds, and at once on each value from hup (serve sends SIGHUP there).
func reloadKeys(ctx context.Context, a *app, set *keys.Set, hup <-chan os.Signal) {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		trigger := "timer"
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-hup:
			trigger = "SIGHUP"
		}
		changed, err := set.Reload()
		if err != nil {
			a.log.Error("reload signing keys", "trigger", trigger, "err", err)
		} else if changed || trigger == "SIGHUP" {
			var kids []string
			for _, k := range set.ActiveKeys() {
				kids = append(kids, k.KID)
			}
			a.log.Info("signing keys reloaded", "trigger", trigger, "changed", changed, "active_kids", kids)
		}
	}
}

// syncConfigClients registers (or updates) the clients listed in config.yaml.
// cmdServe has checked a.cfg.RequireClientSecrets before anything was set up.
func syncConfigClients(ctx context.Context, a *app, clients *store.Clients) error {
	for i, cc := range a.cfg.Clients {
		c := &client.Client{
			ID: cc.ID, Name: cc.Name, Public: cc.Public, FirstParty: cc.FirstParty, RequireMFA: cc.RequireMFA,
			RedirectURIs: cc.RedirectURIs, PostLogoutRedirectURIs: cc.PostLogoutRedirectURIs,
			GrantTypes: cc.GrantTypes, Scopes: cc.Scopes, AuthMethod: cc.AuthMethod,
			Introspect: cc.Introspect, BackchannelLogoutURI: cc.BackchannelLogoutURI, Enabled: true, Source: "config",
			IDTokenAlg: keys.Algorithm(cc.IDTokenAlg),
		}
		// An auth_method written in the file is the admin's choice: pinned.
		c.AuthMethodPinned = cc.AuthMethod != "" && !cc.Public
		c.Normalize()
		if err := c.Validate(); err != nil {
			return fmt.Errorf("config clients[%d] (%s): %s", i, cc.ID, strings.ReplaceAll(err.Error(), "\n", "; "))
		}
		if !c.Public {
			c.SetSecret(clients.HashKey(), cc.Secret)
		}
		existing, err := clients.Get(ctx, c.ID)
		switch {
		case errors.Is(err, client.ErrNotFound):
			if err := clients.Create(ctx, c); err != nil {
				return err
			}
			a.log.Info("registered client from config", "client_id", c.ID)
		case err != nil:
			return err
		default:
			if existing.Source != "config" {
				a.log.Warn("config.yaml overrides a client registered with the CLI", "client_id", c.ID)
			}
			if cc.IDTokenAlg == "" && existing.IDTokenAlg != "" {
				// Not written in the file: the client keeps what its relying
				// party verifies.
				c.IDTokenAlg = existing.IDTokenAlg
			}
			if err := clients.Update(ctx, c); err != nil {
				return err
			}
		}
	}
	return nil
}

// newHandler wires the protocol and the pages.
func newHandler(ctx context.Context, a *app, keySet *keys.Set, m *metrics.Metrics) (http.Handler, error) {
	clients, err := a.db.Clients(ctx)
	if err != nil {
		return nil, err
	}
	if err := fillIDTokenAlgs(ctx, a, clients, keySet); err != nil {
		return nil, err
	}
	if err := syncConfigClients(ctx, a, clients); err != nil {
		return nil, err
	}
	if err := ensureClientKeys(ctx, a, clients, keySet); err != nil {
		return nil, err
	}
	t := a.cfg.Tokens
	provider, err := oidc.New(oidc.Config{
		Issuer:     a.cfg.Issuer,
		CodeTTL:    t.Code.D(),
		AccessTTL:  t.AccessToken.D(),
		IDTokenTTL: t.IDToken.D(),
		RefreshTTL: t.RefreshToken.D(),
		SessionTTL: t.Session.D(),
		Logger:     a.log,
		Audit:      a.db,
		Metrics:    tokenMetrics(m),
		ClientThrottle: oidc.ClientThrottle{
			FreeFailuresPerClient:  a.cfg.Throttle.FreeFailuresPerUsername,
			FreeFailuresPerAddress: a.cfg.Throttle.FreeFailuresPerAddress,
			BaseLock:               a.cfg.Throttle.BaseLock.D(),
			MaxLock:                a.cfg.Throttle.MaxLock.D(),
			Window:                 a.cfg.Throttle.Window.D(),
		},
		RefreshReuseInterval: t.RefreshReuse.D(),
	}, clients, a.db.Tokens(), a.db, a.db, keySet)
	if err != nil {
		return nil, err
	}
	csrfKey, err := a.db.InstallSecret(ctx, "csrf")
	if err != nil {
		return nil, err
	}
	var proxies []netip.Prefix
	for _, p := range a.cfg.Throttle.TrustedProxies {
		if pfx, err := netip.ParsePrefix(p); err == nil {
			proxies = append(proxies, pfx)
		} else if addr, err := netip.ParseAddr(p); err == nil {
			proxies = append(proxies, netip.PrefixFrom(addr, addr.BitLen()))
		}
	}
	secondFactor, err := newMFA(a)
	if err != nil {
		return nil, err
	}
	look, err := newBranding(a)
	if err != nil {
		return nil, err
	}
	// One links service for the pages and the console, over the one
	// branding service both show.
	links := newLinks(a, linkMailer(a), look)
	deps := web.Deps{
		MFA:            secondFactor,
		Links:          links,
		Provider:       provider,
		Users:          a.users,
		Accounts:       a.db,
		Audit:          a.db,
		Studio:         web.Studio{Name: a.cfg.StudioName, LogoURL: a.cfg.LogoURL},
		Branding:       look,
		SecureCookies:  a.cfg.IssuerIsHTTPS(),
		CSRFKey:        csrfKey,
		TrustedProxies: proxies,
		PendingLimit:   web.PendingLimit{PerMinute: float64(a.cfg.PendingLogins.PerMinute), Burst: a.cfg.PendingLogins.Burst},
		Ready: func(ctx context.Context) error {
			if err := a.db.Ping(ctx); err != nil {
				return fmt.Errorf("database: %w", err)
			}
			// Answering SELECT 1 is not enough: a full disk or a lock
			// another process keeps would fail every sign-in.
			if err := a.db.WriteReady(ctx); err != nil {
				return err
			}
			if _, ok := keySet.ActiveFor(keys.RS256); !ok {
				return errors.New("no RS256 signing key")
			}
			return nil
		},
		Logger: a.log,
	}
	if m != nil {
		deps.Metrics = m
	}
	admin, err := newConsole(a, deps, secondFactor, consoleSections{
		// The server's own key set: a key the console makes (a new app's
		// algorithm, a rotation) signs and is published at once.
		clients:  client.NewRegistry(clients, keySet),
		keys:     keySet,
		branding: look,
		links:    links,
	})
	if err != nil {
		return nil, err
	}
	deps.Console = admin
	deps.UploadLimits = map[string]int64{console.LogoUploadPath: console.MaxUploadBody}
	return web.NewHandler(deps)
}

// consoleLinks, when set, replaces the console's invitation and
// password-reset links (by default the pages' own internal/userlink
// service, sent by email when email is configured): the console's tests
// put a fake there.
var consoleLinks func(a *app) console.Links

// newConsole builds the studio console at /admin over the same services as
// the CLI, seeing browsers through web's sessions and cookies.
func newConsole(a *app, deps web.Deps, secondFactor *mfa.Service, more consoleSections) (*console.Console, error) {
	var links console.Links = more.links
	if consoleLinks != nil {
		links = consoleLinks(a)
	}
	return console.New(console.Deps{
		Sessions:    web.NewBrowserSessions(deps),
		Reauth:      a.db,
		Users:       a.users,
		MFA:         secondFactor,
		Store:       a.db,
		Links:       links,
		Audit:       a.db,
		WeakHash:    a.hasher.NeedsRehash,
		CSRFKey:     deps.CSRFKey,
		ReauthAfter: a.cfg.Console.ReauthAfter.D(),
		Studio:      console.Studio{Name: a.cfg.StudioName, LogoURL: a.cfg.LogoURL},
		Logger:      a.log,
		Clients:     more.clients,
		Keys:        more.keys,
		Access:      a.db,
		Activity:    a.db,
		Branding:    more.branding,
	})
}

// consoleSections are the services of the console's Apps, Keys and Settings
// sections, and its links, that newHandler builds anyway.
type consoleSections struct {
	clients  *client.Registry
	keys     *keys.Set
	branding *branding.Service
	links    *userlink.Service
}

// tokenMetrics keeps a nil *Metrics from becoming a non-nil interface.
func tokenMetrics(m *metrics.Metrics) interface{ TokenIssued(string) } {
	if m == nil {
		return nil
	}
	return m
}

// newMetrics builds the collectors and the gauges read at scrape time.
func newMetrics(a *app, keySet *keys.Set) *metrics.Metrics {
	m := metrics.New()
	a.hasher.SetObserver(func(v password.Verification) { m.PasswordVerified(v.Took) })
	m.Gauge("inkpass_signing_key_age_seconds", "Age of the oldest active ID-token signing key (one per algorithm in use).", func() float64 {
		var oldest time.Duration
		for _, k := range keySet.ActiveKeys() {
			oldest = max(oldest, time.Since(k.CreatedAt))
		}
		return oldest.Seconds()
	})
	lim := a.hasher.Limiter()
	m.Gauge("inkpass_password_hashing_in_flight", "Password hashes running now.", func() float64 { return float64(lim.Stats().InFlight) })
	m.Gauge("inkpass_password_hashing_waiting", "Password hashes waiting for hashing memory.", func() float64 { return float64(lim.Stats().Waiting) })
	m.Counter("inkpass_db_write_transactions_total", "Write transactions committed by the database writer (group commit).", func() float64 {
		tx, _ := a.db.WriteStats()
		return float64(tx)
	})
	m.Counter("inkpass_db_write_jobs_total", "Writes carried by those transactions; jobs per transaction is how well writes share commits.", func() float64 {
		_, jobs := a.db.WriteStats()
		return float64(jobs)
	})
	return m
}

// newMFA builds the second factor's service: its sealing key from
// mfa.key_file, or keys_dir/mfa.key (made, 0600, on first use).
func newMFA(a *app) (*mfa.Service, error) {
	path := a.cfg.MFA.KeyFile
	if path == "" {
		path = filepath.Join(a.cfg.KeysDir, "mfa.key")
	}
	key, err := mfa.LoadOrCreateKey(path)
	if err != nil {
		return nil, err
	}
	sealer, err := mfa.NewSealer(key)
	if err != nil {
		return nil, err
	}
	return mfa.NewService(a.db, a.db, sealer, mfa.Options{
		Issuer:         a.cfg.StudioName,
		RequiredRoles:  a.cfg.MFA.RequiredRoles,
		RememberDevice: a.cfg.MFA.RememberDevice.D(),
		// The factor's counters are per user; mfa uses no address counter.
		Throttle: throttlePolicy(a.cfg.Throttle),
		Audit:    a.db,
		Logger:   a.log,
		// Passkeys: the issuer's host is the relying party id, its
		// origin the one origin (off when the host is an IP address).
		WebAuthnOrigin: a.cfg.Issuer,
	}), nil
}
