package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/config"
	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/metrics"
	"github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/password"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/web"
)

// keyRetention is how long a retired signing key stays in JWKS: longer than any
// ID token it signed lives, with a margin for clocks and cached JWKS.
func keyRetention(cfg *config.Config) time.Duration {
	return max(keys.DefaultRetainFor, cfg.Tokens.IDToken.D()+time.Hour)
}

// openKeys opens the signing keys; serve may create the first one.
func openKeys(a *app, announce bool) (*keys.Set, error) {
	alg, err := keys.ParseAlgorithm(a.cfg.Signing.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("signing.algorithm: %w", err)
	}
	set, created, err := keys.Open(keys.Options{Dir: a.cfg.KeysDir, Algorithm: alg, RetainFor: keyRetention(a.cfg)})
	if err != nil {
		return nil, err
	}
	active := set.Active()
	if created && announce {
		a.log.Info("generated the first signing key", "kid", active.KID, "alg", string(active.Algorithm), "dir", a.cfg.KeysDir)
	}
	if active.Algorithm != alg {
		a.log.Warn("signing.algorithm differs from the active key's; run `inkpass keys rotate` to switch",
			"configured", string(alg), "active", string(active.Algorithm))
	}
	return set, nil
}

// reloadKeys picks up `inkpass keys rotate` run by another process.
func reloadKeys(ctx context.Context, a *app, set *keys.Set) {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			changed, err := set.Reload()
			if err != nil {
				a.log.Error("reload signing keys", "err", err)
			} else if changed {
				a.log.Info("signing keys reloaded", "active_kid", set.Active().KID)
			}
		}
	}
}

// syncConfigClients registers (or updates) the clients listed in config.yaml.
func syncConfigClients(ctx context.Context, a *app, clients *store.Clients) error {
	if err := a.cfg.RequireClientSecrets(); err != nil {
		return err
	}
	for i, cc := range a.cfg.Clients {
		c := &client.Client{
			ID: cc.ID, Name: cc.Name, Public: cc.Public, FirstParty: cc.FirstParty,
			RedirectURIs: cc.RedirectURIs, PostLogoutRedirectURIs: cc.PostLogoutRedirectURIs,
			GrantTypes: cc.GrantTypes, Scopes: cc.Scopes, AuthMethod: cc.AuthMethod,
			Introspect: cc.Introspect, BackchannelLogoutURI: cc.BackchannelLogoutURI, Enabled: true, Source: "config",
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
	if err := syncConfigClients(ctx, a, clients); err != nil {
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
	deps := web.Deps{
		Provider:       provider,
		Users:          a.users,
		Accounts:       a.db,
		Audit:          a.db,
		Studio:         web.Studio{Name: a.cfg.StudioName, LogoURL: a.cfg.LogoURL},
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
			if keySet.Active().KID == "" {
				return errors.New("no signing key")
			}
			return nil
		},
		Logger: a.log,
	}
	if m != nil {
		deps.Metrics = m
	}
	return web.NewHandler(deps)
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
	m.Gauge("inkpass_signing_key_age_seconds", "Age of the active ID-token signing key.", func() float64 {
		return time.Since(keySet.Active().CreatedAt).Seconds()
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
