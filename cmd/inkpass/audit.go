package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
)

func cmdAudit(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "audit", "[--user ID|USERNAME] [--kind KIND] [--since DURATION|YYYY-MM-DD] [--limit N] [--json]")
	userRef := fs.String("user", "", "only events of this user (id or username)")
	kind := fs.String("kind", "", "only this kind: "+kindList())
	since := fs.String("since", "", "only events since this long ago (24h, 7d) or this date (YYYY-MM-DD)")
	limit := fs.Int("limit", 100, "at most this many events, newest first (0: all)")
	asJSON := fs.Bool("json", false, "print a JSON array")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	f := audit.Filter{Kind: audit.Kind(*kind), Limit: *limit}
	if f.Kind != "" && !slices.Contains(audit.Kinds, f.Kind) {
		return usageError("unknown --kind %q", *kind)
	}
	if *since != "" {
		var err error
		if f.Since, err = parseSince(*since, time.Now()); err != nil {
			return usageError("%v", err)
		}
	}
	a, err := openApp(ctx, e, fs, *cfgPath, e.stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	if *userRef != "" {
		u, err := findUser(ctx, a, *userRef)
		if err != nil {
			return err
		}
		f.UserID = u.ID
	}
	events, err := a.db.AuditEvents(ctx, f)
	if err != nil {
		return err
	}
	if *asJSON {
		if events == nil {
			events = []audit.Event{}
		}
		return writeJSON(e.stdout, events)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tKIND\tUSER_ID\tUSERNAME\tCLIENT_ID\tADDR\tBY\tDETAIL")
	for _, ev := range events {
		uid := "-"
		if ev.UserID != 0 {
			uid = strconv.FormatInt(ev.UserID, 10)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ev.At.Format(time.DateTime), ev.Kind, uid, dash(ev.Username), dash(ev.ClientID), dash(ev.Addr), dash(ev.Actor), dash(ev.Detail))
	}
	return tw.Flush()
}

// parseSince takes a duration back from now (Go syntax, plus "7d") or a date.
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err == nil && days >= 0 {
			return now.AddDate(0, 0, -days), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("--since %q: use a duration like 24h or 7d, or a date YYYY-MM-DD", s)
	}
	return now.Add(-d), nil
}

// kindList is every audit kind for --kind's help, from the one list the
// filter checks against, so the help cannot fall behind.
func kindList() string {
	names := make([]string, len(audit.Kinds))
	for i, k := range audit.Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}
