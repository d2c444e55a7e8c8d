package store_test

import (
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"testing"

	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/migrations"
)

// TestMigration_GrantUserID: migration 0013 turns the user_id of codes and
// tokens from go-oauth2's string into an integer referencing users(id) on an
// adopted studio database that holds rows written before it, keeping every
// row whose user exists (” becomes NULL for client_credentials), and
// dropping only those whose user is gone.
func TestMigration_GrantUserID(t *testing.T) {
	path := newFixtureDB(t)
	// The database as inkpass left it at migration 0012.
	var script strings.Builder
	script.WriteString(`CREATE TABLE inkpass_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP);
		CREATE TABLE inkpass_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
		INSERT INTO inkpass_meta VALUES ('adopted', '1');
		INSERT INTO inkpass_migrations (version, name) VALUES (1, 'users');`)
	for v := 2; v <= 12; v++ {
		matches, err := fs.Glob(migrations.FS, fmt.Sprintf("%04d_*.sql", v))
		if err != nil || len(matches) != 1 {
			t.Fatalf("migration %04d: %v %v", v, matches, err)
		}
		b, err := fs.ReadFile(migrations.FS, matches[0])
		if err != nil {
			t.Fatal(err)
		}
		script.Write(b)
		fmt.Fprintf(&script, "\nINSERT INTO inkpass_migrations (version, name) VALUES (%d, 'm');\n", v)
	}
	script.WriteString(`
		INSERT INTO inkpass_codes (code_hash, grant_id, client_id, user_id, redirect_uri, scope, created_at, expires_at, sid)
			VALUES (X'01', 'g-code', 'app', '4', 'https://app.example/cb', 'openid', 1, 2, 's1'),
			       (X'02', 'g-gone', 'app', '99', 'https://app.example/cb', 'openid', 1, 2, '');
		INSERT INTO inkpass_tokens (id, grant_id, client_id, user_id, sid, scope, access_hash, access_created_at, access_expires_at)
			VALUES (7, 'g-user', 'app', '4', 's1', 'openid', ?1, 1, 4000000000),
			       (8, 'g-machine', 'app', '', '', 'profile', ?2, 1, 4000000000),
			       (9, 'g-gone', 'app', '99', '', 'openid', X'09', 1, 4000000000);`)
	raw := rawDB(t, path)
	if _, err := raw.Exec(script.String(), session.Hash("user-access"), session.Hash("machine-access")); err != nil {
		t.Fatalf("build the 0012 database: %v", err)
	}

	db := mustOpen(t, path, store.Options{})
	if got, want := queryStrings(t, raw, `SELECT quote(code_hash), grant_id, typeof(user_id), user_id, sid FROM inkpass_codes ORDER BY code_hash`),
		[][]string{{"X'01'", "g-code", "integer", "4", "s1"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("codes after 0013 = %v, want %v", got, want)
	}
	if got, want := queryStrings(t, raw, `SELECT id, grant_id, typeof(user_id), quote(user_id) FROM inkpass_tokens ORDER BY id`),
		[][]string{{"7", "g-user", "integer", "4"}, {"8", "g-machine", "null", "NULL"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("tokens after 0013 = %v, want %v", got, want)
	}
	for _, table := range []string{"inkpass_codes", "inkpass_tokens"} {
		fks := queryStrings(t, raw, `SELECT "table", "from", "to", on_delete FROM pragma_foreign_key_list(?)`, table)
		if want := [][]string{{"users", "user_id", "id", "CASCADE"}}; !reflect.DeepEqual(fks, want) {
			t.Errorf("%s foreign keys = %v, want %v", table, fks, want)
		}
	}
	// The store reads the migrated rows as before.
	rec, err := db.TokenRecord(t.Context(), "user-access", "")
	if err != nil || rec == nil || rec.UserID != "4" || rec.GrantID != "g-user" {
		t.Errorf("TokenRecord(user token) = %+v, %v", rec, err)
	}
	rec, err = db.TokenRecord(t.Context(), "machine-access", "")
	if err != nil || rec == nil || rec.UserID != "" {
		t.Errorf("TokenRecord(client_credentials token) = %+v, %v; want no user", rec, err)
	}
}
