package main

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
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
	listening := regexp.MustCompile(`^inkpass listening on (http://127\.0\.0\.1:\d+)`)
	var base string
	for base == "" && srv.lines.Scan() {
		if m := listening.FindStringSubmatch(srv.lines.Text()); m != nil {
			base = m[1]
		}
	}
	srv.drain()
	if base == "" {
		t.Fatal("serve never said where it listens")
	}
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
