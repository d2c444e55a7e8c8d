package console

import (
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/svgchart"
)

// Activity: the audit trail with filters (person, event, app, dates),
// newest first, a page at a time, and a chart of sign-ins and failed
// sign-ins per day over the last 30 days. Days are UTC days, as the
// dashboard's "today" is.

func init() {
	registerSection(Section{Name: "Activity", Path: Prefix + "/activity", Order: 60, Routes: func(c *Console) {
		c.Handle("GET /admin/activity", c.activity)
	}})
}

// activityPage is how many events one page lists.
const activityPage = 50

// chartDays is how many days the chart covers.
const chartDays = 30

// Chart colours: on the console's dark background, each has at least 3:1
// contrast (WCAG 1.4.11); the bars' titles and the table carry the numbers.
const (
	colorSignIns  = "#4cc38a"
	colorFailures = "#f2994a"
)

// ActivityView is the Activity page's data.
type ActivityView struct {
	Filter ActivityFilter
	Kinds  []audit.Kind
	Events []audit.Event
	// Older is the next page's address, "" on the last page.
	Older string
	// Chart is the 30-day SVG; Days its numbers, for the table beside it.
	Chart              template.HTML
	Days               []DayRow
	SignIns, Failures  int
	ChartFrom, ChartTo string
}

// ActivityFilter is the filter form as typed.
type ActivityFilter struct {
	User, Kind, Client, From, To string
	// Problems are the filters that could not be used, in words.
	Problems []string
}

// DayRow is one day of the chart.
type DayRow struct {
	Day               string
	SignIns, Failures int
}

// parseActivity reads the form into an audit.Filter; a value it cannot use
// is reported in Problems and left out. noMatch: the person named does not
// exist, so nothing can match.
func (c *Console) parseActivity(r *http.Request) (f ActivityFilter, af audit.Filter, noMatch bool, err error) {
	q := r.URL.Query()
	f = ActivityFilter{User: strings.TrimSpace(q.Get("user")), Kind: q.Get("kind"), Client: strings.TrimSpace(q.Get("client")),
		From: q.Get("from"), To: q.Get("to")}
	af = audit.Filter{Limit: activityPage + 1, ClientID: f.Client}
	if f.Kind != "" {
		if slices.Contains(audit.Kinds, audit.Kind(f.Kind)) {
			af.Kind = audit.Kind(f.Kind)
		} else {
			f.Problems = append(f.Problems, "there is no event "+strconv.Quote(f.Kind))
		}
	}
	if f.From != "" {
		if t, err := time.Parse(time.DateOnly, f.From); err == nil {
			af.Since = t
		} else {
			f.Problems = append(f.Problems, "the from date is not a date")
		}
	}
	if f.To != "" {
		if t, err := time.Parse(time.DateOnly, f.To); err == nil {
			af.Until = t.AddDate(0, 0, 1) // the whole of that day
		} else {
			f.Problems = append(f.Problems, "the to date is not a date")
		}
	}
	if b, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil && b > 0 {
		af.BeforeID = b
	}
	if f.User == "" {
		return f, af, false, nil
	}
	if id, err := strconv.ParseInt(f.User, 10, 64); err == nil && id > 0 {
		af.UserID = id
		return f, af, false, nil
	}
	name := strings.TrimPrefix(f.User, "@")
	found, err := c.d.Store.SearchPeople(r.Context(), PeopleQuery{Text: name})
	if err != nil {
		return f, af, false, err
	}
	i := slices.IndexFunc(found, func(p Person) bool { return strings.EqualFold(p.Username, name) })
	if i < 0 {
		f.Problems = append(f.Problems, "nobody has the username "+strconv.Quote(f.User))
		return f, af, true, nil
	}
	af.UserID = found[i].ID
	return f, af, false, nil
}

func (c *Console) activity(w http.ResponseWriter, r *http.Request, a *Admin) {
	ctx := r.Context()
	f, af, noMatch, err := c.parseActivity(r)
	if err != nil {
		c.ServerError(w, r, a, "find user", err)
		return
	}
	v := ActivityView{Filter: f, Kinds: audit.Kinds}
	if !noMatch {
		events, err := c.d.Store.AuditEvents(ctx, af)
		if err != nil {
			c.ServerError(w, r, a, "list audit events", err)
			return
		}
		if len(events) > activityPage {
			events = events[:activityPage]
			q := r.URL.Query()
			q.Set("before", strconv.FormatInt(events[len(events)-1].ID, 10))
			v.Older = Prefix + "/activity?" + q.Encode()
		}
		v.Events = events
	}
	if c.d.Activity != nil {
		if err := c.activityChart(r, &v); err != nil {
			c.ServerError(w, r, a, "activity chart", err)
			return
		}
	}
	status := http.StatusOK
	errText := ""
	if len(f.Problems) > 0 {
		status, errText = http.StatusUnprocessableEntity, "Some filters were not used: "+strings.Join(f.Problems, "; ")+"."
	}
	c.Render(w, r, a, status, View{Name: "activity", Title: "Activity", Error: errText, Data: v})
}

// activityChart fills the 30-day chart and its table.
func (c *Console) activityChart(r *http.Request, v *ActivityView) error {
	from, to := audit.LastDays(c.d.Now(), chartDays)
	days, err := c.d.Activity.AuditDailyCounts(r.Context(), from, to, audit.LoginSucceeded, audit.LoginFailed)
	if err != nil {
		return err
	}
	ch := svgchart.Chart{ID: "signins-chart", Title: "Sign-ins and failed sign-ins per day",
		LabelEvery: 7, Width: 420, Height: 240}
	ok := svgchart.Series{Name: "sign-ins", Color: colorSignIns}
	bad := svgchart.Series{Name: "failed", Color: colorFailures}
	for _, d := range days {
		label := d.Day.Format("Jan 2")
		ch.Labels = append(ch.Labels, label)
		s, f := d.Counts[audit.LoginSucceeded], d.Counts[audit.LoginFailed]
		ok.Values, bad.Values = append(ok.Values, s), append(bad.Values, f)
		v.SignIns, v.Failures = v.SignIns+s, v.Failures+f
		v.Days = append(v.Days, DayRow{Day: d.Day.Format("Mon Jan 2"), SignIns: s, Failures: f})
	}
	ch.Series = []svgchart.Series{ok, bad}
	v.ChartFrom, v.ChartTo = from.Format("Jan 2"), to.AddDate(0, 0, -1).Format("Jan 2, 2006")
	ch.Desc = "Bars per day from " + v.ChartFrom + " to " + v.ChartTo + " (UTC days): " +
		strconv.Itoa(v.SignIns) + " sign-ins and " + strconv.Itoa(v.Failures) + " failed sign-ins in all."
	v.Chart, err = svgchart.Bars(ch)
	return err
}
