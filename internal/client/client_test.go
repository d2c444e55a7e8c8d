package client

import (
	"slices"
	"strings"
	"testing"

	"github.com/inkpass/inkpass/internal/keys"
)

func TestClient_Validate(t *testing.T) {
	base := func() Client {
		c := Client{ID: "booking", RedirectURIs: []string{"https://booking.example/cb"}}
		c.Normalize()
		return c
	}
	tests := []struct {
		name   string
		change func(*Client)
		field  string // "" means valid
	}{
		{"a confidential https client is valid", func(*Client) {}, ""},
		{"a loopback http redirect is valid", func(c *Client) { c.RedirectURIs = []string{"http://127.0.0.1:9090/callback"} }, ""},
		{"localhost http is valid", func(c *Client) { c.RedirectURIs = []string{"http://localhost:5173/cb"} }, ""},
		{"a reverse-domain private scheme is valid for native apps", func(c *Client) { c.RedirectURIs = []string{"com.studio.app:/oauth"} }, ""},
		{"http off loopback is refused", func(c *Client) { c.RedirectURIs = []string{"http://booking.example/cb"} }, "redirect_uris"},
		{"a fragment is refused", func(c *Client) { c.RedirectURIs = []string{"https://booking.example/cb#x"} }, "redirect_uris"},
		{"a relative URI is refused", func(c *Client) { c.RedirectURIs = []string{"/cb"} }, "redirect_uris"},
		{"javascript: is refused", func(c *Client) { c.RedirectURIs = []string{"javascript:alert(1)"} }, "redirect_uris"},
		{"a private scheme without a dot is refused", func(c *Client) { c.RedirectURIs = []string{"myapp:/cb"} }, "redirect_uris"},
		{"the code flow needs a redirect URI", func(c *Client) { c.RedirectURIs = nil }, "redirect_uris"},
		{"a machine client needs no redirect URI", func(c *Client) {
			c.RedirectURIs, c.GrantTypes, c.Scopes = nil, []string{GrantClientCredentials}, []string{"profile"}
		}, ""},
		{"an unknown grant is refused", func(c *Client) { c.GrantTypes = []string{"password"} }, "grant_types"},
		{"a public client cannot use client_credentials", func(c *Client) {
			c.Public, c.AuthMethod, c.GrantTypes = true, AuthNone, []string{GrantClientCredentials}
		}, "grant_types"},
		{"an unknown scope is refused", func(c *Client) { c.Scopes = []string{"openid", "admin"} }, "scopes"},
		{"the code flow needs openid", func(c *Client) { c.Scopes = []string{"profile"} }, "scopes"},
		{"a public client authenticates with none", func(c *Client) { c.Public = true }, "auth_method"},
		{"none is only for public clients", func(c *Client) { c.AuthMethod = AuthNone }, "auth_method"},
		{"an id with a space is refused", func(c *Client) { c.ID = "book ing" }, "id"},
		{"an id with a colon is refused (it would break basic auth)", func(c *Client) { c.ID = "a:b" }, "id"},
		{"an https back-channel logout URI with a query is valid", func(c *Client) { c.BackchannelLogoutURI = "https://booking.example/bc?t=1" }, ""},
		{"a loopback http back-channel logout URI is valid", func(c *Client) { c.BackchannelLogoutURI = "http://127.0.0.1:8080/bc" }, ""},
		{"an http back-channel logout URI off loopback is refused", func(c *Client) { c.BackchannelLogoutURI = "http://booking.example/bc" }, "backchannel_logout_uri"},
		{"a private scheme is refused for back-channel logout: inkpass POSTs to it", func(c *Client) { c.BackchannelLogoutURI = "com.studio.app:/bc" }, "backchannel_logout_uri"},
		{"a back-channel logout URI with a fragment is refused", func(c *Client) { c.BackchannelLogoutURI = "https://booking.example/bc#x" }, "backchannel_logout_uri"},
		{"a relative back-channel logout URI is refused", func(c *Client) { c.BackchannelLogoutURI = "/bc" }, "backchannel_logout_uri"},
		{"an ES256 ID token is valid", func(c *Client) { c.IDTokenAlg = "ES256" }, ""},
		{"an EdDSA ID token is valid", func(c *Client) { c.IDTokenAlg = "EdDSA" }, ""},
		{"HS256 ID tokens are refused", func(c *Client) { c.IDTokenAlg = "HS256" }, "id_token_signed_response_alg"},
		{"unsigned ID tokens are refused", func(c *Client) { c.IDTokenAlg = "none" }, "id_token_signed_response_alg"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.change(&c)
			err := c.Validate()
			switch {
			case tc.field == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.field != "" && (err == nil || !strings.Contains(err.Error(), tc.field+":")):
				t.Errorf("Validate() = %v, want an error naming %s", err, tc.field)
			}
		})
	}
}

func TestClient_HasRedirectURI_IsExact(t *testing.T) {
	c := Client{RedirectURIs: []string{"https://booking.example/cb"}}
	for _, uri := range []string{
		"https://booking.example/cb/", "https://BOOKING.example/cb", "https://booking.example/CB",
		"https://booking.example/cb?x=1", "https://booking.example:443/cb", "https://booking.example/cb/../cb",
		"https://booking.example.evil.example/cb", "http://booking.example/cb",
	} {
		if c.HasRedirectURI(uri) {
			t.Errorf("HasRedirectURI(%q) = true, want an exact match only", uri)
		}
	}
	if !c.HasRedirectURI("https://booking.example/cb") {
		t.Error("the registered URI itself must match")
	}
}

func TestClient_Secret(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	c := &Client{ID: "x"}
	secret := NewSecret()
	c.SetSecret(key, secret)
	if !c.VerifySecret(secret) {
		t.Fatal("the secret does not verify")
	}
	for _, wrong := range []string{"", secret + "x", secret[:42], NewSecret()} {
		if c.VerifySecret(wrong) {
			t.Errorf("VerifySecret(%q) = true", wrong)
		}
	}
	other := &Client{ID: "x", SecretHash: c.SecretHash}
	other.WithHashKey([]byte("another install key, 32 bytes!!!"))
	if other.VerifySecret(secret) {
		t.Error("a hash made under another install key verified")
	}
	pub := &Client{ID: "p", Public: true}
	if !pub.VerifySecret("") || pub.VerifySecret("anything") {
		t.Error("a public client matches only the empty secret")
	}
	if a, b := NewSecret(), NewSecret(); a == b || len(a) != 43 {
		t.Error("NewSecret must give fresh 256-bit values")
	}
}

// TestClient_Validate_LoopbackHTTP: plain http is allowed only for a loopback
// IP literal or exactly localhost (RFC 8252 §7.3, §8.3), judged on the parsed
// host, for login and post-logout redirect URIs alike.
func TestClient_Validate_LoopbackHTTP(t *testing.T) {
	tests := []struct {
		uri   string
		valid bool
	}{
		{"http://127.0.0.1:9090/callback", true},
		{"http://127.0.0.1/callback", true},
		{"http://127.10.20.30:8080/cb", true},
		{"http://[::1]:8080/cb", true},
		{"http://localhost/cb", true},
		{"http://localhost:5173/cb", true},
		{"http://127.attacker.example/cb", false},
		{"http://127.0.0.1.attacker.example/cb", false},
		{"http://127.0.0.1.nip.io/cb", false},
		{"http://localhost.attacker.example/cb", false},
		{"http://localhostattacker.example/cb", false},
		{"http://localhost./cb", false},
		{"http://127.1/cb", false},
		{"http://0x7f.0.0.1/cb", false},
		{"http://2130706433/cb", false},
		{"http://[::1%25eth0]/cb", false},
		{"http://10.0.0.1/cb", false},
		{"http://[::2]/cb", false},
		{"http:///cb", false},
	}
	for _, tc := range tests {
		for _, field := range []string{"redirect_uris", "post_logout_redirect_uris"} {
			t.Run(field+" "+tc.uri, func(t *testing.T) {
				c := Client{ID: "native", RedirectURIs: []string{"https://booking.example/cb"}}
				c.Normalize()
				if field == "redirect_uris" {
					c.RedirectURIs = []string{tc.uri}
				} else {
					c.PostLogoutRedirectURIs = []string{tc.uri}
				}
				err := c.Validate()
				switch {
				case tc.valid && err != nil:
					t.Errorf("Validate() = %v, want %s accepted", err, tc.uri)
				case !tc.valid && (err == nil || !strings.Contains(err.Error(), field+":")):
					t.Errorf("Validate() = %v, want %s refused in %s", err, tc.uri, field)
				}
			})
		}
	}
}

func TestClient_AcceptsAuthMethod(t *testing.T) {
	cases := []struct {
		name   string
		c      Client
		method string
		want   bool
	}{
		{"default confidential, basic", Client{AuthMethod: AuthSecretBasic}, AuthSecretBasic, true},
		{"default confidential, post", Client{AuthMethod: AuthSecretBasic}, AuthSecretPost, true},
		{"default confidential, none", Client{AuthMethod: AuthSecretBasic}, AuthNone, false},
		{"pinned basic, post", Client{AuthMethod: AuthSecretBasic, AuthMethodPinned: true}, AuthSecretPost, false},
		{"pinned post, post", Client{AuthMethod: AuthSecretPost, AuthMethodPinned: true}, AuthSecretPost, true},
		{"pinned post, basic", Client{AuthMethod: AuthSecretPost, AuthMethodPinned: true}, AuthSecretBasic, false},
		{"public, none", Client{Public: true, AuthMethod: AuthNone}, AuthNone, true},
		{"public, post", Client{Public: true, AuthMethod: AuthNone}, AuthSecretPost, false},
	}
	for _, tc := range cases {
		if got := tc.c.AcceptsAuthMethod(tc.method); got != tc.want {
			t.Errorf("%s: AcceptsAuthMethod(%s) = %v, want %v", tc.name, tc.method, got, tc.want)
		}
	}
}

func TestKnownScopes(t *testing.T) {
	got := KnownScopes([]string{"openid", "groups", "email", "admin", "offline_access"})
	if want := []string{"openid", "email", "offline_access"}; !slices.Equal(got, want) {
		t.Errorf("KnownScopes = %q, want %q", got, want)
	}
}

func TestClient_Normalize_IDTokenAlg(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "RS256"}, // Registration §2: RS256 when omitted
		{"es256", "ES256"},
		{"EDDSA", "EdDSA"},
		{"PS256", "PS256"}, // left for Validate to name
	} {
		c := Client{ID: "x", IDTokenAlg: keys.Algorithm(tc.in)}
		c.Normalize()
		if string(c.IDTokenAlg) != tc.want {
			t.Errorf("Normalize(%q): IDTokenAlg = %q, want %q", tc.in, c.IDTokenAlg, tc.want)
		}
	}
}
