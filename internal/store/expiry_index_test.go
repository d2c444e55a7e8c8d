package store_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkpass/inkpass/internal/store"
)

// TestExpirySweepsUseAnIndex: the sweeps that run on every write to the
// short-lived second-factor tables find expired rows through an index, not
// by scanning the table (one of them runs on every login-page view).
func TestExpirySweepsUseAnIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inkpass.db")
	mustOpen(t, path, store.Options{}).Close()
	db := rawDB(t, path)
	for _, table := range []string{"inkpass_webauthn_ceremonies", "inkpass_mfa_pending", "inkpass_mfa_devices"} {
		rows, err := db.Query(`EXPLAIN QUERY PLAN DELETE FROM ` + table + ` WHERE expires_at <= 1`)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if p := strings.Join(plan, "; "); !strings.Contains(p, "USING") || !strings.Contains(p, "INDEX") {
			t.Errorf("%s: the expiry sweep's plan is %q, want an index", table, p)
		}
	}
}
