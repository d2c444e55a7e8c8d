package user_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/user"
)

// TestService_Update_ConcurrentUpdatesOfDifferentFieldsAllSurvive: user
// update used to read the row outside the write transaction and write every
// profile column back, so of two updates at once the later undid the earlier.
// Run with -race.
func TestService_Update_ConcurrentUpdatesOfDifferentFieldsAllSurvive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := freshEnv(t, envOptions{})
	id, err := e.db.CreateUser(ctx, &user.User{Username: "mira", PasswordHash: "x", Role: user.RoleAssistant, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	const rounds = 30
	for round := range rounds {
		want := map[string]string{
			"name":      fmt.Sprintf("Mira %d", round),
			"email":     fmt.Sprintf("mira%d@studio.example", round),
			"phone":     fmt.Sprintf("555-%04d", round),
			"instagram": fmt.Sprintf("mira_%d", round),
		}
		patches := []user.Patch{
			{Name: ptrTo(want["name"])}, {Email: ptrTo(want["email"])},
			{Phone: ptrTo(want["phone"])}, {Instagram: ptrTo(want["instagram"])},
		}
		var wg sync.WaitGroup
		errs := make([]error, len(patches))
		for i, p := range patches {
			wg.Go(func() { _, errs[i] = e.svc.Update(ctx, id, p) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		u, err := e.svc.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{"name": u.Name, "email": u.Email, "phone": u.Phone, "instagram": u.Instagram}
		for k := range want {
			if got[k] != want[k] {
				t.Fatalf("round %d: %s = %q, want %q: a concurrent update of another field overwrote it", round, k, got[k], want[k])
			}
		}
	}
}

// studioEditsBetween is the store with the studio's Python app editing the
// user's phone in the users table after inkpass has looked the user up and
// just before its update transaction begins: the old Update (read, check,
// then write every column) lost that edit. An Update that reads inside its
// write transaction and writes only the changed columns keeps it.
type studioEditsBetween struct {
	*store.DB
	path string
	once sync.Once
}

func (s *studioEditsBetween) studioEdit(ctx context.Context, id int64) {
	s.once.Do(func() {
		raw, err := sql.Open("sqlite3", "file:"+s.path+"?_busy_timeout=5000")
		if err == nil {
			defer raw.Close()
			_, err = raw.ExecContext(ctx, `UPDATE users SET phone = '555-0199' WHERE id = ?`, id)
		}
		if err != nil {
			panic(err)
		}
	})
}

func (s *studioEditsBetween) UserByID(ctx context.Context, id int64) (*user.User, error) {
	u, err := s.DB.UserByID(ctx, id)
	s.studioEdit(ctx, id)
	return u, err
}

func (s *studioEditsBetween) UpdateUser(ctx context.Context, id int64, change user.ChangeFunc) (*user.User, error) {
	s.studioEdit(ctx, id)
	return s.DB.UpdateUser(ctx, id, change)
}

func TestService_Update_KeepsTheStudioAppsEditsOfOtherFields(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := freshEnv(t, envOptions{})
	id, err := e.db.CreateUser(ctx, &user.User{Username: "kai", PasswordHash: "x", Role: user.RoleAssistant, Active: true, Phone: "555-0100"})
	if err != nil {
		t.Fatal(err)
	}
	svc := user.NewService(&studioEditsBetween{DB: e.db, path: e.path}, e.hasher, nil, user.Options{})
	if _, err := svc.Update(ctx, id, user.Patch{Name: ptrTo("Kai Okafor")}); err != nil {
		t.Fatal(err)
	}
	if got := e.raw(t, `SELECT name || ' / ' || phone FROM users WHERE id = ?`, id); got != "Kai Okafor / 555-0199" {
		t.Errorf("name / phone = %q, want the update's name and the studio app's phone", got)
	}
}

// TestService_LastAdminCannotBeRacedAway: the last-admin rule is checked
// inside the transaction that deactivates or demotes, so of two concurrent
// removals of the last two admins exactly one succeeds. Run with -race.
func TestService_LastAdminCannotBeRacedAway(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := freshEnv(t, envOptions{})
	var admins [2]int64
	for i := range admins {
		id, err := e.db.CreateUser(ctx, &user.User{Username: fmt.Sprintf("boss%d", i), PasswordHash: "x", Role: user.RoleAdmin, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		admins[i] = id
	}
	deactivate := func(id int64) error { return e.svc.Deactivate(ctx, id) }
	demote := func(id int64) error {
		_, err := e.svc.Update(ctx, id, user.Patch{Role: ptrTo(user.RoleAssistant)})
		return err
	}
	for _, tc := range []struct {
		name   string
		remove [2]func(int64) error
	}{
		{"two deactivations", [2]func(int64) error{deactivate, deactivate}},
		{"two demotions", [2]func(int64) error{demote, demote}},
		{"a deactivation and a demotion", [2]func(int64) error{deactivate, demote}},
	} {
		t.Run(tc.name+": exactly one succeeds", func(t *testing.T) {
			for round := range 20 {
				for _, id := range admins {
					if err := e.db.SetUserActive(ctx, id, true, nil); err != nil {
						t.Fatal(err)
					}
					if _, err := e.svc.Update(ctx, id, user.Patch{Role: ptrTo(user.RoleAdmin)}); err != nil {
						t.Fatal(err)
					}
				}
				var wg sync.WaitGroup
				var errs [2]error
				for i, id := range admins {
					wg.Go(func() { errs[i] = tc.remove[i](id) })
				}
				wg.Wait()
				refused := 0
				for _, err := range errs {
					switch {
					case errors.Is(err, user.ErrLastAdmin):
						refused++
					case err != nil:
						t.Fatalf("round %d: %v", round, err)
					}
				}
				n, err := e.db.CountActiveAdmins(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if refused != 1 || n != 1 {
					t.Fatalf("round %d: %d of 2 refused, %d active admins left; want 1 refused and 1 admin left", round, refused, n)
				}
			}
		})
	}
}
