package main

import "testing"

// TestClientAuthMethodPinning: a confidential client added without
// --auth-method accepts either secret method (auth_method_pinned false); one
// added or updated with an explicit method is pinned to it; --auth-method
// either unpins.
func TestClientAuthMethodPinning(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "inkpass.db", "")
	want := func(where string, got map[string]any, method string, pinned bool) {
		t.Helper()
		if got["auth_method"] != method || got["auth_method_pinned"] != pinned {
			t.Errorf("%s: auth_method %v pinned %v, want %s pinned %v", where, got["auth_method"], got["auth_method_pinned"], method, pinned)
		}
	}
	want("add without --auth-method", jsonObject(t, c.ok(t, "", "client", "add", "--id", "passport",
		"--redirect-uri", "https://passport.example/cb", "--json")), "client_secret_basic", false)
	want("add --auth-method client_secret_post", jsonObject(t, c.ok(t, "", "client", "add", "--id", "poster",
		"--redirect-uri", "https://poster.example/cb", "--auth-method", "client_secret_post", "--json")), "client_secret_post", true)
	want("update --auth-method client_secret_basic", jsonObject(t, c.ok(t, "", "client", "update", "passport",
		"--auth-method", "client_secret_basic", "--json")), "client_secret_basic", true)
	want("show after update", jsonObject(t, c.ok(t, "", "client", "show", "passport", "--json")), "client_secret_basic", true)
	want("update --auth-method either", jsonObject(t, c.ok(t, "", "client", "update", "poster",
		"--auth-method", "either", "--json")), "client_secret_basic", false)
	want("update of another field keeps the pin", jsonObject(t, c.ok(t, "", "client", "update", "passport",
		"--name", "Passport", "--json")), "client_secret_basic", true)
	if code, _, _ := c.run(t, nil, "client", "add", "--id", "spa", "--public", "--redirect-uri", "http://localhost:1/cb", "--auth-method", "either"); code == 0 {
		t.Error("a public client with --auth-method either was accepted")
	}
}
