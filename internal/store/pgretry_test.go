package store

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/inkpass/inkpass/internal/testsupport/pgtest"
)

// Under load two servers' rotations of different refresh tokens still collide
// in PostgreSQL's serializable checks (predicate locks on shared index pages
// or a whole small table), more than ten times in a row now and then: that
// was an HTTP 500 for a valid rotation (scripts/load.sh, DATABASE=postgres
// REPLICAS=2, refresh). A serialization failure is retried for the write
// budget, as a locked SQLite database is, not for a fixed count.
func TestInTxPostgres_RetriesSerializationFailuresForTheWriteBudget(t *testing.T) {
	db, err := OpenPostgres(context.Background(), pgtest.NewDatabase(t), "", Options{WriteBudget: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const failures = 15
	calls := 0
	err = db.inTxPostgres(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
		calls++
		if calls <= failures {
			return &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
		}
		_, err := tx.ExecContext(ctx, `SELECT 1`)
		return err
	})
	if err != nil || calls != failures+1 {
		t.Fatalf("after %d serialization failures: err %v after %d calls; want success on call %d", failures, err, calls, failures+1)
	}
}

// When the budget runs out the write fails as busy (503 with Retry-After
// upstream, temporarily_unavailable at the token endpoint), not as an
// internal error.
func TestInTxPostgres_GivesUpAsBusyAfterTheWriteBudget(t *testing.T) {
	db, err := OpenPostgres(context.Background(), pgtest.NewDatabase(t), "", Options{WriteBudget: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	calls := 0
	err = db.inTxPostgres(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
		calls++
		return &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
	})
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("err = %v, want one that is ErrBusy", err)
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "40001" {
		t.Errorf("err = %v, want it to keep the serialization failure as its cause", err)
	}
	if calls < 2 {
		t.Errorf("%d attempts within the budget; want retries", calls)
	}
}
