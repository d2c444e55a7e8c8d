package store_test

import (
	"context"
	"testing"

	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/keys"
)

// TestMigration_ClientIDTokenAlg: a client registered before each client had
// its own ID-token algorithm has none until FillIDTokenAlg gives it the one
// its tokens were signed with; a new registration stores its algorithm.
func TestMigration_ClientIDTokenAlg(t *testing.T) {
	ctx := context.Background()
	db := openRewound(t, `
		DELETE FROM inkpass_migrations WHERE name = 'client_id_token_alg';
		ALTER TABLE inkpass_clients DROP COLUMN id_token_alg;
		INSERT INTO inkpass_clients (id, name, auth_method, created_at, updated_at) VALUES ('old-app', 'O', 'client_secret_basic', 0, 0);
	`)
	cs, err := db.Clients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	alg := func(id string) keys.Algorithm {
		t.Helper()
		c, err := cs.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return c.IDTokenAlg
	}
	if got := alg("old-app"); got != "" {
		t.Errorf("old-app after the migration: alg %q, want unset", got)
	}
	if unset, err := cs.HasUnsetIDTokenAlg(ctx); err != nil || !unset {
		t.Errorf("HasUnsetIDTokenAlg = %v, %v; want true", unset, err)
	}
	if n, err := cs.FillIDTokenAlg(ctx, "ES256"); err != nil || n != 1 {
		t.Errorf("FillIDTokenAlg = %d, %v; want 1", n, err)
	}
	if got := alg("old-app"); got != keys.ES256 {
		t.Errorf("old-app after the fill: alg %q, want ES256", got)
	}
	if unset, err := cs.HasUnsetIDTokenAlg(ctx); err != nil || unset {
		t.Errorf("HasUnsetIDTokenAlg after the fill = %v, %v; want false", unset, err)
	}

	c := &client.Client{ID: "new-app", RedirectURIs: []string{"https://new.example/cb"}, IDTokenAlg: keys.EdDSA, Enabled: true}
	c.Normalize()
	if err := cs.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got := alg("new-app"); got != keys.EdDSA {
		t.Errorf("new-app: alg %q, want EdDSA", got)
	}
	c.IDTokenAlg = keys.RS256
	if err := cs.Update(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got := alg("new-app"); got != keys.RS256 {
		t.Errorf("new-app after update: alg %q, want RS256", got)
	}
	if n, err := cs.FillIDTokenAlg(ctx, "ES256"); err != nil || n != 0 {
		t.Errorf("second FillIDTokenAlg = %d, %v; want 0: a chosen algorithm is never overwritten", n, err)
	}
}
