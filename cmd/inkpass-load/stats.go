package main

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// collector gathers what the workers saw. Latencies are kept whole (8 bytes
// each; -n and -d bound how many) so that percentiles are exact.
type collector struct {
	mu    sync.Mutex
	kinds map[string]*kindStats

	requests atomic.Int64
	statuses [600]atomic.Int64
	errs     firstErrors
}

type kindStats struct {
	latencies []time.Duration
	errors    int64
	cutOff    int64
}

func newCollector() *collector { return &collector{kinds: map[string]*kindStats{}} }

// status counts one HTTP answer.
func (c *collector) status(code int) {
	c.requests.Add(1)
	if code >= 0 && code < len(c.statuses) {
		c.statuses[code].Add(1)
	}
}

// resetHTTP forgets the requests made during setup.
func (c *collector) resetHTTP() {
	c.requests.Store(0)
	for i := range c.statuses {
		c.statuses[i].Store(0)
	}
}

// record adds one finished operation. An operation cut off by the end of the
// run (its context ended) is counted apart: it is neither a success nor a
// server error.
func (c *collector) record(kind string, d time.Duration, err error, cutOff bool) {
	c.mu.Lock()
	k := c.kinds[kind]
	if k == nil {
		k = &kindStats{}
		c.kinds[kind] = k
	}
	switch {
	case err == nil:
		k.latencies = append(k.latencies, d)
	case cutOff:
		k.cutOff++
	default:
		k.errors++
	}
	c.mu.Unlock()
	if err != nil && !cutOff {
		c.errs.add(err)
	}
}

// Latency percentiles in milliseconds.
type Latency struct {
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// percentiles uses the nearest-rank method on a sorted copy.
func percentiles(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(p float64) float64 {
		i := int(p*float64(len(s))+0.999999) - 1
		i = min(max(i, 0), len(s)-1)
		return ms(s[i])
	}
	return Latency{P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
