//go:build interop

package interop

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
)

// The results table: relying party × flow × algorithm, printed by TestMain
// after every test has run.

// outcome is one cell: pass, FAIL, skipped or "not run (... failed)".
type outcome struct{ rp, flow, alg, result string }

var results struct {
	sync.Mutex
	rows  []outcome
	notes []string // why a setup failed, printed under the table
}

func record(rp, flow, alg, result string) {
	results.Lock()
	defer results.Unlock()
	results.rows = append(results.rows, outcome{rp, flow, alg, result})
}

// rpRun is one relying party with one algorithm; step runs one flow as a
// subtest and records its outcome. After a failed setup or "login" the
// later flows are recorded as not run.
type rpRun struct {
	t       *testing.T
	rp, alg string
	blocked string
}

// setup registers the client and starts the relying party, on the test
// itself so that what it starts lives until the test ends.
func (r *rpRun) setup(fn func() error) bool {
	r.t.Helper()
	if err := fn(); err != nil {
		r.t.Errorf("setup: %v", err)
		record(r.rp, "setup", r.alg, "FAIL")
		msg, _, _ := strings.Cut(err.Error(), "\n")
		if m := cliFailure.FindStringSubmatch(msg); m != nil {
			msg = m[1] + ": " + m[2] // the command and its error line, without every flag
		}
		results.Lock()
		results.notes = append(results.notes, fmt.Sprintf("%s %s setup: %s", r.rp, r.alg, msg))
		results.Unlock()
		r.blocked = "setup"
		return false
	}
	record(r.rp, "setup", r.alg, "pass")
	return true
}

func (r *rpRun) step(flow string, fn func(t *testing.T)) bool {
	if r.blocked != "" {
		record(r.rp, flow, r.alg, "not run ("+r.blocked+" failed)")
		return false
	}
	ran, skipped := false, false
	ok := r.t.Run(flow, func(t *testing.T) {
		ran = true
		defer func() { skipped = t.Skipped() }()
		fn(t)
	})
	switch {
	case !ran: // left out by -run
		return true
	case skipped:
		record(r.rp, flow, r.alg, "skipped")
		r.blocked = flow
		return false
	case ok:
		record(r.rp, flow, r.alg, "pass")
		return true
	default:
		record(r.rp, flow, r.alg, "FAIL")
		if flow == "setup" || flow == "login" {
			r.blocked = flow
		}
		return false
	}
}

// printResults prints relying party × flow × algorithm.
func printResults(w io.Writer) {
	results.Lock()
	defer results.Unlock()
	type key struct{ rp, flow string }
	var order []key
	cells := map[key]map[string]string{}
	for _, o := range results.rows {
		k := key{o.rp, o.flow}
		if cells[k] == nil {
			cells[k] = map[string]string{}
			order = append(order, k)
		}
		cells[k][o.alg] = o.result
	}
	fmt.Fprintln(w, "\n== interop results")
	fmt.Fprintf(w, "%-18s %-20s", "relying party", "flow")
	for _, a := range algs {
		fmt.Fprintf(w, " %-28s", a)
	}
	fmt.Fprintln(w)
	for _, k := range order {
		fmt.Fprintf(w, "%-18s %-20s", k.rp, k.flow)
		for _, a := range algs {
			v := cells[k][a]
			if v == "" {
				v = "-"
			}
			fmt.Fprintf(w, " %-28s", v)
		}
		fmt.Fprintln(w)
	}
	for _, n := range results.notes {
		fmt.Fprintln(w, n)
	}
}
