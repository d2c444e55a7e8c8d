package main

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/password"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/user"
)

// Passwords the audit database is seeded with; none may ever show up in
// `inkpass audit`.
const (
	auditAlicePW  = "alice-audit-pass-1"
	auditWrongPW  = "alice-wrong-guess-9"
	auditNobodyPW = "nobody-typed-this-1"
	auditBobPW    = "bob-audit-pass-1"
	auditBobNewPW = "bob-new-audit-pass-2"
)

// auditSeed builds a fresh database at path with two users and these events,
// oldest first, through the real user.Service and store:
//
//	ten days ago  login_succeeded   alice
//	now           login_failed      alice  (wrong password)
//	now           login_failed      -      (unknown username)
//	now           login_succeeded   bob
//	now           password_changed  bob
//	now           user_deactivated  bob
//
// It returns the two users' ids.
func auditSeed(t *testing.T, path string) (alice, bob int64) {
	t.Helper()
	ctx := context.Background()
	var shift time.Duration
	now := func() time.Time { return time.Now().Add(shift) }
	db, err := store.Open(ctx, path, store.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hasher, err := password.NewTestHasher(password.Policy{Target: password.TargetArgon2id, Argon2: password.LowCostArgon2ForTests(), MemoryBudget: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	users := user.NewService(db, hasher, db, user.Options{Audit: db, Now: now})
	create := func(name, pw string) int64 {
		u, err := users.Create(ctx, user.User{Username: name, Role: user.RoleAssistant}, pw)
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		return u.ID
	}
	alice, bob = create("alice", auditAlicePW), create("bob", auditBobPW)
	login := func(name, pw, addr string, wantOK bool) {
		t.Helper()
		_, err := users.Authenticate(ctx, name, pw, addr)
		if (err == nil) != wantOK {
			t.Fatalf("Authenticate(%s) = %v, want ok %v", name, err, wantOK)
		}
	}
	shift = -10 * 24 * time.Hour
	login("alice", auditAlicePW, "192.0.2.10", true)
	shift = 0
	login("alice", auditWrongPW, "192.0.2.11", false)
	login("nobody", auditNobodyPW, "192.0.2.12", false)
	login("bob", auditBobPW, "192.0.2.13", true)
	if err := users.SetPassword(ctx, bob, auditBobNewPW); err != nil {
		t.Fatal(err)
	}
	if err := users.Deactivate(ctx, bob); err != nil {
		t.Fatal(err)
	}
	return alice, bob
}

func kindsOf(events []map[string]any) []string {
	var out []string
	for _, ev := range events {
		k, _ := ev["kind"].(string)
		out = append(out, k)
	}
	return out
}

func TestAudit(t *testing.T) {
	c := newCLI(t, "inkpass.db", "")
	path := filepath.Join(c.dir, "inkpass.db")
	alice, bob := auditSeed(t, path)
	var outputs []string
	list := func(t *testing.T, args ...string) []map[string]any {
		t.Helper()
		out := c.ok(t, "", append([]string{"audit", "--json"}, args...)...)
		outputs = append(outputs, out)
		return jsonArray(t, out)
	}

	t.Run("--json lists every event, newest first, with who, where and why", func(t *testing.T) {
		events := list(t)
		want := []string{"user_deactivated", "password_changed", "login_succeeded", "login_failed", "login_failed", "login_succeeded"}
		if got := kindsOf(events); !slices.Equal(got, want) {
			t.Fatalf("kinds = %q, want %q", got, want)
		}
		for i := 1; i < len(events); i++ {
			if events[i-1]["id"].(float64) <= events[i]["id"].(float64) {
				t.Errorf("ids not newest first: %v then %v", events[i-1]["id"], events[i]["id"])
			}
		}
		wrong := events[4]
		for k, v := range map[string]any{"user_id": float64(alice), "username": "alice", "addr": "192.0.2.11", "detail": "wrong password"} {
			if wrong[k] != v {
				t.Errorf("wrong-password event %s = %v, want %v", k, wrong[k], v)
			}
		}
		unknown := events[3]
		if unknown["detail"] != "unknown username" || unknown["addr"] != "192.0.2.12" {
			t.Errorf("unknown-username event = %v", unknown)
		}
		for _, k := range []string{"user_id", "username"} {
			if v, ok := unknown[k]; ok {
				t.Errorf("unknown-username event names a user: %s = %v (what was typed may be a password)", k, v)
			}
		}
		if events[0]["user_id"] != float64(bob) || events[1]["user_id"] != float64(bob) {
			t.Errorf("bob's events carry user ids %v and %v, want %d", events[0]["user_id"], events[1]["user_id"], bob)
		}
		old, err := time.Parse(time.RFC3339, events[5]["at"].(string))
		if err != nil {
			t.Fatalf("at %v: %v", events[5]["at"], err)
		}
		if age := time.Since(old); age < 10*24*time.Hour-time.Hour || age > 10*24*time.Hour+time.Hour {
			t.Errorf("the oldest event is %v old, want 10 days", age)
		}
	})

	t.Run("--user takes a username or an id", func(t *testing.T) {
		for _, ref := range []string{"alice", strconv.FormatInt(alice, 10)} {
			events := list(t, "--user", ref)
			if got := kindsOf(events); !slices.Equal(got, []string{"login_failed", "login_succeeded"}) {
				t.Errorf("--user %s: kinds %q, want alice's login_failed and login_succeeded", ref, got)
			}
			for _, ev := range events {
				if ev["user_id"] != float64(alice) {
					t.Errorf("--user %s lists %v", ref, ev)
				}
			}
		}
	})

	t.Run("--kind keeps one kind", func(t *testing.T) {
		events := list(t, "--kind", "login_failed")
		if got := kindsOf(events); !slices.Equal(got, []string{"login_failed", "login_failed"}) {
			t.Errorf("kinds %q, want two login_failed", got)
		}
	})

	t.Run("--since takes a duration, days or a date", func(t *testing.T) {
		for since, want := range map[string]int{
			"7d":  5,
			"24h": 5,
			"11d": 6,
			time.Now().AddDate(0, 0, -3).UTC().Format(time.DateOnly):  5,
			time.Now().AddDate(0, 0, -20).UTC().Format(time.DateOnly): 6,
		} {
			events := list(t, "--since", since)
			if len(events) != want {
				t.Errorf("--since %s: %d events %q, want %d", since, len(events), kindsOf(events), want)
			}
			for _, ev := range events {
				if want == 5 && ev["user_id"] == float64(alice) && ev["kind"] == "login_succeeded" {
					t.Errorf("--since %s lists the ten-day-old login", since)
				}
			}
		}
	})

	t.Run("filters combine, and nothing matching is an empty array", func(t *testing.T) {
		if got := kindsOf(list(t, "--user", "alice", "--kind", "login_succeeded")); !slices.Equal(got, []string{"login_succeeded"}) {
			t.Errorf("alice's successes: %q", got)
		}
		out := c.ok(t, "", "audit", "--json", "--user", "alice", "--kind", "login_succeeded", "--since", "7d")
		if strings.TrimSpace(out) != "[]" {
			t.Errorf("no match printed %q, want []", out)
		}
	})

	t.Run("--limit keeps the newest", func(t *testing.T) {
		if got := kindsOf(list(t, "--limit", "2")); !slices.Equal(got, []string{"user_deactivated", "password_changed"}) {
			t.Errorf("--limit 2: %q", got)
		}
	})

	t.Run("the table has a header and a row per event", func(t *testing.T) {
		out := c.ok(t, "", "audit")
		outputs = append(outputs, out)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 7 {
			t.Fatalf("%d lines, want a header and 6 rows:\n%s", len(lines), out)
		}
		if f := strings.Fields(lines[0]); !slices.Equal(f, []string{"AT", "KIND", "USER_ID", "USERNAME", "CLIENT_ID", "ADDR", "BY", "DETAIL"}) {
			t.Errorf("header %q", lines[0])
		}
		if !strings.Contains(out, "wrong password") || !strings.Contains(out, "192.0.2.11") {
			t.Errorf("table lacks the failed login's reason and address:\n%s", out)
		}
		out = c.ok(t, "", "audit", "--kind", "password_changed")
		if n := len(strings.Split(strings.TrimSpace(out), "\n")); n != 2 || !strings.Contains(out, "bob") {
			t.Errorf("--kind password_changed table:\n%s", out)
		}
	})

	t.Run("bad filters are errors", func(t *testing.T) {
		for _, tc := range []struct {
			args     []string
			wantCode int
			wantErr  string
		}{
			{[]string{"audit", "--kind", "login_maybe"}, 2, "unknown --kind"},
			{[]string{"audit", "--since", "yesterday"}, 2, "--since"},
			{[]string{"audit", "--since", "-5h"}, 2, "--since"},
			{[]string{"audit", "--user", "nobody"}, 1, "no user"},
			{[]string{"audit", "extra"}, 2, "unexpected argument"},
		} {
			code, out, errOut := c.run(t, nil, tc.args...)
			if code != tc.wantCode || !strings.Contains(errOut, tc.wantErr) {
				t.Errorf("inkpass %s: exit %d stderr %q, want %d with %q", strings.Join(tc.args, " "), code, errOut, tc.wantCode, tc.wantErr)
			}
			if out != "" {
				t.Errorf("inkpass %s printed %q on stdout", strings.Join(tc.args, " "), out)
			}
		}
	})

	t.Run("no password or hash ever appears", func(t *testing.T) {
		secrets := []string{auditAlicePW, auditWrongPW, auditNobodyPW, auditBobPW, auditBobNewPW, "nobody",
			storedHash(t, path, "alice"), storedHash(t, path, "bob"), "$argon2id$"}
		for _, out := range outputs {
			for _, s := range secrets {
				if s != "" && strings.Contains(out, s) {
					t.Errorf("audit output contains %q:\n%s", s, out)
				}
			}
		}
	})
}
