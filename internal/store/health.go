package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Readiness must mean "can write": a server whose disk is full, or whose
// database another process keeps locked, still answers SELECT 1, yet cannot
// sign anyone in. The writer records how its transactions end; WriteReady
// reads that record and, when it is stale or bad, sends a heartbeat write
// through the writer like any other job.

const (
	// freshWrite is how recent a committed write must be for WriteReady to
	// trust it without a probe.
	freshWrite = 30 * time.Second
	// probeEvery rate-limits the heartbeat probe: readiness is polled by
	// every load balancer and orchestrator in front of inkpass.
	probeEvery = time.Second
	// stalled is how long a batch may take (they take milliseconds) before
	// WriteReady reports that writes are stuck.
	stalled = 2 * time.Second
	// checkpointEvery rate-limits the WAL checkpoint tried on a full disk.
	checkpointEvery = 10 * time.Second
)

// writeHealth is the writer's record of its last outcomes. Times are the
// wall clock (time.Now), not DB.now: tests move DB.now by days.
type writeHealth struct {
	// batchSince is when the batch in progress started (UnixNano), 0 when
	// none is: a batch still running seconds later is waiting for a lock
	// another process holds, inside SQLite or between retries.
	batchSince atomic.Int64

	mu             sync.Mutex
	lastOK         time.Time
	lastFail       time.Time
	failErr        error
	lastProbe      time.Time
	probing        bool
	lastCheckpoint time.Time
	checkpoint     string // what the last checkpoint after a full disk did
}

func (h *writeHealth) succeeded() {
	h.mu.Lock()
	h.lastOK, h.failErr, h.checkpoint = time.Now(), nil, ""
	h.mu.Unlock()
}

func (h *writeHealth) failed(err error) {
	h.mu.Lock()
	h.lastFail, h.failErr = time.Now(), err
	h.mu.Unlock()
}

func (h *writeHealth) batchStarted(at time.Time) { h.batchSince.Store(at.UnixNano()) }
func (h *writeHealth) batchEnded()               { h.batchSince.Store(0) }

// writeFailed records a write that failed for a reason other than a held
// lock. On a full disk it tries to give space back by truncating the WAL,
// which a long-held reader or a busy spell may have let grow; the pages it
// holds are copied into the main file first, so nothing is lost.
func (db *DB) writeFailed(err error) {
	if !isFull(err) {
		db.health.failed(err)
		return
	}
	h := &db.health
	h.mu.Lock()
	due := time.Since(h.lastCheckpoint) >= checkpointEvery
	if due {
		h.lastCheckpoint = time.Now()
	}
	h.mu.Unlock()
	if due {
		var busy, logPages, done int
		cerr := db.write.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logPages, &done)
		outcome := ""
		switch {
		case cerr != nil:
			outcome = "WAL checkpoint(TRUNCATE) failed: " + cerr.Error()
		case busy != 0:
			outcome = "WAL checkpoint(TRUNCATE) could not finish: a reader holds the log"
		default:
			outcome = "WAL checkpoint(TRUNCATE) done (" + strconv.Itoa(done) + " pages copied, log truncated)"
		}
		db.log.Error("database write failed: disk full", "err", err, "checkpoint", outcome)
		h.mu.Lock()
		h.checkpoint = outcome
		h.mu.Unlock()
	}
	db.health.failed(err)
}

// WriteReady reports whether a write can succeed now: nil when one committed
// within the last 30 s and none has failed since, or when a heartbeat write
// (an UPSERT into inkpass_meta, at most one a second) commits within ctx.
// Otherwise the error says why, for /readyz: the write error (with the WAL
// checkpoint tried when the disk was full), or how long writes have been
// waiting for another process's lock.
func (db *DB) WriteReady(ctx context.Context) error {
	if db.pg {
		return db.pgWriteReady(ctx)
	}
	h := &db.health
	now := time.Now()
	if since := h.batchSince.Load(); since != 0 && now.Sub(time.Unix(0, since)) > stalled {
		return fmt.Errorf("database writes waiting for %s: another process holds the write lock (or the disk is stalled)",
			now.Sub(time.Unix(0, since)).Round(time.Second))
	}
	h.mu.Lock()
	healthy := h.failErr == nil && now.Sub(h.lastOK) < freshWrite
	if healthy {
		h.mu.Unlock()
		return nil
	}
	if h.probing || now.Sub(h.lastProbe) < probeEvery || (h.failErr != nil && now.Sub(h.lastFail) < probeEvery) {
		// Another probe is running or has just run, or a write has just
		// failed, which tells as much: report what is known.
		err := h.reportLocked()
		h.mu.Unlock()
		return err
	}
	h.probing, h.lastProbe = true, now
	h.mu.Unlock()

	err := db.probe(ctx)

	h.mu.Lock()
	defer h.mu.Unlock()
	h.probing = false
	if err != nil {
		if h.failErr != nil {
			return h.reportLocked()
		}
		return fmt.Errorf("database write failed: %w", err)
	}
	return nil
}

// reportLocked describes the last failure; h.mu is held.
func (h *writeHealth) reportLocked() error {
	if h.failErr == nil {
		return nil
	}
	err := fmt.Errorf("database write failed: %w", h.failErr)
	if h.checkpoint != "" {
		err = fmt.Errorf("%w; %s", err, h.checkpoint)
	}
	return err
}

// probe writes the heartbeat row through the writer. It waits for the answer
// only as long as ctx allows: a heartbeat that commits later does no harm.
func (db *DB) probe(ctx context.Context) error {
	if db.jobs == nil {
		return errClosed
	}
	j := &writeJob{ctx: context.WithoutCancel(ctx), done: make(chan error, 1), fn: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO inkpass_meta (key, value) VALUES ('heartbeat', ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, strconv.FormatInt(time.Now().Unix(), 10))
		return err
	}}
	select {
	case db.jobs <- j:
	case <-ctx.Done():
		return errors.New("writes are queued behind a waiting transaction")
	case <-db.quit:
		return errClosed
	}
	select {
	case err := <-j.done:
		return err
	case <-ctx.Done():
		return errors.New("the heartbeat write did not finish in time: writes are waiting for the database")
	}
}
