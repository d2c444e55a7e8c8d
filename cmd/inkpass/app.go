package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/inkpass/inkpass/internal/branding"
	"github.com/inkpass/inkpass/internal/config"
	"github.com/inkpass/inkpass/internal/mail"
	"github.com/inkpass/inkpass/internal/password"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/user"
	"github.com/inkpass/inkpass/internal/userlink"
)

// app is everything a command needs once config and database are open.
type app struct {
	cfg    *config.Config
	db     *store.DB
	hasher *password.Hasher
	users  *user.Service
	log    *slog.Logger
	// getenv is the process environment (tests pass their own).
	getenv func(string) string
}

func (a *app) Close() error { return a.db.Close() }

// loadConfig reads the config named by --config. A missing file is an error
// only when the operator named it.
func loadConfig(e *env, fs *flag.FlagSet, path string) (*config.Config, error) {
	explicit := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "config" {
			explicit = true
		}
	})
	return config.Load(path, explicit, e.getenv)
}

// openApp loads config, opens and migrates the database and wires the user
// service. Logs go to logOut (stderr for admin commands).
func openApp(ctx context.Context, e *env, fs *flag.FlagSet, path string, logOut io.Writer) (*app, error) {
	cfg, err := loadConfig(e, fs, path)
	if err != nil {
		return nil, err
	}
	log := newLogger(cfg.Log, logOut)
	db, err := openDatabase(ctx, e, cfg, log)
	if err != nil {
		return nil, err
	}
	hasher, err := newHasher(cfg, db.Adopted())
	if err != nil {
		db.Close()
		return nil, err
	}
	users := user.NewService(db, hasher, db, user.Options{
		MinPasswordLength: cfg.Password.MinLength,
		Throttle:          throttlePolicy(cfg.Throttle),
		Logger:            log,
		Audit:             db,
	})
	return &app{cfg: cfg, db: db, hasher: hasher, users: users, log: log, getenv: e.getenv}, nil
}

// openDatabase opens the SQLite file or, for a postgres:// URL, the
// PostgreSQL database that cfg.Database names.
func openDatabase(ctx context.Context, e *env, cfg *config.Config, log *slog.Logger) (*store.DB, error) {
	if config.IsPostgresURL(cfg.Database) {
		password, err := cfg.DatabasePassword(e.getenv)
		if err != nil {
			return nil, err
		}
		return store.OpenPostgres(ctx, cfg.Database, password, store.Options{Logger: log})
	}
	return store.Open(ctx, cfg.Database, store.Options{
		BusyTimeout: cfg.DatabaseBusyTimeout.D(),
		WriteBudget: cfg.DatabaseWriteBudget.D(),
		Logger:      log,
	})
}

// linkMailer is the outbox the single-use links' messages go to; nil means
// email is not configured: links are only printed (CLI) or shown (console),
// and the login page offers no "Forgot password?".
func linkMailer(a *app) userlink.Mailer {
	if !a.cfg.Mail.Configured() {
		return nil // a nil interface, not a nil *mail.Outbox
	}
	return mail.NewOutbox(a.db, true)
}

// newLinks is the single-use links service (invitations, password resets,
// email verification) under the issuer, sending through mailer when not nil.
// Its emails name the studio as look says; the CLI, which has none, passes
// nil and one is made here.
func newLinks(a *app, mailer userlink.Mailer, look *branding.Service) *userlink.Service {
	if look == nil {
		look, _ = newBranding(a)
	}
	var studio func(context.Context) string
	if look != nil {
		studio = func(ctx context.Context) string { return look.Current(ctx).Name }
	}
	return userlink.New(a.db, a.hasher, userlink.Options{
		Studio:               studio,
		Issuer:               a.cfg.Issuer,
		StudioName:           a.cfg.StudioName,
		InvitationTTL:        a.cfg.Links.Invitation.D(),
		PasswordResetTTL:     a.cfg.Links.PasswordReset.D(),
		EmailVerificationTTL: a.cfg.Links.EmailVerification.D(),
		MinPasswordLength:    a.cfg.Password.MinLength,
		Mailer:               mailer,
		Audit:                a.db,
		Logger:               a.log,
	})
}

// throttlePolicy is config's throttle section as the policy of the sign-in
// counters (user.Service) and of the second factor's (mfa.Service).
func throttlePolicy(t config.Throttle) user.ThrottlePolicy {
	return user.ThrottlePolicy{
		FreeFailuresPerUsername: t.FreeFailuresPerUsername,
		FreeFailuresPerAddress:  t.FreeFailuresPerAddress,
		BaseLock:                t.BaseLock.D(),
		MaxLock:                 t.MaxLock.D(),
		Window:                  t.Window.D(),
	}
}

// passwordTarget resolves "auto": a fresh database gets argon2id; an adopted one
// gets werkzeug's scrypt, which the studio's Python app can still verify while
// it moves to single sign-on.
func passwordTarget(cfg *config.Config, adopted bool) password.Target {
	switch cfg.Password.Target {
	case "argon2id":
		return password.TargetArgon2id
	case "werkzeug":
		return password.TargetWerkzeug
	case "off":
		return password.TargetOff
	}
	if adopted {
		return password.TargetWerkzeug
	}
	return password.TargetArgon2id
}

func newHasher(cfg *config.Config, adopted bool) (*password.Hasher, error) {
	p := cfg.Password
	params := password.OWASPArgon2()
	params.Memory, params.Time, params.Threads = p.Argon2MemoryKiB, p.Argon2Time, p.Argon2Threads
	h, err := password.NewHasher(password.Policy{
		Target:       passwordTarget(cfg, adopted),
		Argon2:       params,
		MemoryBudget: int64(p.HashingMemoryMiB) << 20,
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(c.Level)))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "migrate", "[--config PATH]")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, e, fs, *cfgPath, e.stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	how := "created"
	if a.db.Adopted() {
		how = "adopted"
	}
	fmt.Fprintf(e.stdout, "database %s is up to date (%s)\n", a.db.Path(), how)
	return nil
}
