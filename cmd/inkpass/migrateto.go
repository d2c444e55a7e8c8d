package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/inkpass/inkpass/internal/config"
	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/store/postgres"
)

// cmdMigrateTo copies the SQLite install config.yaml names into an empty
// PostgreSQL database (store.CopyToPostgres: one read transaction on the
// source, one transaction on the target, verified before it commits), then
// says what to change in config.yaml.
//
// Signing keys: on PostgreSQL they are read from the database (keys.store:
// database is implied). An install that kept them in the keys folder has
// them imported here, sealed under the key-encryption key, inside the same
// transaction, rather than refused: the folder's keys are what tokens
// already issued are signed with, and the operator would otherwise have to
// run keys migrate-to-database against a database migrate-to refuses
// to touch afterwards (it is no longer empty).
func cmdMigrateTo(ctx context.Context, e *env, args []string) error {
	fset, cfgPath := flags(e, "migrate-to", "--dsn postgres://USER@HOST:PORT/DATABASE [--password-file PATH] [--force-odd] [--config PATH]")
	dsn := fset.String("dsn", "", "the empty PostgreSQL database to copy into, as a URL without its password")
	pwFile := fset.String("password-file", "", "a file whose first line is the PostgreSQL password (else "+config.EnvDatabasePassword+")")
	force := fset.Bool("force-odd", false, "store the users table's odd values as inkpass reads them (is_active not 0/1: inactive; a date that is none: NULL) instead of refusing")
	if err := parseNoArgs(fset, args); err != nil {
		return err
	}
	if !config.IsPostgresURL(*dsn) {
		return usageError("--dsn must be a postgres:// URL")
	}
	if u, err := url.Parse(*dsn); err != nil {
		return usageError("--dsn %s does not parse", postgres.Redacted(*dsn))
	} else if _, has := u.User.Password(); has || u.Query().Has("password") {
		return usageError("--dsn holds a password: give it through %s or --password-file, not on the command line", config.EnvDatabasePassword)
	}
	password, err := migrateToPassword(e.getenv, *pwFile)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, e, fset, *cfgPath, e.stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	if config.IsPostgresURL(a.cfg.Database) {
		return errors.New("config.yaml's database is already PostgreSQL: migrate-to copies a SQLite install")
	}

	opts := store.CopyOptions{ForceOdd: *force}
	var keyNote []string
	if a.cfg.Keys.Store == config.KeyStoreFolder {
		sealed, note, cleanup, kerr := folderKeysSealed(ctx, a)
		if kerr != nil {
			return kerr
		}
		opts.SigningKeys, keyNote = sealed, note
		defer func() { cleanup(err == nil) }() // err: the copy's outcome
	} else {
		kek, _ := a.cfg.KEKPath()
		if a.getenv(config.EnvKEK) != "" {
			kek = config.EnvKEK
		}
		keyNote = []string{"signing keys: copied as they are, sealed: every server on PostgreSQL needs the same key-encryption key (" + kek + ")"}
	}

	target := postgres.Redacted(*dsn)
	report, err := a.db.CopyToPostgres(ctx, *dsn, password, opts)
	if report != nil {
		printCopyReport(e, a.db.Path(), target, report)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "checksums match: every table holds the same rows as the SQLite database")
	fmt.Fprintln(e.stdout)
	for _, l := range keyNote {
		fmt.Fprintln(e.stdout, l)
	}
	mfaKey := a.cfg.MFA.KeyFile
	if mfaKey == "" {
		mfaKey = filepath.Join(a.cfg.KeysDir, "mfa.key")
	}
	if _, err := os.Stat(mfaKey); err == nil {
		// The second factors' secrets were copied sealed, as they are:
		// a server with another mfa.key would make a new one and open none.
		fmt.Fprintf(e.stdout, "second factors: their secrets are sealed under %s: every server on PostgreSQL needs that same file (mfa.key_file)\n", mfaKey)
	}
	fmt.Fprintln(e.stdout)
	fmt.Fprintln(e.stdout, "now change config.yaml and restart inkpass:")
	fmt.Fprintf(e.stdout, "  database: %s\n", target)
	fmt.Fprintf(e.stdout, "  and give the password through %s or database_password_file (never in config.yaml)\n", config.EnvDatabasePassword)
	fmt.Fprintln(e.stdout, "  keys.store may stay as it is: on PostgreSQL the keys are read from the database")
	fmt.Fprintf(e.stdout, "the SQLite database %s is unchanged: keep it as the rollback until the new setup has served for a while, and stop the old server before switching (it would keep writing there)\n", a.db.Path())
	return nil
}

// migrateToPassword is the target's password: the first line of
// --password-file when one is named (the operator's explicit choice), else
// INKPASS_DATABASE_PASSWORD, else "" (the server asks for none).
func migrateToPassword(getenv func(string) string, pwFile string) (string, error) {
	if pwFile == "" {
		return getenv(config.EnvDatabasePassword), nil
	}
	pw, err := config.ReadPasswordFile(pwFile)
	if err != nil {
		return "", fmt.Errorf("--password-file: %w", err)
	}
	return pw, nil
}

// folderKeysSealed reads the keys folder's keys (checked and pruned as
// serve would) and seals them under the key-encryption key: the one in
// the environment or keys.kek_file, else keys_dir/kek, generated when
// absent. cleanup(false) removes a KEK generated here, for a copy that did
// not happen.
func folderKeysSealed(ctx context.Context, a *app) ([]store.SealedKey, []string, func(ok bool), error) {
	noop := func(bool) {}
	if _, err := os.Stat(filepath.Join(a.cfg.KeysDir, "keys.json")); errors.Is(err, fs.ErrNotExist) {
		return []store.SealedKey{}, []string{"signing keys: the keys folder " + a.cfg.KeysDir + " holds none; serve makes new ones in the database"}, noop, nil
	}
	recs, err := folderKeys(ctx, a)
	if err != nil {
		return nil, nil, nil, err
	}
	kek, where, created, err := loadKEK(a, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	sealer, err := keys.NewSealer(kek)
	if err != nil {
		return nil, nil, nil, err
	}
	out := make([]store.SealedKey, 0, len(recs))
	for _, r := range recs {
		b, err := sealer.Seal(r)
		if err != nil {
			return nil, nil, nil, err
		}
		out = append(out, store.SealedKey{KID: r.KID, Alg: string(r.Alg), Sealed: b, CreatedAt: r.CreatedAt, RetiredAt: r.RetiredAt})
	}
	note := []string{fmt.Sprintf("signing keys: the %d keys of the folder %s are now in the database, sealed under the key-encryption key %s", len(out), a.cfg.KeysDir, where)}
	if created {
		note = append(note, "  that key-encryption key was generated now: back it up, apart from the database (without it the database's keys sign nothing)")
	} else {
		note = append(note, "  every server on PostgreSQL needs that key-encryption key; back it up apart from the database")
	}
	cleanup := func(ok bool) {
		if created && !ok {
			os.Remove(where)
		}
	}
	return out, note, cleanup, nil
}

func printCopyReport(e *env, from, to string, r *store.CopyReport) {
	for _, o := range r.Odd {
		fmt.Fprintln(e.stdout, "odd value: "+o.String())
	}
	for _, c := range r.SkippedColumns {
		fmt.Fprintln(e.stdout, "not copied (no such column on PostgreSQL): "+c)
	}
	if len(r.SkippedTables) > 0 {
		fmt.Fprintln(e.stdout, "not copied (not inkpass's tables): "+strings.Join(r.SkippedTables, ", "))
	}
	if len(r.Tables) == 0 {
		return
	}
	fmt.Fprintf(e.stdout, "from %s to %s, in one transaction:\n", from, to)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tSQLITE\tPOSTGRESQL\tCHECKSUM")
	for _, t := range r.Tables {
		sum := t.SourceSum[:12]
		if t.TargetSum != t.SourceSum || t.Source != t.Target {
			sum = "DIFFERS: " + t.SourceSum[:12] + " vs " + t.TargetSum[:min(12, len(t.TargetSum))]
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", t.Table, t.Source, t.Target, sum)
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "reset %d sequences to their table's largest id\n", r.Sequences)
}
