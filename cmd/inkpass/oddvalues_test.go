package main

import (
	"database/sql"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// TestOddUserValues_CLI: values the studio's app wrote that do not fit their
// columns used to make user list, show and update fail for everyone and
// serve refuse to start on an odd admin row, while check said all was well.
// Now every command works, check lists each odd value by user and column,
// and serve starts.
func TestOddUserValues_CLI(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "studio.db", "listen: \"127.0.0.1:0\"\nissuer: \"http://127.0.0.1:1\"\n")
	path := fixtureDB(t, c.dir)
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE users SET birthdate = '' WHERE id = 1`,                         // admin, the only one
		`UPDATE users SET role = 'manager' WHERE id = 2`,                       // luna_artist
		`UPDATE users SET created_at = 'never', birthdate = 1990 WHERE id = 3`, // kai
		`UPDATE users SET is_active = 'yes' WHERE id = 4`,                      // front_desk
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	list := jsonArray(t, c.ok(t, "", "user", "list", "--json"))
	if len(list) != 5 {
		t.Errorf("user list: %d users, want 5", len(list))
	}
	for _, u := range list {
		if u["username"] == "kai" && (u["birthdate"] != nil || u["created_at"] != nil) {
			t.Errorf("kai: birthdate %v, created_at %v; want both null", u["birthdate"], u["created_at"])
		}
		if u["username"] == "front_desk" && u["is_active"] != false {
			t.Errorf("front_desk with is_active 'yes': is_active %v, want false", u["is_active"])
		}
	}
	c.ok(t, "", "user", "list", "--weak-hashes")
	show := c.ok(t, "", "user", "show", "kai")
	if !strings.Contains(show, "odd value") || !strings.Contains(show, "created_at") {
		t.Errorf("user show kai does not point out the odd values:\n%s", show)
	}
	upd := jsonObject(t, c.ok(t, "", "user", "update", "luna_artist", "--name", "Luna M.", "--json"))
	if upd["name"] != "Luna M." || upd["role"] != "manager" {
		t.Errorf("update of a user with an odd role: %v; want the new name, the role left as stored", upd)
	}
	if u := jsonObject(t, c.ok(t, "", "user", "update", "kai", "--phone", "555-0123", "--json")); u["phone"] != "555-0123" {
		t.Errorf("update of kai (odd created_at and birthdate): %v, want the new phone", u)
	}

	check := c.ok(t, "", "check")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^\s+1\s+"admin"\s+birthdate\s+`),
		regexp.MustCompile(`(?m)^\s+2\s+"luna_artist"\s+role\s+"manager" is not one of`),
		regexp.MustCompile(`(?m)^\s+3\s+"kai"\s+birthdate\s+"1990" is not a date`),
		regexp.MustCompile(`(?m)^\s+3\s+"kai"\s+created_at\s+"never"`),
		regexp.MustCompile(`(?m)^\s+4\s+"front_desk"\s+is_active\s+"yes" is not 0 or 1`),
	} {
		if !want.MatchString(check) {
			t.Errorf("check output lacks %s:\n%s", want, check)
		}
	}
	if !strings.Contains(check, "5 odd values") {
		t.Errorf("check does not count 5 odd values:\n%s", check)
	}

	// serve starts on the odd admin row, and logs the odd values.
	srv := c.serve(t)
	srv.listening(t)
	srv.stop(t)
	if !strings.Contains(srv.logs.String(), "odd value in the users table") {
		t.Errorf("serve did not log the odd admin row:\n%s", srv.logs.String())
	}
}

// syncWriter is a log sink that serve's goroutines may share.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
