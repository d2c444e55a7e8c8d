package console

import (
	"net/http"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/user"
)

func init() {
	registerSection(Section{Name: "Dashboard", Path: Prefix, Order: 0, Routes: func(c *Console) {
		c.Handle("GET /admin", c.dashboard)
		c.Handle("GET /admin/{$}", c.dashboard)
	}})
}

// DashboardView is the first page's data.
type DashboardView struct {
	Counts Counts
	// Roles are the active users per role, in a fixed order.
	Roles []RoleCount
	// LegacyHashes counts active users whose hash is weaker than the
	// policy (upgraded at their next sign-in).
	LegacyHashes int
	Events       []audit.Event
}

// RoleCount is one role's active users.
type RoleCount struct {
	Role  user.Role
	Count int
}

// dashboardEvents is how many of the latest audit events the dashboard
// shows.
const dashboardEvents = 15

func (c *Console) dashboard(w http.ResponseWriter, r *http.Request, a *Admin) {
	ctx := r.Context()
	now := c.d.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	counts, err := c.d.Store.ConsoleCounts(ctx, today)
	if err != nil {
		c.ServerError(w, r, a, "dashboard counts", err)
		return
	}
	v := DashboardView{Counts: counts}
	for _, role := range []user.Role{user.RoleAdmin, user.RoleAssistant, user.RoleArtist} {
		v.Roles = append(v.Roles, RoleCount{Role: role, Count: counts.ActiveByRole[role]})
	}
	active := true
	people, err := c.d.Store.SearchPeople(ctx, PeopleQuery{Active: &active})
	if err != nil {
		c.ServerError(w, r, a, "dashboard hashes", err)
		return
	}
	for _, p := range people {
		if c.d.WeakHash(p.PasswordHash) {
			v.LegacyHashes++
		}
	}
	if v.Events, err = c.d.Store.AuditEvents(ctx, audit.Filter{Limit: dashboardEvents}); err != nil {
		c.ServerError(w, r, a, "dashboard events", err)
		return
	}
	c.Render(w, r, a, http.StatusOK, View{Name: "dashboard", Title: "Dashboard", Data: v})
}
