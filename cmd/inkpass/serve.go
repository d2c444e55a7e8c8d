package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/inkpass/inkpass/internal/backchannel"
	"github.com/inkpass/inkpass/internal/metrics"
	"github.com/inkpass/inkpass/internal/password"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/user"
)

func cmdServe(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "serve", "[--config PATH]")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, e, fs, *cfgPath, e.stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	// Before anything is set up: the config clients are registered with
	// their secrets below (syncConfigClients).
	if err := a.cfg.RequireClientSecrets(); err != nil {
		return err
	}
	if err := a.cfg.RequireMailPassword(); err != nil {
		return err
	}
	how := "created"
	if a.db.Adopted() {
		how = "adopted the studio's existing"
	}
	tuneGC(e.getenv, a.cfg.Password.HashingMemoryMiB, a.log)
	a.log.Info("database ready", "path", a.db.Path(), "state", how, "password_target", string(passwordTarget(a.cfg, a.db.Adopted())))
	if err := ensureAdmin(ctx, e, a); err != nil {
		return err
	}

	keySet, err := openKeys(a, true)
	if err != nil {
		return err
	}
	var m *metrics.Metrics
	if a.cfg.Metrics.Enabled {
		m = newMetrics(a, keySet)
	}
	h, err := newHandler(ctx, a, keySet, m)
	if err != nil {
		return err
	}
	// SIGHUP reloads the key folder at once (after `inkpass keys rotate`);
	// registered before serving, so a signal never ends the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go reloadKeys(ctx, a, keySet, hup)
	go pruneLoop(ctx, a)
	// Logout notices queued by this process go out at once; those queued by
	// the CLI (user deactivate) within the worker's poll.
	go backchannel.New(a.db, keySet, backchannel.Options{
		Issuer: a.cfg.Issuer, Logger: a.log, Wake: a.db.LogoutNoticeQueued(),
	}).Run(ctx)
	// Email queued by this process goes out at once, by the CLI within the
	// worker's poll; stopped (the message in flight finished) before the
	// database closes.
	stopMail, err := startMailWorker(ctx, a)
	if err != nil {
		return err
	}
	defer stopMail()
	refreshDummy(ctx, a)
	go refreshDummyLoop(ctx, a)
	if m != nil {
		// Only ever on its own listener (config.Metrics).
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Handler())
		go func() {
			if err := listenAndServe(ctx, e, a, a.cfg.Metrics.Listen, "metrics", mux); err != nil {
				a.log.Error("metrics listener", "err", err)
			}
		}()
	}
	if a.cfg.Profiling.Listen != "" {
		go func() {
			if err := listenAndServe(ctx, e, a, a.cfg.Profiling.Listen, "profiling", profilingMux()); err != nil {
				a.log.Error("profiling listener", "err", err)
			}
		}()
	}
	return listenAndServe(ctx, e, a, a.cfg.Listen, "inkpass", h)
}

// profilingMux serves net/http/pprof on its own mux: the package's init also
// registers on http.DefaultServeMux, which inkpass never serves.
func profilingMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

// gcPercent is GOGC for the server unless the environment sets one. The
// token and userinfo paths allocate a few kilobytes per request, and a
// server's live heap is small, so at Go's default of 100 the collector runs
// often for little: 200 halves its cycles at the price of more heap between
// them (figures in docs/performance.md).
const gcPercent = 200

// gcHeadroomMiB is what the soft memory limit allows beyond the password
// hashing budget: the rest of the server (requests, SQLite's caches) in
// normal use takes 30 to 40 MiB.
const gcHeadroomMiB = 32

// tuneGC sets GOGC and a soft memory limit unless the environment already
// does (the Go runtime read GOGC and GOMEMLIMIT itself at start). The limit
// is password.hashing_memory_mib plus headroom: under a flood of logins the
// collector then works harder rather than let the heap's slack grow past
// what the operator budgeted.
func tuneGC(getenv func(string) string, hashingMiB int, log *slog.Logger) {
	gogc, limit := "environment", "environment"
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
		gogc = strconv.Itoa(gcPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		mib := hashingMiB + gcHeadroomMiB
		debug.SetMemoryLimit(int64(mib) << 20)
		limit = strconv.Itoa(mib) + "MiB"
	}
	log.Info("garbage collector", "gogc", gogc, "memory_limit", limit)
}

// listenAndServe serves h on addr until ctx ends, then stops accepting and
// gives requests in flight shutdown_grace to finish.
func listenAndServe(ctx context.Context, e *env, a *app, addr, what string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	if what == "inkpass" {
		fmt.Fprintf(e.stdout, "inkpass listening on http://%s (issuer %s)\n", ln.Addr(), a.cfg.Issuer)
	} else {
		fmt.Fprintf(e.stdout, "%s listening on http://%s\n", what, ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.log.Info("shutting down", "listener", what, "grace", a.cfg.ShutdownGrace.D().String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownGrace.D())
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// EnvAdminPassword sets the first admin's password instead of a random one.
const EnvAdminPassword = "INKPASS_ADMIN_PASSWORD"

// ensureAdmin creates the user "admin" when no active admin exists, so that a
// fresh install can be administered. The password is printed once on the
// console (not the log): it is the operator's to change.
func ensureAdmin(ctx context.Context, e *env, a *app) error {
	admin := user.RoleAdmin
	active := true
	admins, err := a.users.List(ctx, user.Filter{Role: admin, Active: &active})
	if err != nil {
		return err
	}
	if len(admins) > 0 {
		return nil
	}
	pw := e.getenv(EnvAdminPassword)
	generated := pw == ""
	if generated {
		pw = rand.Text()
	}
	u, err := a.users.Create(ctx, user.User{Username: "admin", Role: user.RoleAdmin, Name: "Administrator"}, pw)
	if errors.Is(err, user.ErrUsernameTaken) {
		// Another server starting on the same database at the same moment
		// may have just created it: then there is nothing to do.
		if admins, lerr := a.users.List(ctx, user.Filter{Role: admin, Active: &active}); lerr == nil && len(admins) > 0 {
			a.log.Info("first start: another server created the first admin", "username", admins[0].Username)
			return nil
		}
		return errors.New(`no active admin, and the username "admin" is taken: run "inkpass user activate admin" or "inkpass user add --role admin ..."`)
	}
	if err != nil {
		return fmt.Errorf("create first admin: %w", err)
	}
	a.log.Info("first start: created the first admin", "user_id", u.ID, "username", u.Username)
	if generated {
		fmt.Fprintf(e.stdout, "\n  First start: created admin user %q with the one-time password\n\n      %s\n\n  Sign in at %s/account and change it (or: inkpass user passwd admin).\n  It is not shown again. The studio console is at %s/admin.\n\n", u.Username, pw, a.cfg.Issuer, a.cfg.Issuer)
	} else {
		fmt.Fprintf(e.stdout, "First start: created admin user %q with the password from %s\n", u.Username, EnvAdminPassword)
	}
	return nil
}

// pruneLoop deletes expired codes, tokens, sessions and throttle entries at
// start and every ten minutes, so the database does not grow without end.
func pruneLoop(ctx context.Context, a *app) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		r, err := a.db.Prune(ctx, a.cfg.Tokens.RefreshToken.D(), a.cfg.Throttle.Window.D())
		if err != nil && ctx.Err() == nil {
			a.log.Error("prune expired rows", "err", err)
		} else if r != (store.PruneResult{}) {
			a.log.Info("pruned expired rows", "codes", r.Codes, "tokens", r.Tokens, "sessions", r.Sessions,
				"auth_requests", r.AuthRequests, "grants", r.Grants, "throttle", r.Throttle)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// refreshDummy points the hasher's dummy verification, which an unknown
// username gets, at the hash family and parameters most users hold. On an
// adopted database that is the studio's legacy format rather than the target:
// otherwise an unknown name fails faster than a known one, which tells who
// exists (figures in docs/performance.md).
func refreshDummy(ctx context.Context, a *app) {
	var c password.Census
	if err := a.db.EachPasswordHash(ctx, c.Add); err != nil {
		a.log.Error("password hash census", "err", err)
		return
	}
	encoded, ok := c.Dominant()
	if !ok {
		return
	}
	if err := a.hasher.SetDummyLike(encoded); err != nil {
		a.log.Error("set dummy password hash", "err", err)
		return
	}
	a.log.Debug("dummy password hash follows the most common stored format", "format", password.Describe(encoded))
}

// refreshDummyLoop repeats refreshDummy as upgrades on sign-in change which
// format most users hold.
func refreshDummyLoop(ctx context.Context, a *app) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			refreshDummy(ctx, a)
		}
	}
}
