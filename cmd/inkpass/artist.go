package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
)

func cmdArtist(ctx context.Context, e *env, args []string) error {
	return subcommand(ctx, e, "artist", args, map[string]command{
		"add":  {"add an artist record; prints its id", artistAdd},
		"list": {"list artist records", artistList},
	})
}

func artistAdd(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "artist add", "--name NAME [--json]")
	name := fs.String("name", "", "the artist's display name")
	asJSON := fs.Bool("json", false, "print the artist as JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	n := strings.TrimSpace(*name)
	if n == "" || len([]rune(n)) > 120 {
		return usageError("--name is required, at most 120 characters")
	}
	a, err := openApp(ctx, e, fs, *cfgPath, e.stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	id, err := a.db.CreateArtist(ctx, n)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, map[string]any{"id": id, "name": n})
	}
	fmt.Fprintln(e.stdout, id)
	return nil
}

func artistList(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "artist list", "[--json]")
	asJSON := fs.Bool("json", false, "print a JSON array")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, e, fs, *cfgPath, e.stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	artists, err := a.db.ListArtists(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if artists == nil {
			return writeJSON(e.stdout, []any{})
		}
		return writeJSON(e.stdout, artists)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME")
	for _, ar := range artists {
		fmt.Fprintf(tw, "%d\t%s\n", ar.ID, dash(ar.Name))
	}
	return tw.Flush()
}
