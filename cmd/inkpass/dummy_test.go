package main

import (
	"context"
	"flag"
	"io"
	"sync"
	"testing"

	"github.com/inkpass/inkpass/internal/password"
	"github.com/inkpass/inkpass/internal/user"
)

// TestServe_UnknownUsernameCostsTheCommonFormat: on the adopted studio
// database most users hold werkzeug pbkdf2, so a sign-in with an unknown
// username must compute pbkdf2 with those users' parameters, not the
// target's scrypt (366 ms against 129 ms told which usernames exist).
func TestServe_UnknownUsernameCostsTheCommonFormat(t *testing.T) {
	c := newCLI(t, "studio.db", "")
	fixtureDB(t, c.dir)
	e := &env{getenv: func(string) string { return "" }, stdin: nil, stdout: io.Discard, stderr: io.Discard}
	ctx := context.Background()
	a, err := openApp(ctx, e, flag.NewFlagSet("test", flag.ContinueOnError), c.config, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var mu sync.Mutex
	var seen []string
	a.hasher.SetObserver(func(v password.Verification) { mu.Lock(); seen = append(seen, v.Params()); mu.Unlock() })

	// The most common stored parameters, counted independently of the code
	// under test: the fixture has three pbkdf2 users (260000, 600000 and
	// 1000000 iterations, one each) and two scrypt ones; the costliest of
	// the equally common pbkdf2 sets is the one to imitate.
	const want = "pbkdf2:sha256:1000000"

	refreshDummy(ctx, a)
	if _, err := a.users.Authenticate(ctx, "nobody-by-this-name", "some password", "192.0.2.1"); err != user.ErrInvalidCredentials {
		t.Fatalf("Authenticate(unknown) = %v, want ErrInvalidCredentials", err)
	}
	if len(seen) != 1 || seen[0] != want {
		t.Errorf("an unknown username computed %v, want exactly one %s verification", seen, want)
	}
}
