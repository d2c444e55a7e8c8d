package main

import (
	"bytes"
	"log/slog"
	"math"
	"runtime/debug"
	"strings"
	"testing"
)

// TestTuneGC: serve's collector defaults apply unless the environment names
// its own, and the log says which.
func TestTuneGC(t *testing.T) {
	gogc0 := debug.SetGCPercent(100)
	limit0 := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(gogc0)
		debug.SetMemoryLimit(limit0)
	})
	currentGOGC := func() int {
		v := debug.SetGCPercent(100)
		debug.SetGCPercent(v)
		return v
	}

	for _, tc := range []struct {
		name      string
		env       map[string]string
		wantGOGC  int
		wantLimit int64
		wantLog   string
	}{
		{"defaults", nil, gcPercent, (256 + gcHeadroomMiB) << 20, "gogc=200 memory_limit=288MiB"},
		{"the environment's GOGC and GOMEMLIMIT win", map[string]string{"GOGC": "50", "GOMEMLIMIT": "1GiB"},
			100, math.MaxInt64, "gogc=environment memory_limit=environment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The runtime read the real variables at start; here they are
			// unset, so what tuneGC leaves alone stays at these values.
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
			var out bytes.Buffer
			tuneGC(func(k string) string { return tc.env[k] }, 256, slog.New(slog.NewTextHandler(&out, nil)))
			if got := currentGOGC(); got != tc.wantGOGC {
				t.Errorf("GOGC = %d, want %d", got, tc.wantGOGC)
			}
			if got := debug.SetMemoryLimit(-1); got != tc.wantLimit {
				t.Errorf("memory limit = %d, want %d", got, tc.wantLimit)
			}
			if !strings.Contains(out.String(), tc.wantLog) {
				t.Errorf("log %q lacks %q", out.String(), tc.wantLog)
			}
		})
	}
}
