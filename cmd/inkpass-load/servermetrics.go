package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// writeCounters are the server's group-commit counters from its metrics
// listener (-metrics; inkpass serves /metrics only on metrics.listen, never
// on the main one). They are read outside the measured traffic and are
// optional: without -metrics, or with metrics off, there are none.
type writeCounters struct {
	transactions, jobs float64
	ok                 bool
}

func (l *loader) readWriteCounters(ctx context.Context) writeCounters {
	if l.cfg.metrics == nil {
		return writeCounters{}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.cfg.metrics.String(), nil)
	if err != nil {
		return writeCounters{}
	}
	resp, err := (&http.Client{Transport: l.tr}).Do(req)
	if err != nil {
		return writeCounters{}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return writeCounters{}
	}
	return parseWriteCounters(io.LimitReader(resp.Body, 4<<20))
}

// parseWriteCounters reads the two counters from the Prometheus text format.
func parseWriteCounters(r io.Reader) writeCounters {
	var c writeCounters
	seen := 0
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, value, found := strings.Cut(sc.Text(), " ")
		if !found {
			continue
		}
		var dst *float64
		switch name {
		case "inkpass_db_write_transactions_total":
			dst = &c.transactions
		case "inkpass_db_write_jobs_total":
			dst = &c.jobs
		default:
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return writeCounters{}
		}
		*dst = v
		seen++
	}
	c.ok = seen == 2 && sc.Err() == nil
	return c
}

// DBWrites is what the server's writer did during the run.
type DBWrites struct {
	Transactions float64 `json:"transactions"`
	Jobs         float64 `json:"jobs"`
	JobsPerTx    float64 `json:"jobs_per_transaction"`
}

func dbWrites(before, after writeCounters) *DBWrites {
	if !before.ok || !after.ok {
		return nil
	}
	w := &DBWrites{Transactions: after.transactions - before.transactions, Jobs: after.jobs - before.jobs}
	if w.Transactions > 0 {
		w.JobsPerTx = w.Jobs / w.Transactions
	}
	return w
}
