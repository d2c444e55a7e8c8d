package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/inkpass/inkpass/internal/password"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/testsupport"
)

// cli runs the real commands in-process against a config in a temp folder.
type cli struct {
	dir    string
	config string
	env    map[string]string
}

// newCLI writes a config.yaml whose database and keys live beside it.
// database may be relative (to the config) or absolute.
func newCLI(t *testing.T, database string, extra string) *cli {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	body := "database: " + strconv.Quote(database) + "\nkeys_dir: keys\n" + extra
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return &cli{dir: dir, config: path, env: map[string]string{}}
}

// run executes `inkpass args... --config PATH` with stdin and returns the exit
// code, stdout and stderr.
func (c *cli) run(t *testing.T, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var out, errOut bytes.Buffer
	args = append(slices.Clone(args), "--config", c.config)
	code := run(context.Background(), args, func(k string) string { return c.env[k] }, stdin, &out, &errOut)
	return code, out.String(), errOut.String()
}

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	code, out, errOut := c.run(t, strings.NewReader(stdin), args...)
	if code != 0 {
		t.Fatalf("inkpass %s: exit %d, stderr %q", strings.Join(args, " "), code, errOut)
	}
	return out
}

// jsonObject decodes stdout that must be exactly one JSON object.
func jsonObject(t *testing.T, out string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("stdout is not a JSON object: %v\n%s", err, out)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("stdout holds more than one JSON value:\n%s", out)
	}
	return m
}

// jsonArray decodes stdout that must be exactly one JSON array of objects.
func jsonArray(t *testing.T, out string) []map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	var a []map[string]any
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("stdout is not a JSON array: %v\n%s", err, out)
	}
	if a == nil {
		t.Fatalf("stdout is null, want an array:\n%s", out)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("stdout holds more than one JSON value:\n%s", out)
	}
	return a
}

func usernames(list []map[string]any) []string {
	var names []string
	for _, u := range list {
		names = append(names, u["username"].(string))
	}
	slices.Sort(names)
	return names
}

// fixtureDB builds testdata/studio-fixture.sql into dir and returns the path.
func fixtureDB(t *testing.T, dir string) string {
	t.Helper()
	return testsupport.StudioDB(t, dir)
}

func TestMigrate(t *testing.T) {
	t.Parallel()

	t.Run("migrate creates the database beside the config and can run again", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t, "data/inkpass.db", "")
		out := c.ok(t, "", "migrate")
		db := filepath.Join(c.dir, "data", "inkpass.db")
		if !strings.Contains(out, db) || !strings.Contains(out, "(created)") {
			t.Errorf("stdout %q does not name %s as created", out, db)
		}
		if _, err := os.Stat(db); err != nil {
			t.Fatalf("database not created: %v", err)
		}
		if out := c.ok(t, "", "migrate"); !strings.Contains(out, "up to date") {
			t.Errorf("second migrate printed %q", out)
		}
	})

	t.Run("migrate adopts the studio's database and says so", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t, "studio.db", "")
		fixtureDB(t, c.dir)
		if out := c.ok(t, "", "migrate"); !strings.Contains(out, "(adopted)") {
			t.Errorf("stdout %q does not say adopted", out)
		}
	})

	t.Run("INKPASS_DATABASE overrides the config's database", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t, "from-config.db", "")
		other := filepath.Join(t.TempDir(), "from-env.db")
		c.env["INKPASS_DATABASE"] = other
		c.ok(t, "", "migrate")
		if _, err := os.Stat(other); err != nil {
			t.Errorf("INKPASS_DATABASE file not created: %v", err)
		}
		if _, err := os.Stat(filepath.Join(c.dir, "from-config.db")); err == nil {
			t.Error("the config's database was created although INKPASS_DATABASE overrides it")
		}
	})
}

func TestMigrate_WithoutConfigFlagUsesDefaultsInTheWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"migrate"}, func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "inkpass.db")); err != nil {
		t.Errorf("default database not created in the working directory: %v", err)
	}
}

func TestUserAndArtistCommands(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "inkpass.db", "")

	// artist add prints the new id, and nothing else.
	out := c.ok(t, "", "artist", "add", "--name", "Luna Martinez")
	if !regexp.MustCompile(`^\d+\n$`).MatchString(out) {
		t.Fatalf("artist add printed %q, want an id and a newline", out)
	}
	artistID := strings.TrimSpace(out)

	var lunaID float64
	t.Run("user add --password-stdin --json prints one JSON object with the table's fields", func(t *testing.T) {
		out := c.ok(t, "artist_password\n", "user", "add", "--username", "luna", "--role", "artist", "--artist-id", artistID,
			"--name", "Luna Martinez", "--email", "luna@studio.example", "--phone", "555-0199", "--instagram", "@lunatattoos",
			"--birthdate", "1992-07-30", "--password-stdin", "--json")
		u := jsonObject(t, out)
		for _, k := range []string{"id", "username", "role", "artist_id", "is_active", "name", "email", "phone", "instagram", "birthdate", "created_at", "last_login"} {
			if _, ok := u[k]; !ok {
				t.Errorf("JSON has no %q key: %v", k, u)
			}
		}
		for _, k := range []string{"password_hash", "password", "PasswordHash"} {
			if _, ok := u[k]; ok {
				t.Errorf("JSON carries %q", k)
			}
		}
		if u["username"] != "luna" || u["role"] != "artist" || u["artist_id"] != mustFloat(t, artistID) || u["is_active"] != true || u["instagram"] != "lunatattoos" {
			t.Errorf("JSON = %v", u)
		}
		if u["last_login"] != nil {
			t.Errorf("last_login = %v, want null", u["last_login"])
		}
		lunaID = u["id"].(float64)
	})

	t.Run("user add without --json says what it created", func(t *testing.T) {
		out := c.ok(t, "desk-password-1\n", "user", "add", "--username", "front_desk", "--role", "assistant", "--password-stdin")
		if !strings.Contains(out, `"front_desk"`) || !strings.Contains(out, "assistant") {
			t.Errorf("stdout %q", out)
		}
	})

	t.Run("user list --json is an array with every user", func(t *testing.T) {
		list := jsonArray(t, c.ok(t, "", "user", "list", "--json"))
		if got := usernames(list); !slices.Equal(got, []string{"front_desk", "luna"}) {
			t.Errorf("usernames = %v, want [front_desk luna]", got)
		}
		artists := jsonArray(t, c.ok(t, "", "user", "list", "--role", "artist", "--json"))
		if got := usernames(artists); !slices.Equal(got, []string{"luna"}) {
			t.Errorf("--role artist lists %v, want [luna]", got)
		}
	})

	t.Run("user list's table columns are the JSON field names", func(t *testing.T) {
		header, _, _ := strings.Cut(c.ok(t, "", "user", "list"), "\n")
		list := jsonArray(t, c.ok(t, "", "user", "list", "--json"))
		for _, col := range strings.Fields(header) {
			if _, ok := list[0][strings.ToLower(col)]; !ok {
				t.Errorf("table column %s has no JSON field %q", col, strings.ToLower(col))
			}
		}
	})

	t.Run("artist list --json is an array holding the new artist", func(t *testing.T) {
		list := jsonArray(t, c.ok(t, "", "artist", "list", "--json"))
		if len(list) != 1 || list[0]["name"] != "Luna Martinez" || list[0]["id"] != mustFloat(t, artistID) {
			t.Errorf("artists = %v", list)
		}
	})

	t.Run("user update changes the named fields and an empty value clears one", func(t *testing.T) {
		u := jsonObject(t, c.ok(t, "", "user", "update", "luna", "--name", "Luna M.", "--email", "", "--json"))
		if u["name"] != "Luna M." || u["email"] != nil || u["phone"] != "555-0199" {
			t.Errorf("after update: %v", u)
		}
		shown := jsonObject(t, c.ok(t, "", "user", "show", strconv.FormatFloat(lunaID, 'f', 0, 64), "--json"))
		if shown["name"] != "Luna M." || shown["email"] != nil {
			t.Errorf("user show by id after update: %v", shown)
		}
	})

	t.Run("user update --role assistant clears artist_id", func(t *testing.T) {
		c.ok(t, "x1-password\n", "user", "add", "--username", "kai", "--role", "artist", "--artist-id", artistID, "--password-stdin")
		u := jsonObject(t, c.ok(t, "", "user", "update", "kai", "--role", "assistant", "--json"))
		if u["role"] != "assistant" || u["artist_id"] != nil {
			t.Errorf("after the role change: %v", u)
		}
	})

	t.Run("user deactivate and activate flip is_active and the lists follow", func(t *testing.T) {
		if out := c.ok(t, "", "user", "deactivate", "luna"); !strings.Contains(out, "deactivated") {
			t.Errorf("stdout %q", out)
		}
		if u := jsonObject(t, c.ok(t, "", "user", "show", "luna", "--json")); u["is_active"] != false {
			t.Errorf("is_active = %v after deactivate", u["is_active"])
		}
		if got := usernames(jsonArray(t, c.ok(t, "", "user", "list", "--inactive", "--json"))); !slices.Equal(got, []string{"luna"}) {
			t.Errorf("--inactive lists %v, want [luna]", got)
		}
		c.ok(t, "", "user", "activate", "luna")
		if u := jsonObject(t, c.ok(t, "", "user", "show", "luna", "--json")); u["is_active"] != true {
			t.Errorf("is_active = %v after activate", u["is_active"])
		}
		if got := jsonArray(t, c.ok(t, "", "user", "list", "--inactive", "--json")); len(got) != 0 {
			t.Errorf("--inactive lists %v after activate, want []", usernames(got))
		}
	})

	t.Run("user passwd --password-stdin replaces the password", func(t *testing.T) {
		if out := c.ok(t, "a-brand-new-secret\n", "user", "passwd", "luna", "--password-stdin"); !strings.Contains(out, "changed") {
			t.Errorf("stdout %q", out)
		}
		hash := storedHash(t, filepath.Join(c.dir, "inkpass.db"), "luna")
		h, err := password.NewHasher(password.Policy{Target: password.TargetArgon2id, Argon2: password.OWASPArgon2(), MemoryBudget: 64 << 20})
		if err != nil {
			t.Fatal(err)
		}
		for pw, want := range map[string]bool{"a-brand-new-secret": true, "artist_password": false} {
			if ok, err := h.Verify(context.Background(), pw, hash); err != nil || ok != want {
				t.Errorf("Verify(%q) = %v, %v; want %v", pw, ok, err, want)
			}
		}
	})
}

func storedHash(t *testing.T, path, username string) string {
	t.Helper()
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.UserByUsername(context.Background(), username)
	if err != nil {
		t.Fatal(err)
	}
	return u.PasswordHash
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestUserList_WeakHashes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		target string // INKPASS_PASSWORD_TARGET; "" keeps auto
		flags  []string
		want   []string
	}{
		{"auto on the adopted database means werkzeug: pbkdf2 and scrypt:16384 are weak, admin's scrypt:32768 is not", "", nil,
			[]string{"former_assistant", "front_desk", "kai", "luna_artist"}},
		{"--active leaves out the deactivated user", "", []string{"--active"},
			[]string{"front_desk", "kai", "luna_artist"}},
		{"target argon2id finds every werkzeug hash weak", "argon2id", nil,
			[]string{"admin", "former_assistant", "front_desk", "kai", "luna_artist"}},
		{"target off finds nothing weak", "off", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, "studio.db", "")
			fixtureDB(t, c.dir)
			if tc.target != "" {
				c.env["INKPASS_PASSWORD_TARGET"] = tc.target
			}
			list := jsonArray(t, c.ok(t, "", append([]string{"user", "list", "--weak-hashes", "--json"}, tc.flags...)...))
			if got := usernames(list); !slices.Equal(got, tc.want) {
				t.Errorf("weak hashes of %v, want %v", got, tc.want)
			}
			for _, u := range list {
				f, _ := u["hash_format"].(string)
				if !strings.HasPrefix(f, "pbkdf2:") && !strings.HasPrefix(f, "scrypt:") {
					t.Errorf("%s: hash_format %q, want a werkzeug method", u["username"], f)
				}
				if strings.Contains(f, "$") {
					t.Errorf("%s: hash_format %q shows salt or digest", u["username"], f)
				}
			}
		})
	}

	t.Run("the table shows each weak user's hash format", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t, "studio.db", "")
		fixtureDB(t, c.dir)
		out := c.ok(t, "", "user", "list", "--weak-hashes")
		for _, w := range []string{"HASH_FORMAT", "pbkdf2:sha256:600000", "pbkdf2:sha256:1000000", "scrypt:16384:8:1"} {
			if !strings.Contains(out, w) {
				t.Errorf("table does not show %q:\n%s", w, out)
			}
		}
		if strings.Contains(out, "scrypt:32768") {
			t.Errorf("table lists admin's scrypt:32768 as weak:\n%s", out)
		}
	})
}

func TestErrorsExitNonZeroWithOneLine(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "inkpass.db", "")
	artist := strings.TrimSpace(c.ok(t, "", "artist", "add", "--name", "Kai Okafor"))
	c.ok(t, "artist_password\n", "user", "add", "--username", "Luna", "--role", "assistant", "--password-stdin")

	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()

	badConfig := newCLI(t, "inkpass.db", "log:\n  level: loud\npassword:\n  min_length: 4\n")
	brokenYAML := newCLI(t, "inkpass.db", "throttle:\n  window: forever\n")
	missingConfig := &cli{dir: t.TempDir(), env: map[string]string{}}
	missingConfig.config = filepath.Join(missingConfig.dir, "nope.yaml")
	mismatch := newCLI(t, "studio.db", "")
	{
		db, err := sql.Open("sqlite3", filepath.Join(mismatch.dir, "studio.db"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`CREATE TABLE artists (id INTEGER PRIMARY KEY, name TEXT);
			CREATE TABLE users (id INTEGER PRIMARY KEY, username VARCHAR(64) NOT NULL UNIQUE, password_hash VARCHAR(255) NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}

	for _, tc := range []struct {
		name    string
		cli     *cli
		stdin   io.Reader
		args    []string
		code    int
		wantAll []string
		wantNot []string
	}{
		{"an unknown role is refused naming role", c, strings.NewReader("pw-123456\n"),
			[]string{"user", "add", "--username", "x", "--role", "owner", "--password-stdin"}, 1, []string{"role"}, nil},
		{"a username taken in other letter case is refused", c, strings.NewReader("pw-123456\n"),
			[]string{"user", "add", "--username", "luna", "--role", "assistant", "--password-stdin"}, 1, []string{"already taken"}, nil},
		{"an artist without --artist-id is refused naming artist_id", c, strings.NewReader("pw-123456\n"),
			[]string{"user", "add", "--username", "x", "--role", "artist", "--password-stdin"}, 1, []string{"artist_id"}, nil},
		{"an artist id that does not exist is refused", c, strings.NewReader("pw-123456\n"),
			[]string{"user", "add", "--username", "x", "--role", "artist", "--artist-id", artist + "9", "--password-stdin"}, 1, []string{"artist not found"}, nil},
		{"several bad fields are reported on one line", c, strings.NewReader("short\n"),
			[]string{"user", "add", "--username", "x y", "--role", "admin", "--email", "nope", "--password-stdin"}, 1, []string{"username", "email", "password"}, nil},
		{"without --password-stdin and no terminal, user add refuses", c, strings.NewReader("pw-123456\n"),
			[]string{"user", "add", "--username", "x", "--role", "admin"}, 2, []string{"--password-stdin"}, nil},
		{"stdin that is a file but not a terminal is no prompt either", c, devNull,
			[]string{"user", "passwd", "luna"}, 2, []string{"--password-stdin"}, nil},
		{"an empty --password-stdin is refused", c, strings.NewReader(""),
			[]string{"user", "passwd", "luna", "--password-stdin"}, 1, []string{"empty"}, nil},
		{"a password given as an argument is refused and not echoed", c, strings.NewReader(""),
			[]string{"user", "add", "--username", "x", "--role", "admin", "hunter2-secret"}, 2, []string{"--password-stdin"}, []string{"hunter2-secret"}},
		{"a user that does not exist is named", c, nil,
			[]string{"user", "show", "nobody"}, 1, []string{"nobody"}, nil},
		{"an unknown verb is a usage error", c, nil,
			[]string{"user", "frobnicate"}, 2, []string{"frobnicate"}, nil},
		{"an unknown flag is a usage error", c, nil,
			[]string{"user", "list", "--colour"}, 2, []string{"colour"}, nil},
		{"an unknown command is a usage error", c, nil,
			[]string{"frobnicate"}, 2, []string{"frobnicate"}, nil},
		{"bad config values are all named on one line", badConfig, nil,
			[]string{"migrate"}, 1, []string{"log.level", "password.min_length"}, nil},
		{"an unparsable config value is named", brokenYAML, nil,
			[]string{"migrate"}, 1, []string{"throttle.window"}, nil},
		{"a bad INKPASS_ value is named", &cli{dir: c.dir, config: c.config, env: map[string]string{"INKPASS_ISSUER": "id.studio.example"}}, nil,
			[]string{"user", "list"}, 1, []string{"issuer"}, nil},
		{"a --config file that does not exist is an error", missingConfig, nil,
			[]string{"migrate"}, 1, []string{"nope.yaml"}, nil},
		{"a studio database whose users table differs is refused naming a missing column", mismatch, nil,
			[]string{"migrate"}, 1, []string{"users", "role"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := tc.cli.run(t, tc.stdin, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
			if strings.Count(errOut, "\n") != 1 || !strings.HasSuffix(errOut, "\n") {
				t.Errorf("stderr is not exactly one line: %q", errOut)
			}
			for _, w := range tc.wantAll {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q does not mention %q", errOut, w)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(errOut, w) {
					t.Errorf("stderr %q shows %q", errOut, w)
				}
			}
		})
	}

	t.Run("nothing was written by the refused commands", func(t *testing.T) {
		list := jsonArray(t, c.ok(t, "", "user", "list", "--json"))
		if got := usernames(list); !slices.Equal(got, []string{"Luna"}) {
			t.Errorf("users = %v, want only Luna", got)
		}
	})
}

func TestHelpExitsZero(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--help"},
		{"help"},
		{"migrate", "--help"},
		{"serve", "--help"},
		{"user", "--help"},
		{"user", "add", "--help"},
		{"user", "list", "--help"},
		{"user", "show", "--help"},
		{"user", "update", "--help"},
		{"user", "deactivate", "--help"},
		{"user", "activate", "--help"},
		{"user", "passwd", "-h"},
		{"artist", "--help"},
		{"artist", "add", "--help"},
		{"artist", "list", "--help"},
	} {
		name := "inkpass " + strings.Join(args, " ") + " prints usage and exits 0"
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t, "inkpass.db", "")
			code, out, errOut := c.run(t, nil, args...)
			if code != 0 {
				t.Errorf("exit %d, stderr %q", code, errOut)
			}
			if !strings.Contains(out, "Usage: inkpass") {
				t.Errorf("stdout %q has no usage", out)
			}
			if errOut != "" {
				t.Errorf("stderr %q, want nothing", errOut)
			}
			if _, err := os.Stat(filepath.Join(c.dir, "inkpass.db")); err == nil {
				t.Error("--help opened (and created) the database")
			}
		})
	}
}
