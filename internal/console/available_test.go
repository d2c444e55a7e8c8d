package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

// adminSessions is a signed-in admin's fresh session in every request.
type adminSessions struct{ now time.Time }

func (s adminSessions) Session(*http.Request) (*session.Session, error) {
	return &session.Session{SID: "sid-1", UserID: 1, AuthTime: s.now}, nil
}
func (adminSessions) BrowserID(http.ResponseWriter, *http.Request) string { return "browser-1" }
func (adminSessions) EndSession(http.ResponseWriter, *http.Request) error { return nil }
func (adminSessions) ClientAddr(*http.Request) string                     { return "127.0.0.1" }

// oneAdmin knows the admin alone; any other method panics (nil Users).
type oneAdmin struct{ Users }

func (oneAdmin) Get(_ context.Context, id int64) (*user.User, error) {
	return &user.User{ID: id, Username: "boss", Role: user.RoleAdmin, Active: true}, nil
}

// TestSections_UnavailableWithoutTheirPort: a console started without the
// session store, client registry, signing keys or branding answers every
// route of those sections with a 404 page that says so, GET and POST
// alike, and never reaches the missing port (which would panic).
func TestSections_UnavailableWithoutTheirPort(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c, err := New(Deps{
		Sessions: adminSessions{now: now}, Reauth: struct{ SessionRecorder }{}, Users: oneAdmin{},
		Store: struct{ Store }{}, CSRFKey: []byte(strings.Repeat("k", 32)), Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	token := c.csrfToken("browser-1", "sid-1")
	checked := map[string]int{}
	for _, rt := range c.Routes() {
		var section string
		for _, p := range []string{"/sessions", "/apps", "/keys", "/settings"} {
			if rt.Pattern == Prefix+p || strings.HasPrefix(rt.Pattern, Prefix+p+"/") {
				section = p
			}
		}
		if section == "" {
			continue
		}
		path := strings.ReplaceAll(rt.Pattern, "{id}", "1")
		req := httptest.NewRequest(rt.Method, path, nil)
		if rt.Method == http.MethodPost {
			req = httptest.NewRequest(rt.Method, path, strings.NewReader(url.Values{fieldCSRF: {token}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		rec := httptest.NewRecorder()
		c.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "are not available") {
			t.Errorf("%s %s without its port: %d, want 404 saying it is not available\n%s", rt.Method, path, rec.Code, rec.Body)
		}
		checked[section]++
	}
	if len(checked) != 4 {
		t.Errorf("routes checked per section = %v, want all four sections", checked)
	}
}
