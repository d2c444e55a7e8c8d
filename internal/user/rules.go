package user

import (
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Column limits from SCHEMA.md, counted in characters.
const (
	maxUsername  = 64
	maxName      = 120
	maxEmail     = 120
	maxPhone     = 32
	maxInstagram = 64
)

// Password rules. The upper bound keeps a megabyte-long "password" from
// becoming a denial of service on the hashing pool.
const (
	DefaultMinPasswordLength = 8
	MaxPasswordBytes         = 1024
)

var (
	// Instagram handles are letters, digits, periods and underscores.
	instagramPattern = regexp.MustCompile(`^[A-Za-z0-9._]+$`)
	// Phone numbers as people write them: +1 (555) 010-0142, 555.0100, ...
	phonePattern = regexp.MustCompile(`^\+?[0-9 ().\-]+$`)
)

// normalize trims the free-text fields and strips the @ people type in front of
// an Instagram handle, so that the stored value is the bare handle.
func (u *User) normalize() {
	u.Username = strings.TrimSpace(u.Username)
	u.Name = strings.TrimSpace(u.Name)
	u.Email = strings.TrimSpace(u.Email)
	u.Phone = strings.TrimSpace(u.Phone)
	u.Birthdate = strings.TrimSpace(u.Birthdate)
	u.Instagram = strings.TrimPrefix(strings.TrimSpace(u.Instagram), "@")
}

// Validate checks every field rule of SCHEMA.md that needs no database, and
// returns all violations at once as a *ValidationError. now bounds birthdates.
// Rules that need the database (unique username and email, artist exists) are
// enforced by the Repository inside the write transaction.
func (u *User) Validate(now time.Time) error {
	var errs []*FieldError
	add := func(field, problem string) { errs = append(errs, &FieldError{Field: field, Problem: problem}) }

	switch {
	case u.Username == "":
		add("username", "is required")
	case utf8.RuneCountInString(u.Username) > maxUsername:
		add("username", "must be at most 64 characters")
	case !validUsername(u.Username):
		add("username", "may contain only letters, digits and . _ - @ +")
	}

	switch u.Role {
	case RoleArtist:
		if u.ArtistID == nil {
			add("artist_id", "is required for role artist")
		}
	case RoleAdmin, RoleAssistant:
		if u.ArtistID != nil {
			add("artist_id", "must be empty for role "+string(u.Role))
		}
	default:
		add("role", "must be one of admin, assistant, artist")
	}

	if utf8.RuneCountInString(u.Name) > maxName {
		add("name", "must be at most 120 characters")
	} else if hasControl(u.Name) {
		add("name", "must not contain control characters")
	}

	if u.Email != "" {
		if utf8.RuneCountInString(u.Email) > maxEmail {
			add("email", "must be at most 120 characters")
		} else if !validEmail(u.Email) {
			add("email", "is not a valid email address")
		}
	}

	if u.Phone != "" {
		if utf8.RuneCountInString(u.Phone) > maxPhone {
			add("phone", "must be at most 32 characters")
		} else if !phonePattern.MatchString(u.Phone) || !strings.ContainsAny(u.Phone, "0123456789") {
			add("phone", "may contain only digits, spaces, + ( ) . and -")
		}
	}

	if u.Instagram != "" {
		if utf8.RuneCountInString(u.Instagram) > maxInstagram {
			add("instagram", "must be at most 64 characters")
		} else if !instagramPattern.MatchString(u.Instagram) {
			add("instagram", "may contain only letters, digits, periods and underscores")
		}
	}

	if u.Birthdate != "" {
		d, err := time.Parse(time.DateOnly, u.Birthdate)
		switch {
		case err != nil:
			add("birthdate", "must be a real date written YYYY-MM-DD")
		case d.After(now):
			add("birthdate", "must not be in the future")
		}
	}

	if len(errs) > 0 {
		return &ValidationError{Fields: errs}
	}
	return nil
}

func validUsername(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("._-@+", r) {
			return false
		}
	}
	return true
}

func validEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasSuffix(domain, ".")
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// CheckPassword applies the password policy to a new password: long enough,
// not absurdly long, and not the username.
func CheckPassword(plain, username string, minLength int) error {
	if minLength <= 0 {
		minLength = DefaultMinPasswordLength
	}
	switch {
	case utf8.RuneCountInString(plain) < minLength:
		return &FieldError{Field: "password", Problem: "must be at least " + strconv.Itoa(minLength) + " characters"}
	case len(plain) > MaxPasswordBytes:
		return &FieldError{Field: "password", Problem: "must be at most 1024 bytes"}
	case strings.EqualFold(strings.TrimSpace(plain), strings.TrimSpace(username)):
		return &FieldError{Field: "password", Problem: "must not be the username"}
	}
	return nil
}
