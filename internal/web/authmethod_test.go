package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/testsupport/harness"
)

// TestInterop_ClientAuthMethod: discovery advertises client_secret_basic and
// client_secret_post, and a confidential client registered with the default
// accepts either (passport-openidconnect always sends the secret in the
// body). A client whose admin pinned a method accepts only that one.
func TestInterop_ClientAuthMethod(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	const secret = "interop-client-secret-0123456789abcdefghijkl"
	register := func(id, method string, pinned bool) {
		c := &client.Client{ID: id, GrantTypes: []string{client.GrantClientCredentials}, Scopes: []string{"profile"},
			AuthMethod: method, AuthMethodPinned: pinned, Enabled: true}
		c.Normalize()
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		c.SetSecret(e.Clients.HashKey(), secret)
		if err := e.Clients.Create(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	register("default-auth", "", false)
	register("pinned-post", client.AuthSecretPost, true)
	register("pinned-basic", client.AuthSecretBasic, true)

	cases := []struct {
		name     string
		clientID string
		basic    bool
		secret   string
		want     int
	}{
		{"a default client may use basic", "default-auth", true, secret, http.StatusOK},
		{"a default client may send its secret in the body", "default-auth", false, secret, http.StatusOK},
		{"a default client with a wrong secret in the body is refused", "default-auth", false, "wrong", http.StatusUnauthorized},
		{"a default client without a secret is refused", "default-auth", false, "", http.StatusUnauthorized},
		{"a client pinned to post may use post", "pinned-post", false, secret, http.StatusOK},
		{"a client pinned to post may not use basic", "pinned-post", true, secret, http.StatusUnauthorized},
		{"a client pinned to basic may use basic", "pinned-basic", true, secret, http.StatusOK},
		{"a client pinned to basic may not use post", "pinned-basic", false, secret, http.StatusUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"grant_type": {"client_credentials"}, "scope": {"profile"}}
			var r *harness.TokenResponse
			switch {
			case tc.basic:
				r = e.PostToken(t, form, tc.clientID, tc.secret)
			case tc.secret == "":
				form.Set("client_id", tc.clientID)
				r = e.PostToken(t, form)
			default:
				form.Set("client_id", tc.clientID)
				form.Set("client_secret", tc.secret)
				r = e.PostToken(t, form)
			}
			if r.Status != tc.want {
				t.Fatalf("status %d %v, want %d", r.Status, r.Body, tc.want)
			}
			if tc.want == http.StatusOK && r.Str("access_token") == "" {
				t.Errorf("no access token: %v", r.Body)
			}
			if tc.want == http.StatusUnauthorized && r.Str("error") != "invalid_client" {
				t.Errorf("error = %q, want invalid_client", r.Str("error"))
			}
		})
	}
}
