//go:build unix

package main

import (
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServe_SIGHUPReloadsKeys: a key that `inkpass keys rotate` adds while
// serve runs is published after SIGHUP, without waiting for the periodic
// reload, and serve logs that the signal reloaded the keys: with the keys
// in the folder and in the database (keys.store: database), where the other
// process's rotation is a row serve reads back.
func TestServe_SIGHUPReloadsKeys(t *testing.T) {
	t.Run("folder", func(t *testing.T) { testSIGHUPReloadsKeys(t, "") })
	t.Run("database", func(t *testing.T) { testSIGHUPReloadsKeys(t, "keys:\n  store: database\n") })
}

func testSIGHUPReloadsKeys(t *testing.T, extra string) {
	// Should serve not handle SIGHUP, its default action would end the
	// whole test binary; this keeps the test process alive to fail instead.
	guard := make(chan os.Signal, 1)
	signal.Notify(guard, syscall.SIGHUP)
	defer signal.Stop(guard)

	c := newCLI(t, "inkpass.db", "listen: \"127.0.0.1:0\"\nissuer: \"http://127.0.0.1:1\"\n"+extra)
	srv := c.serve(t)
	base := srv.listening(t)

	jwks := func() string {
		resp, err := http.Get(base + "/jwks")
		if err != nil {
			t.Fatalf("GET /jwks: %v", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	if strings.Contains(jwks(), `"ES256"`) {
		t.Fatal("the first JWKS already has an ES256 key")
	}
	c.ok(t, "", "keys", "rotate", "--alg", "ES256")

	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatalf("send SIGHUP: %v", err)
	}
	// The periodic reload runs every 30 s; poll for a few seconds at most.
	published := false
	for i := 0; i < 50 && !published; i++ {
		time.Sleep(100 * time.Millisecond)
		published = strings.Contains(jwks(), `"ES256"`)
	}
	if !published {
		t.Error("after SIGHUP, /jwks still lacks the ES256 key that keys rotate added")
	}
	if logs := srv.logs.String(); !strings.Contains(logs, "signing keys reloaded") || !strings.Contains(logs, "trigger=SIGHUP") {
		t.Errorf("serve did not log a reload on SIGHUP:\n%s", logs)
	}
	srv.stop(t)
}
