package password

import (
	"context"
	"testing"
)

// BenchmarkVerify measures one verification per vector format, with the
// limiter in the path as in production. Names are the vector's method, e.g.
// BenchmarkVerify/pbkdf2:sha256:600000.
func BenchmarkVerify(b *testing.B) {
	h := mustHasher(b, TargetArgon2id)
	ctx := context.Background()
	for _, v := range loadVectors(b) {
		b.Run(v.Method, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ok, err := h.Verify(ctx, v.Password, v.Hash); err != nil || !ok {
					b.Fatalf("Verify = %v, %v", ok, err)
				}
			}
		})
	}
}

func BenchmarkHash(b *testing.B) {
	ctx := context.Background()
	for _, target := range []Target{TargetArgon2id, TargetWerkzeug, TargetOff} {
		b.Run(string(target), func(b *testing.B) {
			h := mustHasher(b, target)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
					b.Fatalf("Hash: %v", err)
				}
			}
		})
	}
}
