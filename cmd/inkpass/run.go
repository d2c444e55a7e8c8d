package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// env is what every command receives instead of reaching for globals, so that
// tests run the real commands with their own input, output and environment.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// command is one subcommand: a name, a one-line summary and its body.
type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"serve":   {"run the identity provider (default for make run)", cmdServe},
		"migrate": {"create or upgrade the database, then exit", cmdMigrate},
		"user":    {"manage users: add, list, show, update, deactivate, activate, passwd", cmdUser},
		"artist":  {"manage artists: add, list", cmdArtist},
		"client":  {"manage OAuth clients: add, list, show, update, remove, rotate-secret", cmdClient},
		"keys":    {"manage signing keys: list, rotate, migrate-to-database", cmdKeys},
		"audit":   {"list security events (logins, logouts, consents, revocations...)", cmdAudit},
		"backup":  {"write a consistent copy of the database, safe while serving", cmdBackup},
		"check":   {"validate config, database and keys; print what serve would do", cmdCheck},

		"migrate-to": {"copy this SQLite install into an empty PostgreSQL database (--dsn), verified, in one transaction", cmdMigrateTo},
	}
}

// errUsage marks a mistake in the command line; it exits 2, like flag does.
var errUsage = errors.New("usage")

// usageError wraps a message so that run prints it and exits 2.
func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stdout, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "inkpass: unknown command %q (see inkpass --help)\n", args[0])
		return 2
	}
	err := cmd.run(ctx, e, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "inkpass %s: %s\n", args[0], oneLine(strings.TrimPrefix(err.Error(), errUsage.Error()+": ")))
		return 2
	default:
		fmt.Fprintf(stderr, "inkpass %s: %s\n", args[0], oneLine(err.Error()))
		return 1
	}
}

// oneLine folds a multi-line error (a config or schema report) into the one
// line a script can grep.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, ":\n  - ", ": ")
	s = strings.ReplaceAll(s, "\n  - ", "; ")
	return strings.ReplaceAll(s, "\n", " ")
}

func printUsage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "inkpass: the studio's OpenID Connect identity provider")
	fmt.Fprintln(w, "\nUsage: inkpass COMMAND [flags]   (inkpass COMMAND --help for its flags)")
	fmt.Fprintln(w, "\nCommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nEvery command takes --config PATH (default ./config.yaml); INKPASS_DATABASE,")
	fmt.Fprintln(w, "INKPASS_ISSUER, INKPASS_LISTEN and INKPASS_KEYS_DIR override the file.")
}

// flags builds a FlagSet that prints its help to stdout and reports errors to
// run instead of exiting, with the --config flag every command shares.
func flags(e *env, name, usage string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("inkpass "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg := fs.String("config", "config.yaml", "path to the config file")
	fs.Usage = func() {
		fs.SetOutput(e.stdout)
		fmt.Fprintf(e.stdout, "Usage: inkpass %s %s\n\nFlags:\n", name, usage)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs, cfg
}

// parseInterspersed parses flags wherever they stand among positional
// arguments (`user show kai --json` as well as `user show --json kai`), and
// returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.Usage()
				return nil, flag.ErrHelp
			}
			return nil, usageError("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// parseNoArgs parses flags for a command that takes no positional argument.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("unexpected argument %q", pos[0])
	}
	return nil
}

// subcommand dispatches `inkpass GROUP VERB ...`.
func subcommand(ctx context.Context, e *env, group string, args []string, verbs map[string]command) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(e.stdout, "Usage: inkpass %s VERB [flags]\n\nVerbs:\n", group)
		names := make([]string, 0, len(verbs))
		for n := range verbs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(e.stdout, "  %-14s %s\n", n, verbs[n].summary)
		}
		if len(args) == 0 {
			return usageError("%s needs a verb", group)
		}
		return flag.ErrHelp
	}
	v, ok := verbs[args[0]]
	if !ok {
		return usageError("unknown verb %q (see inkpass %s --help)", args[0], group)
	}
	return v.run(ctx, e, args[1:])
}
