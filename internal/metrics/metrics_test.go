package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestPasswordVerified_NoLabelTellsAccountsApart: the verification metrics
// carry no stored format and no result, so a failed login with an unknown
// username and one with a legacy-hash user, or a right guess at a
// deactivated account, move exactly the same series.
func TestPasswordVerified_NoLabelTellsAccountsApart(t *testing.T) {
	m := New()
	m.PasswordVerified(100 * time.Millisecond)
	m.PasswordVerified(300 * time.Millisecond)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	var lines []string
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "inkpass_password_verification") {
			lines = append(lines, l)
			if strings.Contains(l, "format=") || strings.Contains(l, "result=") {
				t.Errorf("series %q is labelled by format or result", l)
			}
		}
	}
	if !strings.Contains(string(body), "inkpass_password_verifications_total 2\n") {
		t.Errorf("verification series:\n%s\nwant inkpass_password_verifications_total 2", strings.Join(lines, "\n"))
	}
}
