package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/inkpass/inkpass/internal/config"
	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/store/postgres"
)

func cmdBackup(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "backup", "--to FILE   (safe while the server runs)")
	to := fs.String("to", "", "the backup file to create (must not exist)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *to == "" {
		return usageError("--to FILE is required")
	}
	a, err := openApp(ctx, e, fs, *cfgPath, e.stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.db.Backup(ctx, *to); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backed up %s to %s (integrity checked)\n", a.db.Path(), *to)
	if a.cfg.Keys.Store == config.KeyStoreDatabase {
		kek, _ := a.cfg.KEKPath()
		fmt.Fprintf(e.stdout, "the signing keys are in it, encrypted: keep a copy of the key-encryption key %s apart from it; without that file they cannot be read\n", kek)
		return nil
	}
	fmt.Fprintf(e.stdout, "also keep a copy of the signing keys folder %s: without it, tokens already issued cannot be verified\n", a.cfg.KeysDir)
	return nil
}

// cmdCheck validates config, database and keys and says what serve would do,
// without changing anything or serving.
func cmdCheck(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "check", "[--config PATH]")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e, fs, *cfgPath)
	if err != nil {
		return err
	}
	// The branding defaults as serve checks them: config's own check of
	// them is a first pass that lets, e.g., "https://" through. newBranding
	// only checks its defaults here; no database is read.
	if _, err := newBranding(&app{cfg: cfg}); err != nil {
		return err
	}
	w := e.stdout
	fmt.Fprintf(w, "config      ok (%s)\n", *cfgPath)
	fmt.Fprintf(w, "issuer      %s\n", cfg.Issuer)
	fmt.Fprintf(w, "listen      %s\n", cfg.Listen)
	if cfg.Metrics.Enabled {
		fmt.Fprintf(w, "metrics     http://%s/metrics\n", cfg.Metrics.Listen)
	}
	if config.IsPostgresURL(cfg.Database) {
		if err := checkPostgres(ctx, e, cfg, w); err != nil {
			return err
		}
		return checkKeys(ctx, e, cfg, w)
	}
	rep, err := store.Inspect(ctx, cfg.Database)
	if err != nil {
		return err
	}
	switch {
	case !rep.Exists:
		fmt.Fprintf(w, "database    %s does not exist yet: serve creates it (%d migrations)\n", cfg.Database, len(rep.Pending))
	case len(rep.Differences) > 0:
		return &store.SchemaMismatchError{Table: "users", Differences: rep.Differences}
	default:
		state := "created by inkpass"
		if rep.Adopted {
			state = "adopted studio database"
		}
		fmt.Fprintf(w, "database    %s ok (%s; users matches SCHEMA.md; %d migrations applied, pending: %s)\n",
			cfg.Database, state, rep.Applied, orNone(rep.Pending))
		printOddities(w, rep.Oddities)
	}
	return checkKeys(ctx, e, cfg, w)
}

// checkKeys reports the signing keys, clients and endpoints: the part of
// check that is the same for every database.
func checkKeys(ctx context.Context, e *env, cfg *config.Config, w io.Writer) error {
	if text := e.getenv(config.EnvKEK); cfg.Keys.Store == config.KeyStoreDatabase && text != "" {
		if _, err := keys.DecodeKEK(text); err != nil {
			return fmt.Errorf("%s: %w", config.EnvKEK, err)
		}
		fmt.Fprintf(w, "keys        in the database (keys.store: database); key-encryption key from %s ok\n", config.EnvKEK)
	} else if cfg.Keys.Store == config.KeyStoreDatabase {
		// The keys themselves are checked by serve and keys list, which
		// open the database; check changes nothing, so it reads the KEK only.
		path, configured := cfg.KEKPath()
		switch _, err := keys.ReadKEK(path); {
		case err == nil:
			fmt.Fprintf(w, "keys        in the database (keys.store: database); key-encryption key %s ok\n", path)
		case errors.Is(err, os.ErrNotExist) && !configured:
			fmt.Fprintf(w, "keys        in the database (keys.store: database); key-encryption key %s does not exist: serve generates it if the database holds no keys yet\n", path)
		default:
			return err
		}
	} else if _, err := os.Stat(filepath.Join(cfg.KeysDir, "keys.json")); os.IsNotExist(err) {
		fmt.Fprintf(w, "keys        %s is empty: serve generates an RS256 key, and one for each other algorithm a client uses\n", cfg.KeysDir)
	} else {
		set, _, err := keys.Open(keys.Options{Dir: cfg.KeysDir, RetainFor: keyRetention(cfg)})
		if err != nil {
			return err
		}
		var active []string
		for _, k := range set.ActiveKeys() {
			active = append(active, fmt.Sprintf("%s (%s)", k.KID, k.Algorithm))
		}
		fmt.Fprintf(w, "keys        ok: active %s, %d published\n", strings.Join(active, ", "), len(set.PublicKeys()))
	}
	if err := checkMail(ctx, e, cfg); err != nil {
		return err
	}
	fmt.Fprintf(w, "clients     %d in config.yaml\n", len(cfg.Clients))
	fmt.Fprintf(w, "endpoints   %s/.well-known/openid-configuration\n", cfg.Issuer)
	// serve would stop here: it needs every config client's secret.
	return cfg.RequireClientSecrets()
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// printOddities lists the users table's odd values (see user.Oddity): serve
// starts with them, reads each as absent and logs it once, and a user with an
// unknown role or an is_active other than 1 cannot sign in until the row is
// fixed.
func printOddities(w io.Writer, odd []store.UserOddity) {
	if len(odd) == 0 {
		fmt.Fprintln(w, "users       no odd values")
		return
	}
	fmt.Fprintf(w, "users       %d odd values (serve reads them as absent; fix them in the studio's app or with inkpass user update):\n", len(odd))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  USER_ID\tUSERNAME\tCOLUMN\tPROBLEM")
	for _, o := range odd {
		fmt.Fprintf(tw, "  %d\t%q\t%s\t%s\n", o.UserID, o.Username, o.Column, o.Problem)
	}
	tw.Flush()
}

// checkPostgres connects to the PostgreSQL database read-only and compares
// its users table with SCHEMA.md, as check does for a SQLite file.
func checkPostgres(ctx context.Context, e *env, cfg *config.Config, w io.Writer) error {
	password, err := cfg.DatabasePassword(e.getenv)
	if err != nil {
		return err
	}
	rep, err := postgres.Inspect(ctx, cfg.Database, password, "")
	if err != nil {
		return err
	}
	where := postgres.Redacted(cfg.Database)
	switch {
	case !rep.Users:
		fmt.Fprintf(w, "database    %s reachable (PostgreSQL %s); no users table in schema %s yet: serve creates it\n", where, rep.Server, rep.Schema)
	case len(rep.Differences) > 0:
		return &store.SchemaMismatchError{Table: "users", Differences: rep.Differences}
	default:
		fmt.Fprintf(w, "database    %s ok (PostgreSQL %s; users in schema %s matches SCHEMA.md)\n", where, rep.Server, rep.Schema)
	}
	return nil
}
