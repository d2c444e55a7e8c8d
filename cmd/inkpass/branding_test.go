package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// serve wires the studio's look from the config file: the name, the accent
// colour's stylesheet and the support contact on the login page.
func TestServe_BrandingFromConfig(t *testing.T) {
	srv := startServe(t, "listen: \"127.0.0.1:0\"\nissuer: \"http://127.0.0.1:1\"\nmetrics:\n  listen: \"127.0.0.1:0\"\n"+
		"studio_name: \"Lotus Tattoo\"\nbranding:\n  accent_color: \"#1E90FF\"\n  support_contact: \"help@lotus.example\"\n")
	base := srv.listening(t)
	defer srv.stop(t)
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	_, page := get("/login")
	for _, want := range []string{"Lotus Tattoo", `href="mailto:help@lotus.example"`} {
		if !strings.Contains(page, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	m := regexp.MustCompile(`href="(/branding/theme\.css\?v=[^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("login page links no accent stylesheet:\n%s", page)
	}
	if _, css := get(m[1]); !strings.Contains(css, "--primary: #1e90ff;") {
		t.Errorf("theme.css = %q; want the configured accent", css)
	}
	if resp, _ := get("/branding/logo"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /branding/logo with none = %d; want 404", resp.StatusCode)
	}
}
