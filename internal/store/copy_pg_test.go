package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/inkpass/inkpass/internal/testsupport/pgtest"
)

// TestConvertValue: each SQLite value becomes the PostgreSQL value inkpass
// reads it as, or a problem; and the checksum text of a converted value is
// what the same value read back from PostgreSQL gives.
func TestConvertValue(t *testing.T) {
	ts := pgColumn{name: "created_at", kind: kindTimestamp}
	tsNull := pgColumn{name: "last_login", kind: kindTimestamp, nullable: true}
	date := pgColumn{name: "birthdate", kind: kindDate, nullable: true}
	boolean := pgColumn{name: "is_active", kind: kindBool}
	int32c := pgColumn{name: "artist_id", kind: kindInt, bits: 32, nullable: true}
	int64c := pgColumn{name: "at", kind: kindInt, bits: 64}
	varchar := pgColumn{name: "username", kind: kindText, maxLen: 5}
	text := pgColumn{name: "detail", kind: kindText}
	bytes := pgColumn{name: "token_hash", kind: kindBytes}
	for _, tc := range []struct {
		name    string
		col     pgColumn
		in      any
		want    string // valueText of the result; "" with a problem
		problem string // part of the problem; "" when it converts
	}{
		{"SQLite's CURRENT_TIMESTAMP", ts, "2024-01-05 09:00:00", "2024-01-05 09:00:00", ""},
		{"SQLAlchemy's microseconds", ts, "2024-01-05 09:00:00.123456", "2024-01-05 09:00:00.123456", ""},
		{"a zone, read as UTC", ts, "2024-01-05 11:00:00+02:00", "2024-01-05 09:00:00", ""},
		{"nanoseconds PostgreSQL would round", ts, "2024-01-05T09:00:00.123456789Z", "", "finer than the microseconds"},
		{"a timestamp that is none", ts, "yesterday", "", "is not a date and time"},
		{"unix seconds in a DATETIME", ts, int64(1700000000), "", "is not a date and time"},
		{"NULL where allowed", tsNull, nil, "", ""},
		{"NULL where not", ts, nil, "", "NOT NULL"},
		{"a date", date, "1992-07-30", "1992-07-30", ""},
		{"a date with midnight", date, "1992-07-30 00:00:00", "1992-07-30", ""},
		{"February 30th", date, "1990-02-30", "", "is not a date"},
		{"a bare year", date, int64(1990), "", "is not a date"},
		{"is_active 1", boolean, int64(1), "1", ""},
		{"is_active 0", boolean, int64(0), "0", ""},
		{"is_active 2", boolean, int64(2), "", "is not 0 or 1"},
		{"is_active yes", boolean, "yes", "", `"yes" is not 0 or 1`},
		{"an INTEGER", int32c, int64(7), "7", ""},
		{"beyond INTEGER", int32c, int64(1 << 31), "", "does not fit"},
		{"a BIGINT", int64c, int64(1 << 40), "1099511627776", ""},
		{"text in an integer column", int32c, "seven", "", "is not an integer"},
		{"a real in an integer column", int64c, 1.5, "", "is not an integer"},
		{"a username that fits", varchar, "kai", "kai", ""},
		{"characters, not bytes", varchar, "Pässw", "Pässw", ""},
		{"too long for VARCHAR(5)", varchar, "kai-okafor", "", "more than the column's 5"},
		{"a NUL", text, "a\x00b", "", "NUL"},
		{"bytes that are no UTF-8", text, []byte{0xff}, "", "UTF-8"},
		{"bytes", bytes, []byte{0xde, 0xad}, "dead", ""},
		{"text in a BLOB column, bytes as they are", bytes, "ab", "6162", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, problem := convertValue(tc.col, tc.in)
			if tc.problem != "" {
				if !strings.Contains(problem, tc.problem) {
					t.Errorf("problem %q, want one saying %q", problem, tc.problem)
				}
				return
			}
			if problem != "" {
				t.Fatalf("unexpected problem %q", problem)
			}
			got := ""
			if out != nil {
				got = valueText(tc.col.kind, out)
			}
			if got != tc.want {
				t.Errorf("converted to %q, want %q", got, tc.want)
			}
		})
	}
	// pgx reads a TIMESTAMP as UTC and a DATE as midnight UTC: the same text.
	if got := valueText(kindTimestamp, time.Date(2024, 1, 5, 9, 0, 0, 123456000, time.UTC)); got != "2024-01-05 09:00:00.123456" {
		t.Errorf("timestamp text %q", got)
	}
	if got := valueText(kindDate, time.Date(1992, 7, 30, 0, 0, 0, 0, time.UTC)); got != "1992-07-30" {
		t.Errorf("date text %q", got)
	}
	if got := valueText(kindInt, int32(7)); got != "7" {
		t.Errorf("int32 text %q", got)
	}
}

// TestCopyToPostgres_OnePointInTime: rows written to the SQLite file while
// the copy runs (a server still serving) are not in the copy, and the copy
// is whole: its counts and checksums are those of the moment it started.
func TestCopyToPostgres_OnePointInTime(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "src.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	insert := func(name string) {
		t.Helper()
		if err := db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO artists (name) VALUES (?)`, name)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	insert("Luna")
	insert("Kai")
	copySnapshotTaken = func() { insert("written during the copy") }
	defer func() { copySnapshotTaken = nil }()

	dsn := pgtest.NewDatabase(t)
	report, err := db.CopyToPostgres(ctx, dsn, "", CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var sqliteN int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM artists`).Scan(&sqliteN); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var pgN int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM artists`).Scan(&pgN); err != nil {
		t.Fatal(err)
	}
	if sqliteN != 3 || pgN != 2 {
		t.Errorf("artists: %d in SQLite, %d copied; want 3 (one written during the copy) and 2", sqliteN, pgN)
	}
	for _, tc := range report.Tables {
		if tc.Table == "artists" && (tc.Source != 2 || tc.Target != 2 || tc.SourceSum != tc.TargetSum) {
			t.Errorf("report for artists: %+v", tc)
		}
	}
}
