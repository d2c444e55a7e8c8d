package user_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/user"
)

// today is the clock of the rule tests: birthdates after it are in the future.
var today = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

func id(n int64) *int64 { return &n }

// fieldsOf returns the Field of every FieldError in err, in order, or nil when
// err is nil. Any other error fails the test.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *user.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *user.ValidationError", err, err)
	}
	var fields []string
	for _, f := range ve.Fields {
		fields = append(fields, f.Field)
	}
	return fields
}

func TestUser_Validate(t *testing.T) {
	email120 := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 51) + ".com"
	email121 := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 52) + ".com"
	for _, tc := range []struct {
		name string
		edit func(u *user.User)
		want []string // fields with a problem, in Validate's order
	}{
		{"a minimal assistant is valid", func(u *user.User) {}, nil},
		{"an admin with every optional field filled in is valid", func(u *user.User) {
			u.Role, u.Name, u.Email, u.Phone, u.Instagram, u.Birthdate = user.RoleAdmin, "Sam Rivera", "sam@studio.example", "+1 (555) 010-0142", "sam.rivera_", "1990-02-28"
		}, nil},

		// username
		{"an empty username is refused", func(u *user.User) { u.Username = "" }, []string{"username"}},
		{"a username of 64 characters is accepted", func(u *user.User) { u.Username = strings.Repeat("k", 64) }, nil},
		{"a username of 65 characters is refused", func(u *user.User) { u.Username = strings.Repeat("k", 65) }, []string{"username"}},
		{"64 characters are counted as characters, not bytes", func(u *user.User) { u.Username = strings.Repeat("ü", 64) }, nil},
		{"65 two-byte characters are refused", func(u *user.User) { u.Username = strings.Repeat("ü", 65) }, []string{"username"}},
		{"a username with a space is refused", func(u *user.User) { u.Username = "kai okafor" }, []string{"username"}},
		{"a username with . _ - @ + is accepted", func(u *user.User) { u.Username = "kai.o_k-a+f@studio" }, nil},

		// role and artist_id
		{"an unknown role is refused", func(u *user.User) { u.Role = "owner" }, []string{"role"}},
		{"an empty role is refused", func(u *user.User) { u.Role = "" }, []string{"role"}},
		{"a role in capitals is refused (ParseRole normalises, Validate does not)", func(u *user.User) { u.Role = "Admin" }, []string{"role"}},
		{"an artist without artist_id is refused", func(u *user.User) { u.Role = user.RoleArtist }, []string{"artist_id"}},
		{"an artist with an artist_id is accepted", func(u *user.User) { u.Role, u.ArtistID = user.RoleArtist, id(3) }, nil},
		{"an admin with an artist_id is refused", func(u *user.User) { u.Role, u.ArtistID = user.RoleAdmin, id(1) }, []string{"artist_id"}},
		{"an assistant with an artist_id is refused", func(u *user.User) { u.ArtistID = id(1) }, []string{"artist_id"}},

		// name
		{"a name of 120 characters is accepted", func(u *user.User) { u.Name = strings.Repeat("é", 120) }, nil},
		{"a name of 121 characters is refused", func(u *user.User) { u.Name = strings.Repeat("é", 121) }, []string{"name"}},
		{"a name with a control character is refused", func(u *user.User) { u.Name = "Sam\x00Rivera" }, []string{"name"}},

		// email
		{"an email of 120 characters is accepted", func(u *user.User) { u.Email = email120 }, nil},
		{"an email of 121 characters is refused", func(u *user.User) { u.Email = email121 }, []string{"email"}},
		{"an email without @ is refused", func(u *user.User) { u.Email = "sam.studio.example" }, []string{"email"}},
		{"an email with a display name is refused", func(u *user.User) { u.Email = "Sam <sam@studio.example>" }, []string{"email"}},
		{"an email without a dot in the domain is refused", func(u *user.User) { u.Email = "sam@localhost" }, []string{"email"}},
		{"an email ending in a dot is refused", func(u *user.User) { u.Email = "sam@studio.example." }, []string{"email"}},

		// phone
		{"a phone of 32 characters is accepted", func(u *user.User) { u.Phone = strings.Repeat("5", 32) }, nil},
		{"a phone of 33 characters is refused", func(u *user.User) { u.Phone = strings.Repeat("5", 33) }, []string{"phone"}},
		{"a phone with letters is refused", func(u *user.User) { u.Phone = "555-CALL-NOW" }, []string{"phone"}},
		{"a phone of punctuation only is refused", func(u *user.User) { u.Phone = "+() -" }, []string{"phone"}},
		{"a phone written with dots is accepted", func(u *user.User) { u.Phone = "555.0100" }, nil},

		// instagram
		{"an instagram handle of 64 characters is accepted", func(u *user.User) { u.Instagram = strings.Repeat("i", 64) }, nil},
		{"an instagram handle of 65 characters is refused", func(u *user.User) { u.Instagram = strings.Repeat("i", 65) }, []string{"instagram"}},
		{"an instagram handle with a hyphen is refused", func(u *user.User) { u.Instagram = "luna-tattoos" }, []string{"instagram"}},
		{"an instagram handle with a space is refused", func(u *user.User) { u.Instagram = "luna tattoos" }, []string{"instagram"}},
		{"an instagram handle still carrying @ is refused by Validate (the Service strips it first)", func(u *user.User) { u.Instagram = "@lunatattoos" }, []string{"instagram"}},

		// birthdate
		{"a real past birthdate is accepted", func(u *user.User) { u.Birthdate = "1992-07-30" }, nil},
		{"a birthdate of today is accepted", func(u *user.User) { u.Birthdate = "2026-06-15" }, nil},
		{"a birthdate tomorrow is refused", func(u *user.User) { u.Birthdate = "2026-06-16" }, []string{"birthdate"}},
		{"February 30th is refused", func(u *user.User) { u.Birthdate = "1990-02-30" }, []string{"birthdate"}},
		{"a birthdate in another format is refused", func(u *user.User) { u.Birthdate = "30/07/1992" }, []string{"birthdate"}},
		{"a birthdate with a time is refused", func(u *user.User) { u.Birthdate = "1992-07-30 10:00:00" }, []string{"birthdate"}},

		// several at once
		{"every broken field is reported at once, in order", func(u *user.User) {
			u.Username, u.Role, u.ArtistID = "", user.RoleArtist, nil
			u.Name, u.Email, u.Phone = strings.Repeat("n", 121), "not-an-email", "call me"
			u.Instagram, u.Birthdate = "bad handle", "2099-01-01"
		}, []string{"username", "artist_id", "name", "email", "phone", "instagram", "birthdate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := user.User{Username: "kai", Role: user.RoleAssistant}
			tc.edit(&u)
			got := fieldsOf(t, u.Validate(today))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Validate reported %q, want %q", got, tc.want)
			}
		})
	}
}

func TestValidationError_NamesEveryFieldAndUnwrapsToThem(t *testing.T) {
	u := user.User{Username: "", Role: "boss"}
	err := u.Validate(today)
	if err == nil {
		t.Fatal("Validate accepted an empty username and an unknown role")
	}
	for _, w := range []string{"username: is required", "role: must be one of admin, assistant, artist"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	var fe *user.FieldError
	if !errors.As(err, &fe) || fe.Field != "username" {
		t.Errorf("errors.As found %+v, want the username FieldError first", fe)
	}
}

func TestParseRole(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    user.Role
		wantErr bool
	}{
		{"admin", user.RoleAdmin, false},
		{" Artist ", user.RoleArtist, false},
		{"ASSISTANT", user.RoleAssistant, false},
		{"owner", "", true},
		{"", "", true},
	} {
		t.Run("ParseRole("+tc.in+")", func(t *testing.T) {
			got, err := user.ParseRole(tc.in)
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Errorf("= %q, %v; want %q, error %v", got, err, tc.want, tc.wantErr)
			}
			var fe *user.FieldError
			if tc.wantErr && (!errors.As(err, &fe) || fe.Field != "role") {
				t.Errorf("error %v is not a FieldError on role", err)
			}
		})
	}
}

func TestCheckPassword(t *testing.T) {
	for _, tc := range []struct {
		name      string
		plain     string
		username  string
		minLength int
		wantErr   string // substring of the problem, "" for none
	}{
		{"seven characters are too short", "abcdefg", "kai", 8, "at least 8"},
		{"eight characters are enough", "abcdefgh", "kai", 8, ""},
		{"length counts characters, not bytes", "äöüäöüäö", "kai", 8, ""},
		{"seven two-byte characters are still too short", "äöüäöüä", "kai", 8, "at least 8"},
		{"a zero minimum falls back to the default of 8", "abcdefg", "kai", 0, "at least 8"},
		{"a higher configured minimum applies", "abcdefghijk", "kai", 12, "at least 12"},
		{"1024 bytes are accepted", strings.Repeat("p", 1024), "kai", 8, ""},
		{"1025 bytes are refused", strings.Repeat("p", 1025), "kai", 8, "at most 1024"},
		{"the username as password is refused", "front_desk", "front_desk", 8, "not be the username"},
		{"the username in other letter case is refused", "Front_Desk", "front_desk", 8, "not be the username"},
		{"a password containing the username is allowed", "front_desk-2026!", "front_desk", 8, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := user.CheckPassword(tc.plain, tc.username, tc.minLength)
			if tc.wantErr == "" {
				if err != nil {
					t.Errorf("err = %v, want nil", err)
				}
				return
			}
			var fe *user.FieldError
			if !errors.As(err, &fe) || fe.Field != "password" || !strings.Contains(fe.Problem, tc.wantErr) {
				t.Errorf("err = %v, want a password FieldError saying %q", err, tc.wantErr)
			}
		})
	}
}

func TestThrottlePolicy_LockFor(t *testing.T) {
	p := user.ThrottlePolicy{BaseLock: 2 * time.Second, MaxLock: 15 * time.Minute}
	for _, tc := range []struct {
		name     string
		failures int
		free     int
		want     time.Duration
	}{
		{"the first failure is free", 1, 5, 0},
		{"the last free failure is free", 5, 5, 0},
		{"the first failure past the free ones locks for the base", 6, 5, 2 * time.Second},
		{"the next one doubles it", 7, 5, 4 * time.Second},
		{"and the next doubles again", 8, 5, 8 * time.Second},
		{"the ninth past the free ones is 2s·2⁸", 14, 5, 512 * time.Second},
		{"the tenth would be 17m but is capped at the maximum", 15, 5, 15 * time.Minute},
		{"a million failures stay at the maximum without overflow", 1_000_000, 5, 15 * time.Minute},
		{"no free failures locks at once", 1, 0, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.LockFor(tc.failures, tc.free); got != tc.want {
				t.Errorf("LockFor(%d, %d) = %v, want %v", tc.failures, tc.free, got, tc.want)
			}
		})
	}
}

func TestThrottledError_IsErrThrottled(t *testing.T) {
	var err error = &user.ThrottledError{RetryAfter: 90 * time.Second}
	if !errors.Is(err, user.ErrThrottled) {
		t.Error("errors.Is(ThrottledError, ErrThrottled) = false")
	}
	if errors.Is(err, user.ErrInvalidCredentials) {
		t.Error("a ThrottledError also matches ErrInvalidCredentials")
	}
	if !strings.Contains(err.Error(), "1m30s") {
		t.Errorf("message %q does not say how long to wait", err)
	}
}
