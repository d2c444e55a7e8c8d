package storetest

import (
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/user"
)

func runAudit(t *testing.T, open Opener) {
	t.Run("Record appends; AuditEvents lists newest first, filtered by user, kind, time and limit", func(t *testing.T) {
		e := newEnv(t, open)
		u := e.createUser(user.RoleAssistant)
		t0 := e.clock.Now()
		evs := []audit.Event{
			{At: t0, Kind: audit.LoginFailed, Username: u.Username, Addr: "192.0.2.1", Detail: "wrong password"},
			{At: t0.Add(time.Second), Kind: audit.LoginSucceeded, UserID: u.ID, Username: u.Username, ClientID: "st_app"},
			{At: t0.Add(2 * time.Second), Kind: audit.Logout, UserID: u.ID},
			{Kind: audit.KeyRotated, Detail: "no time given: the store's clock"},
		}
		for _, ev := range evs {
			if err := e.Audit.Record(e.ctx, ev); err != nil {
				t.Fatalf("Record: %v", err)
			}
		}
		all, err := e.Audit.AuditEvents(e.ctx, audit.Filter{})
		if err != nil || len(all) != 4 {
			t.Fatalf("AuditEvents = %d events, %v; want 4", len(all), err)
		}
		if all[0].Kind != audit.KeyRotated || !all[0].At.Equal(t0) || all[3].Kind != audit.LoginFailed {
			t.Errorf("order = %v, %v, ...; want newest first, the clockless one stamped %v", all[0].Kind, all[3].Kind, t0)
		}
		if got := all[2]; got.UserID != u.ID || got.Username != u.Username || got.ClientID != "st_app" || !got.At.Equal(t0.Add(time.Second)) {
			t.Errorf("event read back = %+v", got)
		}
		if got := all[3]; got.UserID != 0 || got.Addr != "192.0.2.1" || got.Detail != "wrong password" {
			t.Errorf("event without a user read back = %+v", got)
		}
		for _, tc := range []struct {
			name string
			f    audit.Filter
			want []audit.Kind
		}{
			{"by user", audit.Filter{UserID: u.ID}, []audit.Kind{audit.Logout, audit.LoginSucceeded}},
			{"by kind", audit.Filter{Kind: audit.LoginFailed}, []audit.Kind{audit.LoginFailed}},
			{"since", audit.Filter{Since: t0.Add(time.Second)}, []audit.Kind{audit.Logout, audit.LoginSucceeded}},
			{"limit", audit.Filter{Limit: 2}, []audit.Kind{audit.KeyRotated, audit.Logout}},
		} {
			got, err := e.Audit.AuditEvents(e.ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []audit.Kind
			for _, ev := range got {
				kinds = append(kinds, ev.Kind)
			}
			if len(kinds) != len(tc.want) || (len(kinds) > 0 && kinds[0] != tc.want[0]) || kinds[len(kinds)-1] != tc.want[len(tc.want)-1] {
				t.Errorf("%s: kinds = %v, want %v", tc.name, kinds, tc.want)
			}
		}
	})
}
