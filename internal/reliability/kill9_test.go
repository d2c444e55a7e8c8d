//go:build reliability

package reliability

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// kills is how many times the server is killed. startWait is how long the
// test waits for /readyz after each restart: a liveness bound (a server that
// never comes up fails the test), not a speed claim, since the machine is
// shared. How long restarts took is reported in the figure, never asserted.
const (
	kills     = 10
	startWait = 30 * time.Second
)

// ackLog is what the server acknowledged during one life: writes that must
// survive a kill -9 that comes after them.
type ackLog struct {
	mu         sync.Mutex
	ccTokens   []string // client_credentials access tokens (200)
	loginAT    []string // access tokens from a completed sign-in (200)
	rotations  int      // refresh rotations answered 200
	unexpected []string // non-200 answers, or errors, before the kill
}

func (l *ackLog) note(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.unexpected) < 10 {
		l.unexpected = append(l.unexpected, s)
	}
}

// chain is a refresh-token family the refresh worker rotates. Only the last
// rotation's tokens are live; determinate is false when a rotation was in
// flight at the kill, so the server may or may not have committed it.
type chain struct {
	last        tokens
	determinate bool
}

// TestKill9 kills the server with SIGKILL at a random moment under mixed
// writes (client_credentials tokens, refresh rotations, sign-ins), restarts
// it, and checks that the file is intact and every write the server answered
// 200 for is still there.
func TestKill9(t *testing.T) {
	in := newInstall(t, installOptions{passwordTarget: "argon2id"})
	in.addUser("kim", "assistant", userPass)
	in.serve()
	ch := chain{last: in.mustLogin("kim", userPass), determinate: true}

	// The checks below can fail: a token the server never issued is neither
	// active at introspection nor accepted at userinfo.
	if active, a, err := in.introspect(randomB64(32)); active || err != nil {
		t.Fatalf("introspection of a made-up token: active=%v, %v %s", active, err, describe(a))
	}
	if a, err := in.userinfo(randomB64(32)); err != nil || a.status != http.StatusUnauthorized {
		t.Fatalf("userinfo with a made-up token: %v %s; want 401", err, describe(a))
	}

	var (
		cc, logins, rotations, families  int
		clean, integrityBad, lost, acked int
		slowest                          time.Duration
	)
	for cycle := range kills {
		if !ch.determinate {
			// The old family's fate is unknown; a new sign-in starts another.
			ch = chain{last: in.mustLogin("kim", userPass), determinate: true}
		}
		log := &ackLog{}
		var killed atomic.Bool
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		unexpected := func(what string, a *answer, err error) {
			if !killed.Load() {
				log.note(fmt.Sprintf("%s: %v %s", what, err, describe(a)))
			}
		}
		for range 2 {
			wg.Go(func() {
				for ctx.Err() == nil {
					a, tok, err := in.ccToken()
					if err != nil || a.status != http.StatusOK {
						unexpected("client_credentials", a, err)
						continue
					}
					log.mu.Lock()
					log.ccTokens = append(log.ccTokens, tok)
					log.mu.Unlock()
				}
			})
		}
		wg.Go(func() {
			// A rotation is only sent while no kill is on its way, so that a
			// lost answer means the kill found it in flight.
			for ctx.Err() == nil && !killed.Load() {
				a, tk, err := in.refresh(ch.last.refresh)
				if err != nil {
					// No answer: the rotation may or may not have committed.
					ch.determinate = false
					unexpected("refresh", a, err)
					return
				}
				if a.status != http.StatusOK {
					ch.determinate = false
					unexpected("refresh", a, err)
					return
				}
				ch.last = tk
				log.mu.Lock()
				log.rotations++
				log.mu.Unlock()
				// A pause between rotations, so that most kills find none in
				// flight and the last acknowledged one can be checked.
				select {
				case <-ctx.Done():
				case <-time.After(25 * time.Millisecond):
				}
			}
		})
		wg.Go(func() {
			for ctx.Err() == nil {
				a, tk, failed, err := in.login("kim", userPass)
				if err != nil || failed {
					unexpected("sign-in", a, err)
					continue
				}
				log.mu.Lock()
				log.loginAT = append(log.loginAT, tk.access)
				log.mu.Unlock()
			}
		})

		time.Sleep(time.Duration(300+rand.IntN(1200)) * time.Millisecond)
		killed.Store(true)
		in.kill9()
		cancel()
		wg.Wait()
		if len(log.unexpected) > 0 {
			t.Errorf("life %d: answers before the kill that were not 200: %q", cycle+1, log.unexpected)
		}

		took, err := in.serveErr(startWait)
		if err != nil {
			t.Fatalf("restart %d after kill -9: %v", cycle+1, err)
		}
		slowest = max(slowest, took)
		ok := true
		if res := integrity(t, in.db); res != "ok" {
			integrityBad++
			ok = false
			t.Errorf("restart %d: integrity_check = %q", cycle+1, res)
		}

		// Every acknowledged write must still be there.
		cc, logins, rotations = cc+len(log.ccTokens), logins+len(log.loginAT), rotations+log.rotations
		if ch.determinate && log.rotations > 0 {
			families++
		}
		n, missing := verifyAcks(in, log, &ch)
		acked += n
		lost += missing
		if missing > 0 {
			ok = false
			t.Errorf("restart %d: %d of %d acknowledged writes lost", cycle+1, missing, n)
		}
		if ok {
			clean++
		}
	}
	figure(t, "kill -9 ×%d: %d clean restarts, %d acknowledged writes lost (of %d: %d client_credentials tokens, %d sign-ins, %d refresh rotations, last rotation checked in %d lives), integrity failures %d, every restart ready within its %v start-up wait (slowest %v)",
		kills, clean, lost, acked, cc, logins, rotations, families, integrityBad, startWait, slowest.Round(time.Millisecond))
}

// verifyAcks checks, through the server, each write of one life: the access
// tokens by introspection or userinfo, the refresh family by rotating it
// once more. It returns how many writes it checked and how many are gone.
func verifyAcks(in *install, log *ackLog, ch *chain) (checked, lost int) {
	t := in.t
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan func() bool)
	for range 4 {
		wg.Go(func() {
			for f := range work {
				if !f() {
					mu.Lock()
					lost++
					mu.Unlock()
				}
			}
		})
	}
	for _, tok := range log.ccTokens {
		work <- func() bool {
			active, a, err := in.introspect(tok)
			if !active {
				t.Logf("client_credentials token acknowledged but not active: %v %s", err, describe(a))
			}
			return active
		}
	}
	for _, tok := range log.loginAT {
		work <- func() bool {
			a, err := in.userinfo(tok)
			if err != nil || a.status != http.StatusOK {
				t.Logf("sign-in access token acknowledged but refused at userinfo: %v %s", err, describe(a))
				return false
			}
			return true
		}
	}
	close(work)
	wg.Wait()
	checked = len(log.ccTokens) + len(log.loginAT) + log.rotations
	if ch.determinate && log.rotations > 0 {
		// The last acknowledged rotation must be the family's live one: its
		// access token works and its refresh token rotates.
		if a, err := in.userinfo(ch.last.access); err != nil || a.status != http.StatusOK {
			t.Logf("last rotation's access token refused at userinfo: %v %s", err, describe(a))
			lost++
		}
		a, tk, err := in.refresh(ch.last.refresh)
		if err != nil || a.status != http.StatusOK {
			t.Logf("last acknowledged refresh token does not rotate: %v %s", err, describe(a))
			lost++
			ch.determinate = false
		} else {
			ch.last = tk
		}
	}
	return checked, lost
}
