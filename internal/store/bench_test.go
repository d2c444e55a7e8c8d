package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/store"
)

// BenchmarkTokenCreate stores client_credentials access tokens, the write
// behind every machine grant. With 16 writers at once, as the token endpoint
// under load, group commit shares transactions among them: jobs/tx is how
// many. "random" makes grant ids and tokens the way inkpass did before
// sortable ones (session.NewGrantID, session.NewSortableToken), to show what
// index entries at random places cost.
func BenchmarkTokenCreate(b *testing.B) {
	sortable := func() (string, string) { return session.NewGrantID(), session.NewSortableToken() }
	random := func() (string, string) { return session.NewToken(), session.NewToken() }
	for _, c := range []struct {
		name    string
		writers int
		ids     func() (grant, access string)
	}{
		{"writers=1", 1, sortable},
		{"writers=16", 16, sortable},
		{"writers=16/random", 16, random},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			db, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), store.Options{BusyTimeout: 5 * time.Second})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			tokens := db.Tokens()
			tx0, jobs0 := db.WriteStats()
			cpu0 := processCPU(b)
			b.ResetTimer()
			run := func() {
				grant, access := c.ids()
				err := tokens.IssueTokens(ctx, session.Grant{ID: grant, ClientID: "machine"},
					session.IssuedTokens{Access: access, AccessTTL: time.Hour, Scope: "profile"})
				if err != nil && !errors.Is(err, session.ErrClientGone) {
					b.Error(err)
				}
			}
			if c.writers == 1 {
				for b.Loop() {
					run()
				}
			} else {
				// RunParallel starts GOMAXPROCS×parallelism goroutines.
				b.SetParallelism(max(1, c.writers/runtime.GOMAXPROCS(0)))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						run()
					}
				})
			}
			b.StopTimer()
			tx1, jobs1 := db.WriteStats()
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
			if tx := tx1 - tx0; tx > 0 {
				b.ReportMetric(float64(jobs1-jobs0)/float64(tx), "jobs/tx")
			}
		})
	}
}

// processCPU is this process's user+system CPU time in nanoseconds: every
// goroutine, cgo (SQLite) and the garbage collector.
func processCPU(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
