package password_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/password"
)

// BenchmarkVerifyPolicy verifies a hash in each format inkpass itself writes,
// at the default policy (config.yaml): argon2id at OWASP's m=19456 KiB, t=2,
// p=1 for a fresh database, and werkzeug's scrypt:32768:8:1 for an adopted
// one. BenchmarkVerify covers the formats found in studio databases; this is
// the cost every login pays once hashes are upgraded, and the reference for
// internal/web's BenchmarkLoginFlow.
func BenchmarkVerifyPolicy(b *testing.B) {
	ctx := context.Background()
	for _, target := range []password.Target{password.TargetArgon2id, password.TargetWerkzeug} {
		b.Run(string(target), func(b *testing.B) {
			h := newPolicyHasher(b, target)
			encoded, err := h.Hash(ctx, "correct horse battery staple")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			start := processCPU()
			for b.Loop() {
				if ok, err := h.Verify(ctx, "correct horse battery staple", encoded); err != nil || !ok {
					b.Fatalf("Verify = %v, %v", ok, err)
				}
			}
			b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkVerifyPolicyParallel is the same verification on every CPU at
// once: its ops/s is the machine's raw KDF rate, the ceiling for logins per
// second (run with -cpu to vary the goroutines).
func BenchmarkVerifyPolicyParallel(b *testing.B) {
	ctx := context.Background()
	h := newPolicyHasher(b, password.TargetArgon2id)
	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, err := h.Verify(ctx, "correct horse battery staple", encoded); err != nil || !ok {
				b.Errorf("Verify = %v, %v", ok, err)
				return
			}
		}
	})
}

// processCPU is the process's CPU time, garbage collection included; unlike
// ns/op it does not grow when other processes compete for the machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func newPolicyHasher(b *testing.B, target password.Target) *password.Hasher {
	b.Helper()
	p := password.Policy{Target: target, MemoryBudget: 256 << 20}
	if target != password.TargetWerkzeug {
		p.Argon2 = password.OWASPArgon2()
	}
	h, err := password.NewHasher(p)
	if err != nil {
		b.Fatal(err)
	}
	return h
}
