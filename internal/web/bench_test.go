package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/inkpass/inkpass/internal/keys"
)

// The hot paths of an identity provider, in-process over a real SQLite file:
// the token endpoint (client_credentials and refresh), userinfo, discovery and
// JWKS, and the whole login. `make bench` runs them; docs/performance.md says
// how to read them beside internal/keys' BenchmarkSign and internal/password's
// BenchmarkVerify.

var benchAlgorithms = []keys.Algorithm{keys.RS256, keys.ES256, keys.EdDSA}

func BenchmarkDiscovery(b *testing.B) { benchDocument(b, "/.well-known/openid-configuration") }

func BenchmarkJWKS(b *testing.B) { benchDocument(b, "/jwks") }

// benchDocument GETs a public document, without If-None-Match.
func benchDocument(b *testing.B, path string) {
	e := newBenchEnv(b, keys.ES256)
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		rec := e.serve(httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s: %d", path, rec.Code)
		}
	}
	cpu.report(b)
}

// BenchmarkTokenClientCredentials is one machine-to-machine grant: client
// authentication with HTTP Basic, scope check, one token row written.
func BenchmarkTokenClientCredentials(b *testing.B) {
	e := newBenchEnv(b, keys.ES256)
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		e.token(b, e.clientCredentialsRequest())
	}
	cpu.report(b)
}

// BenchmarkTokenRefresh rotates one refresh token per iteration, as a client
// does: every answer's refresh_token is the next request's. Each answer
// carries a new ID token, so this is also the cost of minting one per
// algorithm; compare it with BenchmarkSign in internal/keys.
func BenchmarkTokenRefresh(b *testing.B) {
	for _, alg := range benchAlgorithms {
		b.Run(string(alg), func(b *testing.B) {
			e := newBenchEnv(b, alg)
			refresh := e.login(b, "openid profile email offline_access").RefreshToken
			if refresh == "" {
				b.Fatal("the login gave no refresh token")
			}
			signBefore := e.signCPU(b)
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				t := e.token(b, benchRefreshRequest(refresh))
				if t.IDToken == "" || t.RefreshToken == "" {
					b.Fatal("refresh answer without id_token or refresh_token")
				}
				refresh = t.RefreshToken
			}
			perOp := cpu.report(b)
			// The bare signature, measured before and after the loop (the
			// machine's speed drifts): the target for RS256 is at
			// most 1.4 signatures' worth of CPU per refresh.
			sign := (signBefore + e.signCPU(b)) / 2
			b.ReportMetric(sign, "sign-cpu-ns")
			b.ReportMetric(perOp/sign, "x-sign")
		})
	}
}

// BenchmarkUserInfo reads the claims of one access token.
func BenchmarkUserInfo(b *testing.B) {
	e := newBenchEnv(b, keys.ES256)
	access := e.login(b, "openid profile email").AccessToken
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+access)
		if rec := e.serve(req); rec.Code != http.StatusOK {
			b.Fatalf("userinfo: %d %s", rec.Code, rec.Body.String())
		}
	}
	cpu.report(b)
}

// BenchmarkLoginFlow is the whole browserless code flow with PKCE and one
// argon2id verification at the OWASP parameters; compare it with
// BenchmarkVerifyPolicy/argon2id in internal/password (the target is at least
// 90 % of the raw KDF rate, i.e. this ≤ 1.11 × that).
func BenchmarkLoginFlow(b *testing.B) {
	e := newBenchEnv(b, keys.ES256)
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		e.login(b, "openid profile")
	}
	cpu.report(b)
}

// BenchmarkLoginFlowParallel runs eight browsers per CPU (16 on two cores, as
// scripts/load.sh does), so the hashing limiter, the single SQLite writer and
// the garbage collector all see concurrent logins.
// Its ns/op is wall time per login across all goroutines, so 1e9/ns/op is
// logins per second; compare with BenchmarkVerifyPolicyParallel, the raw KDF
// rate of the same machine.
func BenchmarkLoginFlowParallel(b *testing.B) {
	e := newBenchEnv(b, keys.ES256)
	// One user and one client address per goroutine: concurrent attempts
	// for one username, or too many from one address, are refused (429).
	const parallelism = 8
	e.addBenchUsers(b, parallelism*runtime.GOMAXPROCS(0))
	var next atomic.Int32
	b.ReportAllocs()
	b.SetParallelism(parallelism)
	cpu := startCPU()
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
	cpu.report(b)
}
