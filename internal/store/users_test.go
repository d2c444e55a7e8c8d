package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/user"
)

// The user repository must behave the same on a database inkpass created and
// on the studio's own file, so one suite runs against both.
func TestUserRepository_FreshDatabase(t *testing.T) {
	runUserRepoTests(t, openFresh)
}

func TestUserRepository_AdoptedDatabase(t *testing.T) {
	runUserRepoTests(t, openAdopted)
}

// sqliteDateTime is how SQLite's CURRENT_TIMESTAMP and the studio's app write
// DATETIME columns.
var sqliteDateTime = regexp.MustCompile(`^'\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}'$`)

func ptr[T any](v T) *T { return &v }

// runUserRepoTests is the conformance suite of user.Repository and
// user.ThrottleStore. Each subtest opens its own database with open.
func runUserRepoTests(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()

	// setup opens a database and adds one artist for the suite's artist users.
	setup := func(t *testing.T) (*store.DB, *sql.DB, int64) {
		t.Helper()
		db := open(t)
		artist, err := db.CreateArtist(ctx, "Suite Artist")
		if err != nil {
			t.Fatalf("CreateArtist: %v", err)
		}
		return db, rawDB(t, db.Path()), artist
	}
	mustCreate := func(t *testing.T, db *store.DB, u user.User) int64 {
		t.Helper()
		if u.PasswordHash == "" {
			u.PasswordHash = "hash-of-" + u.Username
		}
		id, err := db.CreateUser(ctx, &u)
		if err != nil {
			t.Fatalf("CreateUser(%s): %v", u.Username, err)
		}
		return id
	}
	mustGet := func(t *testing.T, db *store.DB, id int64) *user.User {
		t.Helper()
		u, err := db.UserByID(ctx, id)
		if err != nil {
			t.Fatalf("UserByID(%d): %v", id, err)
		}
		return u
	}
	// rawRow reads columns of one users row through quote().
	rawRow := func(t *testing.T, raw *sql.DB, id int64, cols ...string) map[string]string {
		t.Helper()
		q := make([]string, len(cols))
		for i, c := range cols {
			q[i] = fmt.Sprintf("quote(%s)", c)
		}
		rows := queryStrings(t, raw, `SELECT `+strings.Join(q, ", ")+` FROM users WHERE id = ?`, id)
		if len(rows) != 1 {
			t.Fatalf("users row %d: found %d rows", id, len(rows))
		}
		m := map[string]string{}
		for i, c := range cols {
			m[c] = rows[0][i]
		}
		return m
	}

	t.Run("CreateUser stores every field and UserByID reads them back", func(t *testing.T) {
		db, raw, artist := setup(t)
		before := time.Now().UTC().Add(-time.Second)
		id := mustCreate(t, db, user.User{
			Username: "suite_ana", PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$ZGlnZXN0", Role: user.RoleArtist,
			ArtistID: &artist, Active: true, Name: "Ana Suite", Birthdate: "1990-05-17", Email: "ana@suite.example",
			Phone: "+1 555 0100", Instagram: "ana.ink",
		})
		got := mustGet(t, db, id)
		want := user.User{
			ID: id, Username: "suite_ana", PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$ZGlnZXN0", Role: user.RoleArtist,
			ArtistID: &artist, Active: true, Name: "Ana Suite", Birthdate: "1990-05-17", Email: "ana@suite.example",
			Phone: "+1 555 0100", Instagram: "ana.ink", ArtistName: "Suite Artist",
			CreatedAt: got.CreatedAt,
		}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("UserByID =\n %+v\nwant\n %+v", *got, want)
		}
		if got.CreatedAt.Before(before.Truncate(time.Second)) || got.CreatedAt.After(time.Now().Add(time.Second)) {
			t.Errorf("created_at = %v, want about now", got.CreatedAt)
		}
		r := rawRow(t, raw, id, "created_at", "birthdate", "is_active", "last_login")
		if !sqliteDateTime.MatchString(r["created_at"]) {
			t.Errorf("raw created_at = %s, want 'YYYY-MM-DD HH:MM:SS'", r["created_at"])
		}
		if r["birthdate"] != "'1990-05-17'" || r["is_active"] != "1" || r["last_login"] != "NULL" {
			t.Errorf("raw birthdate, is_active, last_login = %s, %s, %s; want '1990-05-17', 1, NULL", r["birthdate"], r["is_active"], r["last_login"])
		}
	})

	t.Run("empty optional fields are stored as NULL, never as empty text", func(t *testing.T) {
		db, raw, _ := setup(t)
		id := mustCreate(t, db, user.User{Username: "suite_min", Role: user.RoleAssistant, Active: true})
		r := rawRow(t, raw, id, "artist_id", "name", "birthdate", "email", "phone", "instagram", "last_login")
		for col, v := range r {
			if v != "NULL" {
				t.Errorf("raw %s = %s, want NULL", col, v)
			}
		}
		u := mustGet(t, db, id)
		if u.ArtistID != nil || u.LastLogin != nil || u.Name != "" || u.Email != "" {
			t.Errorf("NULL columns read back as %+v, want zero values", u)
		}
	})

	t.Run("UserByID of an id that does not exist returns ErrNotFound", func(t *testing.T) {
		db, _, _ := setup(t)
		if _, err := db.UserByID(ctx, 987654); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("err = %v, want user.ErrNotFound", err)
		}
	})

	t.Run("UserByUsername matches exactly, then regardless of letter case", func(t *testing.T) {
		db, raw, _ := setup(t)
		id := mustCreate(t, db, user.User{Username: "Suite.Kai", Role: user.RoleAdmin, Active: true})
		for _, name := range []string{"Suite.Kai", "suite.kai", "SUITE.KAI"} {
			u, err := db.UserByUsername(ctx, name)
			if err != nil || u.ID != id {
				t.Errorf("UserByUsername(%q) = %v, %v; want user %d", name, u, err, id)
			}
		}
		if _, err := db.UserByUsername(ctx, "suite.kai2"); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("UserByUsername of an unknown name: err = %v, want ErrNotFound", err)
		}

		// The studio's app may have left two names differing only by case;
		// the exact one wins, and an ambiguous fold finds nobody.
		if _, err := raw.Exec(`INSERT INTO users (username, password_hash, role) VALUES ('suite.KAI', 'x', 'assistant')`); err != nil {
			t.Fatal(err)
		}
		other, err := db.UserByUsername(ctx, "suite.KAI")
		if err != nil || other.ID == id {
			t.Errorf("UserByUsername(suite.KAI) = %v, %v; want the row spelled that way", other, err)
		}
		if u, err := db.UserByUsername(ctx, "Suite.Kai"); err != nil || u.ID != id {
			t.Errorf("UserByUsername(Suite.Kai) = %v, %v; want the exact row %d", u, err, id)
		}
		if _, err := db.UserByUsername(ctx, "SUITE.kai"); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("an ambiguous case-insensitive match: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("ListUsers filters by role and by active state, ordered by id", func(t *testing.T) {
		db, raw, artist := setup(t)
		mustCreate(t, db, user.User{Username: "suite_admin", Role: user.RoleAdmin, Active: true})
		mustCreate(t, db, user.User{Username: "suite_desk", Role: user.RoleAssistant, Active: true})
		gone := mustCreate(t, db, user.User{Username: "suite_gone", Role: user.RoleAssistant, Active: true})
		mustCreate(t, db, user.User{Username: "suite_artist", Role: user.RoleArtist, ArtistID: &artist, Active: true})
		if err := db.SetUserActive(ctx, gone, false, nil); err != nil {
			t.Fatal(err)
		}
		ids := func(us []*user.User) []string {
			out := []string{}
			for _, u := range us {
				out = append(out, strconv.FormatInt(u.ID, 10))
			}
			return out
		}
		rawIDs := func(where string) []string {
			out := []string{}
			for _, r := range queryStrings(t, raw, `SELECT id FROM users `+where+` ORDER BY id`) {
				out = append(out, r[0])
			}
			return out
		}
		for _, tc := range []struct {
			name   string
			filter user.Filter
			where  string
		}{
			{"no filter lists everyone", user.Filter{}, ""},
			{"role assistant lists assistants, active or not", user.Filter{Role: user.RoleAssistant}, "WHERE role = 'assistant'"},
			{"active lists only active users", user.Filter{Active: ptr(true)}, "WHERE is_active = 1"},
			{"inactive lists only deactivated users", user.Filter{Active: ptr(false)}, "WHERE is_active = 0"},
			{"role and inactive combine", user.Filter{Role: user.RoleAssistant, Active: ptr(false)}, "WHERE role = 'assistant' AND is_active = 0"},
			{"role artist lists artists", user.Filter{Role: user.RoleArtist}, "WHERE role = 'artist'"},
		} {
			got, err := db.ListUsers(ctx, tc.filter)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if want := rawIDs(tc.where); !reflect.DeepEqual(ids(got), want) {
				t.Errorf("%s: ids = %v, want %v", tc.name, ids(got), want)
			}
		}
		inactive, _ := db.ListUsers(ctx, user.Filter{Role: user.RoleAssistant, Active: ptr(false)})
		if !slicesContainsID(inactive, gone) {
			t.Errorf("the deactivated assistant %d is missing from the inactive list", gone)
		}
	})

	t.Run("UpdateUser writes profile fields, clears emptied ones and leaves the rest", func(t *testing.T) {
		db, raw, artist := setup(t)
		id := mustCreate(t, db, user.User{
			Username: "suite_upd", Role: user.RoleArtist, ArtistID: &artist, Active: true,
			Name: "Old Name", Email: "old@suite.example", Phone: "555-0101", Instagram: "old.handle", Birthdate: "1991-01-01",
		})
		if err := db.RecordLogin(ctx, id, time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC), "hash-of-suite_upd", ""); err != nil {
			t.Fatal(err)
		}
		keep := rawRow(t, raw, id, "password_hash", "is_active", "created_at", "last_login")

		u := mustGet(t, db, id)
		u.Username, u.Role, u.ArtistID = "suite_upd2", user.RoleAdmin, nil
		u.Name, u.Email, u.Phone, u.Instagram, u.Birthdate = "New Name", "", "", "", ""
		u.PasswordHash, u.Active = "must-not-be-written", false
		if err := updateAll(ctx, db, u); err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		r := rawRow(t, raw, id, "username", "role", "artist_id", "name", "email", "phone", "instagram", "birthdate")
		want := map[string]string{"username": "'suite_upd2'", "role": "'admin'", "artist_id": "NULL", "name": "'New Name'",
			"email": "NULL", "phone": "NULL", "instagram": "NULL", "birthdate": "NULL"}
		if !reflect.DeepEqual(r, want) {
			t.Errorf("row after update = %v, want %v", r, want)
		}
		if got := rawRow(t, raw, id, "password_hash", "is_active", "created_at", "last_login"); !reflect.DeepEqual(got, keep) {
			t.Errorf("UpdateUser changed columns it does not own: %v, want %v", got, keep)
		}

		u.ID = 987654
		u.Username = "suite_nobody"
		if err := updateAll(ctx, db, u); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("UpdateUser of a missing id: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("a username differing only by letter case is taken, on create and on update", func(t *testing.T) {
		db, _, _ := setup(t)
		mira := mustCreate(t, db, user.User{Username: "Suite_Mira", Role: user.RoleAssistant, Active: true})
		if _, err := db.CreateUser(ctx, &user.User{Username: "suite_mira", PasswordHash: "x", Role: user.RoleAssistant, Active: true}); !errors.Is(err, user.ErrUsernameTaken) {
			t.Errorf("create suite_mira: err = %v, want ErrUsernameTaken", err)
		}
		if _, err := db.CreateUser(ctx, &user.User{Username: "Suite_Mira", PasswordHash: "x", Role: user.RoleAssistant, Active: true}); !errors.Is(err, user.ErrUsernameTaken) {
			t.Errorf("create the same name again: err = %v, want ErrUsernameTaken", err)
		}
		other := mustCreate(t, db, user.User{Username: "suite_other", Role: user.RoleAssistant, Active: true})
		u := mustGet(t, db, other)
		u.Username = "SUITE_MIRA"
		if err := updateAll(ctx, db, u); !errors.Is(err, user.ErrUsernameTaken) {
			t.Errorf("rename to SUITE_MIRA: err = %v, want ErrUsernameTaken", err)
		}
		m := mustGet(t, db, mira)
		m.Username = "suite_mira"
		if err := updateAll(ctx, db, m); err != nil {
			t.Errorf("a user changing the case of their own name: err = %v, want nil", err)
		}
	})

	t.Run("an email already used in any letter case is taken; users without email do not clash", func(t *testing.T) {
		db, _, _ := setup(t)
		mustCreate(t, db, user.User{Username: "suite_e1", Role: user.RoleAssistant, Active: true, Email: "Desk@Suite.example"})
		mustCreate(t, db, user.User{Username: "suite_e2", Role: user.RoleAssistant, Active: true})
		e3 := mustCreate(t, db, user.User{Username: "suite_e3", Role: user.RoleAssistant, Active: true})
		if _, err := db.CreateUser(ctx, &user.User{Username: "suite_e4", PasswordHash: "x", Role: user.RoleAssistant, Active: true, Email: "desk@suite.EXAMPLE"}); !errors.Is(err, user.ErrEmailTaken) {
			t.Errorf("create with a used email: err = %v, want ErrEmailTaken", err)
		}
		u := mustGet(t, db, e3)
		u.Email = "DESK@SUITE.EXAMPLE"
		if err := updateAll(ctx, db, u); !errors.Is(err, user.ErrEmailTaken) {
			t.Errorf("update to a used email: err = %v, want ErrEmailTaken", err)
		}
	})

	t.Run("an artist_id that does not exist is refused, on create and on update", func(t *testing.T) {
		db, _, artist := setup(t)
		missing := int64(987654)
		if _, err := db.CreateUser(ctx, &user.User{Username: "suite_noartist", PasswordHash: "x", Role: user.RoleArtist, ArtistID: &missing, Active: true}); !errors.Is(err, user.ErrArtistNotFound) {
			t.Errorf("create: err = %v, want ErrArtistNotFound", err)
		}
		id := mustCreate(t, db, user.User{Username: "suite_art", Role: user.RoleArtist, ArtistID: &artist, Active: true})
		u := mustGet(t, db, id)
		u.ArtistID = &missing
		if err := updateAll(ctx, db, u); !errors.Is(err, user.ErrArtistNotFound) {
			t.Errorf("update: err = %v, want ErrArtistNotFound", err)
		}
	})

	t.Run("SetUserActive deactivates and reactivates without deleting the row", func(t *testing.T) {
		db, raw, _ := setup(t)
		id := mustCreate(t, db, user.User{Username: "suite_soft", Role: user.RoleAssistant, Active: true})
		if err := db.SetUserActive(ctx, id, false, nil); err != nil {
			t.Fatal(err)
		}
		if r := rawRow(t, raw, id, "is_active"); r["is_active"] != "0" {
			t.Errorf("raw is_active after deactivation = %s, want 0", r["is_active"])
		}
		if u := mustGet(t, db, id); u.Active {
			t.Error("UserByID says active after deactivation")
		}
		if err := db.SetUserActive(ctx, id, true, nil); err != nil {
			t.Fatal(err)
		}
		if r := rawRow(t, raw, id, "is_active"); r["is_active"] != "1" {
			t.Errorf("raw is_active after reactivation = %s, want 1", r["is_active"])
		}
		if err := db.SetUserActive(ctx, 987654, false, nil); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("SetUserActive of a missing id: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("RecordLogin without a new hash sets last_login in SQLite's UTC text form only", func(t *testing.T) {
		db, raw, _ := setup(t)
		id := mustCreate(t, db, user.User{Username: "suite_login", PasswordHash: "pbkdf2:old", Role: user.RoleAssistant, Active: true})
		at := time.Date(2025, 7, 1, 23, 30, 15, 987654321, time.FixedZone("CEST", 2*3600))
		if err := db.RecordLogin(ctx, id, at, "pbkdf2:old", ""); err != nil {
			t.Fatal(err)
		}
		r := rawRow(t, raw, id, "last_login", "typeof(last_login)", "password_hash")
		if r["last_login"] != "'2025-07-01 21:30:15'" || r["typeof(last_login)"] != "'text'" {
			t.Errorf("raw last_login = %s (%s), want '2025-07-01 21:30:15' (text)", r["last_login"], r["typeof(last_login)"])
		}
		if r["password_hash"] != "'pbkdf2:old'" {
			t.Errorf("password_hash = %s, want it unchanged", r["password_hash"])
		}
		u := mustGet(t, db, id)
		if u.LastLogin == nil || !u.LastLogin.Equal(at.Truncate(time.Second)) {
			t.Errorf("LastLogin read back = %v, want %v", u.LastLogin, at.Truncate(time.Second))
		}
		if err := db.RecordLogin(ctx, 987654, at, "pbkdf2:old", ""); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("RecordLogin of a missing id: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("RecordLogin with a new hash replaces the hash and sets last_login together", func(t *testing.T) {
		db, raw, _ := setup(t)
		id := mustCreate(t, db, user.User{Username: "suite_rehash", PasswordHash: "pbkdf2:old", Role: user.RoleAssistant, Active: true})
		at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
		if err := db.RecordLogin(ctx, id, at, "pbkdf2:old", "scrypt:new"); err != nil {
			t.Fatal(err)
		}
		r := rawRow(t, raw, id, "last_login", "password_hash")
		if r["last_login"] != "'2025-01-02 03:04:05'" || r["password_hash"] != "'scrypt:new'" {
			t.Errorf("raw last_login, password_hash = %s, %s; want '2025-01-02 03:04:05', 'scrypt:new'", r["last_login"], r["password_hash"])
		}
	})

	t.Run("SetPasswordHash replaces only the hash", func(t *testing.T) {
		db, raw, _ := setup(t)
		id := mustCreate(t, db, user.User{Username: "suite_pw", PasswordHash: "old", Role: user.RoleAssistant, Active: true})
		if err := db.SetPasswordHash(ctx, id, "new"); err != nil {
			t.Fatal(err)
		}
		if r := rawRow(t, raw, id, "password_hash", "last_login"); r["password_hash"] != "'new'" || r["last_login"] != "NULL" {
			t.Errorf("row = %v, want password_hash 'new' and last_login NULL", r)
		}
		if err := db.SetPasswordHash(ctx, 987654, "new"); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("SetPasswordHash of a missing id: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("CountActiveAdmins counts active admins only", func(t *testing.T) {
		db, raw, _ := setup(t)
		mustCreate(t, db, user.User{Username: "suite_a1", Role: user.RoleAdmin, Active: true})
		a2 := mustCreate(t, db, user.User{Username: "suite_a2", Role: user.RoleAdmin, Active: true})
		if err := db.SetUserActive(ctx, a2, false, nil); err != nil {
			t.Fatal(err)
		}
		n, err := db.CountActiveAdmins(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := strconv.Atoi(queryStrings(t, raw, `SELECT count(*) FROM users WHERE role = 'admin' AND is_active = 1`)[0][0])
		if n != want || n < 1 {
			t.Errorf("CountActiveAdmins = %d, want %d (at least suite_a1)", n, want)
		}
	})

	t.Run("CreateArtist adds a record that ListArtists returns", func(t *testing.T) {
		db, raw, first := setup(t)
		id, err := db.CreateArtist(ctx, "Second Suite Artist")
		if err != nil {
			t.Fatal(err)
		}
		if id <= first {
			t.Errorf("second artist id %d is not after %d", id, first)
		}
		list, err := db.ListArtists(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(queryStrings(t, raw, `SELECT count(*) FROM artists`)[0][0])
		if len(list) != n {
			t.Errorf("ListArtists returned %d artists, the table holds %d", len(list), n)
		}
		if last := list[len(list)-1]; last.ID != id || last.Name != "Second Suite Artist" {
			t.Errorf("last artist = %+v, want {%d Second Suite Artist}", last, id)
		}
	})

	t.Run("20 concurrent creates of one username: exactly one wins, the rest are told it is taken", func(t *testing.T) {
		db, raw, _ := setup(t)
		// A second store on the same file stands for the CLI running beside
		// the server: two processes, two write connections.
		other := mustOpen(t, db.Path(), store.Options{})
		var wg sync.WaitGroup
		errs := make([]error, 20)
		for i := range errs {
			wg.Go(func() {
				s := db
				if i%2 == 1 {
					s = other
				}
				_, errs[i] = s.CreateUser(ctx, &user.User{Username: "suite_race", PasswordHash: "x", Role: user.RoleAssistant, Active: true})
			})
		}
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case errors.Is(err, user.ErrUsernameTaken):
			default:
				t.Errorf("goroutine %d: err = %v, want nil or ErrUsernameTaken", i, err)
			}
		}
		if won != 1 {
			t.Errorf("%d creates succeeded, want exactly 1", won)
		}
		if n := queryStrings(t, raw, `SELECT count(*) FROM users WHERE username = 'suite_race'`)[0][0]; n != "1" {
			t.Errorf("%s rows named suite_race, want 1", n)
		}
	})

	t.Run("throttle: attempts older than the window are forgotten", func(t *testing.T) {
		db, _, _ := setup(t)
		start := time.Unix(1_750_000_000, 0)
		window := 10 * time.Minute
		keys := []user.ThrottleKey{{Scope: user.ScopeAddress, Key: "192.0.2.7", LockFor: func(int) time.Duration { return 0 }}}
		for _, tc := range []struct {
			at   time.Duration
			want int
		}{
			{0, 1},
			{time.Minute, 2},
			// Exactly one window after the last failure still counts.
			{time.Minute + window, 3},
			// More than a window after the last failure starts over.
			{time.Minute + 2*window + time.Second, 1},
			{time.Minute + 2*window + 2*time.Second, 2},
		} {
			counts, _, err := db.Reserve(ctx, start.Add(tc.at), window, keys)
			if err != nil {
				t.Fatal(err)
			}
			if len(counts) != 1 || counts[0] != tc.want {
				t.Errorf("attempt at +%v counted as %v, want [%d]", tc.at, counts, tc.want)
			}
		}
	})
}

func slicesContainsID(us []*user.User, id int64) bool {
	for _, u := range us {
		if u.ID == id {
			return true
		}
	}
	return false
}

// updateAll writes every profile column of u through UpdateUser, as an
// update that changes them all would.
func updateAll(ctx context.Context, db *store.DB, u *user.User) error {
	_, err := db.UpdateUser(ctx, u.ID, func(cur *user.User, _ int) ([]string, error) {
		*cur = *u
		return []string{"username", "role", "artist_id", "name", "birthdate", "email", "phone", "instagram"}, nil
	})
	return err
}
