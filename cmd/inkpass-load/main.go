// Command inkpass-load drives a running inkpass over loopback and reports
// throughput, latency percentiles, errors and, given the server's pid, the
// server's CPU time per operation and its peak RSS.
//
// It refuses any target that is not a loopback address, and every run is
// bounded in time (-d, at most 2 minutes) and in count (-n).
//
//	inkpass-load -url http://localhost:8080 -scenario refresh -c 16 -d 10s \
//	    -public-client-id load-public -redirect-uri http://127.0.0.1:1/cb \
//	    -username loadtest -password-file pw.txt -pid 1234
//
// Three helper modes serve scripts/load.sh, which must need nothing outside the
// repository: -free-port, -wait-ready and -extract-json-field.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process, for tests: it returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, mode, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "inkpass-load: %v\n", err)
		return 2
	}
	switch mode.kind {
	case modeExtract:
		err = extractJSONField(stdin, stdout, mode.field)
	case modeFreePort:
		err = printFreePort(stdout)
	case modeWaitReady:
		err = waitReady(ctx, cfg, mode.wait)
	default:
		var res *Result
		res, err = runLoad(ctx, cfg, stderr)
		if res != nil {
			if cfg.jsonOut {
				err = errors.Join(err, res.writeJSON(stdout))
			} else {
				res.writeText(stdout)
			}
			if err == nil && cfg.failOnError && !res.passed() {
				return 1
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "inkpass-load: %v\n", err)
		return 1
	}
	return 0
}
