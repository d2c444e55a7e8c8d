package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// setupParallel bounds how many workers set up at once (most setups are a
// login, and the server queues password checks anyway).
const setupParallel = 64

// Result is what one run measured.
type Result struct {
	Scenario    string  `json:"scenario"`
	URL         string  `json:"url"`
	Concurrency int     `json:"concurrency"`
	Seconds     float64 `json:"seconds"`
	Alg         string  `json:"alg,omitempty"`

	Ops          int64   `json:"ops"`
	Errors       int64   `json:"errors"`
	CutOff       int64   `json:"cut_off"`
	OpsPerSec    float64 `json:"ops_per_sec"`
	HTTPRequests int64   `json:"http_requests"`
	Latency      Latency `json:"latency"`

	Kinds       []KindResult     `json:"kinds,omitempty"`
	Statuses    map[string]int64 `json:"statuses"`
	Status5xx   int64            `json:"status_5xx"`
	Status429   int64            `json:"status_429"` // refused by the server's throttle
	FirstErrors []errorCount     `json:"first_errors,omitempty"`

	Server    *ServerResult `json:"server,omitempty"`
	Database  *DBResult     `json:"database,omitempty"`
	ClientCPU float64       `json:"client_cpu_ms_per_op"`
	// DBLocked counts "database is locked" lines the server logged during
	// the run; -1 when no -server-log was given.
	DBLocked int `json:"db_locked_lines"`
	// DBWrites is read from the server's metrics listener (-metrics).
	DBWrites *DBWrites `json:"db_writes,omitempty"`

	SignRef *SignRef      `json:"sign_ref,omitempty"`
	KDFRef  *kdfReference `json:"kdf_ref,omitempty"`
	Notes   []string      `json:"notes,omitempty"`
}

// KindResult is one operation kind of the mixed scenario.
type KindResult struct {
	Kind      string  `json:"kind"`
	Ops       int64   `json:"ops"`
	Errors    int64   `json:"errors"`
	OpsPerSec float64 `json:"ops_per_sec"`
	Latency   Latency `json:"latency"`
}

// ServerResult is read from /proc for -pid. With several servers, CPU is
// their sum and the RSS figures are the largest server's.
type ServerResult struct {
	PID        int     `json:"pid"`
	PIDs       []int   `json:"pids,omitempty"`
	CPUms      float64 `json:"cpu_ms"`
	CPUmsPerOp float64 `json:"cpu_ms_per_op"`
	// PeakRSSMiB is VmHWM at the end; PeakReset says whether it was reset
	// at the start, so that it is this run's peak, not the process's.
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	PeakReset  bool    `json:"peak_rss_reset"`
	// RSSStartMiB is the RSS when the clock started (after setup), RSSMiB
	// at the end.
	RSSStartMiB float64 `json:"rss_start_mib"`
	RSSMiB      float64 `json:"rss_mib"`
}

// DBResult is the CPU time of a PostgreSQL postmaster and its backends
// (-db-pid), read from /proc: the database's share of the work.
type DBResult struct {
	PID        int     `json:"pid"`
	CPUms      float64 `json:"cpu_ms"`
	CPUmsPerOp float64 `json:"cpu_ms_per_op"`
}

// SignRef is the bare signature cost measured in this run: the mean of one
// measurement before the load and one after.
type SignRef struct {
	Alg    string  `json:"alg"`
	CPUms  float64 `json:"cpu_ms"`
	Before float64 `json:"cpu_ms_before"`
	After  float64 `json:"cpu_ms_after"`
}

// reference is one measurement of the scenario's reference cost.
type reference struct {
	alg  string
	sign time.Duration
	kdf  *kdfReference
}

func measureReference(ctx context.Context, cfg *config, alg string) (reference, error) {
	switch cfg.scenario {
	case scRefresh:
		d, err := signReference(ctx, alg, 500*time.Millisecond)
		if err != nil {
			return reference{}, fmt.Errorf("signing reference: %w", err)
		}
		return reference{alg: alg, sign: d}, nil
	case scLogin, scLoginBurst:
		k, err := kdfRate(ctx, uint32(cfg.argon2MemoryKiB), uint32(cfg.argon2Time), uint32(cfg.argon2Threads), 1500*time.Millisecond)
		if err != nil {
			return reference{}, fmt.Errorf("argon2id reference: %w", err)
		}
		return reference{kdf: &k}, nil
	}
	return reference{}, nil
}

func (r reference) average(o reference) (*SignRef, *kdfReference) {
	switch {
	case r.sign > 0:
		return &SignRef{Alg: r.alg, CPUms: ms((r.sign + o.sign) / 2), Before: ms(r.sign), After: ms(o.sign)}, nil
	case r.kdf != nil && o.kdf != nil:
		k := *r.kdf
		k.PerSecond = (r.kdf.PerSecond + o.kdf.PerSecond) / 2
		k.CPUms = (r.kdf.CPUms + o.kdf.CPUms) / 2
		return nil, &k
	}
	return nil, nil
}

func (r *Result) passed() bool {
	return r.Errors == 0 && r.Status5xx == 0 && r.Status429 == 0 && r.DBLocked <= 0
}

// runLoad sets the workers up, measures the references, then runs the
// scenario until -d passes or -n operations are done.
func runLoad(ctx context.Context, cfg *config, progress io.Writer) (*Result, error) {
	st := newCollector()
	l := newLoader(cfg, st)
	defer l.tr.CloseIdleConnections()

	setupCtx, cancelSetup := context.WithTimeout(ctx, maxDuration)
	defer cancelSetup()
	alg, err := l.signingAlg(setupCtx)
	if err != nil {
		return nil, fmt.Errorf("the server does not answer discovery: %w", err)
	}
	workers := make([]worker, cfg.c)
	for i := range workers {
		workers[i] = newWorker(l, cfg.scenario, i)
	}
	fmt.Fprintf(progress, "inkpass-load: %s: setting up %d workers\n", cfg.scenario, cfg.c)
	if err := setupAll(setupCtx, workers); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	cancelSetup()

	res := &Result{Scenario: cfg.scenario, URL: joinURLs(cfg), Concurrency: cfg.c, Alg: alg, DBLocked: -1}
	// The references are measured before and after the load and averaged:
	// a shared machine's speed drifts, and the ratio must compare like with
	// like.
	var before reference
	if cfg.ref && (cfg.scenario == scRefresh || cfg.scenario == scLogin || cfg.scenario == scLoginBurst) {
		fmt.Fprintf(progress, "inkpass-load: %s: measuring the reference cost\n", cfg.scenario)
	}
	if cfg.ref {
		if before, err = measureReference(ctx, cfg, alg); err != nil {
			return nil, err
		}
	}

	// The clock starts here: setup traffic and the references are not in
	// the figures.
	st.resetHTTP()
	var cpuBefore, dbBefore time.Duration
	for _, pid := range cfg.pids {
		c, err := procCPU(pid)
		if err != nil {
			return nil, fmt.Errorf("read server CPU: %w", err)
		}
		cpuBefore += c
	}
	if cfg.dbPID > 0 {
		if dbBefore, err = treeCPU(cfg.dbPID); err != nil {
			return nil, fmt.Errorf("read database CPU: %w", err)
		}
	}
	peakReset := len(cfg.pids) > 0
	var rssStart float64
	for _, pid := range cfg.pids {
		peakReset = resetPeakRSS(pid) == nil && peakReset
		if kib, err := procStatusKiB(pid, "VmRSS"); err == nil {
			rssStart = max(rssStart, float64(kib)/1024)
		}
	}
	var tail *logTail
	if cfg.serverLog != "" {
		if tail, err = newLogTail(cfg.serverLog); err != nil {
			return nil, fmt.Errorf("-server-log: %w", err)
		}
	}
	countersBefore := l.readWriteCounters(ctx)
	fmt.Fprintf(progress, "inkpass-load: %s: running for up to %s\n", cfg.scenario, cfg.d)
	selfBefore := selfCPU()
	start := time.Now()
	deadline := start.Add(cfg.d)
	// In-flight operations may finish after the deadline, within one
	// request timeout; then they are cut off.
	runCtx, cancel := context.WithDeadline(ctx, deadline.Add(cfg.timeout))
	defer cancel()
	var budget atomic.Int64
	once := cfg.scenario == scLoginBurst
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			for runCtx.Err() == nil && time.Now().Before(deadline) {
				if cfg.n > 0 && budget.Add(1) > cfg.n {
					return
				}
				t0 := time.Now()
				err := w.op(runCtx)
				st.record(w.kind(), time.Since(t0), err, err != nil && runCtx.Err() != nil)
				if once {
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	selfCPUUsed := selfCPU() - selfBefore
	serverCPU, serverErr := time.Duration(0), error(nil)
	for _, pid := range cfg.pids {
		c, err := procCPU(pid)
		serverCPU += c
		serverErr = errors.Join(serverErr, err)
	}
	dbCPU, dbErr := time.Duration(0), error(nil)
	if cfg.dbPID > 0 {
		dbCPU, dbErr = treeCPU(cfg.dbPID)
	}
	res.DBWrites = dbWrites(countersBefore, l.readWriteCounters(ctx))
	if cfg.ref && ctx.Err() == nil {
		after, err := measureReference(ctx, cfg, alg)
		if err != nil {
			return nil, err
		}
		res.SignRef, res.KDFRef = before.average(after)
	}

	res.Seconds = elapsed.Seconds()
	res.fill(st, elapsed)
	if res.Ops > 0 {
		res.ClientCPU = ms(selfCPUUsed) / float64(res.Ops)
	}
	if len(cfg.pids) > 0 {
		s := &ServerResult{PID: cfg.pids[0], PeakReset: peakReset, RSSStartMiB: rssStart}
		if len(cfg.pids) > 1 {
			s.PIDs = cfg.pids
		}
		if serverErr != nil {
			return res, fmt.Errorf("read server CPU: %w", serverErr)
		}
		s.CPUms = ms(serverCPU - cpuBefore)
		if res.Ops > 0 {
			s.CPUmsPerOp = s.CPUms / float64(res.Ops)
		}
		for _, pid := range cfg.pids {
			if kib, err := procStatusKiB(pid, "VmHWM"); err == nil {
				s.PeakRSSMiB = max(s.PeakRSSMiB, float64(kib)/1024)
			}
			if kib, err := procStatusKiB(pid, "VmRSS"); err == nil {
				s.RSSMiB = max(s.RSSMiB, float64(kib)/1024)
			}
		}
		if !peakReset {
			res.Notes = append(res.Notes, "peak RSS is the server's lifetime peak: /proc/PID/clear_refs could not be written")
		}
		res.Server = s
	}
	if cfg.dbPID > 0 {
		if dbErr != nil {
			return res, fmt.Errorf("read database CPU: %w", dbErr)
		}
		d := &DBResult{PID: cfg.dbPID, CPUms: ms(dbCPU - dbBefore)}
		if res.Ops > 0 {
			d.CPUmsPerOp = d.CPUms / float64(res.Ops)
		}
		res.Database = d
	}
	if tail != nil {
		if res.DBLocked, err = tail.count("database is locked"); err != nil {
			return res, fmt.Errorf("-server-log: %w", err)
		}
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	return res, nil
}

// signingAlg reads the ID-token algorithm from discovery; it is also the
// first check that the server is there.
func (l *loader) signingAlg(ctx context.Context) (string, error) {
	a, err := l.get(ctx, l.client, l.endpoint("/.well-known/openid-configuration"), nil)
	if err != nil {
		return "", err
	}
	if a.status != http.StatusOK {
		return "", &httpError{what: "GET discovery", status: a.status, body: string(a.body)}
	}
	var doc struct {
		Issuer string   `json:"issuer"`
		Algs   []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := json.Unmarshal(a.body, &doc); err != nil {
		return "", fmt.Errorf("decode discovery: %w", err)
	}
	if len(doc.Algs) == 0 {
		return "", errors.New("discovery lists no id_token_signing_alg_values_supported")
	}
	// Each client has its own algorithm; discovery lists them all.
	if l.cfg.alg != "" {
		return l.cfg.alg, nil
	}
	return doc.Algs[0], nil
}

func setupAll(ctx context.Context, workers []worker) error {
	sem := make(chan struct{}, setupParallel)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		fails int
	)
	for _, w := range workers {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := w.setup(ctx); err != nil {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("%s: %w", w.kind(), err)
				}
				fails++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if first != nil {
		return fmt.Errorf("%d of %d workers failed; first: %w", fails, len(workers), first)
	}
	return nil
}

func (r *Result) fill(st *collector, elapsed time.Duration) {
	st.mu.Lock()
	defer st.mu.Unlock()
	var all []time.Duration
	names := make([]string, 0, len(st.kinds))
	for k := range st.kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		k := st.kinds[name]
		n := int64(len(k.latencies))
		r.Ops += n
		r.Errors += k.errors
		r.CutOff += k.cutOff
		all = append(all, k.latencies...)
		r.Kinds = append(r.Kinds, KindResult{Kind: name, Ops: n, Errors: k.errors,
			OpsPerSec: float64(n) / elapsed.Seconds(), Latency: percentiles(k.latencies)})
	}
	if len(r.Kinds) < 2 {
		r.Kinds = nil
	}
	r.OpsPerSec = float64(r.Ops) / elapsed.Seconds()
	r.Latency = percentiles(all)
	r.HTTPRequests = st.requests.Load()
	r.Statuses = map[string]int64{}
	for code := range st.statuses {
		if n := st.statuses[code].Load(); n > 0 {
			r.Statuses[fmt.Sprint(code)] = n
			if code >= 500 {
				r.Status5xx += n
			}
			if code == http.StatusTooManyRequests {
				r.Status429 += n
			}
		}
	}
	r.FirstErrors = st.errs.snapshot()
}

func (r *Result) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func (r *Result) writeText(w io.Writer) {
	p := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-12s %s\n", label, fmt.Sprintf(format, args...))
	}
	p("scenario", "%s  (c=%d, %.1f s, %s, ID tokens %s)", r.Scenario, r.Concurrency, r.Seconds, r.URL, r.Alg)
	p("operations", "%d ok, %d errors, %d cut off at the end", r.Ops, r.Errors, r.CutOff)
	p("throughput", "%.1f op/s  (%.1f HTTP requests/s)", r.OpsPerSec, float64(r.HTTPRequests)/r.Seconds)
	p("latency", "p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  max %.2f ms", r.Latency.P50, r.Latency.P95, r.Latency.P99, r.Latency.Max)
	for _, k := range r.Kinds {
		p("  "+k.Kind, "%d ok, %d errors, %.1f op/s, p50 %.2f ms, p99 %.2f ms", k.Ops, k.Errors, k.OpsPerSec, k.Latency.P50, k.Latency.P99)
	}
	codes := make([]string, 0, len(r.Statuses))
	for c, n := range r.Statuses {
		codes = append(codes, fmt.Sprintf("%s×%d", c, n))
	}
	slices.Sort(codes)
	p("statuses", "%s  (5xx: %d, 429 throttled: %d)", strings.Join(codes, " "), r.Status5xx, r.Status429)
	for _, e := range r.FirstErrors {
		p("error", "%d× %s", e.Count, e.Message)
	}
	if s := r.Server; s != nil {
		peak := "this run's peak"
		if !s.PeakReset {
			peak = "lifetime peak"
		}
		who := fmt.Sprintf("pid %d", s.PID)
		if len(s.PIDs) > 1 {
			who = fmt.Sprintf("pids %s (summed; RSS of the largest)", joinInts(s.PIDs))
		}
		p("server", "%s: %.3f ms CPU per op (%.0f ms in all); peak RSS %.1f MiB (%s), RSS %.1f MiB at the start, %.1f MiB at the end",
			who, s.CPUmsPerOp, s.CPUms, s.PeakRSSMiB, peak, s.RSSStartMiB, s.RSSMiB)
	}
	if d := r.Database; d != nil {
		p("database", "PostgreSQL (postmaster %d and its backends): %.3f ms CPU per op (%.0f ms in all)", d.PID, d.CPUmsPerOp, d.CPUms)
	}
	p("client", "%.3f ms CPU per op (this load generator, on the same machine)", r.ClientCPU)
	if r.SignRef != nil {
		ratio := ""
		if r.Server != nil && r.SignRef.CPUms > 0 {
			ratio = fmt.Sprintf(": server CPU per refresh = %.2f × the signature", r.Server.CPUmsPerOp/r.SignRef.CPUms)
		}
		p("reference", "bare %s signature %.3f ms CPU in this run (%.3f before, %.3f after)%s",
			r.SignRef.Alg, r.SignRef.CPUms, r.SignRef.Before, r.SignRef.After, ratio)
	}
	if k := r.KDFRef; k != nil {
		p("reference", "raw argon2id m=%d,t=%d,p=%d: %.1f/s on %d goroutines (%.1f ms CPU each); logins ran at %.0f %% of that rate",
			k.MemoryKiB, k.Time, k.Threads, k.PerSecond, k.Workers, k.CPUms, 100*r.OpsPerSec/k.PerSecond)
		if r.Server != nil && r.Server.CPUmsPerOp > 0 {
			p("", "by CPU time: one argon2id is %.0f %% of the server's CPU per login (the rate ratio on an otherwise idle machine)",
				100*k.CPUms/r.Server.CPUmsPerOp)
		}
	}
	if r.DBLocked >= 0 {
		p("database", "%d \"database is locked\" lines in the server log during the run", r.DBLocked)
	}
	if d := r.DBWrites; d != nil && d.Transactions > 0 {
		p("", "%.0f write transactions carried %.0f writes (%.2f per transaction, group commit)", d.Transactions, d.Jobs, d.JobsPerTx)
	}
	for _, n := range r.Notes {
		p("note", "%s", n)
	}
	fmt.Fprintln(w, r.summary())
}

// summary is one grep-able line for scripts.
func (r *Result) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "RESULT scenario=%s c=%d seconds=%.2f ops=%d errors=%d s5xx=%d s429=%d op_per_s=%.1f p50_ms=%.3f p95_ms=%.3f p99_ms=%.3f",
		r.Scenario, r.Concurrency, r.Seconds, r.Ops, r.Errors, r.Status5xx, r.Status429, r.OpsPerSec, r.Latency.P50, r.Latency.P95, r.Latency.P99)
	if s := r.Server; s != nil {
		fmt.Fprintf(&b, " cpu_ms_per_op=%.4f peak_rss_mib=%.1f", s.CPUmsPerOp, s.PeakRSSMiB)
	}
	if d := r.Database; d != nil {
		fmt.Fprintf(&b, " db_cpu_ms_per_op=%.4f", d.CPUmsPerOp)
	}
	if r.SignRef != nil {
		fmt.Fprintf(&b, " sign_ms=%.4f", r.SignRef.CPUms)
		if r.Server != nil && r.SignRef.CPUms > 0 {
			fmt.Fprintf(&b, " ratio_to_sign=%.3f", r.Server.CPUmsPerOp/r.SignRef.CPUms)
		}
	}
	if r.KDFRef != nil && r.KDFRef.PerSecond > 0 {
		fmt.Fprintf(&b, " kdf_per_s=%.2f ratio_to_kdf=%.3f kdf_cpu_ms=%.2f", r.KDFRef.PerSecond, r.OpsPerSec/r.KDFRef.PerSecond, r.KDFRef.CPUms)
		if r.Server != nil && r.Server.CPUmsPerOp > 0 {
			fmt.Fprintf(&b, " cpu_ratio_to_kdf=%.3f", r.KDFRef.CPUms/r.Server.CPUmsPerOp)
		}
	}
	if r.DBLocked >= 0 {
		fmt.Fprintf(&b, " db_locked=%d", r.DBLocked)
	}
	return b.String()
}

func joinURLs(cfg *config) string {
	if len(cfg.bases) == 0 {
		return cfg.base.String()
	}
	parts := make([]string, len(cfg.bases))
	for i, b := range cfg.bases {
		parts[i] = b.String()
	}
	return strings.Join(parts, ",")
}

func joinInts(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = fmt.Sprint(n)
	}
	return strings.Join(parts, ",")
}
