package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
)

// The writer is group commit for SQLite. Every write transaction is a job;
// one goroutine runs the jobs waiting at the same moment inside one
// transaction, each under its own savepoint, and commits once. A job's
// failure rolls back only its savepoint, so each caller sees exactly the
// outcome it would have had alone, while concurrent requests share one
// COMMIT (which is most of the cost of a small write; docs/performance.md).
//
// Another process (the studio's Python app, a backup) may hold the write lock.
// SQLite then answers SQLITE_BUSY once the busy timeout has passed; the writer
// retries the batch with backoff until the write budget is spent, and only
// then answers the jobs still waiting with a *BusyError (errors.Is ErrBusy).
// A job's fn may therefore run more than once: it must do nothing outside tx
// but assign its results.

// maxBatch bounds how many jobs share one transaction, and so how long a
// job can wait behind the others.
const maxBatch = 64

// Backoff between attempts on a busy database: SQLite's own busy handler has
// already waited the busy timeout inside each attempt, so these only space
// out the attempts and let jobs whose callers gave up leave the batch.
const (
	firstBackoff = 10 * time.Millisecond
	maxBackoff   = 500 * time.Millisecond
)

type writeJob struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *sql.Tx) error
	done chan error
}

var errClosed = errors.New("database is closed")

// ErrBusy is wrapped by the error a write returns when another process held
// the database's write lock for longer than the write budget. Nothing was
// written; the request may be retried in a moment.
var ErrBusy = errors.New("database is busy")

// BusyRetryAfter is how long BusyError suggests waiting before a retry.
const BusyRetryAfter = 5 * time.Second

// BusyError is a write that gave up on a locked database. It matches ErrBusy
// under errors.Is, and its RetryAfter lets the HTTP layers answer 503 with a
// Retry-After header without importing this package.
type BusyError struct {
	// Waited is how long the writer retried.
	Waited time.Duration
	cause  error
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("database is busy: another process held the write lock for over %s: %v", e.Waited.Round(time.Millisecond), e.cause)
}
func (e *BusyError) Unwrap() error             { return e.cause }
func (e *BusyError) Is(target error) bool      { return target == ErrBusy }
func (e *BusyError) RetryAfter() time.Duration { return BusyRetryAfter }

// ErrFull is wrapped by the error a write returns when the disk (or the file
// system quota) was full. Nothing was written; once space returns the same
// request succeeds, so the HTTP layers answer it as temporarily unavailable.
var ErrFull = errors.New("database or disk is full")

// FullRetryAfter is how long FullError suggests waiting before a retry.
const FullRetryAfter = 30 * time.Second

// FullError is a write refused for lack of space. Like BusyError it passes by
// itself, and its RetryAfter lets the HTTP layers answer 503 with Retry-After.
type FullError struct{ cause error }

func (e *FullError) Error() string             { return "write: " + e.cause.Error() }
func (e *FullError) Unwrap() error             { return e.cause }
func (e *FullError) Is(target error) bool      { return target == ErrFull }
func (e *FullError) RetryAfter() time.Duration { return FullRetryAfter }

// asFull turns SQLITE_FULL into a *FullError and leaves other errors alone.
func asFull(err error) error {
	if isFull(err) {
		return &FullError{cause: err}
	}
	return err
}

// isBusy reports SQLite's "database is locked" (SQLITE_BUSY) and "database
// table is locked" (SQLITE_LOCKED): another connection holds the lock, so the
// same write may succeed a moment later.
func isBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// isFull reports SQLITE_FULL: the disk (or the file system quota) is full.
func isFull(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrFull
}

// writeStats counts the writer's work; jobs ÷ transactions is how well group
// commit is batching.
type writeStats struct{ transactions, jobs, busyRetries atomic.Int64 }

// WriteStats returns how many write transactions the writer has committed
// (or tried to) and how many jobs they carried.
func (db *DB) WriteStats() (transactions, jobs int64) {
	return db.writeStats.transactions.Load(), db.writeStats.jobs.Load()
}

// BusyRetries counts the attempts the writer repeated because another process
// held the database's write lock.
func (db *DB) BusyRetries() int64 { return db.writeStats.busyRetries.Load() }

// startWriter begins group commit; until then inTx runs directly (migrations).
func (db *DB) startWriter() {
	db.jobs = make(chan *writeJob) // unbuffered: a job is either taken or its caller still holds it
	db.quit = make(chan struct{})
	db.writerDone = make(chan struct{})
	go db.writeLoop()
}

// stopWriter ends the loop; callers that have not been taken get errClosed.
// Closing twice is harmless.
func (db *DB) stopWriter() {
	if db.jobs == nil {
		return
	}
	db.stopOnce.Do(func() { close(db.quit) })
	<-db.writerDone
}

func (db *DB) writeLoop() {
	defer close(db.writerDone)
	for {
		var first *writeJob
		select {
		case first = <-db.jobs:
		case <-db.quit:
			return
		}
		batch := db.gather([]*writeJob{first})
		// Yield before committing, and again while that brings more jobs:
		// request goroutines that are runnable now (parsing a request that
		// will write) get to queue their jobs and share this commit instead
		// of paying for the next one. With nothing else runnable, Gosched
		// returns at once, so a lone write waits for nothing.
		for len(batch) < maxBatch {
			runtime.Gosched()
			n := len(batch)
			if batch = db.gather(batch); len(batch) == n {
				break
			}
		}
		db.runBatch(batch)
	}
}

// gather adds the jobs already waiting, up to maxBatch.
func (db *DB) gather(batch []*writeJob) []*writeJob {
	for len(batch) < maxBatch {
		select {
		case j := <-db.jobs:
			batch = append(batch, j)
		default:
			return batch
		}
	}
	return batch
}

// runBatch runs batch until every job has its answer. An attempt that finds
// the database locked by another process is retried, with the jobs that
// arrived meanwhile, until the write budget is spent; jobs whose callers gave
// up leave the batch between attempts.
func (db *DB) runBatch(batch []*writeJob) {
	start := time.Now()
	deadline := start.Add(db.writeBudget)
	backoff := firstBackoff
	db.health.batchStarted(start)
	defer db.health.batchEnded()
	for {
		batch = answerAbandoned(batch)
		if len(batch) == 0 {
			return
		}
		retry, err := db.attempt(batch)
		if len(retry) == 0 {
			return
		}
		now := time.Now()
		if now.Add(backoff).After(deadline) {
			db.health.failed(&BusyError{Waited: now.Sub(start), cause: err})
			for _, j := range retry {
				j.done <- &BusyError{Waited: now.Sub(start), cause: err}
			}
			return
		}
		db.writeStats.busyRetries.Add(1)
		select {
		case <-time.After(backoff):
		case <-db.quit:
			for _, j := range retry {
				j.done <- errClosed
			}
			return
		}
		backoff = min(2*backoff, maxBackoff)
		batch = db.gather(retry)
	}
}

// answerAbandoned answers the jobs whose callers have gone (their request was
// cancelled or timed out) and returns the others.
func answerAbandoned(batch []*writeJob) []*writeJob {
	keep := batch[:0]
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.done <- err
			continue
		}
		keep = append(keep, j)
	}
	return keep
}

// attempt runs batch in one transaction and answers its jobs, except those
// that met a locked database: it returns them, with the lock error, to be
// run again. When BEGIN or COMMIT is the one that found the lock, nothing was
// written and the whole batch comes back.
func (db *DB) attempt(batch []*writeJob) ([]*writeJob, error) {
	db.writeStats.transactions.Add(1)
	db.writeStats.jobs.Add(int64(len(batch)))
	tx, err := db.write.BeginTx(context.Background(), nil)
	if err != nil {
		if isBusy(err) {
			return batch, err
		}
		db.writeFailed(err)
		for _, j := range batch {
			j.done <- fmt.Errorf("begin: %w", asFull(err))
		}
		return nil, nil
	}
	// The wal-index header as this transaction began: no other commit can
	// come before ours now (walwatch.go).
	pre, _ := db.watch.header()
	results := make([]error, len(batch))
	busy := 0
	var busyErr, fullErr error
	for i, j := range batch {
		results[i] = runJob(tx, j)
		switch {
		case isBusy(results[i]):
			busy++
			busyErr = results[i]
		case isFull(results[i]):
			// Just SQLite's error: the savepoint SQLite rolled back with
			// the transaction adds only noise to it.
			var se sqlite3.Error
			errors.As(results[i], &se)
			fullErr = se
		}
	}
	if busy == len(batch) {
		tx.Rollback()
		return batch, busyErr
	}
	if err := tx.Commit(); err != nil {
		// go-sqlite3 rolls back a COMMIT that failed: nothing was written.
		// SQLite may also have rolled the whole transaction back by itself
		// when a statement met SQLITE_BUSY or SQLITE_FULL; COMMIT then
		// fails with "no transaction is active", and the statement's error
		// is the real cause.
		switch {
		case isBusy(err):
			return batch, err
		case busyErr != nil:
			return batch, busyErr
		case fullErr != nil:
			err = fullErr
		}
		db.uncertain()
		db.writeFailed(err)
		for _, j := range batch {
			j.done <- fmt.Errorf("commit: %w", asFull(err))
		}
		return nil, nil
	}
	db.committed(pre)
	db.health.succeeded()
	var retry []*writeJob
	if fullErr != nil {
		db.writeFailed(fullErr)
	}
	for i, j := range batch {
		if isBusy(results[i]) {
			retry = append(retry, j)
			continue
		}
		j.done <- asFull(results[i])
	}
	return retry, busyErr
}

// runJob runs one job under a savepoint. An error wrapped by errCommitThen
// keeps the job's writes (a revocation must stick though the request fails).
func runJob(tx *sql.Tx, j *writeJob) error {
	if err := j.ctx.Err(); err != nil {
		return err
	}
	if _, err := tx.Exec(`SAVEPOINT job`); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	err := j.fn(short(j.ctx), tx)
	var keep commitThen
	switch {
	case err == nil:
	case errors.As(err, &keep):
		err = keep.err
	default:
		if _, rerr := tx.Exec(`ROLLBACK TO job`); rerr != nil {
			return errors.Join(err, fmt.Errorf("rollback to savepoint: %w", rerr))
		}
	}
	if _, rerr := tx.Exec(`RELEASE job`); rerr != nil {
		return errors.Join(err, fmt.Errorf("release savepoint: %w", rerr))
	}
	return err
}

// exec runs one statement as a write transaction of its own.
func (db *DB) exec(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
