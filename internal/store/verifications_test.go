package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/inkpass/inkpass/internal/user"
)

// TestSetVerification: a verification belongs to the exact value it was made
// for. When the email or phone in users changes (by inkpass or by the
// studio's app, which knows nothing of inkpass's table), the user reads as
// unverified; the studio's users table is never written.
func TestSetVerification(t *testing.T) {
	ctx := context.Background()
	const luna = 2 // luna_artist in the fixture: email and phone set
	const desk = 4 // front_desk: phone, no email

	verified := func(t *testing.T, db interface {
		UserByID(context.Context, int64) (*user.User, error)
	}, id int64) (email, phone bool) {
		t.Helper()
		u, err := db.UserByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return u.EmailVerified, u.PhoneVerified
	}

	t.Run("nothing is verified until an admin says so", func(t *testing.T) {
		db := openAdopted(t)
		if e, p := verified(t, db, luna); e || p {
			t.Errorf("fixture user verified = %v, %v; want false, false", e, p)
		}
	})

	t.Run("verifying the email leaves the phone unverified, and the users row as it was", func(t *testing.T) {
		db := openAdopted(t)
		raw := rawDB(t, db.Path())
		before := dumpTable(t, raw, "users")
		u, err := db.SetVerification(ctx, luna, user.ContactEmail, true)
		if err != nil {
			t.Fatalf("SetVerification: %v", err)
		}
		if !u.EmailVerified || u.PhoneVerified {
			t.Errorf("returned user verified = %v, %v; want true, false", u.EmailVerified, u.PhoneVerified)
		}
		if e, p := verified(t, db, luna); !e || p {
			t.Errorf("UserByID verified = %v, %v; want true, false", e, p)
		}
		if after := dumpTable(t, raw, "users"); !reflect.DeepEqual(before, after) {
			t.Errorf("users table changed:\nbefore %v\nafter  %v", before, after)
		}
		rows := queryStrings(t, raw, `SELECT user_id, kind, value FROM inkpass_user_verifications`)
		if len(rows) != 1 || rows[0][0] != "2" || rows[0][1] != "email" || rows[0][2] != "luna@studio.example" {
			t.Errorf("inkpass_user_verifications = %v", rows)
		}
	})

	t.Run("an email changed by the studio's app is no longer verified", func(t *testing.T) {
		db := openAdopted(t)
		if _, err := db.SetVerification(ctx, luna, user.ContactEmail, true); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SetVerification(ctx, luna, user.ContactPhone, true); err != nil {
			t.Fatal(err)
		}
		raw := rawDB(t, db.Path())
		if _, err := raw.Exec(`UPDATE users SET email = 'luna@elsewhere.example' WHERE id = 2`); err != nil {
			t.Fatal(err)
		}
		if e, p := verified(t, db, luna); e || !p {
			t.Errorf("after the email changed: verified = %v, %v; want false, true", e, p)
		}
		if _, err := raw.Exec(`UPDATE users SET phone = NULL WHERE id = 2`); err != nil {
			t.Fatal(err)
		}
		if _, p := verified(t, db, luna); p {
			t.Error("a cleared phone still reads as verified")
		}
	})

	t.Run("an email changed through inkpass is no longer verified", func(t *testing.T) {
		db := openAdopted(t)
		if _, err := db.SetVerification(ctx, luna, user.ContactEmail, true); err != nil {
			t.Fatal(err)
		}
		u, err := db.UpdateUser(ctx, luna, func(u *user.User, _ int) ([]string, error) {
			u.Email = "luna.new@studio.example"
			return []string{"email"}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if u.EmailVerified {
			t.Error("UpdateUser returned the new email as verified")
		}
		if e, _ := verified(t, db, luna); e {
			t.Error("UserByID reads the new email as verified")
		}
	})

	t.Run("unverify forgets it", func(t *testing.T) {
		db := openAdopted(t)
		if _, err := db.SetVerification(ctx, luna, user.ContactPhone, true); err != nil {
			t.Fatal(err)
		}
		u, err := db.SetVerification(ctx, luna, user.ContactPhone, false)
		if err != nil {
			t.Fatal(err)
		}
		if u.PhoneVerified {
			t.Error("phone still verified after unverify")
		}
	})

	t.Run("an empty field cannot be verified", func(t *testing.T) {
		db := openAdopted(t)
		_, err := db.SetVerification(ctx, desk, user.ContactEmail, true)
		var fe *user.FieldError
		if !errors.As(err, &fe) || fe.Field != "email" {
			t.Errorf("SetVerification of an empty email = %v, want a FieldError on email", err)
		}
	})

	t.Run("an unknown user is ErrNotFound", func(t *testing.T) {
		db := openAdopted(t)
		if _, err := db.SetVerification(ctx, 999, user.ContactEmail, true); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("SetVerification(999) = %v, want user.ErrNotFound", err)
		}
	})
}
