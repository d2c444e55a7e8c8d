package user_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/user"
)

// TestService_Authenticate_RefusesACostlyStoredHash: a row whose hash would
// take seconds to verify (pbkdf2 with 10 million iterations took 2.2 s a
// try, failures included) is not computed. The sign-in fails like a wrong
// password, costs one dummy verification instead, and the log and the audit
// say why without the hash or the password.
func TestService_Authenticate_RefusesACostlyStoredHash(t *testing.T) {
	e := freshEnv(t, envOptions{})
	svc := user.NewService(e.db, e.hasher, e.db, user.Options{Now: e.clock.Now, Audit: e.db,
		Logger: slog.New(slog.NewTextHandler(e.log, nil))})
	const digest = "b13671a00d1ee0d3c22a93b4cd82f764b9e260ca233560b22f4c39b4e15c6b59"
	stored := "pbkdf2:sha256:10000000$saltsaltsalt$" + digest
	id := e.insertWithHash(t, "slowpoke", stored)
	const typed = "typed-password-77"

	before := e.hasher.Limiter().Stats().Completed
	_, err := svc.Authenticate(context.Background(), "slowpoke", typed, "192.0.2.9")
	if err != user.ErrInvalidCredentials {
		t.Fatalf("Authenticate = %v, want ErrInvalidCredentials", err)
	}
	if n := e.hasher.Limiter().Stats().Completed - before; n != 1 {
		t.Errorf("%d KDF runs, want 1 (the dummy, so the answer takes a normal sign-in's time)", n)
	}
	if d := e.hasher.dummy.Load(); d != 1 {
		t.Errorf("VerifyDummy ran %d times, want 1", d)
	}
	evs, err := e.db.AuditEvents(context.Background(), audit.Filter{UserID: id, Kind: audit.LoginFailed})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || !strings.Contains(evs[0].Detail, "unusable stored hash") || !strings.Contains(evs[0].Detail, "iterations") {
		t.Errorf("audit = %+v, want one login_failed saying the stored hash's iterations were refused", evs)
	}
	for _, where := range []string{e.log.String(), evs[0].Detail} {
		if strings.Contains(where, digest) || strings.Contains(where, "saltsaltsalt") || strings.Contains(where, typed) {
			t.Errorf("the hash or the password reached the log or audit:\n%s", where)
		}
	}
	if !strings.Contains(e.log.String(), "iterations") {
		t.Errorf("the log does not say why:\n%s", e.log.String())
	}
}
