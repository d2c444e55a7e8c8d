package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
)

// The writer is group commit for SQLite. Every write transaction is a job;
// one goroutine runs the jobs waiting at the same moment inside one
// transaction, each under its own savepoint, and commits once. A job's
// failure rolls back only its savepoint, so each caller sees exactly the
// outcome it would have had alone, while concurrent requests share one
// COMMIT (which is most of the cost of a small write; docs/performance.md).

// maxBatch bounds how many jobs share one transaction, and so how long a
// job can wait behind the others.
const maxBatch = 64

type writeJob struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *sql.Tx) error
	done chan error
}

var errClosed = errors.New("database is closed")

// writeStats counts the writer's work; jobs ÷ transactions is how well group
// commit is batching.
type writeStats struct{ transactions, jobs atomic.Int64 }

// WriteStats returns how many write transactions the writer has committed
// (or tried to) and how many jobs they carried.
func (db *DB) WriteStats() (transactions, jobs int64) {
	return db.writeStats.transactions.Load(), db.writeStats.jobs.Load()
}

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
		db.writeStats.transactions.Add(1)
		db.writeStats.jobs.Add(int64(len(batch)))
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

func (db *DB) runBatch(batch []*writeJob) {
	results := make([]error, len(batch))
	tx, err := db.write.BeginTx(context.Background(), nil)
	if err != nil {
		for _, j := range batch {
			j.done <- fmt.Errorf("begin: %w", err)
		}
		return
	}
	for i, j := range batch {
		results[i] = runJob(tx, j)
	}
	if err := tx.Commit(); err != nil {
		for i := range results {
			results[i] = fmt.Errorf("commit: %w", err)
		}
	}
	for i, j := range batch {
		j.done <- results[i]
	}
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
