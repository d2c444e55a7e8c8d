package storetest

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

func runUsers(t *testing.T, open Opener) {
	t.Run("CreateUser stores the fields and both lookups read them back", func(t *testing.T) {
		e := newEnv(t, open)
		u := &user.User{Username: unique("Ana"), PasswordHash: fakeHash, Role: user.RoleAssistant, Active: true,
			Name: "Ana Suite", Birthdate: "1990-05-17", Email: unique("ana") + "@suite.example", Phone: "+1 555 0100", Instagram: "ana.ink"}
		id, err := e.Users.CreateUser(e.ctx, u)
		if err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		got := e.getUser(id)
		if got.ID != id || got.Username != u.Username || got.PasswordHash != fakeHash || got.Role != u.Role || !got.Active ||
			got.Name != u.Name || got.Birthdate != u.Birthdate || got.Email != u.Email || got.Phone != u.Phone || got.Instagram != u.Instagram {
			t.Errorf("UserByID = %+v, want the fields of %+v", got, u)
		}
		if got.LastLogin != nil || got.ArtistID != nil {
			t.Errorf("LastLogin, ArtistID = %v, %v; want nil, nil", got.LastLogin, got.ArtistID)
		}
		for _, name := range []string{u.Username, strings.ToUpper(u.Username), strings.ToLower(u.Username)} {
			byName, err := e.Users.UserByUsername(e.ctx, name)
			if err != nil || byName.ID != id {
				t.Errorf("UserByUsername(%q) = %v, %v; want user %d", name, byName, err, id)
			}
		}
	})

	t.Run("lookups of a user that does not exist return ErrNotFound", func(t *testing.T) {
		e := newEnv(t, open)
		if _, err := e.Users.UserByID(e.ctx, 987654321); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("UserByID: err = %v, want user.ErrNotFound", err)
		}
		if _, err := e.Users.UserByUsername(e.ctx, unique("nobody")); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("UserByUsername: err = %v, want user.ErrNotFound", err)
		}
	})

	t.Run("a username taken in another letter case and a taken email are refused", func(t *testing.T) {
		e := newEnv(t, open)
		first := &user.User{Username: unique("Case"), PasswordHash: fakeHash, Role: user.RoleAssistant, Active: true, Email: unique("e") + "@suite.example"}
		if _, err := e.Users.CreateUser(e.ctx, first); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		dup := &user.User{Username: strings.ToUpper(first.Username), PasswordHash: fakeHash, Role: user.RoleAssistant, Active: true}
		if _, err := e.Users.CreateUser(e.ctx, dup); !errors.Is(err, user.ErrUsernameTaken) {
			t.Errorf("CreateUser(%q) after %q: err = %v, want ErrUsernameTaken", dup.Username, first.Username, err)
		}
		mail := &user.User{Username: unique("mail"), PasswordHash: fakeHash, Role: user.RoleAssistant, Active: true, Email: first.Email}
		if _, err := e.Users.CreateUser(e.ctx, mail); !errors.Is(err, user.ErrEmailTaken) {
			t.Errorf("CreateUser with a taken email: err = %v, want ErrEmailTaken", err)
		}
		other := e.createUser(user.RoleAssistant)
		_, err := e.Users.UpdateUser(e.ctx, other.ID, func(u *user.User, _ int) ([]string, error) {
			u.Username = strings.ToLower(first.Username)
			return []string{"username"}, nil
		})
		if !errors.Is(err, user.ErrUsernameTaken) {
			t.Errorf("UpdateUser to a taken username: err = %v, want ErrUsernameTaken", err)
		}
		if got := e.getUser(other.ID); got.Username != other.Username {
			t.Errorf("refused update changed the username to %q", got.Username)
		}
	})

	t.Run("UpdateUser writes only the columns the change names", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		got, err := e.Users.UpdateUser(e.ctx, u.ID, func(u *user.User, _ int) ([]string, error) {
			u.Name = "Renamed"
			u.Phone = "+1 555 0199" // changed but not named: must not be written
			return []string{"name"}, nil
		})
		if err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		stored := e.getUser(u.ID)
		if got.Name != "Renamed" || stored.Name != "Renamed" || stored.Phone != "" {
			t.Errorf("after UpdateUser(name): returned name %q, stored name %q phone %q; want Renamed, Renamed, empty", got.Name, stored.Name, stored.Phone)
		}
		refusal := errors.New("refused by the rule")
		_, err = e.Users.UpdateUser(e.ctx, u.ID, func(u *user.User, _ int) ([]string, error) {
			u.Name = "Never"
			return nil, refusal
		})
		if !errors.Is(err, refusal) || e.getUser(u.ID).Name != "Renamed" {
			t.Errorf("UpdateUser with a refusing change: err = %v, name %q; want the refusal and no write", err, e.getUser(u.ID).Name)
		}
		if _, err := e.Users.UpdateUser(e.ctx, 987654321, func(*user.User, int) ([]string, error) { return nil, nil }); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("UpdateUser of an unknown id: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("RecordLogin sets last_login and replaces the hash only when given one", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		at := e.clock.Now()
		if err := e.Users.RecordLogin(e.ctx, u.ID, at, fakeHash, ""); err != nil {
			t.Fatalf("RecordLogin: %v", err)
		}
		got := e.getUser(u.ID)
		if got.LastLogin == nil || !got.LastLogin.Equal(at) || got.PasswordHash != fakeHash {
			t.Errorf("after RecordLogin(no hash): last_login %v, hash %q; want %v and the old hash", got.LastLogin, got.PasswordHash, at)
		}
		const upgraded = "$argon2id$v=19$m=65536,t=3,p=1$c3VpdGU$dXBncmFkZWQ"
		if err := e.Users.RecordLogin(e.ctx, u.ID, at, fakeHash, upgraded); err != nil {
			t.Fatalf("RecordLogin: %v", err)
		}
		if got := e.getUser(u.ID); got.PasswordHash != upgraded {
			t.Errorf("after RecordLogin(new hash): hash %q, want %q", got.PasswordHash, upgraded)
		}
	})

	t.Run("RecordLogin never puts back a hash that was replaced after the login verified it", func(t *testing.T) {
		// A sign-in verifies the old password, then spends a hash's time
		// upgrading it; meanwhile the password is changed (the account
		// page, the CLI, or the studio's app). Writing the upgrade then
		// would bring the old password back and undo the change.
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		const changed = "$argon2id$v=19$m=19456,t=2,p=1$c3VpdGU$Y2hhbmdlZA"
		const upgradedOld = "$argon2id$v=19$m=65536,t=3,p=1$c3VpdGU$b2xkLXVwZ3JhZGVk"
		if err := e.Users.SetPasswordHash(e.ctx, u.ID, changed); err != nil {
			t.Fatal(err)
		}
		err := e.Users.RecordLogin(e.ctx, u.ID, e.clock.Now(), fakeHash, upgradedOld)
		if !errors.Is(err, user.ErrLoginStale) {
			t.Errorf("RecordLogin after a password change: err = %v, want ErrLoginStale", err)
		}
		if got := e.getUser(u.ID); got.PasswordHash != changed || got.LastLogin != nil {
			t.Errorf("after a stale RecordLogin: hash %q, last_login %v; want the changed hash %q and none", got.PasswordHash, got.LastLogin, changed)
		}
		// The same for a deactivation while the login was hashing.
		v := e.createUser(user.RoleAssistant)
		if err := e.Users.SetUserActive(e.ctx, v.ID, false, nil); err != nil {
			t.Fatal(err)
		}
		if err := e.Users.RecordLogin(e.ctx, v.ID, e.clock.Now(), fakeHash, ""); !errors.Is(err, user.ErrLoginStale) {
			t.Errorf("RecordLogin after a deactivation: err = %v, want ErrLoginStale", err)
		}
		if err := e.Users.RecordLogin(e.ctx, 987654321, e.clock.Now(), fakeHash, ""); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("RecordLogin of an unknown id: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("deactivating ends the user's sessions, tokens and codes and queues back-channel logouts; reactivating brings none back", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		bystander := e.createUser(user.RoleAssistant)
		c := e.createClient()
		cookie, sid := e.signIn(u)
		toks, _ := e.mustRedeem(c, u, sid)
		code, _ := e.issueCode(c, u, sid)
		otherCookie, otherSID := e.signIn(bystander)
		otherToks, _ := e.mustRedeem(c, bystander, otherSID)

		if err := e.Users.SetUserActive(e.ctx, u.ID, false, nil); err != nil {
			t.Fatalf("SetUserActive(false): %v", err)
		}
		if e.sessionLive(cookie) || e.accessLive(toks.Access) || e.refreshLive(toks.Refresh) || e.codeLive(code) {
			t.Errorf("after deactivation: session %v, access %v, refresh %v, code %v; want all dead",
				e.sessionLive(cookie), e.accessLive(toks.Access), e.refreshLive(toks.Refresh), e.codeLive(code))
		}
		if !e.sessionLive(otherCookie) || !e.accessLive(otherToks.Access) {
			t.Errorf("deactivating one user ended another's session or token")
		}
		want := []noticeKey{{c.ID, sid, itoa(u.ID)}}
		if got := e.claimAll(); !slices.Equal(got, want) {
			t.Errorf("back-channel notices queued = %v, want %v", got, want)
		}
		if err := e.Users.SetUserActive(e.ctx, u.ID, true, nil); err != nil {
			t.Fatalf("SetUserActive(true): %v", err)
		}
		if !e.getUser(u.ID).Active || e.sessionLive(cookie) || e.accessLive(toks.Access) || e.refreshLive(toks.Refresh) {
			t.Errorf("reactivation brought a session or token back")
		}
		if err := e.Users.SetUserActive(e.ctx, 987654321, false, nil); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("SetUserActive of an unknown id: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("SetPasswordHash ends every session and every app's tokens and codes, and keeps consents", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c1, c2 := e.createClient(), e.createClient()
		cookie, sid := e.signIn(u)
		t1, _ := e.mustRedeem(c1, u, sid)
		t2, _ := e.mustRedeem(c2, u, "")
		code, _ := e.issueCode(c2, u, "")
		if err := e.Store.GrantConsent(e.ctx, u.ID, c1.ID, []string{"openid", "profile"}); err != nil {
			t.Fatal(err)
		}
		const next = "$argon2id$v=19$m=19456,t=2,p=1$c3VpdGU$bmV3LWhhc2g"
		if err := e.Users.SetPasswordHash(e.ctx, u.ID, next); err != nil {
			t.Fatalf("SetPasswordHash: %v", err)
		}
		if got := e.getUser(u.ID).PasswordHash; got != next {
			t.Errorf("hash = %q, want %q", got, next)
		}
		for name, live := range map[string]bool{
			"session": e.sessionLive(cookie), "app 1 access": e.accessLive(t1.Access), "app 1 refresh": e.refreshLive(t1.Refresh),
			"app 2 access": e.accessLive(t2.Access), "app 2 refresh": e.refreshLive(t2.Refresh), "unredeemed code": e.codeLive(code),
		} {
			if live {
				t.Errorf("%s still live after a password change", name)
			}
		}
		if got, _ := e.Store.ConsentScopes(e.ctx, u.ID, c1.ID); len(got) != 2 {
			t.Errorf("consent after a password change = %v, want it kept", got)
		}
		if err := e.Users.SetPasswordHash(e.ctx, 987654321, next); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("SetPasswordHash of an unknown id: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("two concurrent deactivations of the last two admins: the check sees committed counts, so one is refused", func(t *testing.T) {
		e := newEnv(t, open)
		active := true
		before, err := e.Users.ListUsers(e.ctx, user.Filter{Role: user.RoleAdmin, Active: &active})
		if err != nil {
			t.Fatal(err)
		}
		a, b := e.createUser(user.RoleAdmin), e.createUser(user.RoleAdmin)
		// The guard keeps at least len(before)+1 admins: of a and b, one
		// must stay.
		keep := len(before) + 1
		errLast := errors.New("last admin")
		guard := func(u *user.User, admins int) error {
			if u.Role == user.RoleAdmin && u.Active && admins <= keep {
				return errLast
			}
			return nil
		}
		for round := range 5 {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, id := range []int64{a.ID, b.ID} {
				wg.Go(func() { errs[i] = e.Users.SetUserActive(e.ctx, id, false, guard) })
			}
			wg.Wait()
			refused := 0
			for _, err := range errs {
				switch {
				case errors.Is(err, errLast):
					refused++
				case err != nil:
					t.Fatalf("round %d: SetUserActive: %v", round, err)
				}
			}
			after, err := e.Users.ListUsers(e.ctx, user.Filter{Role: user.RoleAdmin, Active: &active})
			if err != nil {
				t.Fatal(err)
			}
			if refused != 1 || len(after) != keep {
				t.Fatalf("round %d: %d of 2 deactivations refused, %d active admins left; want 1 refused and %d left", round, refused, len(after), keep)
			}
			for _, id := range []int64{a.ID, b.ID} {
				if err := e.Users.SetUserActive(e.ctx, id, true, nil); err != nil {
					t.Fatal(err)
				}
			}
		}
	})

	t.Run("a demotion and a deactivation of the last two admins at once: one is refused", func(t *testing.T) {
		e := newEnv(t, open)
		active := true
		before, err := e.Users.ListUsers(e.ctx, user.Filter{Role: user.RoleAdmin, Active: &active})
		if err != nil {
			t.Fatal(err)
		}
		keep := len(before) + 1
		errLast := errors.New("last admin")
		for round := range 5 {
			a, b := e.createUser(user.RoleAdmin), e.createUser(user.RoleAdmin)
			var wg sync.WaitGroup
			var demoteErr, deactivateErr error
			wg.Go(func() {
				_, demoteErr = e.Users.UpdateUser(e.ctx, a.ID, func(u *user.User, admins int) ([]string, error) {
					if admins <= keep {
						return nil, errLast
					}
					u.Role = user.RoleAssistant
					return []string{"role"}, nil
				})
			})
			wg.Go(func() {
				deactivateErr = e.Users.SetUserActive(e.ctx, b.ID, false, func(u *user.User, admins int) error {
					if admins <= keep {
						return errLast
					}
					return nil
				})
			})
			wg.Wait()
			if errors.Is(demoteErr, errLast) == errors.Is(deactivateErr, errLast) {
				t.Fatalf("round %d: demotion err %v, deactivation err %v; want exactly one refused", round, demoteErr, deactivateErr)
			}
			after, err := e.Users.ListUsers(e.ctx, user.Filter{Role: user.RoleAdmin, Active: &active})
			if err != nil {
				t.Fatal(err)
			}
			if len(after) != keep {
				t.Fatalf("round %d: %d active admins, want %d", round, len(after), keep)
			}
			// Leave exactly the baseline for the next round.
			for _, id := range []int64{a.ID, b.ID} {
				if err := e.Users.SetUserActive(e.ctx, id, false, nil); err != nil {
					t.Fatal(err)
				}
			}
		}
	})

	t.Run("SetVerification verifies the current value; a changed value is unverified", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		var fe *user.FieldError
		if _, err := e.Users.SetVerification(e.ctx, u.ID, user.ContactEmail, true); !errors.As(err, &fe) {
			t.Errorf("verifying an empty email: err = %v, want a *FieldError", err)
		}
		if _, err := e.Users.UpdateUser(e.ctx, u.ID, func(u *user.User, _ int) ([]string, error) {
			u.Email = unique("v") + "@suite.example"
			return []string{"email"}, nil
		}); err != nil {
			t.Fatal(err)
		}
		got, err := e.Users.SetVerification(e.ctx, u.ID, user.ContactEmail, true)
		if err != nil || !got.EmailVerified || got.PhoneVerified {
			t.Fatalf("SetVerification(email) = %+v, %v; want email verified only", got, err)
		}
		if _, err := e.Users.UpdateUser(e.ctx, u.ID, func(u *user.User, _ int) ([]string, error) {
			u.Email = unique("w") + "@suite.example"
			return []string{"email"}, nil
		}); err != nil {
			t.Fatal(err)
		}
		if e.getUser(u.ID).EmailVerified {
			t.Errorf("a changed email is still verified")
		}
		if _, err := e.Users.SetVerification(e.ctx, 987654321, user.ContactEmail, false); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("SetVerification of an unknown id: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("RevokeInactiveUser leaves an active user alone", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		cookie, sid := e.signIn(u)
		toks, _ := e.mustRedeem(c, u, sid)
		if err := e.Finder.RevokeInactiveUser(e.ctx, u.ID); err != nil {
			t.Fatalf("RevokeInactiveUser: %v", err)
		}
		if !e.sessionLive(cookie) || !e.accessLive(toks.Access) || !e.refreshLive(toks.Refresh) {
			t.Errorf("RevokeInactiveUser revoked what an active user holds")
		}
		if got := e.claimAll(); len(got) != 0 {
			t.Errorf("RevokeInactiveUser of an active user queued notices %v", got)
		}
	})

	t.Run("a user deactivated behind inkpass's back is refused at once, and RevokeInactiveUser ends what they hold", func(t *testing.T) {
		e := newEnv(t, open)
		if e.StudioDeactivate == nil {
			t.Skip("backend has no outside writer")
		}
		u := e.createUser(user.RoleAssistant)
		c := e.createClient()
		cookie, sid := e.signIn(u)
		toks, _ := e.mustRedeem(c, u, sid)
		e.issueCode(c, u, sid) // unredeemed
		e.StudioDeactivate(t, u.ID)

		_, err := e.Store.SessionByTokenHash(e.ctx, cookie)
		var inactive *session.InactiveUserError
		if !errors.As(err, &inactive) || inactive.UserID != u.ID || !errors.Is(err, session.ErrNotFound) {
			t.Errorf("SessionByTokenHash of an inactive user's session: err = %v, want a *session.InactiveUserError for %d matching ErrNotFound", err, u.ID)
		}
		if got, err := e.Finder.UserByID(e.ctx, u.ID); err != nil || got.Active {
			t.Errorf("UserByID of an inactive user = %v, %v; want the user, inactive", got, err)
		}
		// Every path that meets the user calls it; only the first finds
		// anything live, and only that one revokes and audits.
		for range 3 {
			if err := e.Finder.RevokeInactiveUser(e.ctx, u.ID); err != nil {
				t.Fatalf("RevokeInactiveUser: %v", err)
			}
		}
		if evs := e.events(audit.TokenRevoked); len(evs) != 1 || evs[0].UserID != u.ID {
			t.Errorf("token_revoked events after three RevokeInactiveUser = %+v, want one for user %d", evs, u.ID)
		}
		want := []noticeKey{{c.ID, sid, itoa(u.ID)}}
		if got := e.claimAll(); !slices.Equal(got, want) {
			t.Errorf("notices after RevokeInactiveUser = %v, want %v", got, want)
		}
		if err := e.Users.SetUserActive(e.ctx, u.ID, true, nil); err != nil {
			t.Fatal(err)
		}
		if e.sessionLive(cookie) || e.accessLive(toks.Access) || e.refreshLive(toks.Refresh) {
			t.Errorf("reactivating the user brought back what RevokeInactiveUser ended")
		}
	})

	t.Run("ListUsers filters by role and active", func(t *testing.T) {
		e := newEnv(t, open)
		a := e.createUser(user.RoleAssistant)
		b := e.createUser(user.RoleAssistant)
		if err := e.Users.SetUserActive(e.ctx, b.ID, false, nil); err != nil {
			t.Fatal(err)
		}
		inactive := false
		got, err := e.Users.ListUsers(e.ctx, user.Filter{Role: user.RoleAssistant, Active: &inactive})
		if err != nil {
			t.Fatal(err)
		}
		ids := map[int64]bool{}
		for _, u := range got {
			ids[u.ID] = true
			if u.Role != user.RoleAssistant || u.Active {
				t.Errorf("ListUsers(assistant, inactive) returned %s (%s, active %v)", u.Username, u.Role, u.Active)
			}
		}
		if !ids[b.ID] || ids[a.ID] {
			t.Errorf("ListUsers(assistant, inactive) = %v, want %d in and %d out", ids, b.ID, a.ID)
		}
		all, err := e.Users.ListUsers(e.ctx, user.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.IsSortedFunc(all, func(x, y *user.User) int { return int(x.ID - y.ID) }) {
			t.Errorf("ListUsers is not ordered by id")
		}
	})
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
