package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/keys"
)

func cmdKeys(ctx context.Context, e *env, args []string) error {
	return subcommand(ctx, e, "keys", args, map[string]command{
		"list":                {"list signing keys: the active one and those still published", keysList},
		"rotate":              {"make a new signing key active for each algorithm (or --alg); old ones stay published until their tokens expire", keysRotate},
		"migrate-to-database": {"copy the keys folder's signing keys into the database (encrypted under the key-encryption key), for keys.store: database", keysMigrateToDatabase},
	})
}

func keysList(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "keys list", "[--json]")
	asJSON := fs.Bool("json", false, "print a JSON array")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, e, fs, *cfgPath, e.stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	set, err := openKeys(a, true)
	if err != nil {
		return err
	}
	list := set.List()
	if *asJSON {
		return writeJSON(e.stdout, list)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tCREATED\tSTATE")
	for _, k := range list {
		state := "active"
		if !k.Active {
			state = "retired " + k.RetiredAt.UTC().Format(time.DateTime)
			if k.Published {
				state += ", published until " + k.RetiredAt.Add(keyRetention(a.cfg)).UTC().Format(time.DateTime)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.KID, k.Algorithm, k.CreatedAt.UTC().Format(time.DateTime), state)
	}
	return tw.Flush()
}

func keysRotate(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "keys rotate", "[--alg RS256|ES256|EdDSA] [--json]")
	algFlag := fs.String("alg", "", "rotate only this algorithm's key (or make its first one); by default every algorithm with an active key is rotated. No client's algorithm changes: see client update --id-token-alg")
	asJSON := fs.Bool("json", false, "print the new key as JSON: an object with --alg, else an array")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	var alg keys.Algorithm
	if *algFlag != "" {
		var err error
		if alg, err = keys.ParseAlgorithm(*algFlag); err != nil {
			return usageError("--alg: %q is not RS256, ES256 or EdDSA", *algFlag)
		}
	}
	a, err := openApp(ctx, e, fs, *cfgPath, e.stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	set, err := openKeys(a, true)
	if err != nil {
		return err
	}
	var made []keys.Info
	if alg != "" {
		info, err := set.Rotate(alg)
		if info.KID != "" {
			made = append(made, info)
		}
		if err != nil && len(made) == 0 {
			return err
		}
	} else if made, err = set.RotateAll(); err != nil && len(made) == 0 {
		return err
	}
	// The keys are written even if pruning an old file failed (err): say so
	// after recording them.
	for _, k := range made {
		if rerr := a.db.Record(ctx, audit.Event{Kind: audit.KeyRotated, Detail: fmt.Sprintf("new key %s (%s)", k.KID, k.Algorithm)}); rerr != nil {
			a.log.Error("audit", "err", rerr)
		}
	}
	if err != nil {
		return err
	}
	if *asJSON {
		if alg != "" {
			return writeJSON(e.stdout, made[0])
		}
		return writeJSON(e.stdout, made)
	}
	for _, k := range made {
		fmt.Fprintf(e.stdout, "new active %s signing key %s\n", k.Algorithm, k.KID)
	}
	fmt.Fprintln(e.stdout, "a running server picks them up within 30 s; every client keeps its algorithm")
	return nil
}

// keysMigrateToDatabase copies every key of the folder, retired ones
// included, into an empty inkpass_signing_keys, with the same kids and times:
// tokens already issued keep verifying once keys.store says database. It
// refuses a database that already holds keys rather than merge two sets,
// and leaves the folder as it was.
func keysMigrateToDatabase(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "keys migrate-to-database", "")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, e, fs, *cfgPath, e.stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := os.Stat(filepath.Join(a.cfg.KeysDir, "keys.json")); err != nil {
		return fmt.Errorf("keys folder %s: no keys.json to copy: %w", a.cfg.KeysDir, err)
	}
	recs, err := folderKeys(ctx, a)
	if err != nil {
		return err
	}
	dst, err := databaseKeys(ctx, a)
	if err != nil {
		return err
	}
	if _, err := dst.Update(ctx, func(current []keys.Record) (keys.Change, error) {
		if len(current) > 0 {
			return keys.Change{}, fmt.Errorf("the database already holds %d signing keys; nothing copied", len(current))
		}
		return keys.Change{Add: recs}, nil
	}); err != nil {
		return err
	}
	kek, _ := a.cfg.KEKPath()
	fmt.Fprintf(e.stdout, "copied %d signing keys from %s into the database, encrypted under %s\n", len(recs), a.cfg.KeysDir, kek)
	fmt.Fprintln(e.stdout, "now set keys.store: database in config.yaml and restart every server; back up the key-encryption key apart from the database")
	return nil
}

// folderKeys are the keys folder's keys to copy elsewhere. keys.Open first
// checks the folder as serve would (permissions, every file against its
// kid) and prunes keys whose publication has ended, so only keys that may
// still verify a token are returned.
func folderKeys(ctx context.Context, a *app) ([]keys.Record, error) {
	if _, _, err := keys.Open(keys.Options{Dir: a.cfg.KeysDir, RetainFor: keyRetention(a.cfg)}); err != nil {
		return nil, err
	}
	recs, _, err := keys.NewFolderStore(a.cfg.KeysDir).Load(ctx)
	return recs, err
}
