package main

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/inkpass/inkpass/internal/keys"
)

// TestUpgrade_IDTokenAlg: an installation from before per-client algorithms
// that signed with ES256 (signing.algorithm: ES256) keeps giving its clients
// ES256 after the upgrade, and serve adds the RS256 key discovery requires
// without touching the ES256 one.
func TestUpgrade_IDTokenAlg(t *testing.T) {
	c := newCLI(t, "inkpass.db", "listen: \"127.0.0.1:0\"\nissuer: \"http://127.0.0.1:1\"\nmetrics:\n  enabled: false\nsigning:\n  algorithm: ES256\n")
	c.ok(t, "", "client", "add", "--id", "legacy", "--public", "--redirect-uri", "http://127.0.0.1:9/cb")
	// The state migration 0009 leaves: no algorithm on the row, one ES256 key.
	set, _, err := keys.Open(keys.Options{Dir: filepath.Join(c.dir, "keys"), Algorithm: keys.ES256})
	if err != nil {
		t.Fatal(err)
	}
	esKID := set.Active().KID
	db, err := sql.Open("sqlite3", filepath.Join(c.dir, "inkpass.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE inkpass_clients SET id_token_alg = ''`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	if got := jsonObject(t, c.ok(t, "", "client", "show", "legacy", "--json"))["id_token_signed_response_alg"]; got != "ES256" {
		t.Fatalf("legacy client after the upgrade: alg %v, want ES256, what its tokens were signed with", got)
	}

	srv := c.serve(t)
	base := srv.listening(t)
	get := func(path string, v any) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	var jwks struct {
		Keys []struct{ KID, Alg string } `json:"keys"`
	}
	get("/jwks", &jwks)
	var algs []string
	hasES := false
	for _, k := range jwks.Keys {
		algs = append(algs, k.Alg)
		hasES = hasES || k.KID == esKID
	}
	if !slices.Contains(algs, "RS256") || !hasES || len(jwks.Keys) != 2 {
		t.Errorf("JWKS algs %v (ES256 key kept: %v), want the new RS256 key and the existing ES256 key", algs, hasES)
	}
	var doc struct {
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	get("/.well-known/openid-configuration", &doc)
	if len(doc.Algs) == 0 || doc.Algs[0] != "RS256" {
		t.Errorf("id_token_signing_alg_values_supported = %q, want RS256 first", doc.Algs)
	}
	srv.stop(t)
	if got := jsonObject(t, c.ok(t, "", "client", "show", "legacy", "--json"))["id_token_signed_response_alg"]; got != "ES256" {
		t.Errorf("legacy client after serve: alg %v, want ES256", got)
	}
}

// TestServe_ConfigClientIDTokenAlg: a config client's
// id_token_signed_response_alg gets its key at start; left out of the file
// later, the client keeps the algorithm its relying party verifies.
func TestServe_ConfigClientIDTokenAlg(t *testing.T) {
	const head = "listen: \"127.0.0.1:0\"\nissuer: \"http://127.0.0.1:1\"\nmetrics:\n  enabled: false\n" +
		"clients:\n  - id: ed-app\n    public: true\n    redirect_uris: [\"http://127.0.0.1:9/cb\"]\n"
	c := newCLI(t, "inkpass.db", head+"    id_token_signed_response_alg: EdDSA\n")
	for run, body := range []string{"", head} {
		if body != "" {
			if err := os.WriteFile(c.config, []byte("database: \"inkpass.db\"\nkeys_dir: keys\n"+body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		srv := c.serve(t)
		srv.listening(t)
		srv.stop(t)
		if got := jsonObject(t, c.ok(t, "", "client", "show", "ed-app", "--json"))["id_token_signed_response_alg"]; got != "EdDSA" {
			t.Errorf("start %d: ed-app alg %v, want EdDSA", run+1, got)
		}
		var active []string
		for _, k := range jsonArray(t, c.ok(t, "", "keys", "list", "--json")) {
			if k["active"] == true {
				active = append(active, k["alg"].(string))
			}
		}
		if !slices.Equal(active, []string{"RS256", "EdDSA"}) {
			t.Errorf("start %d: active keys %v, want RS256 and EdDSA", run+1, active)
		}
	}
}
