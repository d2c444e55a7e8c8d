package main

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"

	"github.com/inkpass/inkpass/internal/testsupport/pgtest"
)

// migrateToSite is a SQLite install built from the studio fixture, served
// once so that it holds a session, tokens, audit events and folder keys,
// at an address fixed before serve starts (go-oidc wants the issuer to be
// the URL it fetched).
type migrateToSite struct {
	c        *cli
	addr     string
	secret   string
	refresh  string
	kid      string
	redirect string
}

func newMigrateToSite(t *testing.T) *migrateToSite {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := newCLI(t, "studio.db", fmt.Sprintf("listen: %q\nissuer: \"http://%s\"\nmetrics:\n  enabled: false\n", addr, addr))
	fixtureDB(t, c.dir)
	c.ok(t, "", "migrate")
	c.ok(t, "pw-ines-migrate-1\n", "user", "add", "--username", "ines", "--role", "assistant", "--email", "ines@studio.example", "--password-stdin")
	s := &migrateToSite{c: c, addr: addr, redirect: "http://127.0.0.1:9/cb"}
	cl := jsonObject(t, c.ok(t, "", "client", "add", "--id", "booking", "--first-party", "--redirect-uri", s.redirect,
		"--grant", "authorization_code", "--grant", "refresh_token",
		"--scope", "openid", "--scope", "profile", "--scope", "email", "--scope", "offline_access", "--json"))
	s.secret, _ = cl["client_secret"].(string)

	srv := c.serve(t)
	base := srv.listening(t)
	tok, _ := s.signIn(t, base, "kai", "needle&ink-77")
	s.refresh = tok.RefreshToken
	s.kid = kidOf(t, tok.Extra("id_token").(string))
	srv.stop(t)
	return s
}

func (s *migrateToSite) conf(base string) *oauth2.Config {
	return &oauth2.Config{ClientID: "booking", ClientSecret: s.secret, RedirectURL: s.redirect,
		Scopes:   []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess},
		Endpoint: oauth2.Endpoint{AuthURL: base + "/authorize", TokenURL: base + "/token", AuthStyle: oauth2.AuthStyleInHeader}}
}

// signIn signs username in through the login page and redeems the code;
// the ID token is verified by go-oidc against the server's JWKS.
func (s *migrateToSite) signIn(t *testing.T, base, username, password string) (*oauth2.Token, *oidc.IDToken) {
	t.Helper()
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, base)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	pkce := oauth2.GenerateVerifier()
	cb := newReplicaBrowser(t, "http://127.0.0.1:9/").signIn(t, base, s.conf(base).AuthCodeURL("st", oauth2.S256ChallengeOption(pkce)), username, password)
	tok, err := s.conf(base).Exchange(ctx, cb.Get("code"), oauth2.VerifierOption(pkce))
	if err != nil {
		t.Fatalf("code exchange for %s: %v", username, err)
	}
	return tok, verifyID(t, provider.Verifier(&oidc.Config{ClientID: "booking"}), tok)
}

func sqliteExec(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// pgCounts is every inkpass and studio table's row count on the target.
func pgCounts(t *testing.T, dsn string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'
		AND (table_name IN ('users', 'artists') OR table_name LIKE 'inkpass\_%') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, n := range names {
		var c int64
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{n}.Sanitize()).Scan(&c); err != nil {
			t.Fatal(err)
		}
		out[n] = c
	}
	return out
}

func pgQueryRow(t *testing.T, dsn, q string, args []any, dest ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, q, args...).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// copiedRow is one line of migrate-to's table: rows on each side.
func copiedRow(t *testing.T, out, table string) (int, int) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + table + `\s+(\d+)\s+(\d+)\s`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no line for %s in:\n%s", table, out)
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	return a, b
}

// TestMigrateTo_PostgreSQL: a SQLite install that has served (studio users
// with werkzeug hashes, an argon2id user, a client, a session, tokens,
// audit events, keys in the folder) is copied into an empty PostgreSQL
// database; every table's rows and checksum match, and serve on the
// PostgreSQL config signs in a studio user with her old password (the hash
// copied untouched), refreshes the token issued before the move and signs
// with the same key. The password never appears in the output.
func TestMigrateTo_PostgreSQL(t *testing.T) {
	s := newMigrateToSite(t)
	c := s.c
	sqlitePath := filepath.Join(c.dir, "studio.db")
	oldHash := storedHash(t, sqlitePath, "kai")
	dsn := pgtest.NewDatabase(t)
	const pw = "pg-secret-991"
	c.env["INKPASS_DATABASE_PASSWORD"] = pw

	code, out, errOut := c.run(t, nil, "migrate-to", "--dsn", dsn)
	if code != 0 {
		t.Fatalf("migrate-to: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, pw) {
		t.Fatal("migrate-to printed the password")
	}
	if !strings.Contains(out, "checksums match") || !strings.Contains(out, "database: "+dsn) {
		t.Errorf("migrate-to did not say the checksums match and what to set:\n%s", out)
	}
	for table, min := range map[string]int{"artists": 3, "users": 6, "inkpass_clients": 1, "inkpass_sessions": 1, "inkpass_tokens": 1,
		"inkpass_codes": 1, "inkpass_audit": 1, "inkpass_signing_keys": 1, "inkpass_meta": 2} {
		src, dst := copiedRow(t, out, table)
		if src != dst || src < min {
			t.Errorf("%s: %d rows in SQLite, %d in PostgreSQL; want equal and at least %d", table, src, dst, min)
		}
	}
	if !strings.Contains(out, "artists.specialty: 3 values") {
		t.Errorf("migrate-to did not say that artists.specialty (a column the PostgreSQL table lacks) is not copied:\n%s", out)
	}
	kek := filepath.Join(c.dir, "keys", "kek")
	if !strings.Contains(out, kek) || !strings.Contains(out, "back it up") {
		t.Errorf("migrate-to did not name the generated key-encryption key %s to back up:\n%s", kek, out)
	}
	var adopted string
	pgQueryRow(t, dsn, `SELECT value FROM inkpass_meta WHERE key = 'adopted'`, nil, &adopted)
	if adopted != "1" {
		t.Errorf("inkpass_meta adopted = %q on PostgreSQL, want the SQLite install's 1 (werkzeug stays the hash target)", adopted)
	}
	var pgHash string
	var active bool
	var birth time.Time
	pgQueryRow(t, dsn, `SELECT password_hash, is_active, birthdate FROM users WHERE username = 'luna_artist'`, nil, &pgHash, &active, &birth)
	if want := storedHash(t, sqlitePath, "luna_artist"); pgHash != want || !active || birth.Format(time.DateOnly) != "1992-07-30" {
		t.Errorf("luna_artist on PostgreSQL: hash %q active %v birthdate %v; want the SQLite hash %q, active, 1992-07-30", pgHash, active, birth, want)
	}

	// Serve on PostgreSQL.
	body := fmt.Sprintf("database: %q\nkeys_dir: keys\nlisten: %q\nissuer: \"http://%s\"\nmetrics:\n  enabled: false\n", dsn, s.addr, s.addr)
	if err := os.WriteFile(c.config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := c.serve(t)
	base := srv.listening(t)
	defer srv.stop(t)
	ctx := context.Background()
	next, err := s.conf(base).TokenSource(ctx, &oauth2.Token{RefreshToken: s.refresh, Expiry: time.Now().Add(-time.Hour)}).Token()
	if err != nil {
		t.Fatalf("the refresh token issued on SQLite, on PostgreSQL: %v", err)
	}
	if kid := kidOf(t, next.Extra("id_token").(string)); kid != s.kid {
		t.Errorf("ID token after the move signed by %s, want the folder's key %s", kid, s.kid)
	}
	_, idt := s.signIn(t, base, "kai", "needle&ink-77")
	var claims struct {
		PreferredUsername string `json:"preferred_username"`
	}
	_ = idt.Claims(&claims)
	if claims.PreferredUsername != "kai" {
		t.Errorf("signed in as %q, want kai", claims.PreferredUsername)
	}
	s.signIn(t, base, "ines", "pw-ines-migrate-1")
	pgQueryRow(t, dsn, `SELECT password_hash FROM users WHERE username = 'kai'`, nil, &pgHash)
	if pgHash != oldHash && !strings.HasPrefix(pgHash, "$argon2id$") && !strings.HasPrefix(pgHash, "scrypt:") {
		t.Errorf("kai's hash after sign-in on PostgreSQL: %q", pgHash)
	}
	// A new user gets an id after the copied ones (the sequence was reset).
	c.ok(t, "pw-new-after-move\n", "user", "add", "--username", "noor", "--role", "assistant", "--password-stdin")
	var id, maxID int
	pgQueryRow(t, dsn, `SELECT id, (SELECT max(id) FROM users WHERE username <> 'noor') FROM users WHERE username = 'noor'`, nil, &id, &maxID)
	if id != maxID+1 {
		t.Errorf("new user got id %d, want %d", id, maxID+1)
	}
}

// TestMigrateTo_Refusals: a target that is not empty is refused and left as
// it was; a copy failing half-way (a row PostgreSQL's foreign keys refuse)
// leaves the target empty; odd values are listed and refused unless
// --force-odd; a password in --dsn is refused without being echoed.
func TestMigrateTo_Refusals(t *testing.T) {
	t.Run("a target that is not empty", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		pgSide := newCLI(t, dsn, "")
		pgSide.ok(t, "pw-someone-else-1\n", "user", "add", "--username", "someone", "--role", "admin", "--password-stdin")
		before := pgCounts(t, dsn)
		c := newCLI(t, "studio.db", "")
		fixtureDB(t, c.dir)
		code, out, errOut := c.run(t, nil, "migrate-to", "--dsn", dsn)
		if code != 1 || !strings.Contains(errOut, "not empty") || !strings.Contains(errOut, "users has 1 rows") {
			t.Errorf("migrate-to into a database with a user: exit %d, stdout %q, stderr %q; want refused naming users", code, out, errOut)
		}
		if after := pgCounts(t, dsn); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("the refused target changed: %v, was %v", after, before)
		}
	})

	t.Run("a failure half-way leaves the target empty", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		c := newCLI(t, "studio.db", "")
		path := fixtureDB(t, c.dir)
		c.ok(t, "", "migrate")
		c.ok(t, "", "keys", "list")
		// A session of a user who is gone: SQLite kept it (the studio's
		// app writes without foreign keys); PostgreSQL's foreign key
		// refuses it after users and a dozen tables were copied.
		sqliteExec(t, path, `PRAGMA foreign_keys = OFF`,
			`INSERT INTO inkpass_sessions (token_hash, sid, user_id, auth_time, created_at, expires_at) VALUES (x'01', 'sid-gone', 999, 1, 1, 2)`)
		code, out, errOut := c.run(t, nil, "migrate-to", "--dsn", dsn)
		if code != 1 || !strings.Contains(errOut, "inkpass_sessions") || !strings.Contains(errOut, "foreign key") {
			t.Errorf("migrate-to with a dangling session: exit %d, stdout %q, stderr %q; want refused naming the table and the foreign key", code, out, errOut)
		}
		for table, n := range pgCounts(t, dsn) {
			seed := map[string]int64{"inkpass_client_generation": 1, "inkpass_branding": 1}[table]
			if table != "inkpass_migrations" && n != seed {
				t.Errorf("after the failed copy %s holds %d rows, want %d", table, n, seed)
			}
		}
		if _, err := os.Stat(filepath.Join(c.dir, "keys", "kek")); !os.IsNotExist(err) {
			t.Errorf("the key-encryption key generated for the failed copy was left behind (stat: %v)", err)
		}
	})

	t.Run("odd values are listed and refused unless --force-odd", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		c := newCLI(t, "studio.db", "")
		path := fixtureDB(t, c.dir)
		sqliteExec(t, path, `UPDATE users SET is_active = 'yes' WHERE username = 'kai'`,
			`UPDATE users SET birthdate = 'sometime in May' WHERE username = 'admin'`,
			`PRAGMA foreign_keys = OFF`, `UPDATE users SET artist_id = 42 WHERE username = 'luna_artist'`)
		var kai, admin, luna int
		db, _ := sql.Open("sqlite3", path)
		db.QueryRow(`SELECT id FROM users WHERE username = 'kai'`).Scan(&kai)
		db.QueryRow(`SELECT id FROM users WHERE username = 'admin'`).Scan(&admin)
		db.QueryRow(`SELECT id FROM users WHERE username = 'luna_artist'`).Scan(&luna)
		db.Close()
		code, out, errOut := c.run(t, nil, "migrate-to", "--dsn", dsn)
		if code != 1 || !strings.Contains(errOut, "--force-odd") {
			t.Errorf("migrate-to with odd values: exit %d, stderr %q; want refused, pointing at --force-odd", code, errOut)
		}
		for _, want := range []string{
			fmt.Sprintf(`users id=%d, is_active: "yes" is not 0 or 1`, kai),
			fmt.Sprintf(`users id=%d, birthdate: "sometime in May" is not a date`, admin),
			fmt.Sprintf(`users id=%d, artist_id: 42 names no artist`, luna),
		} {
			if !strings.Contains(out, want) {
				t.Errorf("migrate-to did not list %q:\n%s", want, out)
			}
		}
		if n := pgCounts(t, dsn)["users"]; n != 0 {
			t.Errorf("refused copy left %d users", n)
		}

		code, out, errOut = c.run(t, nil, "migrate-to", "--dsn", dsn, "--force-odd")
		if code != 0 || !strings.Contains(out, "checksums match") || !strings.Contains(out, "false (inactive)") {
			t.Fatalf("migrate-to --force-odd: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
		var active bool
		var birth *time.Time
		var artist *int
		pgQueryRow(t, dsn, `SELECT is_active FROM users WHERE id = $1`, []any{kai}, &active)
		pgQueryRow(t, dsn, `SELECT birthdate FROM users WHERE id = $1`, []any{admin}, &birth)
		pgQueryRow(t, dsn, `SELECT artist_id FROM users WHERE id = $1`, []any{luna}, &artist)
		if active || birth != nil || artist != nil {
			t.Errorf("--force-odd stored is_active %v, birthdate %v, artist_id %v; want false, NULL, NULL", active, birth, artist)
		}
	})

	t.Run("a copy that differs from the source is rolled back", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		newCLI(t, dsn, "").ok(t, "", "migrate") // the schema, no rows
		// A trigger that changes what is written, as a misbehaving
		// extension or a wrong collation might: counts agree, checksums not.
		pgtest.Exec(t, dsn, `CREATE FUNCTION shout() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN NEW.name := upper(NEW.name); RETURN NEW; END $$`,
			`CREATE TRIGGER shout BEFORE INSERT ON artists FOR EACH ROW EXECUTE FUNCTION shout()`)
		c := newCLI(t, "studio.db", "")
		fixtureDB(t, c.dir)
		c.env["INKPASS_DATABASE_PASSWORD"] = "pg-secret-993"
		code, out, errOut := c.run(t, nil, "migrate-to", "--dsn", dsn)
		if code != 1 || !strings.Contains(errOut, "differs") || !regexp.MustCompile(`(?m)^artists\s+3\s+3\s+DIFFERS`).MatchString(out) {
			t.Errorf("migrate-to onto a changing target: exit %d\nstdout:\n%s\nstderr: %s\nwant exit 1 and artists marked DIFFERS", code, out, errOut)
		}
		if strings.Contains(out, "checksums match") {
			t.Errorf("said the checksums match:\n%s", out)
		}
		for _, table := range []string{"artists", "users", "inkpass_meta"} {
			if n := pgCounts(t, dsn)[table]; n != 0 {
				t.Errorf("after the rolled-back copy %s holds %d rows", table, n)
			}
		}
	})

	t.Run("the password from --password-file, never printed", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		c := newCLI(t, "studio.db", "")
		fixtureDB(t, c.dir)
		pwFile := filepath.Join(c.dir, "db.pw")
		if err := os.WriteFile(pwFile, []byte("file-secret-994\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := c.run(t, nil, "migrate-to", "--dsn", dsn, "--password-file", pwFile)
		if code != 0 || strings.Contains(out+errOut, "file-secret-994") {
			t.Errorf("migrate-to --password-file: exit %d (want 0), password printed: %v", code, strings.Contains(out+errOut, "file-secret-994"))
		}
	})

	t.Run("an inkpass table PostgreSQL lacks is refused, not left behind", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		c := newCLI(t, "studio.db", "")
		path := fixtureDB(t, c.dir)
		c.ok(t, "", "migrate")
		sqliteExec(t, path, `CREATE TABLE inkpass_from_a_newer_version (id INTEGER PRIMARY KEY)`, `INSERT INTO inkpass_from_a_newer_version VALUES (1)`)
		code, out, errOut := c.run(t, nil, "migrate-to", "--dsn", dsn)
		if code != 1 || !strings.Contains(errOut, "inkpass_from_a_newer_version has no PostgreSQL counterpart") {
			t.Errorf("migrate-to: exit %d, stdout %q, stderr %q; want refused naming the table", code, out, errOut)
		}
		if n := pgCounts(t, dsn)["users"]; n != 0 {
			t.Errorf("refused copy left %d users", n)
		}
	})

	t.Run("a password in --dsn is refused and not echoed", func(t *testing.T) {
		c := newCLI(t, "studio.db", "")
		code, out, errOut := c.run(t, nil, "migrate-to", "--dsn", "postgres://inkpass:dsn-secret-552@127.0.0.1:1/inkpass")
		if code != 2 || !strings.Contains(errOut, "INKPASS_DATABASE_PASSWORD") || strings.Contains(out+errOut, "dsn-secret-552") {
			t.Errorf("migrate-to with a password in --dsn: exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
}

// TestMigrateTo_DatabaseKeys: keys already in the SQLite database
// (keys.store: database) are copied sealed, as they are, and open on
// PostgreSQL under the same key-encryption key.
func TestMigrateTo_DatabaseKeys(t *testing.T) {
	c := newCLI(t, "inkpass.db", "keys:\n  store: database\n")
	before := kidsOf(jsonArray(t, c.ok(t, "", "keys", "list", "--json")))
	dsn := pgtest.NewDatabase(t)
	code, out, errOut := c.run(t, nil, "migrate-to", "--dsn", dsn)
	kek := filepath.Join(c.dir, "keys", "kek")
	if code != 0 || !strings.Contains(out, "copied as they are") || !strings.Contains(out, kek) {
		t.Fatalf("migrate-to: exit %d\nstdout:\n%s\nstderr: %s\nwant the keys copied as they are, naming %s", code, out, errOut, kek)
	}
	if src, dst := copiedRow(t, out, "inkpass_signing_keys"); src != 1 || dst != 1 {
		t.Errorf("inkpass_signing_keys: %d and %d rows, want 1 and 1", src, dst)
	}
	if err := os.WriteFile(c.config, []byte(fmt.Sprintf("database: %q\nkeys_dir: keys\n", dsn)), 0o600); err != nil {
		t.Fatal(err)
	}
	if after := kidsOf(jsonArray(t, c.ok(t, "", "keys", "list", "--json"))); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("keys on PostgreSQL %v, want the SQLite database's %v", after, before)
	}
}
