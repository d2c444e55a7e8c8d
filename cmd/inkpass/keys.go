package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/keys"
)

func cmdKeys(ctx context.Context, e *env, args []string) error {
	return subcommand(ctx, e, "keys", args, map[string]command{
		"list":   {"list signing keys: the active one and those still published", keysList},
		"rotate": {"make a new signing key active; old ones stay published until their tokens expire", keysRotate},
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
	algFlag := fs.String("alg", "", "algorithm of the new key (default: signing.algorithm from config)")
	asJSON := fs.Bool("json", false, "print the new key as JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, e, fs, *cfgPath, e.stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	name := a.cfg.Signing.Algorithm
	if *algFlag != "" {
		name = *algFlag
	}
	alg, err := keys.ParseAlgorithm(name)
	if err != nil {
		return usageError("%v", err)
	}
	set, err := openKeys(a, true)
	if err != nil {
		return err
	}
	info, err := set.Rotate(alg)
	if err != nil {
		return err
	}
	if err := a.db.Record(ctx, audit.Event{Kind: audit.KeyRotated, Detail: fmt.Sprintf("new key %s (%s)", info.KID, info.Algorithm)}); err != nil {
		a.log.Error("audit", "err", err)
	}
	if *asJSON {
		return writeJSON(e.stdout, info)
	}
	fmt.Fprintf(e.stdout, "new active signing key %s (%s); a running server picks it up within 30 s\n", info.KID, info.Algorithm)
	return nil
}
