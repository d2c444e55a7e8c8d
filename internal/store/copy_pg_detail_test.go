package store

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// A copy that PostgreSQL refuses half-way reports which row, but never the
// row's values: for a CHECK or NOT NULL violation PostgreSQL's detail is
// "Failing row contains (...)", every column of the row, password hashes
// and sealed keys included, and migrate-to prints its error.
func TestPgDetail_NeverQuotesTheFailingRow(t *testing.T) {
	const secret = "$2b$12$secrethashsecrethashsecrethashsecrethashsecre"
	for _, tc := range []struct {
		name string
		pe   *pgconn.PgError
		want string
	}{
		{"check violation", &pgconn.PgError{Code: "23514", Message: `new row for relation "users" violates check constraint "x"`,
			Detail: "Failing row contains (1, bob, " + secret + ", admin, null)."}, `violates check constraint "x"`},
		{"foreign key", &pgconn.PgError{Code: "23503", Message: "insert or update violates foreign key constraint",
			Detail: `Key (client_id)=(web) is not present in table "inkpass_clients".`}, "Key (client_id)=(web)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := pgDetail(fmt.Errorf("copy: %w", tc.pe))
			if strings.Contains(got, secret) || strings.Contains(got, "Failing row") {
				t.Errorf("pgDetail = %q: quotes the failing row", got)
			}
			if !strings.Contains(got, tc.want) || !strings.Contains(got, tc.pe.Code) {
				t.Errorf("pgDetail = %q, want it to contain %q and SQLSTATE %s", got, tc.want, tc.pe.Code)
			}
		})
	}
}
