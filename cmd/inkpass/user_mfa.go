package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/inkpass/inkpass/internal/mfa"
)

// cmdUserMFA is "inkpass user mfa": an admin's view of a user's second
// factors and the recovery of a lost device.
func cmdUserMFA(ctx context.Context, e *env, args []string) error {
	return subcommand(ctx, e, "user mfa", args, map[string]command{
		"list":  {"list a user's second factors and recovery codes left", userMFAList},
		"reset": {"remove a user's second factors and recovery codes; their sessions and grants end", userMFAReset},
	})
}

// adminMFA is the second factor's service for the CLI: listing and
// resetting need no sealing key, so none is read or made.
func adminMFA(a *app) *mfa.Service {
	return mfa.NewService(a.db, a.db, nil, mfa.Options{Audit: a.db, Logger: a.log})
}

func userMFAList(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "user mfa list", "ID|USERNAME")
	a, u, err := openUserArg(ctx, e, fs, cfgPath, args)
	if err != nil {
		return err
	}
	defer a.Close()
	svc := adminMFA(a)
	factors, err := svc.Factors(ctx, u.ID)
	if err != nil {
		return err
	}
	left, used, err := svc.RecoveryCodesLeft(ctx, u.ID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tNAME\tADDED\tLAST USED")
	for _, f := range factors {
		last := "never"
		if f.LastUsedAt != nil {
			last = f.LastUsedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", f.ID, f.Kind, f.Name, f.CreatedAt.UTC().Format(time.RFC3339), last)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "user %d %q: %d factor(s), recovery codes: %d left, %d used\n", u.ID, u.Username, len(factors), left, used)
	return nil
}

func userMFAReset(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := flags(e, "user mfa reset", "ID|USERNAME")
	a, u, err := openUserArg(ctx, e, fs, cfgPath, args)
	if err != nil {
		return err
	}
	defer a.Close()
	n, err := adminMFA(a).Reset(ctx, u, "admin CLI")
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "removed %d second factor(s) of user %d %q; their sessions and grants are revoked\n", n, u.ID, u.Username)
	return nil
}
