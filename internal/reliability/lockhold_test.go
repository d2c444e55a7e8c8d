//go:build reliability

package reliability

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

// busyBudgetEnv names the server's write budget: how long a write keeps
// retrying another process's write lock before inkpass answers 503 with
// Retry-After (database_write_budget). busyTimeoutEnv shortens each attempt's
// wait inside SQLite (database_busy_timeout) so that the budget, not one long
// attempt, decides when the server gives up.
const (
	busyBudgetEnv = "INKPASS_DATABASE_WRITE_BUDGET"
	busyBudget    = 2 * time.Second

	busyTimeoutEnv = "INKPASS_DATABASE_BUSY_TIMEOUT"
	busyTimeout    = 500 * time.Millisecond
)

// holdLock opens the database as another process would (the studio's app, a
// backup script) and holds a write transaction for d. It runs on its own
// goroutine, so it returns its error rather than failing the test.
func holdLock(path string, d time.Duration) error {
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_busy_timeout=30000")
	if err != nil {
		return err
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("BEGIN IMMEDIATE: %w", err)
	}
	time.Sleep(d)
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("COMMIT: %w", err)
	}
	return nil
}

// hold runs holdLock on a goroutine; the returned func waits for it.
func hold(t *testing.T, path string, d time.Duration) (wait func()) {
	errc := make(chan error, 1)
	go func() { errc <- holdLock(path, d) }()
	return func() {
		if err := <-errc; err != nil {
			t.Errorf("the second process's write transaction: %v", err)
		}
	}
}

// lockLoad is the traffic sent while another process holds the lock, and
// what the server acknowledged.
type lockLoad struct {
	in       *install
	mu       sync.Mutex
	cc       []string
	loginAT  []string
	families []*family
}

type family struct {
	mu        sync.Mutex
	last      tokens
	rotations int
	uncertain bool // a rotation got no answer, or not a 200
}

// burst sends client_credentials requests, sign-ins and one rotation per
// refresh family, all at once, and tallies the answers.
func (l *lockLoad) burst(counts *statusCounts) {
	in := l.in
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			a, tok, err := in.ccToken()
			counts.add(a, err)
			if err == nil && a.status == http.StatusOK {
				l.mu.Lock()
				l.cc = append(l.cc, tok)
				l.mu.Unlock()
			}
		})
	}
	for _, name := range []string{"kim", "lou"} {
		wg.Go(func() {
			a, tk, failed, err := in.login(name, userPass)
			counts.add(a, err)
			if err == nil && !failed {
				l.mu.Lock()
				l.loginAT = append(l.loginAT, tk.access)
				l.mu.Unlock()
			}
		})
	}
	for _, f := range l.families {
		wg.Go(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.uncertain {
				return
			}
			a, tk, err := in.refresh(f.last.refresh)
			counts.add(a, err)
			if err != nil || a.status != http.StatusOK {
				f.uncertain = true
				return
			}
			f.last = tk
			f.rotations++
		})
	}
	wg.Wait()
}

// TestSecondProcessHoldsTheLock holds BEGIN IMMEDIATE transactions on the
// server's file from another connection, first shorter than the busy budget,
// then longer, while requests that write arrive.
func TestSecondProcessHoldsTheLock(t *testing.T) {
	in := newInstall(t, installOptions{passwordTarget: "argon2id", env: []string{busyBudgetEnv + "=" + busyBudget.String(), busyTimeoutEnv + "=" + busyTimeout.String()}})
	// One user per simultaneous sign-in: inkpass checks one password at a
	// time per username and answers a second one 429 at once.
	in.addUser("kim", "assistant", userPass)
	in.addUser("lou", "assistant", userPass)
	in.serve()
	l := &lockLoad{in: in}
	for range 2 {
		l.families = append(l.families, &family{last: in.mustLogin("kim", userPass)})
	}

	// Short holds: every request waits, none fails.
	short := busyBudget / 2
	var underBudget statusCounts
	const shortHolds = 3
	for range shortHolds {
		done := hold(t, in.db, short)
		time.Sleep(50 * time.Millisecond) // the lock is taken
		l.burst(&underBudget)
		done()
	}
	if n := underBudget.count(http.StatusOK); n != underBudget.total() {
		t.Errorf("holds of %v (under the %v budget): %s; want every answer 200", short, busyBudget, &underBudget)
	}

	// A long hold: 503 with Retry-After is allowed, 500 never.
	long := 3 * busyBudget
	var overBudget statusCounts
	done := hold(t, in.db, long)
	time.Sleep(50 * time.Millisecond)
	var bursts sync.WaitGroup
	bursts.Go(func() { l.burst(&overBudget) })
	bursts.Go(func() {
		time.Sleep(long / 2)
		l.burst(&overBudget)
	})
	bursts.Wait()
	done()
	if n := overBudget.count(http.StatusInternalServerError); n > 0 {
		t.Errorf("hold of %v (over the budget): %d answers were 500: %s; want 200 or 503 (e.g. %s)", long, n, &overBudget, overBudget.examples[500])
	}
	for status, n := range overBudget.by {
		if status != http.StatusOK && status != http.StatusServiceUnavailable && status != http.StatusInternalServerError {
			t.Errorf("hold of %v: %d answers with status %d (e.g. %s); want only 200 or 503", long, n, status, overBudget.examples[status])
		}
	}
	if overBudget.noRetry > 0 {
		t.Errorf("hold of %v: %d answers were 503 without Retry-After", long, overBudget.noRetry)
	}
	if overBudget.transport > 0 {
		t.Errorf("hold of %v: %d requests got no answer", long, overBudget.transport)
	}

	// After the holds: the server writes again, and nothing acknowledged is lost.
	if a, _, err := in.ccToken(); err != nil || a.status != http.StatusOK {
		t.Errorf("client_credentials after the holds: %v %s; want 200", err, describe(a))
	}
	lost, checked := 0, 0
	for _, tok := range l.cc {
		checked++
		if active, a, err := in.introspect(tok); !active {
			lost++
			t.Errorf("acknowledged client_credentials token not active: %v %s", err, describe(a))
		}
	}
	for _, tok := range l.loginAT {
		checked++
		if a, err := in.userinfo(tok); err != nil || a.status != http.StatusOK {
			lost++
			t.Errorf("acknowledged sign-in's access token refused: %v %s", err, describe(a))
		}
	}
	for i, f := range l.families {
		checked += f.rotations
		if f.uncertain || f.rotations == 0 {
			continue
		}
		if a, _, err := in.refresh(f.last.refresh); err != nil || a.status != http.StatusOK {
			lost++
			t.Errorf("family %d: the last acknowledged refresh token does not rotate: %v %s", i, err, describe(a))
		}
	}
	if !in.running() {
		t.Error("the server died")
	}
	figure(t, "second process holding the write lock: %d holds of %v → %s; 1 hold of %v → %s; %d acknowledged writes lost (of %d); budget %s=%v",
		shortHolds, short, &underBudget, long, &overBudget, lost, checked, busyBudgetEnv, busyBudget)
}
