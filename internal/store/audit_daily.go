package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
)

// AuditDailyCounts counts the events of kinds per UTC day from from's day
// up to (not including) to, which callers give as midnights
// (audit.LastDays). Every day of the range is in the answer, in order, a
// day without events with zero counts, so a chart needs no gaps filled.
// The grouping is done by SQLite over the at index: a day of many
// sign-ins is one row, not its events.
func (db *DB) AuditDailyCounts(ctx context.Context, from, to time.Time, kinds ...audit.Kind) ([]audit.DayCount, error) {
	from = audit.Day(from)
	if !to.After(from) || len(kinds) == 0 {
		return nil, nil
	}
	var out []audit.DayCount
	index := map[int64]int{}
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		index[d.Unix()/86400] = len(out)
		out = append(out, audit.DayCount{Day: d, Counts: map[audit.Kind]int{}})
	}
	args := []any{from.Unix(), to.Unix()}
	marks := make([]string, len(kinds))
	for i, k := range kinds {
		marks[i] = "?"
		args = append(args, string(k))
	}
	rows, err := db.read.QueryContext(ctx, `SELECT at / 86400, kind, count(*) FROM inkpass_audit
		WHERE at >= ? AND at < ? AND kind IN (`+strings.Join(marks, ", ")+`)
		GROUP BY 1, 2`, args...)
	if err != nil {
		return nil, fmt.Errorf("count audit events per day: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var day int64
		var kind string
		var n int
		if err := rows.Scan(&day, &kind, &n); err != nil {
			return nil, fmt.Errorf("count audit events per day: %w", err)
		}
		if i, ok := index[day]; ok {
			out[i].Counts[audit.Kind(kind)] = n
		}
	}
	return out, rows.Err()
}
