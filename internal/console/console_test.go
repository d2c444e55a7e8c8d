package console

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestSections_NavigationResolves: every section's navigation link is a
// GET route of the console, and every route is a GET or POST under
// /admin, so no link in the layout leads to a 404 and no route escapes
// the gate's prefix.
func TestSections_NavigationResolves(t *testing.T) {
	routes := RegisteredRoutes()
	for _, r := range routes {
		if r.Method != http.MethodGet && r.Method != http.MethodPost || r.Pattern != Prefix && !strings.HasPrefix(r.Pattern, Prefix+"/") {
			t.Errorf("route %s %s is not a GET or POST under %s", r.Method, r.Pattern, Prefix)
		}
	}
	sectionsMu.Lock()
	defer sectionsMu.Unlock()
	for _, s := range sections {
		if !slices.Contains(routes, Route{Method: http.MethodGet, Pattern: s.Path}) {
			t.Errorf("section %q links to %s, which no GET route serves", s.Name, s.Path)
		}
	}
}

// TestHandle_RefusesPatternsOutsideTheConsole: a route outside /admin or
// without a method is a programming error, caught at start-up.
func TestHandle_RefusesPatternsOutsideTheConsole(t *testing.T) {
	for _, p := range []string{"GET /account", "/admin/x", "PUT /admin/x", "GET /administrator", "POST admin"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Handle(%q) did not panic", p)
				}
			}()
			c := &Console{mux: http.NewServeMux()}
			c.Handle(p, func(http.ResponseWriter, *http.Request, *Admin) {})
		}()
	}
}
