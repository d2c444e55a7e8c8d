package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

// Reference costs are measured in this process, on this machine, right
// before the load, so that the targets that are ratios ("refresh ≤ 1.4 × the
// RS256 signature", "logins ≥ 90 % of the raw KDF rate") compare figures from
// one run.

// signReference is the CPU time of one bare signature with alg over a payload
// the size of an ID token, on one goroutine: what the server cannot avoid
// spending per ID token.
func signReference(ctx context.Context, alg string, minTime time.Duration) (time.Duration, error) {
	payload := make([]byte, 600)
	rand.Read(payload)
	var sign func() error
	switch alg {
	case "RS256":
		k, err := rsa.GenerateKey(rand.Reader, 2048) // keys.DefaultRSABits
		if err != nil {
			return 0, err
		}
		sign = func() error {
			sum := sha256.Sum256(payload)
			_, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, sum[:])
			return err
		}
	case "ES256":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return 0, err
		}
		sign = func() error {
			sum := sha256.Sum256(payload)
			_, err := ecdsa.SignASN1(rand.Reader, k, sum[:])
			return err
		}
	case "EdDSA":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return 0, err
		}
		sign = func() error {
			ed25519.Sign(k, payload)
			return nil
		}
	default:
		return 0, fmt.Errorf("no reference for algorithm %q", alg)
	}
	// Warm up (RSA precomputation, CPU frequency), then measure.
	for range 5 {
		if err := sign(); err != nil {
			return 0, err
		}
	}
	n := 0
	cpu0, start := selfCPU(), time.Now()
	for n < 50 || time.Since(start) < minTime {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if err := sign(); err != nil {
			return 0, err
		}
		n++
	}
	return (selfCPU() - cpu0) / time.Duration(n), nil
}

// kdfReference is the raw argon2id verification rate of this machine at the
// server's parameters, with one goroutine per CPU: the ceiling for logins per
// second, since each login verifies one password.
type kdfReference struct {
	MemoryKiB uint32  `json:"memory_kib"`
	Time      uint32  `json:"time"`
	Threads   uint32  `json:"threads"`
	PerSecond float64 `json:"per_second"`
	CPUms     float64 `json:"cpu_ms_each"`
	Workers   int     `json:"workers"`
}

func kdfRate(ctx context.Context, memKiB, passes, lanes uint32, d time.Duration) (kdfReference, error) {
	if memKiB < 8 || passes < 1 || lanes < 1 {
		return kdfReference{}, fmt.Errorf("argon2id m=%d t=%d p=%d is not a valid parameter set", memKiB, passes, lanes)
	}
	workers := runtime.GOMAXPROCS(0)
	salt := make([]byte, 16)
	rand.Read(salt)
	var count atomic.Int64
	var wg sync.WaitGroup
	cpu0, start := selfCPU(), time.Now()
	deadline := start.Add(d)
	for range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				argon2.IDKey([]byte("correct horse battery staple"), salt, passes, memKiB, uint8(lanes), 32)
				count.Add(1)
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return kdfReference{}, ctx.Err()
	}
	elapsed, cpu := time.Since(start), selfCPU()-cpu0
	n := count.Load()
	debug.FreeOSMemory() // hand the KDF's memory back before the load starts
	return kdfReference{
		MemoryKiB: memKiB, Time: passes, Threads: lanes,
		PerSecond: float64(n) / elapsed.Seconds(),
		CPUms:     ms(cpu / time.Duration(max(n, 1))),
		Workers:   workers,
	}, nil
}
