package userlink_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/mail"
	"github.com/inkpass/inkpass/internal/password"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/testsupport"
	"github.com/inkpass/inkpass/internal/user"
	"github.com/inkpass/inkpass/internal/userlink"
)

// recorder is the mail port in tests: it keeps what was queued.
type recorder struct {
	mu   sync.Mutex
	sent []mail.Message
}

func (r *recorder) Enqueue(_ context.Context, m mail.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, m)
	return nil
}

func (r *recorder) messages() []mail.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]mail.Message(nil), r.sent...)
}

type fixture struct {
	db    *store.DB
	users *user.Service
	links *userlink.Service
	clock *testsupport.Clock
	mail  *recorder
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := testsupport.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	db, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "inkpass.db"), store.Options{Now: clk.Now})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	hasher, err := password.NewTestHasher(password.Policy{Target: password.TargetArgon2id, Argon2: password.LowCostArgon2ForTests(), MemoryBudget: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	users := user.NewService(db, hasher, db, user.Options{Now: clk.Now, Audit: db})
	rec := &recorder{}
	links := userlink.New(db, hasher, userlink.Options{Issuer: "https://id.example.test/", StudioName: "Ink & Needle", Mailer: rec, Audit: db, Now: clk.Now})
	return &fixture{db: db, users: users, links: links, clock: clk, mail: rec}
}

func (f *fixture) invited(t *testing.T, username, email string) *user.User {
	t.Helper()
	u, err := f.users.CreateInvited(t.Context(), user.User{Username: username, Role: user.RoleAssistant, Email: email}, password.Unset)
	if err != nil {
		t.Fatalf("CreateInvited: %v", err)
	}
	return u
}

func token(t *testing.T, link string) string {
	t.Helper()
	tok, ok := strings.CutPrefix(link, "https://id.example.test"+userlink.PathPrefix)
	if !ok || tok == "" {
		t.Fatalf("link %q is not under the issuer's %s", link, userlink.PathPrefix)
	}
	return tok
}

func TestService_Invite(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	u := f.invited(t, "newbie", "newbie@example.test")

	t.Run("an invited user cannot sign in with any password", func(t *testing.T) {
		for _, pw := range []string{"", password.Unset, "whatever-password"} {
			if _, err := f.users.Authenticate(ctx, "newbie", pw, "192.0.2.1"); !errors.Is(err, user.ErrInvalidCredentials) {
				t.Errorf("Authenticate(%q) = %v, want ErrInvalidCredentials", pw, err)
			}
		}
	})

	link, expires, err := f.links.Invite(ctx, u.ID, "alice")
	if err != nil {
		t.Fatalf("Invite: %v", err)
	}
	tok := token(t, link)
	if want := f.clock.Now().Add(72 * time.Hour); !expires.Equal(want) {
		t.Errorf("expires = %v, want %v (72 h)", expires, want)
	}

	t.Run("the message goes to the user's own email, with the link", func(t *testing.T) {
		msgs := f.mail.messages()
		if len(msgs) != 1 {
			t.Fatalf("%d messages queued, want 1", len(msgs))
		}
		m := msgs[0]
		if m.To != "newbie@example.test" || m.Kind != "invitation" || !strings.Contains(m.Subject, "Ink & Needle") {
			t.Errorf("message = To %q Kind %q Subject %q", m.To, m.Kind, m.Subject)
		}
		if !strings.Contains(m.Text, link) || !strings.Contains(m.HTML, link) {
			t.Errorf("the link is missing from the text or HTML body")
		}
		if !strings.Contains(m.HTML, "Ink &amp; Needle") {
			t.Errorf("the studio name is not escaped in the HTML body")
		}
	})

	t.Run("the token is stored only as its hash and never audited", func(t *testing.T) {
		events, err := f.db.AuditEvents(ctx, audit.Filter{UserID: u.ID})
		if err != nil {
			t.Fatal(err)
		}
		var issued bool
		for _, e := range events {
			if strings.Contains(e.Detail, tok) {
				t.Errorf("audit event %s carries the token", e.Kind)
			}
			issued = issued || (e.Kind == audit.InvitationIssued && e.Detail == "by alice")
		}
		if !issued {
			t.Errorf("no invitation_issued event by alice in %+v", events)
		}
	})

	t.Run("lookup does not use the link", func(t *testing.T) {
		for range 2 {
			p, got, err := f.links.Lookup(ctx, tok)
			if err != nil || p != userlink.Invitation || got.ID != u.ID {
				t.Fatalf("Lookup = %v, %v, %v", p, got, err)
			}
		}
	})

	t.Run("a weak password is refused and the link stays good", func(t *testing.T) {
		var fe *user.FieldError
		if _, err := f.links.SetPassword(ctx, tok, "short"); !errors.As(err, &fe) {
			t.Fatalf("SetPassword(short) = %v, want a FieldError", err)
		}
		if _, _, err := f.links.Lookup(ctx, tok); err != nil {
			t.Fatalf("after a refused password the link is %v, want still good", err)
		}
	})

	t.Run("the link sets the password once", func(t *testing.T) {
		if _, err := f.links.SetPassword(ctx, tok, "a long new password"); err != nil {
			t.Fatalf("SetPassword: %v", err)
		}
		if _, err := f.users.Authenticate(ctx, "newbie", "a long new password", "192.0.2.1"); err != nil {
			t.Errorf("sign in with the new password: %v", err)
		}
		if _, err := f.links.SetPassword(ctx, tok, "another long password"); !errors.Is(err, userlink.ErrInvalid) {
			t.Errorf("second use = %v, want ErrInvalid", err)
		}
		if _, err := f.users.Authenticate(ctx, "newbie", "a long new password", "192.0.2.1"); err != nil {
			t.Errorf("the refused second use changed the password: %v", err)
		}
	})
}

// TestService_LinkDies covers every way a link stops working; each case
// issues a fresh link and must find it refused, by Lookup and by use.
func TestService_LinkDies(t *testing.T) {
	cases := []struct {
		name    string
		purpose userlink.Purpose
		// after runs between issuing and using the link.
		after func(t *testing.T, f *fixture, u *user.User)
	}{
		{"an expired invitation is refused", userlink.Invitation, func(t *testing.T, f *fixture, u *user.User) {
			f.clock.Advance(72*time.Hour + time.Second)
		}},
		{"an expired reset link is refused after 1 h", userlink.PasswordReset, func(t *testing.T, f *fixture, u *user.User) {
			f.clock.Advance(time.Hour)
		}},
		{"a newer link of the same purpose supersedes it", userlink.PasswordReset, func(t *testing.T, f *fixture, u *user.User) {
			if _, _, err := f.links.PasswordReset(t.Context(), u.ID, "cli"); err != nil {
				t.Fatal(err)
			}
		}},
		{"a reset link dies when the password is changed otherwise", userlink.PasswordReset, func(t *testing.T, f *fixture, u *user.User) {
			if err := f.users.SetPassword(t.Context(), u.ID, "changed by the admin"); err != nil {
				t.Fatal(err)
			}
		}},
		{"a link dies with the deactivated user, and stays dead after reactivation", userlink.PasswordReset, func(t *testing.T, f *fixture, u *user.User) {
			if err := f.users.Deactivate(t.Context(), u.ID); err != nil {
				t.Fatal(err)
			}
			if err := f.users.Reactivate(t.Context(), u.ID); err != nil {
				t.Fatal(err)
			}
		}},
		{"a verification link dies when the email changes", userlink.EmailVerification, func(t *testing.T, f *fixture, u *user.User) {
			email := "other@example.test"
			if _, err := f.users.Update(t.Context(), u.ID, user.Patch{Email: &email}); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := t.Context()
			u, err := f.users.Create(ctx, user.User{Username: "kai", Role: user.RoleAssistant, Email: "kai@example.test"}, "kai's old password")
			if err != nil {
				t.Fatal(err)
			}
			var link string
			switch tc.purpose {
			case userlink.Invitation:
				link, _, err = f.links.Invite(ctx, u.ID, "cli")
			case userlink.PasswordReset:
				link, _, err = f.links.PasswordReset(ctx, u.ID, "cli")
			case userlink.EmailVerification:
				if _, err = f.links.SendEmailVerification(ctx, u.ID); err == nil {
					msgs := f.mail.messages()
					link = strings.TrimSpace(strings.Split(strings.Split(msgs[len(msgs)-1].Text, ":\n")[1], "\n")[0])
				}
			}
			if err != nil {
				t.Fatalf("issue: %v", err)
			}
			tok := token(t, link)
			if _, _, err := f.links.Lookup(ctx, tok); err != nil {
				t.Fatalf("fresh link: %v", err)
			}
			tc.after(t, f, u)
			if _, _, err := f.links.Lookup(ctx, tok); !errors.Is(err, userlink.ErrInvalid) {
				t.Errorf("Lookup = %v, want ErrInvalid", err)
			}
			if tc.purpose == userlink.EmailVerification {
				if _, err := f.links.VerifyEmail(ctx, tok); !errors.Is(err, userlink.ErrInvalid) {
					t.Errorf("VerifyEmail = %v, want ErrInvalid", err)
				}
				got, _ := f.users.Get(ctx, u.ID)
				if got.EmailVerified {
					t.Errorf("the new email reads verified through a link sent to the old one")
				}
				return
			}
			before, _ := f.users.Get(ctx, u.ID)
			if _, err := f.links.SetPassword(ctx, tok, "set through a dead link"); !errors.Is(err, userlink.ErrInvalid) {
				t.Errorf("SetPassword = %v, want ErrInvalid", err)
			}
			after, _ := f.users.Get(ctx, u.ID)
			if before.PasswordHash != after.PasswordHash {
				t.Errorf("a refused link changed the password hash")
			}
		})
	}
}

// TestService_ConcurrentConsume: many uses of one link at once; exactly
// one sets its password. Run with -race.
func TestService_ConcurrentConsume(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	u := f.invited(t, "racer", "")
	link, _, err := f.links.Invite(ctx, u.ID, "cli")
	if err != nil {
		t.Fatal(err)
	}
	tok := token(t, link)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = f.links.SetPassword(ctx, tok, "password number "+string(rune('a'+i)))
		})
	}
	close(start)
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Errorf("uses %d and %d both succeeded", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, userlink.ErrInvalid):
			t.Errorf("use %d: %v, want ErrInvalid", i, err)
		}
	}
	if won < 0 {
		t.Fatalf("no use succeeded: %v", errs)
	}
	if _, err := f.users.Authenticate(ctx, "racer", "password number "+string(rune('a'+won)), "192.0.2.1"); err != nil {
		t.Errorf("the winner's password does not sign in: %v", err)
	}
}

func TestService_ForgotPassword(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	active, err := f.users.Create(ctx, user.User{Username: "kai", Role: user.RoleAssistant, Email: "Kai@Example.test"}, "kai's old password")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.users.Create(ctx, user.User{Username: "noemail", Role: user.RoleAssistant}, "no email password"); err != nil {
		t.Fatal(err)
	}
	gone, err := f.users.Create(ctx, user.User{Username: "gone", Role: user.RoleAssistant, Email: "gone@example.test"}, "gone's old password")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.users.Deactivate(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	for _, login := range []string{"nobody", "nobody@example.test", "noemail", "gone", "gone@example.test", ""} {
		if err := f.links.ForgotPassword(ctx, login); err != nil {
			t.Errorf("ForgotPassword(%q) = %v", login, err)
		}
	}
	if n := len(f.mail.messages()); n != 0 {
		t.Fatalf("%d messages for accounts that cannot get one", n)
	}
	for _, login := range []string{"KAI", "kai@example.TEST", "kai", "kai"} {
		if err := f.links.ForgotPassword(ctx, login); err != nil {
			t.Errorf("ForgotPassword(%q) = %v", login, err)
		}
	}
	msgs := f.mail.messages()
	if len(msgs) != 3 {
		t.Fatalf("%d messages after four asks, want 3 (the per-account limit)", len(msgs))
	}
	for _, m := range msgs {
		if m.To != active.Email || m.Kind != "password_reset" {
			t.Errorf("message to %q kind %q", m.To, m.Kind)
		}
	}
	f.clock.Advance(time.Hour + time.Second)
	if err := f.links.ForgotPassword(ctx, "kai"); err != nil {
		t.Fatal(err)
	}
	if n := len(f.mail.messages()); n != 4 {
		t.Errorf("%d messages an hour later, want 4", n)
	}
}

// TestCreateInvited: the invited user passes Create's field rules and is
// stored with the marker, which nothing verifies.
func TestCreateInvited(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	var ve *user.ValidationError
	if _, err := f.users.CreateInvited(ctx, user.User{Username: "bad", Role: user.RoleAssistant, Email: "not an address"}, password.Unset); !errors.As(err, &ve) {
		t.Errorf("a bad email: %v, want a ValidationError", err)
	}
	if _, err := f.users.CreateInvited(ctx, user.User{Username: "nomark", Role: user.RoleAssistant}, ""); err == nil {
		t.Errorf("an empty marker was accepted")
	}
	u := f.invited(t, "fresh", "")
	if u.PasswordHash != password.Unset || !u.Active {
		t.Errorf("stored hash %q active %v, want the marker and active", u.PasswordHash, u.Active)
	}
}
