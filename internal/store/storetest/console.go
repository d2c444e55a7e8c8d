package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/console"
	"github.com/inkpass/inkpass/internal/user"
)

func runConsole(t *testing.T, open Opener) {
	t.Run("ReauthenticateSession moves auth_time and amr of a live session, never of an ended one", func(t *testing.T) {
		e := newEnv(t, open)
		if e.Console == nil {
			t.Skip("no console storage")
		}
		u := e.createUser(user.RoleAdmin)
		cookie, sid := e.signIn(u)
		e.clock.Advance(10 * time.Minute)
		at := e.clock.Now()
		if err := e.Console.ReauthenticateSession(e.ctx, sid, at, []string{"pwd", "otp", "mfa"}); err != nil {
			t.Fatalf("ReauthenticateSession: %v", err)
		}
		s, err := e.Store.SessionByTokenHash(e.ctx, cookie)
		if err != nil {
			t.Fatal(err)
		}
		if !s.AuthTime.Equal(at) || !slices.Equal(s.AMR, []string{"pwd", "otp", "mfa"}) {
			t.Errorf("session after re-authentication: auth_time %v amr %v, want %v [pwd otp mfa]", s.AuthTime, s.AMR, at)
		}
		if err := e.Store.RevokeSession(e.ctx, cookie); err != nil {
			t.Fatal(err)
		}
		if err := e.Console.ReauthenticateSession(e.ctx, sid, at, []string{"pwd"}); err == nil {
			t.Errorf("re-authenticating an ended session succeeded")
		}
		if e.sessionLive(cookie) {
			t.Errorf("an ended session came back to life")
		}
	})

	t.Run("SearchPeople matches text in any letter case, literally, and filters by role and state", func(t *testing.T) {
		e := newEnv(t, open)
		if e.Console == nil {
			t.Skip("no console storage")
		}
		tag := unique("srch")
		mk := func(username string, role user.Role, email, ig, name string, active bool) int64 {
			u := &user.User{Username: username, PasswordHash: fakeHash, Role: role, Active: true, Email: email, Instagram: ig, Name: name}
			if role == user.RoleArtist {
				aid, err := e.Console.CreateArtist(e.ctx, "Artist "+username)
				if err != nil {
					t.Fatal(err)
				}
				u.ArtistID = &aid
			}
			id, err := e.Users.CreateUser(e.ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			if !active {
				if err := e.Users.SetUserActive(e.ctx, id, false, nil); err != nil {
					t.Fatal(err)
				}
			}
			return id
		}
		a := mk(tag+"_a", user.RoleAssistant, tag+"@Example.test", "", "Ann", true)
		b := mk(tag+"_b", user.RoleArtist, "", tag+".ink", "Bea 100%", true)
		c := mk(tag+"_c", user.RoleAssistant, "", "", "Cy", false)
		ids := func(q console.PeopleQuery) []int64 {
			t.Helper()
			got, err := e.Console.SearchPeople(e.ctx, q)
			if err != nil {
				t.Fatalf("SearchPeople(%+v): %v", q, err)
			}
			var out []int64
			for _, p := range got {
				if p.HasFactor {
					t.Errorf("%s has a factor it was never given", p.Username)
				}
				out = append(out, p.ID)
			}
			return out
		}
		yes, no := true, false
		for _, tc := range []struct {
			name string
			q    console.PeopleQuery
			want []int64
		}{
			{"username, other case", console.PeopleQuery{Text: tag + "_A"}, []int64{a}},
			{"email", console.PeopleQuery{Text: tag + "@example"}, []int64{a}},
			{"instagram with @", console.PeopleQuery{Text: "@" + tag + ".INK"}, []int64{b}},
			{"everyone tagged", console.PeopleQuery{Text: tag}, []int64{a, b, c}},
			{"% is a character", console.PeopleQuery{Text: "100%"}, []int64{b}},
			// LIKE's _ would match the tag's last digit; the search does not.
			{"_ is a character", console.PeopleQuery{Text: tag[:len(tag)-1] + "_"}, nil},
			{"role", console.PeopleQuery{Text: tag, Role: user.RoleArtist}, []int64{b}},
			{"active", console.PeopleQuery{Text: tag, Active: &yes}, []int64{a, b}},
			{"inactive", console.PeopleQuery{Text: tag, Active: &no}, []int64{c}},
			{"without a factor", console.PeopleQuery{Text: tag, HasFactor: &no}, []int64{a, b, c}},
			{"with a factor", console.PeopleQuery{Text: tag, HasFactor: &yes}, nil},
		} {
			if got := ids(tc.q); !slices.Equal(got, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		}
	})

	t.Run("RenameArtist renames an artist record; an unknown id is ErrArtistNotFound", func(t *testing.T) {
		e := newEnv(t, open)
		if e.Console == nil || !e.Console.ArtistsHaveNames() {
			t.Skip("no artist names")
		}
		id, err := e.Console.CreateArtist(e.ctx, unique("artist"))
		if err != nil {
			t.Fatal(err)
		}
		name := unique("renamed")
		if err := e.Console.RenameArtist(e.ctx, id, name); err != nil {
			t.Fatalf("RenameArtist: %v", err)
		}
		list, err := e.Console.ListArtists(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.IndexFunc(list, func(a user.Artist) bool { return a.ID == id }); i < 0 || list[i].Name != name {
			t.Errorf("artists = %v, want %d named %s", list, id, name)
		}
		if err := e.Console.RenameArtist(e.ctx, 1<<40, name); !errors.Is(err, user.ErrArtistNotFound) {
			t.Errorf("unknown artist: %v, want ErrArtistNotFound", err)
		}
	})

	t.Run("ConsoleCounts counts active people by role, enabled apps and today's sign-ins and failures", func(t *testing.T) {
		e := newEnv(t, open)
		if e.Console == nil {
			t.Skip("no console storage")
		}
		before, err := e.Console.ConsoleCounts(e.ctx, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		e.createUser(user.RoleAssistant)
		gone := e.createUser(user.RoleAssistant)
		if err := e.Users.SetUserActive(e.ctx, gone.ID, false, nil); err != nil {
			t.Fatal(err)
		}
		e.createClient()
		for _, k := range []audit.Kind{audit.LoginSucceeded, audit.LoginSucceeded, audit.LoginFailed} {
			if err := e.Audit.Record(e.ctx, audit.Event{Kind: k, At: e.clock.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		after, err := e.Console.ConsoleCounts(e.ctx, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if d := after.ActiveByRole[user.RoleAssistant] - before.ActiveByRole[user.RoleAssistant]; d != 1 {
			t.Errorf("active assistants grew by %d, want 1", d)
		}
		if d := after.Inactive - before.Inactive; d != 1 {
			t.Errorf("inactive grew by %d, want 1", d)
		}
		if after.ActiveApps-before.ActiveApps != 1 || after.SignInsToday-before.SignInsToday != 2 || after.FailuresToday-before.FailuresToday != 1 {
			t.Errorf("counts %+v after %+v: want one more app, two more sign-ins, one more failure", after, before)
		}
		later, err := e.Console.ConsoleCounts(e.ctx, e.clock.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if later.SignInsToday != 0 || later.FailuresToday != 0 {
			t.Errorf("counts since an hour ahead: %+v, want no sign-ins", later)
		}
	})

	t.Run("an event recorded under audit.WithActor names the actor", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleArtist)
		ctx := audit.WithActor(e.ctx, "admin:st_boss")
		if err := e.Audit.Record(ctx, audit.Event{Kind: audit.UserDeactivated, UserID: u.ID, Username: u.Username}); err != nil {
			t.Fatal(err)
		}
		if err := e.Audit.Record(ctx, audit.Event{Kind: audit.UserActivated, UserID: u.ID, Actor: "cli"}); err != nil {
			t.Fatal(err)
		}
		got, err := e.Audit.AuditEvents(e.ctx, audit.Filter{UserID: u.ID})
		if err != nil || len(got) != 2 {
			t.Fatalf("AuditEvents = %v, %v", got, err)
		}
		if got[0].Actor != "cli" || got[1].Actor != "admin:st_boss" {
			t.Errorf("actors = %q, %q; want the event's own, then the context's", got[0].Actor, got[1].Actor)
		}
	})
}
