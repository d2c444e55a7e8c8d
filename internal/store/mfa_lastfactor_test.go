package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/mfa"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/user"
)

// TestMFA_LastFactorStays: two removals at once of a user's two factors,
// each without the password (keepOne), used to pass the account page's
// "is this the last one?" check together and leave the user with none. The
// check now runs in the delete's transaction: exactly one removal wins and
// one factor stays. With the password checked (keepOne false) the last one
// may go; an unconfirmed enrolment may always go.
func TestMFA_LastFactorStays(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, filepath.Join(t.TempDir(), "inkpass.db"), store.Options{})
	now := time.Unix(1_800_000_000, 0)
	for round := range 10 {
		id, err := db.CreateUser(ctx, &user.User{Username: "u" + strconv.Itoa(round), PasswordHash: "x", Role: user.RoleAssistant, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		var fids [2]int64
		for i := range fids {
			if fids[i], err = db.CreatePasskey(ctx, mfa.Factor{UserID: id, Kind: mfa.KindWebAuthn, Name: "key", CreatedAt: now}, []byte("c")); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, fid := range fids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = db.DeleteFactor(ctx, id, fid, true)
			}()
		}
		wg.Wait()
		refused := 0
		for _, err := range errs {
			switch {
			case errors.Is(err, mfa.ErrLastFactor):
				refused++
			case err != nil:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		left, err := db.Factors(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if refused != 1 || len(left) != 1 {
			t.Fatalf("round %d: %d removals refused and %d factors left, want 1 and 1", round, refused, len(left))
		}
		if err := db.DeleteFactor(ctx, id, left[0].ID, true); !errors.Is(err, mfa.ErrLastFactor) {
			t.Errorf("round %d: removing the last factor without the password: %v, want ErrLastFactor", round, err)
		}
		if err := db.DeleteFactor(ctx, id, left[0].ID, false); err != nil {
			t.Errorf("round %d: removing the last factor with the password checked: %v", round, err)
		}
	}
	// An enrolment never confirmed is no factor yet: it may always go.
	id, _ := db.CreateUser(ctx, &user.User{Username: "enrolling", PasswordHash: "x", Role: user.RoleAssistant, Active: true})
	fid, err := db.CreateFactor(ctx, mfa.Factor{UserID: id, Kind: mfa.KindTOTP, Name: "app", CreatedAt: now}, []byte("sealed"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteFactor(ctx, id, fid, true); err != nil {
		t.Errorf("removing an unconfirmed enrolment: %v", err)
	}
}
