//go:build reliability

package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestAdminCLIWhileServing runs admin commands as concurrent processes
// against the file a running server writes to: updates of different fields
// of one user must all land, and of two concurrent deactivations of the last
// two admins exactly one may succeed.
func TestAdminCLIWhileServing(t *testing.T) {
	in := newInstall(t, installOptions{passwordTarget: "argon2id"})
	in.addUser("boss", "admin", adminPass)
	in.addUser("boss2", "admin", adminPass)
	in.addUser("target", "assistant", userPass)
	in.serve()

	// The server writes too while the commands run.
	ctx, cancel := context.WithCancel(context.Background())
	var load sync.WaitGroup
	var served statusCounts
	load.Go(func() {
		for ctx.Err() == nil {
			a, _, err := in.ccToken()
			served.add(a, err)
		}
	})
	defer func() { cancel(); load.Wait() }()

	t.Run("updates of different fields at once all land", func(t *testing.T) {
		const rounds = 15
		lostUpdates, failedCmds := 0, 0
		for r := range rounds {
			want := map[string]string{
				"name":      fmt.Sprintf("Target Round %d", r),
				"email":     fmt.Sprintf("target%d@studio.example", r),
				"phone":     fmt.Sprintf("555-01%02d", r),
				"instagram": fmt.Sprintf("target_r%d", r),
				"birthdate": fmt.Sprintf("1990-01-%02d", r+1),
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			for field, value := range want {
				wg.Go(func() {
					res := runCLI(in, "", "user", "update", "target", "--"+field, value)
					if res.code != 0 {
						mu.Lock()
						failedCmds++
						mu.Unlock()
						t.Errorf("round %d: user update --%s: %v", r, field, res)
					}
				})
			}
			wg.Wait()
			got := showUser(t, in, "target")
			for field, value := range want {
				if s, _ := got[field].(string); s != value {
					lostUpdates++
					t.Errorf("round %d: %s = %q after the concurrent updates, want %q (a lost update)", r, field, s, value)
				}
			}
		}
		figure(t, "concurrent admin CLI: %d rounds × 5 field updates, %d lost updates, %d commands failed", rounds, lostUpdates, failedCmds)
	})

	t.Run("concurrent deactivations of the last two admins leave exactly one", func(t *testing.T) {
		const rounds = 40
		kept, none, both := 0, 0, 0
		for r := range rounds {
			for _, name := range []string{"boss", "boss2"} {
				if u := showUser(t, in, name); u["is_active"] != true {
					if r := runCLI(in, "", "user", "activate", name); r.code != 0 {
						t.Fatalf("user activate %s: %v", name, r)
					}
				}
			}
			if n := activeAdmins(t, in); n != 2 {
				t.Fatalf("round %d: %d active admins before the race, want 2", r, n)
			}
			var wg sync.WaitGroup
			results := make([]result, 2)
			for i, name := range []string{"boss", "boss2"} {
				wg.Go(func() { results[i] = runCLI(in, "", "user", "deactivate", name) })
			}
			wg.Wait()
			for _, res := range results {
				if res.code != 0 && (res.code != 1 || strings.Count(res.stderr, "\n") != 1) {
					t.Errorf("round %d: deactivate: %v; want success or exit 1 with one line", r, res)
				}
			}
			switch n := activeAdmins(t, in); n {
			case 1:
				kept++
			case 0:
				none++
				t.Errorf("round %d: no active admin left after two concurrent deactivations (%v / %v)", r, results[0], results[1])
			default:
				both++
				if results[0].code == 0 && results[1].code == 0 {
					t.Errorf("round %d: both deactivations succeeded yet %d admins are active", r, n)
				} else {
					t.Errorf("round %d: %d active admins: one deactivation should have succeeded (%v / %v)", r, n, results[0], results[1])
				}
			}
		}
		figure(t, "last-admin race: %d rounds of two concurrent deactivations, %d left exactly one admin, %d left none, %d left both", rounds, kept, none, both)
	})

	cancel()
	load.Wait()
	if n := served.count(500); n > 0 {
		t.Errorf("the server answered 500 %d times while the commands ran: %s", n, &served)
	}
	if !in.running() {
		t.Error("the server died while the commands ran")
	}
}

// runCLI is cli without the t.Fatal, for goroutines.
func runCLI(in *install, stdin string, args ...string) result {
	p, err := in.startCLI(stdin, args...)
	if err != nil {
		return result{code: -1, stderr: err.Error()}
	}
	return p.wait()
}

func showUser(t *testing.T, in *install, ref string) map[string]any {
	t.Helper()
	r := runCLI(in, "", "user", "show", ref, "--json")
	if r.code != 0 {
		t.Fatalf("user show %s: %v", ref, r)
	}
	out := r.stdout
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("user show --json: %v\n%s", err, out)
	}
	return m
}

func activeAdmins(t *testing.T, in *install) int {
	t.Helper()
	r := runCLI(in, "", "user", "list", "--role", "admin", "--active", "--json")
	if r.code != 0 {
		t.Fatalf("user list: %v", r)
	}
	out := r.stdout
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("user list --json: %v\n%s", err, out)
	}
	return len(list)
}
