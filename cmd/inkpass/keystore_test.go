package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/inkpass/inkpass/internal/keys"
)

func kidsOf(list []map[string]any) []string {
	out := make([]string, len(list))
	for i, k := range list {
		out[i], _ = k["kid"].(string)
	}
	return out
}

// TestKeys_DatabaseStore: with keys.store: database the keys live in the
// database, the key-encryption key is generated once beside the keys folder
// (0600, logged), and a missing or different KEK stops the command with a
// message instead of silently making new keys.
func TestKeys_DatabaseStore(t *testing.T) {
	c := newCLI(t, "inkpass.db", "keys:\n  store: database\n")
	code, out, errOut := c.run(t, nil, "keys", "list", "--json")
	if code != 0 {
		t.Fatalf("keys list: exit %d, stderr %q", code, errOut)
	}
	first := jsonArray(t, out)
	if len(first) != 1 || first[0]["alg"] != "RS256" {
		t.Fatalf("keys list on a fresh database = %v, want one RS256 key", first)
	}
	kek := filepath.Join(c.dir, "keys", "kek")
	if !strings.Contains(errOut, "generated the key-encryption key") || !strings.Contains(errOut, kek) {
		t.Errorf("stderr %q does not say the key-encryption key %s was generated", errOut, kek)
	}
	fi, err := os.Stat(kek)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("kek mode %04o, want 0600", perm)
	}
	if _, err := os.Stat(filepath.Join(c.dir, "keys", "keys.json")); !os.IsNotExist(err) {
		t.Errorf("keys.json in the folder with keys.store: database (stat: %v)", err)
	}

	if out := c.ok(t, "", "check"); !strings.Contains(out, "in the database") || !strings.Contains(out, kek+" ok") {
		t.Errorf("check says:\n%s\nwant the keys in the database and the KEK %s ok", out, kek)
	}
	es := jsonObject(t, c.ok(t, "", "keys", "rotate", "--alg", "ES256", "--json"))
	list := jsonArray(t, c.ok(t, "", "keys", "list", "--json"))
	if got := kidsOf(list); len(got) != 2 || got[0] != first[0]["kid"] || got[1] != es["kid"] {
		t.Fatalf("keys list after rotate --alg ES256 = %v, want %v and %v", got, first[0]["kid"], es["kid"])
	}

	other, err := os.ReadFile(kek)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(kek); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := c.run(t, nil, "keys", "list"); code == 0 || !strings.Contains(errOut, "key-encryption key") || !strings.Contains(errOut, "missing") {
		t.Errorf("keys list without the KEK: exit %d, stderr %q; want refused saying it is missing", code, errOut)
	}
	if _, err := os.Stat(kek); !os.IsNotExist(err) {
		t.Error("a new KEK was generated for a database whose keys need the old one")
	}
	if _, err := keys.CreateKEK(kek); err != nil { // a different key
		t.Fatal(err)
	}
	if code, _, errOut := c.run(t, nil, "keys", "list"); code == 0 || !strings.Contains(errOut, "does not open") {
		t.Errorf("keys list with another KEK: exit %d, stderr %q; want refused saying the KEK does not open the keys", code, errOut)
	}
	if err := os.WriteFile(kek, other, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := kidsOf(jsonArray(t, c.ok(t, "", "keys", "list", "--json"))); len(got) != 2 {
		t.Errorf("keys list with the KEK restored = %v, want the two keys", got)
	}
}

// TestKeys_MigrateToDatabase: the folder's keys, retired ones included, move
// into the database with their kids, and the command refuses to copy twice.
func TestKeys_MigrateToDatabase(t *testing.T) {
	c := newCLI(t, "inkpass.db", "")
	c.ok(t, "", "keys", "list")
	c.ok(t, "", "keys", "rotate")
	c.ok(t, "", "keys", "rotate", "--alg", "EdDSA")
	folder := kidsOf(jsonArray(t, c.ok(t, "", "keys", "list", "--json")))
	if len(folder) != 3 {
		t.Fatalf("folder keys %v, want three", folder)
	}
	out := c.ok(t, "", "keys", "migrate-to-database")
	if !strings.Contains(out, "copied 3 signing keys") {
		t.Errorf("migrate-to-database said %q", out)
	}
	body := "database: " + strconv.Quote("inkpass.db") + "\nkeys_dir: keys\nkeys:\n  store: database\n"
	if err := os.WriteFile(c.config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	db := kidsOf(jsonArray(t, c.ok(t, "", "keys", "list", "--json")))
	if strings.Join(db, " ") != strings.Join(folder, " ") {
		t.Errorf("database keys %v, want the folder's %v", db, folder)
	}
	if code, _, errOut := c.run(t, nil, "keys", "migrate-to-database"); code == 0 || !strings.Contains(errOut, "already holds 3") {
		t.Errorf("a second migrate-to-database: exit %d, stderr %q; want refused", code, errOut)
	}
}
