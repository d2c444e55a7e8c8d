package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"
)

// Two servers on one "database" (one fakeIdP behind both): with -url naming
// both, every scenario's operations reach each of them, a login walked on one
// may have its code redeemed on the other, rotations alternate, and no
// rotation is refused or replayed. -pid names both and sums them.
func TestRun_takesTurnsOverServers(t *testing.T) {
	idp := newFakeIdP()
	var hits [2]atomic.Int64
	var srvs [2]*httptest.Server
	for i := range srvs {
		srvs[i] = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits[i].Add(1)
			idp.ServeHTTP(w, r)
		}))
		defer srvs[i].Close()
	}
	self := os.Getpid()
	for _, sc := range []string{scClientCredentials, scRefresh, scUserInfo, scLogin, scMixed} {
		t.Run(sc, func(t *testing.T) {
			before := [2]int64{hits[0].Load(), hits[1].Load()}
			args := []string{"-url", srvs[0].URL + "," + srvs[1].URL, "-scenario", sc, "-c", "3", "-d", "5s", "-n", "30", "-json",
				"-client-secret", "cc-secret", "-password", "pw", "-pid", fmt.Sprintf("%d,%d", self, self),
				"-ref=false", "-fail-on-error"}
			var out, errOut bytes.Buffer
			if code := run(context.Background(), args, nil, &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s\n%s", code, errOut.String(), out.String())
			}
			var res Result
			if err := json.Unmarshal(out.Bytes(), &res); err != nil {
				t.Fatalf("decode result: %v\n%s", err, out.String())
			}
			if res.Ops != 30 || res.Errors != 0 {
				t.Errorf("ops %d, errors %d (%v); want 30 ops and none", res.Ops, res.Errors, res.FirstErrors)
			}
			for i := range hits {
				if n := hits[i].Load() - before[i]; n < 10 {
					t.Errorf("server %d answered %d requests; want at least a third of the 30 operations", i, n)
				}
			}
			if res.Server == nil || len(res.Server.PIDs) != 2 {
				t.Errorf("server figures for two pids missing: %+v", res.Server)
			}
		})
	}
	if n := idp.reused(); n != 0 {
		t.Errorf("%d refresh tokens were used twice: rotation is broken", n)
	}
}

// treeCPU counts what a child used after it has exited and been reaped (the
// parent's cutime/cstime), as a postmaster's backends come and go.
func TestTreeCPU_countsReapedChildren(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	before, err := treeCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sh, "-c", `i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done`)
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	child := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	after, err := treeCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// /proc counts in 10 ms ticks; the child is counted whole, less rounding.
	if got, tick := after-before, 10*time.Millisecond; got+2*tick < child {
		t.Errorf("treeCPU grew by %s while a reaped child used %s", got, child)
	}
	if child < 50*time.Millisecond {
		t.Logf("the child used only %s; the check is weak on this machine", child)
	}
}

func TestParsePIDs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"", 0, true},
		{"12", 1, true},
		{"12, 34", 2, true},
		{"12,x", 0, false},
		{"0", 0, false},
		{"-3", 0, false},
	} {
		got, err := parsePIDs(tc.in)
		if (err == nil) != tc.ok || len(got) != tc.want {
			t.Errorf("parsePIDs(%q) = %v, %v; want %d pids, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
