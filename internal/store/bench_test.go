package store_test

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-oauth2/oauth2/v4/models"

	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/store"
)

// BenchmarkTokenCreate stores client_credentials access tokens, the write
// behind every machine grant. Parallel runs many writers at once, as the token
// endpoint under load does, so group commit shares transactions among them:
// jobs/tx is how many.
func BenchmarkTokenCreate(b *testing.B) {
	for _, writers := range []int{1, 16} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			ctx := context.Background()
			db, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), store.Options{BusyTimeout: 5 * time.Second})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			tokens := db.Tokens()
			var seq atomic.Int64
			tx0, jobs0 := db.WriteStats()
			cpu0 := processCPU(b)
			b.ResetTimer()
			run := func() {
				n := seq.Add(1)
				t := models.NewToken()
				t.ClientID = "machine"
				t.Scope = "profile"
				t.Access = fmt.Sprintf("access-token-%020d", n)
				t.AccessCreateAt = time.Now()
				t.AccessExpiresIn = time.Hour
				t.Extension = url.Values{session.ExtGrantID: {fmt.Sprintf("grant-%d", n)}}
				if err := tokens.Create(ctx, t); err != nil {
					b.Error(err)
				}
			}
			if writers == 1 {
				for b.Loop() {
					run()
				}
			} else {
				// RunParallel starts GOMAXPROCS×parallelism goroutines.
				b.SetParallelism(max(1, writers/runtimeProcs()))
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

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
