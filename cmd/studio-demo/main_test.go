package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/inkpass/inkpass/internal/testsupport"
)

func TestDiscover(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))

	t.Run("waits until inkpass answers", func(t *testing.T) {
		iss := newTestIssuer(t, issuerOptions{})
		var calls atomic.Int32
		// inkpass still starting: the first two discovery requests fail.
		starting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) <= 2 {
				http.Error(w, "starting", http.StatusServiceUnavailable)
				return
			}
			iss.srv.Config.Handler.ServeHTTP(w, r)
		}))
		defer starting.Close()
		// The test issuer names its own URL as issuer, so point the
		// discovery at it through the starting server via a rewrite.
		client := &http.Client{Transport: rewriteHost{to: iss.srv.Listener.Addr().String(), via: starting.Listener.Addr().String()}}
		provider, err := discover(t.Context(), iss.url(), client, 10*time.Second, logger)
		if err != nil {
			t.Fatalf("discover: %v", err)
		}
		if provider.Endpoint().TokenURL != iss.url()+"/token" {
			t.Errorf("token URL %q", provider.Endpoint().TokenURL)
		}
		if n := calls.Load(); n != 3 {
			t.Errorf("discovery tried %d times, want 3", n)
		}
	})

	t.Run("an issuer mismatch fails at once", func(t *testing.T) {
		iss := newTestIssuer(t, issuerOptions{})
		var requests atomic.Int32
		client := &http.Client{Transport: countRequests{n: &requests}}
		_, err := discover(t.Context(), iss.url()+"/", client, 10*time.Second, logger)
		var mismatch *oidc.IssuerMismatchError
		if !errors.As(err, &mismatch) {
			t.Fatalf("discover error = %v, want an IssuerMismatchError", err)
		}
		// A count, not a stopwatch: one retry would be a second request.
		if n := requests.Load(); n != 1 {
			t.Errorf("discover sent %d discovery requests for an issuer mismatch, want 1 (no retry)", n)
		}
	})

	t.Run("gives up when the wait is over", func(t *testing.T) {
		down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}))
		defer down.Close()
		_, err := discover(t.Context(), down.URL, down.Client(), 300*time.Millisecond, logger)
		if err == nil || !strings.Contains(err.Error(), "no answer after") {
			t.Errorf("discover error = %v, want 'no answer after'", err)
		}
	})
}

// rewriteHost sends requests for host "to" to address "via" instead, keeping
// the URL (and so the issuer) unchanged.
type rewriteHost struct{ to, via string }

func (rt rewriteHost) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == rt.to {
		r = r.Clone(r.Context())
		r.URL.Host = rt.via
	}
	return http.DefaultTransport.RoundTrip(r)
}

// countRequests counts the requests sent through it.
type countRequests struct{ n *atomic.Int32 }

func (c countRequests) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// syncBuffer is safe for the concurrent writes of run's logger and reads of
// the test.
type syncBuffer = testsupport.LogBuffer

var listenAddr = regexp.MustCompile(`msg=listening addr=(127\.0\.0\.1:\d+)`)

func TestRun(t *testing.T) {
	t.Run("serves the demo and stops cleanly when cancelled", func(t *testing.T) {
		iss := newTestIssuer(t, issuerOptions{endSession: true})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var stdout, stderr syncBuffer
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"-issuer", iss.url(), "-listen", "127.0.0.1:0"},
				func(string) string { return "" }, &stdout, &stderr)
		}()

		var addr string
		deadline := time.Now().Add(10 * time.Second)
		for addr == "" {
			if m := listenAddr.FindStringSubmatch(stderr.String()); m != nil {
				addr = m[1]
				break
			}
			select {
			case err := <-done:
				t.Fatalf("run returned early: %v\n%s", err, stderr.String())
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("run did not start listening:\n%s", stderr.String())
			}
		}
		if want := "studio demo on http://127.0.0.1:9090 — open it in a browser\n"; stdout.String() != want {
			t.Errorf("stdout = %q, want %q", stdout.String(), want)
		}

		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatalf("GET /: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Sign in with inkpass") {
			t.Errorf("GET /: status %d, body:\n%s", resp.StatusCode, body)
		}

		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run after cancel: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("run did not stop after cancel")
		}
	})

	t.Run("the client secret comes from the environment", func(t *testing.T) {
		env := map[string]string{"STUDIO_DEMO_CLIENT_SECRET": "s3cret"}
		o, err := parseFlags(nil, func(k string) string { return env[k] }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if o.clientSecret != "s3cret" || o.issuer != "http://localhost:8080" || o.listen != "127.0.0.1:9090" ||
			o.clientID != "studio-demo" || o.redirectURL != "http://127.0.0.1:9090/callback" {
			t.Errorf("options %+v", o)
		}
	})

	t.Run("the flag wins over the environment, and -h never prints the secret", func(t *testing.T) {
		env := map[string]string{"STUDIO_DEMO_CLIENT_SECRET": "s3cret"}
		o, err := parseFlags([]string{"-client-secret", "flag-secret"}, func(k string) string { return env[k] }, io.Discard)
		if err != nil || o.clientSecret != "flag-secret" {
			t.Errorf("clientSecret = %q, %v; want flag-secret", o.clientSecret, err)
		}
		var help bytes.Buffer
		if _, err := parseFlags([]string{"-h"}, func(k string) string { return env[k] }, &help); !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("-h: %v", err)
		}
		if strings.Contains(help.String(), "s3cret") {
			t.Errorf("usage prints the secret:\n%s", help.String())
		}
	})
}
