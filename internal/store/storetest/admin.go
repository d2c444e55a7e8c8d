package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

func runSessionAdmin(t *testing.T, open Opener) {
	t.Run("UserSessions lists the user's live sessions, newest first, with their methods and clients", func(t *testing.T) {
		e := newEnv(t, open)
		u, other := e.createUser(user.RoleAssistant), e.createUser(user.RoleAssistant)
		c1, c2 := e.createClient(), e.createClient()
		now := e.clock.Now()
		mfa := session.Session{SID: unique("sid"), UserID: u.ID, AuthTime: now, AMR: []string{"pwd", "otp", "mfa"},
			CreatedAt: now, ExpiresAt: now.Add(2 * time.Hour)}
		if err := e.Store.CreateSession(e.ctx, session.Hash(session.NewToken()), mfa); err != nil {
			t.Fatal(err)
		}
		e.mustRedeem(c2, u, mfa.SID)
		e.mustRedeem(c1, u, mfa.SID)
		e.clock.Advance(time.Minute)
		revoked, _ := e.signIn(u)
		if err := e.Store.RevokeSession(e.ctx, revoked); err != nil {
			t.Fatal(err)
		}
		short, _ := e.signIn(u) // expires in an hour, before mfa's
		e.signIn(other)
		e.clock.Advance(time.Minute)
		_, newest := e.signIn(u)

		got, err := e.SessionAdmin.UserSessions(e.ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		var sids []string
		for _, l := range got {
			sids = append(sids, l.SID)
		}
		liveShort, err := e.Store.SessionByTokenHash(e.ctx, short)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{newest, liveShort.SID, mfa.SID}; !slices.Equal(sids, want) {
			t.Fatalf("UserSessions sids = %v, want %v (live ones only, newest first)", sids, want)
		}
		last := got[2]
		wantClients := []string{c1.ID, c2.ID}
		slices.Sort(wantClients)
		if last.UserID != u.ID || !slices.Equal(last.AMR, mfa.AMR) || !slices.Equal(last.Clients, wantClients) ||
			!last.CreatedAt.Equal(now) || !last.ExpiresAt.Equal(now.Add(2*time.Hour)) || !last.AuthTime.Equal(now) {
			t.Errorf("session = %+v, want amr %v, clients %v, created %v", last, mfa.AMR, wantClients, now)
		}
		if len(got[0].Clients) != 0 {
			t.Errorf("a session no client took part in lists clients %v", got[0].Clients)
		}

		e.clock.Advance(time.Hour)
		got, err = e.SessionAdmin.UserSessions(e.ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].SID != mfa.SID {
			t.Errorf("after an hour UserSessions = %v, want only the two-hour session", got)
		}
	})

	t.Run("SignedInUsers lists who holds live sessions, most recent first, with their counts", func(t *testing.T) {
		e := newEnv(t, open)
		a, b, gone := e.createUser(user.RoleAssistant), e.createUser(user.RoleArtist), e.createUser(user.RoleAssistant)
		e.signIn(a)
		ended, _ := e.signIn(gone)
		if err := e.Store.RevokeSession(e.ctx, ended); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		e.signIn(b)
		e.clock.Advance(time.Minute)
		e.signIn(a)
		got, err := e.SessionAdmin.SignedInUsers(e.ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		now := e.clock.Now()
		want := []session.SignedIn{
			{UserID: a.ID, Username: a.Username, Sessions: 2, Latest: now},
			{UserID: b.ID, Username: b.Username, Sessions: 1, Latest: now.Add(-time.Minute)},
		}
		if !slices.EqualFunc(got, want, func(x, y session.SignedIn) bool {
			return x.UserID == y.UserID && x.Username == y.Username && x.Sessions == y.Sessions && x.Latest.Equal(y.Latest)
		}) {
			t.Errorf("SignedInUsers = %+v, want %+v", got, want)
		}
		if got, err := e.SessionAdmin.SignedInUsers(e.ctx, 1); err != nil || len(got) != 1 || got[0].UserID != a.ID {
			t.Errorf("SignedInUsers(limit 1) = %+v, %v; want only %s", got, err, a.Username)
		}
	})

	t.Run("EndUserSession ends that session, its tokens and codes, queues its logouts; no other", func(t *testing.T) {
		e := newEnv(t, open)
		u, other := e.createUser(user.RoleAssistant), e.createUser(user.RoleAssistant)
		c := e.createClient()
		cookie, sid := e.signIn(u)
		keep, keepSID := e.signIn(u)
		otherCookie, otherSID := e.signIn(other)
		tokens, _ := e.mustRedeem(c, u, sid)
		code, _ := e.issueCode(c, u, sid)
		kept, _ := e.mustRedeem(c, u, keepSID)

		if err := e.SessionAdmin.EndUserSession(e.ctx, u.ID, otherSID); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("ending another user's session = %v, want session.ErrNotFound", err)
		}
		if !e.sessionLive(otherCookie) {
			t.Fatal("another user's session ended through the wrong user")
		}
		if err := e.SessionAdmin.EndUserSession(e.ctx, u.ID, sid); err != nil {
			t.Fatal(err)
		}
		if e.sessionLive(cookie) || e.accessLive(tokens.Access) || e.refreshLive(tokens.Refresh) || e.codeLive(code) {
			t.Error("the ended session, or a token or code issued under it, is still live")
		}
		if !e.sessionLive(keep) || !e.refreshLive(kept.Refresh) {
			t.Error("the user's other session or its tokens ended too")
		}
		if got, want := e.claimAll(), []noticeKey{{c.ID, sid, itoa(u.ID)}}; !slices.Equal(got, want) {
			t.Errorf("notices = %v, want %v", got, want)
		}
		if err := e.SessionAdmin.EndUserSession(e.ctx, u.ID, sid); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("ending it again = %v, want session.ErrNotFound", err)
		}
		if got := e.claimAll(); len(got) != 0 {
			t.Errorf("ending it again queued %v", got)
		}
	})

	t.Run("EndUserSessions signs the user out everywhere, keeps consents and other users", func(t *testing.T) {
		e := newEnv(t, open)
		u, other := e.createUser(user.RoleAssistant), e.createUser(user.RoleAssistant)
		c := e.createClient()
		a, sidA := e.signIn(u)
		b, _ := e.signIn(u)
		o, otherSID := e.signIn(other)
		ta, _ := e.mustRedeem(c, u, sidA)
		to, _ := e.mustRedeem(c, other, otherSID)
		if err := e.Store.GrantConsent(e.ctx, u.ID, c.ID, []string{"openid", "profile"}); err != nil {
			t.Fatal(err)
		}
		n, err := e.SessionAdmin.EndUserSessions(e.ctx, u.ID)
		if err != nil || n != 2 {
			t.Fatalf("EndUserSessions = %d, %v; want 2 sessions ended", n, err)
		}
		if e.sessionLive(a) || e.sessionLive(b) || e.accessLive(ta.Access) || e.refreshLive(ta.Refresh) {
			t.Error("a session or token of the user is still live")
		}
		if !e.sessionLive(o) || !e.refreshLive(to.Refresh) {
			t.Error("another user's session or token ended")
		}
		if scopes, err := e.Store.ConsentScopes(e.ctx, u.ID, c.ID); err != nil || len(scopes) != 2 {
			t.Errorf("consent after EndUserSessions = %v, %v; want it kept", scopes, err)
		}
		if got, want := e.claimAll(), []noticeKey{{c.ID, sidA, itoa(u.ID)}}; !slices.Equal(got, want) {
			t.Errorf("notices = %v, want %v (sidB had no client)", got, want)
		}
		if n, err := e.SessionAdmin.EndUserSessions(e.ctx, u.ID); err != nil || n != 0 {
			t.Errorf("again = %d, %v; want 0", n, err)
		}
	})

	t.Run("AuditEvents filters by client and time range and pages by id; AuditDailyCounts counts per UTC day", func(t *testing.T) {
		e := newEnv(t, open)
		day0 := audit.Day(e.clock.Now())
		at := func(d, h int) time.Time { return day0.AddDate(0, 0, d).Add(time.Duration(h) * time.Hour) }
		evs := []audit.Event{
			{At: at(-2, 23), Kind: audit.LoginFailed, ClientID: "st_a"},
			{At: at(-1, 0), Kind: audit.LoginSucceeded, ClientID: "st_a"},
			{At: at(-1, 5), Kind: audit.LoginSucceeded, ClientID: "st_b"},
			{At: at(-1, 6), Kind: audit.LoginFailed},
			{At: at(-1, 7), Kind: audit.Logout, ClientID: "st_a"},
			{At: at(0, 1), Kind: audit.LoginSucceeded, ClientID: "st_a"},
		}
		for _, ev := range evs {
			if err := e.Audit.Record(e.ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		times := func(f audit.Filter) []time.Time {
			t.Helper()
			got, err := e.Audit.AuditEvents(e.ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []time.Time
			for _, ev := range got {
				out = append(out, ev.At)
			}
			return out
		}
		for _, tc := range []struct {
			name string
			f    audit.Filter
			want []time.Time
		}{
			{"by client", audit.Filter{ClientID: "st_a"}, []time.Time{at(0, 1), at(-1, 7), at(-1, 0), at(-2, 23)}},
			{"a day: since inclusive, until exclusive", audit.Filter{Since: at(-1, 0), Until: at(0, 0)}, []time.Time{at(-1, 7), at(-1, 6), at(-1, 5), at(-1, 0)}},
			{"client, kind and range together", audit.Filter{ClientID: "st_a", Kind: audit.LoginSucceeded, Until: at(0, 0)}, []time.Time{at(-1, 0)}},
		} {
			if got := times(tc.f); !slices.EqualFunc(got, tc.want, time.Time.Equal) {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		}
		page1, err := e.Audit.AuditEvents(e.ctx, audit.Filter{Limit: 4})
		if err != nil || len(page1) != 4 {
			t.Fatalf("first page: %d events, %v", len(page1), err)
		}
		if err := e.Audit.Record(e.ctx, audit.Event{At: at(0, 2), Kind: audit.Logout}); err != nil {
			t.Fatal(err)
		}
		page2, err := e.Audit.AuditEvents(e.ctx, audit.Filter{Limit: 4, BeforeID: page1[3].ID})
		if err != nil {
			t.Fatal(err)
		}
		var all []time.Time
		for _, ev := range append(page1, page2...) {
			all = append(all, ev.At)
		}
		want := []time.Time{at(0, 1), at(-1, 7), at(-1, 6), at(-1, 5), at(-1, 0), at(-2, 23)}
		if !slices.EqualFunc(all, want, time.Time.Equal) {
			t.Errorf("two pages = %v, want %v: no event twice or lost when one is added between pages", all, want)
		}

		counts, err := e.Audit.AuditDailyCounts(e.ctx, at(-3, 0), at(1, 0), audit.LoginSucceeded, audit.LoginFailed)
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			day       time.Time
			ok, fails int
		}
		var got []row
		for _, d := range counts {
			if d.Counts[audit.Logout] != 0 {
				t.Errorf("%v counts a kind it was not asked for: %v", d.Day, d.Counts)
			}
			got = append(got, row{d.Day, d.Counts[audit.LoginSucceeded], d.Counts[audit.LoginFailed]})
		}
		wantRows := []row{{at(-3, 0), 0, 0}, {at(-2, 0), 0, 1}, {at(-1, 0), 2, 1}, {at(0, 0), 1, 0}}
		if !slices.EqualFunc(got, wantRows, func(a, b row) bool { return a.day.Equal(b.day) && a.ok == b.ok && a.fails == b.fails }) {
			t.Errorf("AuditDailyCounts = %v, want %v", got, wantRows)
		}
	})
}
