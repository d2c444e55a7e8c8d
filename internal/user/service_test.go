package user_test

import (
	"context"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/password"
	"github.com/inkpass/inkpass/internal/user"
)

// The fixture's werkzeug vectors are deliberately expensive (pbkdf2 with a
// million iterations, scrypt N=32768), and several times slower under -race.
// Each expensive login below happens once, and the tests that do them run in
// parallel.

func TestService_Authenticate_AdoptedStudioDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// auto resolves to werkzeug on an adopted database (cmd/inkpass decides);
	// the Service gets the resolved target.
	e := adoptedEnv(t, envOptions{target: password.TargetWerkzeug})
	before := e.usersRows(t)
	loginAt := "'" + e.clock.Now().Format("2006-01-02 15:04:05") + "'"
	scryptRe := regexp.MustCompile(werkzeugScrypt)

	cases := []struct {
		name       string
		username   string
		password   string
		wantOK     bool
		wantRehash bool
	}{
		{"admin signs in with secure_password and keeps its scrypt:32768 hash", "admin", "secure_password", true, false},
		{"luna_artist signs in and her pbkdf2:sha256:600000 hash becomes werkzeug scrypt", "luna_artist", "artist_password", true, true},
		{"kai signs in and his pbkdf2:sha256:1000000 hash becomes werkzeug scrypt", "kai", "needle&ink-77", true, true},
		{"front_desk signs in with a non-ASCII password and the scrypt:16384 hash is strengthened", "front_desk", "desk-Pässwort-1", true, true},
		{"former_assistant, deactivated, cannot sign in with the right password", "former_assistant", "gone-but-kept", false, false},
	}
	if len(cases) != len(fixtureUsers) {
		t.Fatalf("%d cases for %d fixture users", len(cases), len(fixtureUsers))
	}

	t.Run("logins", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				old := before[tc.username]["password_hash"]
				u, err := e.svc.Authenticate(ctx, tc.username, tc.password, "")
				if !tc.wantOK {
					if err != user.ErrInvalidCredentials || u != nil {
						t.Fatalf("Authenticate = %v, %v; want nil, ErrInvalidCredentials", u, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("Authenticate: %v", err)
				}
				if u.Username != tc.username || u.LastLogin == nil || !u.LastLogin.Equal(e.clock.Now()) {
					t.Errorf("returned user %q with last_login %v, want %q at %v", u.Username, u.LastLogin, tc.username, e.clock.Now())
				}
				stored := e.raw(t, `SELECT quote(password_hash) FROM users WHERE username = ?`, tc.username)
				if stored != "'"+u.PasswordHash+"'" {
					t.Errorf("returned hash differs from the stored one %s", stored)
				}
				if !tc.wantRehash {
					if stored != old {
						t.Errorf("hash changed to %s, want it kept", stored)
					}
					return
				}
				if !scryptRe.MatchString(u.PasswordHash) {
					t.Fatalf("new hash %q does not match %s", u.PasswordHash, werkzeugScrypt)
				}
				// The upgraded hash still opens the account, and needs no
				// second upgrade.
				again, err := e.svc.Authenticate(ctx, tc.username, tc.password, "")
				if err != nil {
					t.Fatalf("second login with the upgraded hash: %v", err)
				}
				if again.PasswordHash != u.PasswordHash {
					t.Errorf("the second login rehashed again")
				}
			})
		}
	})

	t.Run("rows are unchanged apart from last_login and upgraded hashes", func(t *testing.T) {
		after := e.usersRows(t)
		if len(after) != len(before) {
			t.Fatalf("%d users after, %d before", len(after), len(before))
		}
		for _, tc := range cases {
			b, a := before[tc.username], after[tc.username]
			if len(b) != 13 || len(a) != 13 {
				t.Fatalf("%s: %d columns before, %d after, want 13", tc.username, len(b), len(a))
			}
			for col, want := range b {
				got := a[col]
				switch {
				case col == "last_login" && tc.wantOK:
					want = loginAt
				case col == "password_hash" && tc.wantRehash:
					if got == want || !scryptRe.MatchString(strings.Trim(got, "'")) {
						t.Errorf("%s.password_hash = %s, want a new werkzeug scrypt hash", tc.username, got)
					}
					continue
				}
				if got != want {
					t.Errorf("%s.%s = %s, want %s", tc.username, col, got, want)
				}
			}
		}
	})
}

func TestService_Authenticate_EveryFailureLooksTheSame(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// A fresh database at the test hashing cost: the rule is the same for
	// every hash format, and TestService_Authenticate_AdoptedStudioDatabase
	// signs in to the studio's real-cost hashes.
	e := freshEnv(t, envOptions{})
	if _, err := e.svc.Create(ctx, user.User{Username: "front_desk", Role: user.RoleAssistant}, "desk-Pässwort-1"); err != nil {
		t.Fatal(err)
	}
	former, err := e.svc.Create(ctx, user.User{Username: "former_assistant", Role: user.RoleAssistant}, "gone-but-kept")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Deactivate(ctx, former.ID); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, username, password, logReason string
	}{
		{"an unknown username", "nobody", "secure_password", "unknown username"},
		{"a wrong password", "front_desk", "desk-Passwort-1", "wrong password"},
		{"a deactivated account with its right password", "former_assistant", "gone-but-kept", "account deactivated"},
		{"an empty username", "   ", "secure_password", "malformed credentials"},
	}
	t.Run("attempts", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name+" gives ErrInvalidCredentials", func(t *testing.T) {
				t.Parallel()
				u, err := e.svc.Authenticate(ctx, tc.username, tc.password, "198.51.100.7")
				// Identity, not errors.Is: the caller must not be able to tell
				// the cases apart by type or message.
				if err != user.ErrInvalidCredentials || u != nil {
					t.Errorf("Authenticate = %v, %v; want nil, exactly ErrInvalidCredentials", u, err)
				}
			})
		}
	})
	t.Run("the log tells the cases apart", func(t *testing.T) {
		log := e.log.String()
		for _, tc := range cases {
			if !strings.Contains(log, tc.logReason) {
				t.Errorf("log does not mention %q:\n%s", tc.logReason, log)
			}
		}
	})
	t.Run("no failed attempt set last_login", func(t *testing.T) {
		for _, name := range []string{"front_desk", "former_assistant"} {
			got := e.raw(t, `SELECT quote(last_login) FROM users WHERE username = ?`, name)
			if got != "NULL" {
				t.Errorf("%s.last_login = %s, want NULL (never signed in)", name, got)
			}
		}
	})
}

func TestService_Authenticate_UpgradesHashes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("with target argon2id a werkzeug pbkdf2 hash becomes argon2id and still works", func(t *testing.T) {
		t.Parallel()
		e := freshEnv(t, envOptions{target: password.TargetArgon2id})
		plain, hash := vector(t, "pbkdf2:sha256:260000")
		id := e.insertWithHash(t, "legacy", hash)
		u, err := e.svc.Authenticate(ctx, "legacy", plain, "")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=8,t=1,p=1$") {
			t.Fatalf("hash after login = %q, want argon2id with the policy's parameters", u.PasswordHash)
		}
		stored := e.raw(t, `SELECT quote(password_hash) FROM users WHERE id = ?`, id)
		if stored != "'"+u.PasswordHash+"'" {
			t.Errorf("stored hash %s differs from the returned one", stored)
		}
		if _, err := e.svc.Authenticate(ctx, "legacy", plain, ""); err != nil {
			t.Fatalf("login with the upgraded hash: %v", err)
		}
		if n := e.hasher.hash.Load(); n != 1 {
			t.Errorf("%d hashes computed over two logins, want 1 (no second upgrade)", n)
		}
		if got := e.raw(t, `SELECT quote(password_hash) FROM users WHERE id = ?`, id); got != stored {
			t.Error("the second login changed the hash again")
		}
	})

	t.Run("with target off the werkzeug hash is left as it was", func(t *testing.T) {
		t.Parallel()
		e := freshEnv(t, envOptions{target: password.TargetOff})
		plain, hash := vector(t, "pbkdf2:sha1:50000")
		id := e.insertWithHash(t, "legacy", hash)
		u, err := e.svc.Authenticate(ctx, "legacy", plain, "")
		if err != nil {
			t.Fatal(err)
		}
		if u.PasswordHash != hash || e.hasher.hash.Load() != 0 {
			t.Errorf("hash became %q after %d hash computations, want it unchanged", u.PasswordHash, e.hasher.hash.Load())
		}
		if got := e.raw(t, `SELECT quote(password_hash) FROM users WHERE id = ?`, id); got != "'"+hash+"'" {
			t.Errorf("stored hash = %s, want the werkzeug one", got)
		}
		if got := e.raw(t, `SELECT quote(last_login) FROM users WHERE id = ?`, id); got != "'2026-03-14 15:09:26'" {
			t.Errorf("last_login = %s, want '2026-03-14 15:09:26' even without an upgrade", got)
		}
	})

	t.Run("with target werkzeug an argon2id hash becomes scrypt the Python app can read", func(t *testing.T) {
		t.Parallel()
		e := freshEnv(t, envOptions{target: password.TargetWerkzeug})
		plain, hash := vector(t, "argon2")
		e.insertWithHash(t, "argon", hash)
		u, err := e.svc.Authenticate(ctx, "argon", plain, "")
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(werkzeugScrypt).MatchString(u.PasswordHash) {
			t.Errorf("hash after login = %q, want %s", u.PasswordHash, werkzeugScrypt)
		}
	})
}

func TestService_Authenticate_SetsLastLogin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := freshEnv(t, envOptions{})
	u, err := e.svc.Create(ctx, user.User{Username: "mira", Role: user.RoleAssistant}, "correct-horse-42")
	if err != nil {
		t.Fatal(err)
	}
	if u.LastLogin != nil {
		t.Fatalf("a new user has last_login %v", u.LastLogin)
	}
	e.clock.Advance(90 * time.Minute)
	got, err := e.svc.Authenticate(ctx, "Mira", "correct-horse-42", "")
	if err != nil {
		t.Fatalf("signing in as Mira (other letter case): %v", err)
	}
	if got.LastLogin == nil || !got.LastLogin.Equal(e.clock.Now()) {
		t.Errorf("LastLogin = %v, want %v", got.LastLogin, e.clock.Now())
	}
	if raw := e.raw(t, `SELECT quote(last_login) FROM users WHERE id = ?`, u.ID); raw != "'2026-03-14 16:39:26'" {
		t.Errorf("raw last_login = %s, want '2026-03-14 16:39:26'", raw)
	}
	if stored, _ := e.svc.Get(ctx, u.ID); stored.LastLogin == nil || !stored.LastLogin.Equal(e.clock.Now()) {
		t.Errorf("Get says last_login %v, want %v", stored.LastLogin, e.clock.Now())
	}
}

func TestService_Authenticate_UnknownUsernameCostsAVerification(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := freshEnv(t, envOptions{})
	if _, err := e.svc.Create(ctx, user.User{Username: "mira", Role: user.RoleAssistant}, "correct-horse-42"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name                  string
		username, password    string
		wantDummy, wantVerify int64
	}{
		{"an unknown username verifies against the dummy hash", "nobody", "correct-horse-42", 1, 0},
		{"a known username with a wrong password verifies its own hash", "mira", "wrong-horse-42", 0, 1},
		{"an empty username still spends a dummy verification", "", "correct-horse-42", 1, 0},
		{"an over-long password still spends a dummy verification", "mira", strings.Repeat("p", user.MaxPasswordBytes+1), 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d0, v0 := e.hasher.dummy.Load(), e.hasher.verify.Load()
			if _, err := e.svc.Authenticate(ctx, tc.username, tc.password, ""); err != user.ErrInvalidCredentials {
				t.Fatalf("err = %v, want ErrInvalidCredentials", err)
			}
			if d, v := e.hasher.dummy.Load()-d0, e.hasher.verify.Load()-v0; d != tc.wantDummy || v != tc.wantVerify {
				t.Errorf("VerifyDummy called %d times and Verify %d, want %d and %d", d, v, tc.wantDummy, tc.wantVerify)
			}
		})
	}
}

// testThrottle: three free failures per username, then a lock of one minute
// that doubles with each further failure.
var testThrottle = user.ThrottlePolicy{
	FreeFailuresPerUsername: 3,
	FreeFailuresPerAddress:  50,
	BaseLock:                time.Minute,
	MaxLock:                 10 * time.Minute,
	Window:                  15 * time.Minute,
}

const miraPassword = "correct-horse-42"

// throttleEnv is a fresh database with the user mira.
func throttleEnv(t *testing.T, p user.ThrottlePolicy) *env {
	t.Helper()
	e := freshEnv(t, envOptions{throttle: p})
	if _, err := e.svc.Create(context.Background(), user.User{Username: "mira", Role: user.RoleAssistant}, miraPassword); err != nil {
		t.Fatal(err)
	}
	return e
}

// failN makes n failed attempts and requires each to be a plain
// ErrInvalidCredentials, not yet a throttle.
func (e *env) failN(t *testing.T, username, addr string, n int) {
	t.Helper()
	for i := range n {
		if _, err := e.svc.Authenticate(context.Background(), username, "wrong-password", addr); err != user.ErrInvalidCredentials {
			t.Fatalf("failure %d of %s: err = %v, want ErrInvalidCredentials", i+1, username, err)
		}
	}
}

// wantThrottled requires a *ThrottledError with the given wait.
func wantThrottled(t *testing.T, err error, retry time.Duration) {
	t.Helper()
	var te *user.ThrottledError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a *user.ThrottledError", err)
	}
	if !errors.Is(err, user.ErrThrottled) || errors.Is(err, user.ErrInvalidCredentials) {
		t.Errorf("err %v: errors.Is(ErrThrottled) must hold and errors.Is(ErrInvalidCredentials) must not", err)
	}
	if te.RetryAfter != retry {
		t.Errorf("RetryAfter = %v, want %v", te.RetryAfter, retry)
	}
}

func TestService_Authenticate_Throttling(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("after the free failures, the right password is refused with a ThrottledError and no hashing", func(t *testing.T) {
		t.Parallel()
		e := throttleEnv(t, testThrottle)
		// Failures 1-3 are free; the 4th earns a one-minute lock.
		e.failN(t, "mira", "", 4)
		verifies := e.hasher.verify.Load() + e.hasher.dummy.Load()
		_, err := e.svc.Authenticate(ctx, "mira", miraPassword, "")
		wantThrottled(t, err, time.Minute)
		_, err = e.svc.Authenticate(ctx, "MIRA", miraPassword, "")
		wantThrottled(t, err, time.Minute)
		if n := e.hasher.verify.Load() + e.hasher.dummy.Load(); n != verifies {
			t.Errorf("%d verifications while locked, want 0", n-verifies)
		}
		if got := e.raw(t, `SELECT quote(last_login) FROM users WHERE username = 'mira'`); got != "NULL" {
			t.Errorf("last_login = %s after throttled attempts, want NULL", got)
		}
	})

	t.Run("the lock survives a restart: a new Service on the same file still refuses", func(t *testing.T) {
		t.Parallel()
		e := throttleEnv(t, testThrottle)
		e.failN(t, "mira", "", 4)
		e.clock.Advance(20 * time.Second)
		if err := e.db.Close(); err != nil {
			t.Fatal(err)
		}
		restarted := newEnv(t, e.path, envOptions{throttle: testThrottle, clock: e.clock})
		_, err := restarted.svc.Authenticate(ctx, "mira", miraPassword, "")
		wantThrottled(t, err, 40*time.Second)
	})

	t.Run("after the lock expires the right password succeeds and clears the failures", func(t *testing.T) {
		t.Parallel()
		e := throttleEnv(t, testThrottle)
		e.failN(t, "mira", "", 4)
		e.clock.Advance(time.Minute)
		if _, err := e.svc.Authenticate(ctx, "mira", miraPassword, ""); err != nil {
			t.Fatalf("login after the lock expired: %v", err)
		}
		if n := e.raw(t, `SELECT count(*) FROM inkpass_login_throttle WHERE scope = 'username' AND key = 'mira'`); n != "0" {
			t.Errorf("%s throttle rows for mira after a successful login, want 0", n)
		}
		// The count starts over: three more failures are free again.
		e.failN(t, "mira", "", 3)
		if _, err := e.svc.Authenticate(ctx, "mira", miraPassword, ""); err != nil {
			t.Errorf("login after three new free failures: %v", err)
		}
	})

	t.Run("each failure after a lock doubles the next lock", func(t *testing.T) {
		t.Parallel()
		e := throttleEnv(t, testThrottle)
		e.failN(t, "mira", "", 4)
		e.clock.Advance(time.Minute)
		e.failN(t, "mira", "", 1)
		_, err := e.svc.Authenticate(ctx, "mira", miraPassword, "")
		wantThrottled(t, err, 2*time.Minute)
	})

	t.Run("failures older than the window are forgotten", func(t *testing.T) {
		t.Parallel()
		e := throttleEnv(t, testThrottle)
		e.failN(t, "mira", "", 3)
		e.clock.Advance(testThrottle.Window + time.Second)
		// Counted as the first failure of a new window, so no lock follows.
		e.failN(t, "mira", "", 1)
		if _, err := e.svc.Authenticate(ctx, "mira", miraPassword, ""); err != nil {
			t.Errorf("login after old failures expired: %v", err)
		}
	})

	t.Run("an unknown username records failures and is locked like a real one", func(t *testing.T) {
		t.Parallel()
		e := throttleEnv(t, testThrottle)
		e.failN(t, "Ghost", "", 4)
		if got := e.raw(t, `SELECT failures FROM inkpass_login_throttle WHERE scope = 'username' AND key = 'ghost'`); got != "4" {
			t.Errorf("failures recorded for ghost = %s, want 4", got)
		}
		if d := e.hasher.dummy.Load(); d != 4 {
			t.Errorf("VerifyDummy called %d times, want 4", d)
		}
		_, err := e.svc.Authenticate(ctx, "ghost", "anything", "")
		wantThrottled(t, err, time.Minute)
	})

	t.Run("failures from one address lock that address for every username", func(t *testing.T) {
		t.Parallel()
		p := testThrottle
		p.FreeFailuresPerAddress = 2
		e := throttleEnv(t, p)
		const attacker, desk = "203.0.113.9", "198.51.100.4"
		e.failN(t, "ghost1", attacker, 1)
		e.failN(t, "ghost2", attacker, 1)
		e.failN(t, "ghost3", attacker, 1)
		_, err := e.svc.Authenticate(ctx, "mira", miraPassword, attacker)
		wantThrottled(t, err, time.Minute)
		if _, err := e.svc.Authenticate(ctx, "mira", miraPassword, desk); err != nil {
			t.Fatalf("mira from another address: %v", err)
		}
		// A success elsewhere does not reset the attacker's address.
		_, err = e.svc.Authenticate(ctx, "mira", miraPassword, attacker)
		wantThrottled(t, err, time.Minute)
	})
}

func TestService_Create(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := freshEnv(t, envOptions{})
	artist, err := e.db.CreateArtist(ctx, "Luna Martinez")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("trims fields, strips the @ from instagram and stores empty fields as NULL", func(t *testing.T) {
		u, err := e.svc.Create(ctx, user.User{
			Username: "  luna  ", Role: user.RoleArtist, ArtistID: &artist, Name: " Luna Martinez ",
			Email: " luna@studio.example ", Instagram: " @lunatattoos ", Active: false,
		}, "artist_password")
		if err != nil {
			t.Fatal(err)
		}
		if u.Username != "luna" || u.Instagram != "lunatattoos" || u.Email != "luna@studio.example" || u.Name != "Luna Martinez" {
			t.Errorf("stored %q %q %q %q, want trimmed values and a bare handle", u.Username, u.Instagram, u.Email, u.Name)
		}
		if !u.Active {
			t.Error("a new user is inactive")
		}
		if u.ArtistName != "Luna Martinez" {
			t.Errorf("ArtistName = %q, want the linked artist's name", u.ArtistName)
		}
		if !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
			t.Errorf("password stored as %q, want an argon2id hash", u.PasswordHash)
		}
		for col, want := range map[string]string{"instagram": "'lunatattoos'", "phone": "NULL", "birthdate": "NULL", "is_active": "1"} {
			if got := e.raw(t, `SELECT quote(`+col+`) FROM users WHERE id = ?`, u.ID); got != want {
				t.Errorf("raw %s = %s, want %s", col, got, want)
			}
		}
		if _, err := e.svc.Authenticate(ctx, "luna", "artist_password", ""); err != nil {
			t.Errorf("the new user cannot sign in: %v", err)
		}
	})

	t.Run("field and password problems are reported together and nothing is written", func(t *testing.T) {
		hashes := e.hasher.hash.Load()
		rows := e.raw(t, `SELECT count(*) FROM users`)
		_, err := e.svc.Create(ctx, user.User{Username: "bad name", Role: user.RoleArtist, Birthdate: "2099-01-01"}, "short")
		if got, want := fieldsOf(t, err), []string{"username", "artist_id", "birthdate", "password"}; !reflect.DeepEqual(got, want) {
			t.Errorf("problems on %q, want %q", got, want)
		}
		if e.hasher.hash.Load() != hashes {
			t.Error("a refused user's password was hashed")
		}
		if got := e.raw(t, `SELECT count(*) FROM users`); got != rows {
			t.Errorf("users went from %s to %s rows", rows, got)
		}
	})

	t.Run("a password equal to the username is refused", func(t *testing.T) {
		_, err := e.svc.Create(ctx, user.User{Username: "front_desk", Role: user.RoleAssistant}, "Front_Desk")
		if got := fieldsOf(t, err); !reflect.DeepEqual(got, []string{"password"}) {
			t.Errorf("problems on %q, want [password]", got)
		}
	})

	t.Run("a username taken in other letter case is refused", func(t *testing.T) {
		if _, err := e.svc.Create(ctx, user.User{Username: "Kai", Role: user.RoleAssistant}, miraPassword); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Create(ctx, user.User{Username: "kai", Role: user.RoleAssistant}, miraPassword); !errors.Is(err, user.ErrUsernameTaken) {
			t.Errorf("err = %v, want ErrUsernameTaken", err)
		}
	})

	t.Run("an email used by another user in other letter case is refused", func(t *testing.T) {
		if _, err := e.svc.Create(ctx, user.User{Username: "desk1", Role: user.RoleAssistant, Email: "desk@studio.example"}, miraPassword); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Create(ctx, user.User{Username: "desk2", Role: user.RoleAssistant, Email: "DESK@studio.example"}, miraPassword); !errors.Is(err, user.ErrEmailTaken) {
			t.Errorf("err = %v, want ErrEmailTaken", err)
		}
	})

	t.Run("an artist_id with no artist record is refused", func(t *testing.T) {
		missing := artist + 100
		if _, err := e.svc.Create(ctx, user.User{Username: "ghost_artist", Role: user.RoleArtist, ArtistID: &missing}, miraPassword); !errors.Is(err, user.ErrArtistNotFound) {
			t.Errorf("err = %v, want ErrArtistNotFound", err)
		}
	})
}

func TestService_Update(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := freshEnv(t, envOptions{})
	artist, err := e.db.CreateArtist(ctx, "Kai Okafor")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := e.svc.Create(ctx, user.User{Username: "boss", Role: user.RoleAdmin}, miraPassword)
	if err != nil {
		t.Fatal(err)
	}
	kai, err := e.svc.Create(ctx, user.User{Username: "kai", Role: user.RoleArtist, ArtistID: &artist, Email: "kai@studio.example", Phone: "555-0101"}, miraPassword)
	if err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }

	t.Run("a patch changes the named fields, and an empty value clears an optional one", func(t *testing.T) {
		u, err := e.svc.Update(ctx, kai.ID, user.Patch{Name: str("Kai Okafor"), Instagram: str("@kai.ink"), Email: str("")})
		if err != nil {
			t.Fatal(err)
		}
		if u.Name != "Kai Okafor" || u.Instagram != "kai.ink" || u.Email != "" || u.Phone != "555-0101" {
			t.Errorf("after update: name %q instagram %q email %q phone %q", u.Name, u.Instagram, u.Email, u.Phone)
		}
		if got := e.raw(t, `SELECT quote(email) FROM users WHERE id = ?`, kai.ID); got != "NULL" {
			t.Errorf("raw email = %s, want NULL", got)
		}
		if u.PasswordHash != kai.PasswordHash {
			t.Error("Update changed the password hash")
		}
	})

	t.Run("making an artist an assistant while keeping artist_id is refused", func(t *testing.T) {
		_, err := e.svc.Update(ctx, kai.ID, user.Patch{Role: ptrTo(user.RoleAssistant)})
		if got := fieldsOf(t, err); !reflect.DeepEqual(got, []string{"artist_id"}) {
			t.Errorf("problems on %q, want [artist_id]", got)
		}
	})

	t.Run("making an artist an assistant and clearing artist_id together is accepted", func(t *testing.T) {
		var none *int64
		u, err := e.svc.Update(ctx, kai.ID, user.Patch{Role: ptrTo(user.RoleAssistant), ArtistID: &none})
		if err != nil {
			t.Fatal(err)
		}
		if u.Role != user.RoleAssistant || u.ArtistID != nil {
			t.Errorf("role %s artist_id %v, want assistant and none", u.Role, u.ArtistID)
		}
		if got := e.raw(t, `SELECT quote(artist_id) FROM users WHERE id = ?`, kai.ID); got != "NULL" {
			t.Errorf("raw artist_id = %s, want NULL", got)
		}
	})

	t.Run("renaming to a taken username in other letter case is refused", func(t *testing.T) {
		if _, err := e.svc.Update(ctx, kai.ID, user.Patch{Username: str("BOSS")}); !errors.Is(err, user.ErrUsernameTaken) {
			t.Errorf("err = %v, want ErrUsernameTaken", err)
		}
	})

	t.Run("updating a user that does not exist is ErrNotFound", func(t *testing.T) {
		if _, err := e.svc.Update(ctx, 987654, user.Patch{Name: str("x")}); !errors.Is(err, user.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})

	t.Run("the last active admin cannot be demoted or deactivated", func(t *testing.T) {
		if _, err := e.svc.Update(ctx, admin.ID, user.Patch{Role: ptrTo(user.RoleAssistant)}); !errors.Is(err, user.ErrLastAdmin) {
			t.Errorf("demote: err = %v, want ErrLastAdmin", err)
		}
		if err := e.svc.Deactivate(ctx, admin.ID); !errors.Is(err, user.ErrLastAdmin) {
			t.Errorf("deactivate: err = %v, want ErrLastAdmin", err)
		}
		second, err := e.svc.Create(ctx, user.User{Username: "boss2", Role: user.RoleAdmin}, miraPassword)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Deactivate(ctx, admin.ID); err != nil {
			t.Errorf("deactivate with a second admin: %v", err)
		}
		if err := e.svc.Deactivate(ctx, second.ID); !errors.Is(err, user.ErrLastAdmin) {
			t.Errorf("deactivate the remaining admin: err = %v, want ErrLastAdmin", err)
		}
	})
}

func ptrTo[T any](v T) *T { return &v }

func TestService_DeactivateAndReactivate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := freshEnv(t, envOptions{})
	u, err := e.svc.Create(ctx, user.User{Username: "mira", Role: user.RoleAssistant}, miraPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Deactivate(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, "mira", miraPassword, ""); err != user.ErrInvalidCredentials {
		t.Errorf("a deactivated user signing in: err = %v, want ErrInvalidCredentials", err)
	}
	got, err := e.svc.Get(ctx, u.ID)
	if err != nil || got.Active {
		t.Errorf("Get after deactivation = %+v, %v; want the row kept, inactive", got, err)
	}
	if err := e.svc.Reactivate(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, "mira", miraPassword, ""); err != nil {
		t.Errorf("a reactivated user signing in: %v", err)
	}
	if err := e.svc.Reactivate(ctx, 987654); !errors.Is(err, user.ErrNotFound) {
		t.Errorf("reactivating a missing user: err = %v, want ErrNotFound", err)
	}
}

func TestService_SetPassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := freshEnv(t, envOptions{})
	u, err := e.svc.Create(ctx, user.User{Username: "mira", Role: user.RoleAssistant}, miraPassword)
	if err != nil {
		t.Fatal(err)
	}
	var fe *user.FieldError
	if err := e.svc.SetPassword(ctx, u.ID, "short"); !errors.As(err, &fe) || fe.Field != "password" {
		t.Errorf("a short password: err = %v, want a password FieldError", err)
	}
	if err := e.svc.SetPassword(ctx, u.ID, "battery-staple-99"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, "mira", miraPassword, ""); err != user.ErrInvalidCredentials {
		t.Errorf("the old password: err = %v, want ErrInvalidCredentials", err)
	}
	if _, err := e.svc.Authenticate(ctx, "mira", "battery-staple-99", ""); err != nil {
		t.Errorf("the new password: %v", err)
	}
	if err := e.svc.CheckCurrentPassword(ctx, u.ID, "battery-staple-99", "192.0.2.7"); err != nil {
		t.Errorf("CheckCurrentPassword with the right password: %v", err)
	}
	if err := e.svc.CheckCurrentPassword(ctx, u.ID, miraPassword, "192.0.2.7"); err != user.ErrInvalidCredentials {
		t.Errorf("CheckCurrentPassword with the old password: err = %v, want ErrInvalidCredentials", err)
	}
	if err := e.svc.SetPassword(ctx, 987654, "battery-staple-99"); !errors.Is(err, user.ErrNotFound) {
		t.Errorf("SetPassword of a missing user: err = %v, want ErrNotFound", err)
	}
}
