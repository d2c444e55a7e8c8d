package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// How long the demo waits for inkpass to answer discovery at start-up:
// `make demo` starts both at once, and inkpass may still be opening its
// database and keys.
const discoveryWait = 30 * time.Second

// shutdownGrace bounds how long in-flight requests may run after SIGINT or
// SIGTERM.
const shutdownGrace = 5 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "studio-demo:", err)
		os.Exit(1)
	}
}

// options are the command-line settings.
type options struct {
	issuer       string
	listen       string
	clientID     string
	clientSecret string
	redirectURL  string
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("studio-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.issuer, "issuer", "http://localhost:8080", "inkpass issuer URL (discovery is read from ISSUER/.well-known/openid-configuration)")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:9090", "address to listen on")
	fs.StringVar(&o.clientID, "client-id", "studio-demo", "OAuth client id registered in inkpass")
	fs.StringVar(&o.clientSecret, "client-secret", "", "client secret, for a confidential client only (default $STUDIO_DEMO_CLIENT_SECRET)")
	fs.StringVar(&o.redirectURL, "redirect-url", "http://127.0.0.1:9090/callback", "redirect URI registered for the client; its origin is the URL to open")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: studio-demo [flags]\n\nA demo studio app that signs in through inkpass.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	// Read after parsing, not as the flag's default: -h prints defaults.
	if o.clientSecret == "" {
		o.clientSecret = getenv("STUDIO_DEMO_CLIENT_SECRET")
	}
	return o, nil
}

// run is the whole program, apart from signal handling, so that tests can
// run it (Mat Ryer's run(ctx, args, getenv, ...) shape). It returns when ctx
// is cancelled, after in-flight requests have finished.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	opts, err := parseFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	// One client with a timeout for every call to inkpass: discovery, JWKS,
	// token and userinfo. go-oidc keeps the client it was given at discovery
	// for fetching keys later.
	client := &http.Client{Timeout: 10 * time.Second}
	provider, err := discover(ctx, opts.issuer, client, discoveryWait, logger)
	if err != nil {
		return err
	}
	a, err := newApp(config{
		Provider:     provider,
		ClientID:     opts.clientID,
		ClientSecret: opts.clientSecret,
		RedirectURL:  opts.redirectURL,
		HTTPClient:   client,
		Logger:       logger,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", opts.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           a.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	logger.Info("listening", "addr", ln.Addr().String(), "issuer", a.issuer, "client_id", opts.clientID, "end_session", a.endSession != "")
	fmt.Fprintf(stdout, "studio demo on %s — open it in a browser\n", a.baseURL)

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", shutdownGrace)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// discover fetches the discovery document of issuer, retrying for up to wait
// while inkpass is not answering yet. An issuer mismatch is not retried: it
// means -issuer is not the URL inkpass is configured with, and waiting will
// not change that.
func discover(ctx context.Context, issuer string, client *http.Client, wait time.Duration, logger *slog.Logger) (*oidc.Provider, error) {
	ctx = oidc.ClientContext(ctx, client)
	deadline := time.Now().Add(wait)
	delay := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		provider, err := oidc.NewProvider(ctx, issuer)
		if err == nil {
			return provider, nil
		}
		if mismatch := (*oidc.IssuerMismatchError)(nil); errors.As(err, &mismatch) {
			return nil, fmt.Errorf("discover %s: inkpass says its issuer is %q; pass that as -issuer (it must match exactly): %w", issuer, mismatch.Discovered, err)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("discover %s: %w", issuer, ctx.Err())
		}
		if time.Now().Add(delay).After(deadline) {
			return nil, fmt.Errorf("discover %s: no answer after %s (is inkpass running?): %w", issuer, wait, err)
		}
		if attempt == 1 {
			logger.Info("waiting for inkpass", "issuer", issuer, "err", err)
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, fmt.Errorf("discover %s: %w", issuer, ctx.Err())
		}
		delay = min(delay*2, 2*time.Second)
	}
}
