package store_test

import (
	"context"
	"testing"
)

// TestMigration_ClientAuthMethodPinned: on a database from before the
// migration, a client_secret_post registration (never the default, so an
// admin chose it) stays pinned; a client_secret_basic one may now use either
// secret method.
func TestMigration_ClientAuthMethodPinned(t *testing.T) {
	ctx := context.Background()
	db := openRewound(t, `
		DELETE FROM inkpass_migrations WHERE name = 'client_auth_pinned';
		ALTER TABLE inkpass_clients DROP COLUMN auth_method_pinned;
		INSERT INTO inkpass_clients (id, name, auth_method, created_at, updated_at) VALUES ('basic-app', 'B', 'client_secret_basic', 0, 0);
		INSERT INTO inkpass_clients (id, name, auth_method, created_at, updated_at) VALUES ('post-app', 'P', 'client_secret_post', 0, 0);
	`)
	cs, err := db.Clients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"basic-app": false, "post-app": true} {
		c, err := cs.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.AuthMethodPinned != want {
			t.Errorf("%s: auth_method_pinned = %v after the migration, want %v", id, c.AuthMethodPinned, want)
		}
	}
}
