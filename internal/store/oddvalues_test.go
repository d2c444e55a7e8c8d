package store_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/user"
)

// frontDesk is the fixture's user 4: an active assistant with a birthdate,
// the row each case below spoils.
const frontDesk = 4

// TestUsers_OddValuesFromTheStudioApp: the studio's app writes the users
// table too, and a value that does not fit its column must not break reading
// that user, listing everyone, or the admin count. The value is read as
// absent (is_active: inactive), listed in the user's Oddities, logged once,
// and reported by Inspect (inkpass check) for exactly that row and column.
func TestUsers_OddValuesFromTheStudioApp(t *testing.T) {
	cases := []struct {
		name, set, column string
		want              func(t *testing.T, u *user.User)
	}{
		{"an empty birthdate", `birthdate = ''`, "birthdate", wantBirthdate("")},
		{"a birthdate written 01/02/1990", `birthdate = '01/02/1990'`, "birthdate", wantBirthdate("")},
		{"a birthdate that is no calendar day", `birthdate = '1990-02-30'`, "birthdate", wantBirthdate("")},
		{"a birthdate stored as the number 1990", `birthdate = 1990`, "birthdate", wantBirthdate("")},
		{"a birthdate stored as the number 19900102", `birthdate = 19900102`, "birthdate", wantBirthdate("")},
		{"created_at 'never'", `created_at = 'never'`, "created_at", func(t *testing.T, u *user.User) {
			if !u.CreatedAt.IsZero() {
				t.Errorf("CreatedAt = %v, want zero", u.CreatedAt)
			}
		}},
		{"last_login 'never'", `last_login = 'never'`, "last_login", func(t *testing.T, u *user.User) {
			if u.LastLogin != nil {
				t.Errorf("LastLogin = %v, want nil", u.LastLogin)
			}
		}},
		{"is_active 'yes'", `is_active = 'yes'`, "is_active", wantActive(false)},
		{"is_active 'true'", `is_active = 'true'`, "is_active", wantActive(false)},
		{"is_active 2", `is_active = 2`, "is_active", wantActive(false)},
		{"an empty role", `role = ''`, "role", func(t *testing.T, u *user.User) {
			if u.Role != "" || u.Role.Known() {
				t.Errorf("Role = %q (known %v), want the stored empty role, unknown", u.Role, u.Role.Known())
			}
		}},
		{"role 'manager'", `role = 'manager'`, "role", func(t *testing.T, u *user.User) {
			if u.Role != "manager" || u.Role.Known() {
				t.Errorf("Role = %q (known %v), want the stored 'manager', unknown", u.Role, u.Role.Known())
			}
		}},
		{"artist_id that is no number", `artist_id = 'luna'`, "artist_id", func(t *testing.T, u *user.User) {
			if u.ArtistID != nil {
				t.Errorf("ArtistID = %d, want nil", *u.ArtistID)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name+" is read as absent, logged once and reported by Inspect", func(t *testing.T) {
			ctx := t.Context()
			path := newFixtureDB(t)
			if _, err := rawDB(t, path).ExecContext(ctx, `UPDATE users SET `+tc.set+` WHERE id = ?`, frontDesk); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			db := mustOpen(t, path, store.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})

			u, err := db.UserByID(ctx, frontDesk)
			if err != nil {
				t.Fatalf("UserByID: %v", err)
			}
			tc.want(t, u)
			if !slices.ContainsFunc(u.Oddities, func(o user.Oddity) bool { return o.Column == tc.column }) {
				t.Errorf("Oddities = %+v, want one for %s", u.Oddities, tc.column)
			}
			if _, err := db.UserByUsername(ctx, "front_desk"); err != nil {
				t.Errorf("UserByUsername: %v", err)
			}
			all, err := db.ListUsers(ctx, user.Filter{})
			if err != nil || len(all) != 5 {
				t.Errorf("ListUsers: %d users, %v; want all 5", len(all), err)
			}
			if _, err := db.ListUsers(ctx, user.Filter{Role: user.RoleAdmin}); err != nil {
				t.Errorf("ListUsers(admins): %v", err)
			}
			if n, err := db.CountActiveAdmins(ctx); err != nil || n != 1 {
				t.Errorf("CountActiveAdmins = %d, %v; want 1", n, err)
			}

			// Logged once per user and column, however often it is read.
			warns := 0
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				var rec map[string]any
				if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "odd value in the users table" {
					warns++
					if rec["level"] != "WARN" || rec["user_id"] != float64(frontDesk) || rec["column"] != tc.column {
						t.Errorf("log record %s, want a WARN with user_id %d and column %s", line, frontDesk, tc.column)
					}
				}
			}
			if warns != 1 {
				t.Errorf("%d warnings about the odd value, want exactly 1; log:\n%s", warns, logs.String())
			}

			rep, err := store.Inspect(ctx, path)
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if len(rep.Oddities) != 1 {
				t.Fatalf("Inspect found %+v, want exactly the one odd value", rep.Oddities)
			}
			if o := rep.Oddities[0]; o.UserID != frontDesk || o.Username != "front_desk" || o.Column != tc.column || o.Problem == "" {
				t.Errorf("Inspect reported %+v, want user 4 front_desk, column %s, a problem", o, tc.column)
			}
		})
	}

	t.Run("the values the studio's app really writes are no oddities", func(t *testing.T) {
		ctx := t.Context()
		path := newFixtureDB(t)
		raw := rawDB(t, path)
		for _, set := range []string{
			`birthdate = '1990-01-02', created_at = '2024-01-15 10:30:00.123456', last_login = '2025-01-02T03:04:05Z'`,
			`is_active = TRUE`, `is_active = '1'`, `is_active = 1.0`,
		} {
			if _, err := raw.ExecContext(ctx, `UPDATE users SET `+set+` WHERE id = ?`, frontDesk); err != nil {
				t.Fatal(err)
			}
			rep, err := store.Inspect(ctx, path)
			if err != nil || len(rep.Oddities) != 0 {
				t.Errorf("after SET %s: Inspect found %+v, %v; want nothing", set, rep.Oddities, err)
			}
		}
		db := mustOpen(t, path, store.Options{})
		u, err := db.UserByID(ctx, frontDesk)
		if err != nil {
			t.Fatal(err)
		}
		if u.Birthdate != "1990-01-02" || !u.Active || u.CreatedAt.IsZero() || u.LastLogin == nil {
			t.Errorf("read %+v, want birthdate 1990-01-02, active, both times", u)
		}
	})
}

func wantBirthdate(want string) func(*testing.T, *user.User) {
	return func(t *testing.T, u *user.User) {
		t.Helper()
		if u.Birthdate != want {
			t.Errorf("Birthdate = %q, want %q", u.Birthdate, want)
		}
	}
}

func wantActive(want bool) func(*testing.T, *user.User) {
	return func(t *testing.T, u *user.User) {
		t.Helper()
		if u.Active != want {
			t.Errorf("Active = %v, want %v", u.Active, want)
		}
	}
}

// TestUsers_IsActiveHasOneReading: an is_active other than 0 or 1 reads the
// same everywhere, as inactive: the user, the listings by state, the session
// lookup and the admin count all agree.
func TestUsers_IsActiveHasOneReading(t *testing.T) {
	for _, v := range []string{"2", "'yes'", "'true'", "-1"} {
		t.Run("is_active = "+v, func(t *testing.T) {
			ctx := t.Context()
			path := newFixtureDB(t)
			db := mustOpen(t, path, store.Options{})
			hash := []byte("session-of-front-desk-0123456789")
			now := time.Now()
			if err := db.CreateSession(ctx, hash, session.Session{SID: "sid-odd", UserID: frontDesk, AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if _, err := rawDB(t, path).ExecContext(ctx, `UPDATE users SET is_active = `+v+` WHERE id IN (1, ?)`, frontDesk); err != nil {
				t.Fatal(err)
			}
			u, err := db.UserByID(ctx, frontDesk)
			if err != nil {
				t.Fatal(err)
			}
			_, sessErr := db.SessionByTokenHash(ctx, hash)
			yes, no := true, false
			active, err := db.ListUsers(ctx, user.Filter{Active: &yes})
			if err != nil {
				t.Fatal(err)
			}
			inactive, err := db.ListUsers(ctx, user.Filter{Active: &no})
			if err != nil {
				t.Fatal(err)
			}
			admins, err := db.CountActiveAdmins(ctx)
			if err != nil {
				t.Fatal(err)
			}
			has := func(list []*user.User) bool {
				return slices.ContainsFunc(list, func(u *user.User) bool { return u.ID == frontDesk })
			}
			if u.Active || has(active) || !has(inactive) || !errors.Is(sessErr, session.ErrNotFound) || admins != 0 {
				t.Errorf("readings disagree: user.Active %v, in active list %v, in inactive list %v, session lookup %v, active admins %d; want inactive everywhere",
					u.Active, has(active), has(inactive), sessErr, admins)
			}
		})
	}
}
