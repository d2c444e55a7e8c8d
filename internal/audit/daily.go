package audit

import "time"

// DayCount is how many events of each kind one day holds. Days are UTC
// days: the count for a day does not depend on the server's time zone, nor
// move when it changes.
type DayCount struct {
	// Day is the day's start, midnight UTC.
	Day    time.Time
	Counts map[Kind]int
}

// Day is the UTC day t falls in, as its midnight.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// LastDays is the range of the n UTC days ending with now's day: from the
// first day's midnight to the midnight after now.
func LastDays(now time.Time, n int) (from, to time.Time) {
	to = Day(now).AddDate(0, 0, 1)
	return to.AddDate(0, 0, -n), to
}
