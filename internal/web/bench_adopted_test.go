package web_test

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/metrics"
	"github.com/inkpass/inkpass/internal/password"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
)

// adoptedUser is the studio fixture's admin, whose hash is werkzeug
// scrypt:32768:8:1, the format an adopted database's default target keeps.
const adoptedUser = "admin"

// newAdoptedBenchEnv is newBenchEnv on a copy of the studio's database, with
// the password policy `serve` gives an adopted one by default (target
// werkzeug, the dummy following the dominant stored format) and serve's
// garbage collector settings (GOGC=200, a soft limit of the hashing budget
// plus 32 MiB), restored when the benchmark ends.
func newAdoptedBenchEnv(b *testing.B, alg keys.Algorithm) (*benchEnv, string) {
	b.Helper()
	ctx := context.Background()

	const budget = 256 << 20
	oldGC, oldLimit := debug.SetGCPercent(200), debug.SetMemoryLimit(budget+32<<20)
	b.Cleanup(func() { debug.SetGCPercent(oldGC); debug.SetMemoryLimit(oldLimit) })

	hasher, err := password.NewHasher(password.Policy{Target: password.TargetWerkzeug, MemoryBudget: budget})
	if err != nil {
		b.Fatalf("hasher: %v", err)
	}
	st := harness.Wire(b, benchIssuer, harness.Options{
		Alg: alg, NoStandardClients: true, Clients: benchClients(alg)[1:],
		Hasher: hasher, Metrics: metrics.New(), Logger: benchLogger(),
	})
	db, users := st.DB, st.Users
	var census password.Census
	if err := db.EachPasswordHash(ctx, census.Add); err != nil {
		b.Fatalf("census: %v", err)
	}
	if dominant, ok := census.Dominant(); ok {
		if err := hasher.SetDummyLike(dominant); err != nil {
			b.Fatalf("SetDummyLike: %v", err)
		}
	}
	admin, err := users.GetByUsername(ctx, adoptedUser)
	if err != nil {
		b.Fatalf("fixture user %s: %v", adoptedUser, err)
	}
	// benchPassword, so that tryLoginAs can sign in; the werkzeug target
	// writes scrypt:32768:8:1 again.
	if err := users.SetPassword(ctx, admin.ID, benchPassword); err != nil {
		b.Fatalf("set password: %v", err)
	}
	if admin, err = users.Get(ctx, admin.ID); err != nil {
		b.Fatalf("get %s: %v", adoptedUser, err)
	}
	if hasher.NeedsRehash(admin.PasswordHash) || password.Describe(admin.PasswordHash) != "scrypt:32768:8:1" {
		b.Fatalf("fixture user %s has %s, which the werkzeug target rewrites", adoptedUser, password.Describe(admin.PasswordHash))
	}
	return &benchEnv{h: st.Handler, db: db, keys: st.Keys, hasher: hasher, users: users}, admin.PasswordHash
}

// BenchmarkLoginFlowAdopted is BenchmarkLoginFlow on an adopted database: the
// studio's admin signs in with its werkzeug scrypt:32768:8:1 hash. Every
// iteration also verifies that same hash bare (Hasher.Verify, the raw KDF),
// so the two share the run, the heap and the collector: login-cpu-ns/op and
// kdf-cpu-ns/op are each one's process CPU, and kdf-% is the raw KDF's share
// of a whole login (the target is at least 95).
func BenchmarkLoginFlowAdopted(b *testing.B) {
	e, hash := newAdoptedBenchEnv(b, keys.RS256)
	ctx := context.Background()
	b.ReportAllocs()
	var login, kdf time.Duration
	for b.Loop() {
		t0 := processCPU()
		if _, err := e.tryLoginAs("openid profile", adoptedUser, ""); err != nil {
			b.Fatal(err)
		}
		t1 := processCPU()
		if ok, err := e.hasher.Verify(ctx, benchPassword, hash); err != nil || !ok {
			b.Fatalf("Verify = %v, %v", ok, err)
		}
		login, kdf = login+t1-t0, kdf+processCPU()-t1
	}
	if b.N > 0 && login > 0 {
		b.ReportMetric(float64(login)/float64(b.N), "login-cpu-ns/op")
		b.ReportMetric(float64(kdf)/float64(b.N), "kdf-cpu-ns/op")
		b.ReportMetric(100*float64(kdf)/float64(login), "kdf-%")
	}
}

// BenchmarkLoginFlowAdoptedParallel is the same comparison with 8 browsers
// per CPU, as scripts/load.sh's login scenario runs them: each signs in as
// its own werkzeug-scrypt user. kdf-cpu-ns/op is the same bare verification
// at the same concurrency, measured before and after the logins and averaged.
func BenchmarkLoginFlowAdoptedParallel(b *testing.B) {
	e, hash := newAdoptedBenchEnv(b, keys.RS256)
	const parallelism = 8
	n := parallelism * runtime.GOMAXPROCS(0)
	e.addBenchUsers(b, n)
	ctx := context.Background()
	bareKDF := func() time.Duration {
		const ops = 32
		var wg sync.WaitGroup
		start := processCPU()
		for range n {
			wg.Go(func() {
				for range ops / n {
					if ok, err := e.hasher.Verify(ctx, benchPassword, hash); err != nil || !ok {
						b.Errorf("Verify = %v, %v", ok, err)
						return
					}
				}
			})
		}
		wg.Wait()
		return (processCPU() - start) / time.Duration(ops/n*n)
	}
	before := bareKDF()
	var next atomic.Int32
	b.ReportAllocs()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	start := processCPU()
	b.RunParallel(func(pb *testing.PB) {
		i := next.Add(1) - 1
		username, addr := fmt.Sprintf("bench%d", i), fmt.Sprintf("192.0.2.%d", i+1)
		for pb.Next() {
			if _, err := e.tryLoginAs("openid profile", username, addr); err != nil {
				b.Error(err)
				return
			}
		}
	})
	login := float64(processCPU()-start) / float64(b.N)
	b.StopTimer()
	kdf := float64(before+bareKDF()) / 2
	b.ReportMetric(login, "login-cpu-ns/op")
	b.ReportMetric(kdf, "kdf-cpu-ns/op")
	b.ReportMetric(100*kdf/login, "kdf-%")
}
