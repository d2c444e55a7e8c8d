package user_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/inkpass/inkpass/internal/password"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/testsupport"
	"github.com/inkpass/inkpass/internal/user"
)

// The studio fixture's users and the passwords its header documents.
var fixtureUsers = []struct {
	username, password string
	active             bool
}{
	{"admin", "secure_password", true},
	{"luna_artist", "artist_password", true},
	{"kai", "needle&ink-77", true},
	{"front_desk", "desk-Pässwort-1", true},
	{"former_assistant", "gone-but-kept", false},
}

// werkzeugScrypt is the format TargetWerkzeug must write: werkzeug's default
// method, a 16-character salt from its alphabet, and a 64-byte key in hex.
const werkzeugScrypt = `^scrypt:32768:8:1\$[A-Za-z0-9]{16}\$[0-9a-f]{128}$`

// countingHasher is the real password.Hasher with call counters, so a test can
// see which work Authenticate did.
type countingHasher struct {
	*password.Hasher
	hash, verify, dummy atomic.Int64
}

func (c *countingHasher) Hash(ctx context.Context, plain string) (string, error) {
	c.hash.Add(1)
	return c.Hasher.Hash(ctx, plain)
}

func (c *countingHasher) Verify(ctx context.Context, plain, encoded string) (bool, error) {
	c.verify.Add(1)
	return c.Hasher.Verify(ctx, plain, encoded)
}

func (c *countingHasher) VerifyDummy(ctx context.Context, plain string) {
	c.dummy.Add(1)
	c.Hasher.VerifyDummy(ctx, plain)
}

var _ user.Hasher = (*countingHasher)(nil)

// newHasher writes argon2id at password.LowCostArgon2ForTests: these tests
// are about the service's rules, not the hash's cost (internal/password's
// tests cover that). The werkzeug target still writes werkzeug's real
// scrypt parameters, and the fixture's and the vectors' hashes are verified
// at the cost they were written with.
func newHasher(t *testing.T, target password.Target) *countingHasher {
	t.Helper()
	h, err := password.NewTestHasher(password.Policy{Target: target, Argon2: password.LowCostArgon2ForTests(), MemoryBudget: 1 << 30})
	if err != nil {
		t.Fatalf("NewTestHasher(%s): %v", target, err)
	}
	return &countingHasher{Hasher: h}
}

// clock is an injectable, settable time; logBuffer collects log output
// across goroutines.
type (
	clock     = testsupport.Clock
	logBuffer = testsupport.LogBuffer
)

func newClock() *clock { return testsupport.NewClock(time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)) }

// env is one Service on a real SQLite file.
type env struct {
	path   string
	db     *store.DB
	hasher *countingHasher
	clock  *clock
	svc    *user.Service
	log    *logBuffer
}

type envOptions struct {
	target   password.Target
	throttle user.ThrottlePolicy
	clock    *clock
}

// newEnv opens the database at path (created if missing) and wires a Service.
func newEnv(t *testing.T, path string, o envOptions) *env {
	t.Helper()
	if o.target == "" {
		o.target = password.TargetArgon2id
	}
	if o.clock == nil {
		o.clock = newClock()
	}
	db, err := store.Open(context.Background(), path, store.Options{Now: o.clock.Now})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{path: path, db: db, hasher: newHasher(t, o.target), clock: o.clock, log: &logBuffer{}}
	e.svc = user.NewService(db, e.hasher, db, user.Options{
		Throttle: o.throttle,
		Now:      o.clock.Now,
		Logger:   slog.New(slog.NewTextHandler(e.log, nil)),
	})
	return e
}

// freshEnv is a Service on a new database.
func freshEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	return newEnv(t, filepath.Join(t.TempDir(), "inkpass.db"), o)
}

// adoptedEnv is a Service on a fresh copy of the studio fixture.
func adoptedEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	return newEnv(t, testsupport.StudioDB(t, t.TempDir()), o)
}

// raw runs a one-value query on the env's file with a separate connection and
// returns the value through SQLite's quote(), so text stays text.
func (e *env) raw(t *testing.T, q string, args ...any) string {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+e.path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v sql.NullString
	if err := db.QueryRow(q, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if !v.Valid {
		return "<no value>"
	}
	return v.String
}

// usersRows returns every users row through quote(), keyed by username, each
// as column -> value.
func (e *env) usersRows(t *testing.T) map[string]map[string]string {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+e.path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cols := []string{"id", "username", "password_hash", "role", "artist_id", "is_active", "name", "birthdate",
		"email", "phone", "instagram", "created_at", "last_login"}
	q := "SELECT "
	for i, c := range cols {
		if i > 0 {
			q += ", "
		}
		q += "quote(" + c + ")"
	}
	rows, err := db.Query(q + " FROM users ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]map[string]string{}
	for rows.Next() {
		vals := make([]string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for i, c := range cols {
			m[c] = vals[i]
		}
		out[strings.Trim(vals[1], "'")] = m
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// vector returns the password and hash of testdata/werkzeug-hashes.json's entry
// for method.
func vector(t *testing.T, method string) (plain, hash string) {
	t.Helper()
	b, err := os.ReadFile("../../testdata/werkzeug-hashes.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Vectors []struct{ Method, Password, Hash string }
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	for _, v := range file.Vectors {
		if v.Method == method {
			return v.Password, v.Hash
		}
	}
	t.Fatalf("no vector for method %q", method)
	return "", ""
}

// insertWithHash stores a user whose hash was made elsewhere (by werkzeug),
// the way the studio's app would have left it.
func (e *env) insertWithHash(t *testing.T, username, hash string) int64 {
	t.Helper()
	id, err := e.db.CreateUser(context.Background(), &user.User{Username: username, PasswordHash: hash, Role: user.RoleAssistant, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	return id
}
