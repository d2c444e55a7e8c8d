//go:build reliability

package reliability

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/testsupport"
)

// oddRow is a users row the studio's app could have left behind that the
// documented schema allows (SQLite types are only affinities) but the field
// rules do not.
type oddRow struct {
	id       int
	username string
	what     string
	// columns overrides the defaults of insertOdd.
	columns map[string]any
}

var oddRows = []oddRow{
	{10, "odd_bd_empty", "birthdate ''", map[string]any{"birthdate": ""}},
	{11, "odd_bd_slash", "birthdate 01/02/1990", map[string]any{"birthdate": "01/02/1990"}},
	{12, "odd_bd_feb30", "birthdate 1990-02-30", map[string]any{"birthdate": "1990-02-30"}},
	{13, "odd_bd_year", "birthdate 1990", map[string]any{"birthdate": "1990"}},
	{14, "odd_bd_compact", "birthdate 19900102", map[string]any{"birthdate": "19900102"}},
	{15, "odd_never", "created_at and last_login 'never'", map[string]any{"created_at": "never", "last_login": "never"}},
	{16, "odd_active_yes", "is_active 'yes'", map[string]any{"is_active": "yes"}},
	{17, "odd_active_two", "is_active 2", map[string]any{"is_active": 2}},
	{18, "odd_role_empty", "role ''", map[string]any{"role": ""}},
	{19, "odd_role_manager", "role manager", map[string]any{"role": "manager"}},
	{20, "  odd_padded  ", "username with leading and trailing spaces", nil},
	{21, "odd_admin", "an active admin with birthdate 31/12/1985", map[string]any{"role": "admin", "birthdate": "31/12/1985"}},
}

// The fixture's people and their passwords (testdata/studio-fixture.sql).
var fixtureLogins = []struct{ username, password string }{
	{"admin", "secure_password"},
	{"luna_artist", "artist_password"},
	{"kai", "needle&ink-77"},
	{"front_desk", "desk-Pässwort-1"},
}

// studioDB builds the studio fixture plus the odd rows into dir.
func studioDB(t *testing.T, dir string) string {
	t.Helper()
	path := testsupport.StudioDB(t, dir)
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, r := range oddRows {
		cols := map[string]any{
			"id": r.id, "username": r.username, "role": "assistant", "is_active": 1,
			"name": "Odd " + strings.TrimSpace(r.username), "created_at": "2024-05-01 10:00:00",
		}
		for k, v := range r.columns {
			cols[k] = v
		}
		var names, marks []string
		var args []any
		for k, v := range cols {
			names, marks, args = append(names, k), append(marks, "?"), append(args, v)
		}
		// The fixture admin's werkzeug hash: the odd rows are not signed in.
		q := fmt.Sprintf(`INSERT INTO users (%s, password_hash) SELECT %s, password_hash FROM users WHERE id = 1`,
			strings.Join(names, ", "), strings.Join(marks, ", "))
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("insert odd row %d (%s): %v", r.id, r.what, err)
		}
	}
	return path
}

// names reports whether out names the odd row: by its id ("id 12", "user 12",
// "#12", "users 12") or by its username.
func names(out string, r oddRow) bool {
	byID := regexp.MustCompile(fmt.Sprintf(`(?i)(\bid[ =:]*|\buser[s]? |#)%d\b`, r.id))
	return byID.MatchString(out) || strings.Contains(out, strings.TrimSpace(r.username))
}

// TestAdoptedOddities adopts a studio database that holds odd rows: check
// reports each of them, the CLI lists and shows users without failing, serve
// starts, and the other users sign in.
func TestAdoptedOddities(t *testing.T) {
	dir := t.TempDir()
	in := newInstall(t, installOptions{db: studioDB(t, dir)})
	var reported, showOK, loginsOK int
	checkOK, listOK, serveOK := false, false, false

	t.Run("check reports every odd row", func(t *testing.T) {
		r := runCLI(in, "", "check")
		out := r.stdout + r.stderr
		if r.code != 0 && r.code != 1 {
			t.Errorf("check: %v; want exit 0 (or 1 with one line)", r)
		}
		if r.code == 1 && strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("check failed with more than one line on stderr: %q", r.stderr)
		}
		for _, row := range oddRows {
			if names(out, row) {
				reported++
			} else {
				t.Errorf("check does not name row %d (%s)", row.id, row.what)
			}
		}
		checkOK = !t.Failed()
		if t.Failed() {
			t.Logf("check said: %v", r)
		}
	})

	t.Run("user list works", func(t *testing.T) {
		r := runCLI(in, "", "user", "list", "--json")
		if r.code != 0 {
			t.Fatalf("user list --json: %v", r)
		}
		var list []map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
			t.Fatalf("user list --json: %v\n%s", err, r.stdout)
		}
		seen := map[string]bool{}
		for _, u := range list {
			s, _ := u["username"].(string)
			seen[s] = true
		}
		for _, l := range fixtureLogins {
			if !seen[l.username] {
				t.Errorf("user list lacks %q", l.username)
			}
		}
		if r := runCLI(in, "", "user", "list"); r.code != 0 {
			t.Errorf("user list (table): %v", r)
		}
		listOK = !t.Failed()
	})

	t.Run("user show of each odd row answers cleanly", func(t *testing.T) {
		for _, row := range oddRows {
			r := runCLI(in, "", "user", "show", fmt.Sprint(row.id), "--json")
			switch {
			case r.code == 0:
				showOK++
			case r.code == 1 && strings.Count(r.stderr, "\n") == 1 && !strings.Contains(r.stderr, "panic"):
				t.Errorf("user show %d (%s): %v; want the row shown", row.id, row.what, r)
			default:
				t.Errorf("user show %d (%s) crashed or broke the one-line rule: %v", row.id, row.what, r)
			}
		}
	})

	t.Run("serve starts and the other users sign in", func(t *testing.T) {
		if _, err := in.serveErr(30 * time.Second); err != nil {
			t.Fatalf("serve on the adopted database: %v", err)
		}
		serveOK = true
		for _, l := range fixtureLogins {
			a, tk, failed, err := in.login(l.username, l.password)
			if err != nil || failed {
				t.Errorf("sign in as %s: %v %s", l.username, err, describe(a))
				continue
			}
			if a, err := in.userinfo(tk.access); err != nil || a.status != 200 {
				t.Errorf("userinfo for %s: %v %s", l.username, err, describe(a))
				continue
			}
			loginsOK++
		}
		// The control: the deactivated studio user is still refused, so the
		// sign-ins above are not accepted blindly.
		if _, _, failed, err := in.login("former_assistant", "gone-but-kept"); err == nil && !failed {
			t.Error("the deactivated former_assistant signed in")
		}
		if res := integrity(t, in.db); res != "ok" {
			t.Errorf("integrity_check after serving = %q", res)
		}
	})

	figure(t, "adopted odd rows ×%d: check %s (named %d/%d), user list %s, user show clean %d/%d, serve %s, sign-ins of the other users %d/%d",
		len(oddRows), okWord(checkOK), reported, len(oddRows), okWord(listOK), showOK, len(oddRows), startWord(serveOK), loginsOK, len(fixtureLogins))
}

func okWord(ok bool) string {
	if ok {
		return "ok"
	}
	return "FAILED"
}

func startWord(ok bool) string {
	if ok {
		return "started"
	}
	return "did NOT start"
}
