package client

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/inkpass/inkpass/internal/keys"
)

// Grant types a client may be allowed.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// Token endpoint authentication methods (OIDC Core §9).
const (
	AuthSecretBasic = "client_secret_basic"
	AuthSecretPost  = "client_secret_post"
	AuthNone        = "none"
)

// SupportedScopes are the scopes inkpass can grant.
var SupportedScopes = []string{"openid", "profile", "email", "phone", "offline_access"}

// MaxIDLength is the longest client_id a registration may have.
const MaxIDLength = 128

// Client is a registered relying party.
type Client struct {
	ID                     string   `json:"id"`
	Name                   string   `json:"name"`
	Public                 bool     `json:"public"`
	FirstParty             bool     `json:"first_party"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	GrantTypes             []string `json:"grant_types"`
	Scopes                 []string `json:"scopes"`
	AuthMethod             string   `json:"auth_method"`
	// AuthMethodPinned: an admin chose AuthMethod explicitly, and the token
	// endpoint accepts only it. Otherwise a confidential client may send its
	// secret either way discovery advertises (AcceptsAuthMethod).
	AuthMethodPinned bool      `json:"auth_method_pinned"`
	Enabled          bool      `json:"enabled"`
	Source           string    `json:"source"` // "config" or "cli"
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
	// Introspect registers a resource server: it may introspect other
	// clients' access tokens (RFC 7662 §4). Every confidential client may
	// introspect its own tokens.
	Introspect bool `json:"introspect"`
	// BackchannelLogoutURI receives a logout token when a session the
	// client took part in ends (OpenID Connect Back-Channel Logout 1.0);
	// empty for none.
	BackchannelLogoutURI string `json:"backchannel_logout_uri,omitempty"`
	// IDTokenAlg signs this client's ID tokens (OpenID Connect Registration
	// §2 id_token_signed_response_alg): RS256 unless an admin chose another.
	IDTokenAlg keys.Algorithm `json:"id_token_signed_response_alg"`
	// RequireMFA: every sign-in for this client needs a second factor
	// (a user without one enrols first).
	RequireMFA bool `json:"require_mfa"`

	// SecretHash is HMAC-SHA256(install key, secret); never the secret.
	SecretHash []byte `json:"-"`
	// hashKey is the install key the hash was made with, set by the store so
	// that VerifyPassword can recompute it.
	hashKey []byte
}

var (
	ErrNotFound = errors.New("client not found")
	ErrExists   = errors.New("client id already registered")
)

// FieldError names the registration field that is wrong.
type FieldError struct{ Field, Problem string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// Normalize fills defaults: confidential clients authenticate with basic auth,
// public ones with none; every client may use the code flow.
func (c *Client) Normalize() {
	c.ID = strings.TrimSpace(c.ID)
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		c.Name = c.ID
	}
	if c.AuthMethod == "" {
		c.AuthMethod = AuthSecretBasic
		if c.Public {
			c.AuthMethod = AuthNone
		}
	}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "profile", "email", "phone", "offline_access"}
	}
	if c.IDTokenAlg == "" {
		c.IDTokenAlg = keys.RS256 // Registration §2's default
	} else if a, err := keys.ParseAlgorithm(string(c.IDTokenAlg)); err == nil {
		c.IDTokenAlg = a
	}
}

// Validate checks a registration. Redirect URIs are compared by exact string
// match at /authorize (RFC 9700 §4.1.3), so they are validated here instead:
// absolute, no fragment (RFC 6749 §3.1.2), https unless loopback or a private
// scheme for native apps (RFC 8252 §7).
func (c *Client) Validate() error {
	var errs []error
	bad := func(field, problem string) { errs = append(errs, &FieldError{field, problem}) }
	if c.ID == "" || len(c.ID) > MaxIDLength || strings.ContainsFunc(c.ID, func(r rune) bool { return r <= ' ' || r > '~' || r == ':' }) {
		bad("id", "must be 1-128 printable ASCII characters without spaces or ':'")
	}
	if len(c.Name) > 120 {
		bad("name", "must be at most 120 characters")
	}
	for _, g := range c.GrantTypes {
		if g != GrantAuthorizationCode && g != GrantRefreshToken && g != GrantClientCredentials {
			bad("grant_types", fmt.Sprintf("%q is not authorization_code, refresh_token or client_credentials", g))
		}
	}
	if c.Public && slices.Contains(c.GrantTypes, GrantClientCredentials) {
		bad("grant_types", "a public client cannot use client_credentials")
	}
	if slices.Contains(c.GrantTypes, GrantAuthorizationCode) && len(c.RedirectURIs) == 0 {
		bad("redirect_uris", "at least one is needed for authorization_code")
	}
	for _, u := range c.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			bad("redirect_uris", err.Error())
		}
	}
	for _, u := range c.PostLogoutRedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			bad("post_logout_redirect_uris", err.Error())
		}
	}
	if c.BackchannelLogoutURI != "" {
		if err := checkBackchannelURI(c.BackchannelLogoutURI); err != nil {
			bad("backchannel_logout_uri", err.Error())
		}
	}
	for _, s := range c.Scopes {
		if !slices.Contains(SupportedScopes, s) {
			bad("scopes", fmt.Sprintf("%q is not one of %s", s, strings.Join(SupportedScopes, ", ")))
		}
	}
	if c.Public && c.Introspect {
		bad("introspect", "a public client cannot authenticate at the introspection endpoint")
	}
	if !slices.Contains(c.Scopes, "openid") && slices.Contains(c.GrantTypes, GrantAuthorizationCode) {
		bad("scopes", "must include openid")
	}
	if _, err := keys.ParseAlgorithm(string(c.IDTokenAlg)); err != nil {
		bad("id_token_signed_response_alg", fmt.Sprintf("%q is not RS256, ES256 or EdDSA", c.IDTokenAlg))
	}
	switch c.AuthMethod {
	case AuthNone:
		if !c.Public {
			bad("auth_method", "none is only for public clients")
		}
	case AuthSecretBasic, AuthSecretPost:
		if c.Public {
			bad("auth_method", "a public client has no secret: use none")
		}
	default:
		bad("auth_method", "must be client_secret_basic, client_secret_post or none")
	}
	return errors.Join(errs...)
}

func checkRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs():
		return fmt.Errorf("%q is not an absolute URI", raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("%q must not have a fragment", raw)
	case u.Scheme == "http":
		if !isLoopbackHost(u.Hostname()) {
			return fmt.Errorf("%q must use https (http only on loopback)", raw)
		}
	case u.Scheme == "https":
		if u.Host == "" {
			return fmt.Errorf("%q has no host", raw)
		}
	case u.Scheme == "javascript" || u.Scheme == "data" || u.Scheme == "file" || u.Scheme == "vbscript":
		return fmt.Errorf("%q uses a forbidden scheme", raw)
	case !strings.Contains(u.Scheme, "."):
		// RFC 8252 §7.1: private-use schemes are reverse domain names.
		return fmt.Errorf("%q: a private-use scheme must be a reverse domain name like com.example.app", raw)
	}
	return nil
}

// checkBackchannelURI is checkRedirectURI without private-use schemes: inkpass
// itself POSTs to it, so it is https, or http on loopback (Back-Channel Logout
// 1.0 §2.2: absolute, no fragment).
func checkBackchannelURI(raw string) error {
	if err := checkRedirectURI(raw); err != nil {
		return err
	}
	if u, _ := url.Parse(raw); u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("%q must use https (http only on loopback)", raw)
	}
	return nil
}

// isLoopbackHost accepts exactly "localhost" or a loopback IP literal in
// canonical form (127.0.0.0/8, ::1, no zone). The host is parsed, not
// prefix-matched: "127.attacker.example" is a DNS name anyone can register.
func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.Zone() == "" && a.IsLoopback()
}

// AcceptsAuthMethod reports whether the client may authenticate at the token
// endpoint with method: a public client only with none; a confidential one
// with its pinned method, or with either secret method when none was pinned
// (discovery advertises both, and libraries pick one without asking: one
// secret, sent in a header or in the body over TLS, is the same credential).
func (c *Client) AcceptsAuthMethod(method string) bool {
	switch {
	case c.Public:
		return method == AuthNone
	case c.AuthMethodPinned:
		return method == c.AuthMethod
	}
	return method == AuthSecretBasic || method == AuthSecretPost
}

// AllowsGrant reports whether the client may use grant type g.
func (c *Client) AllowsGrant(g string) bool { return slices.Contains(c.GrantTypes, g) }

// AllowsScope reports whether every scope in scopes is registered for c.
func (c *Client) AllowsScope(scopes []string) bool {
	for _, s := range scopes {
		if !slices.Contains(c.Scopes, s) {
			return false
		}
	}
	return true
}

// KnownScopes returns the scopes of scopes that inkpass can grant, in order:
// OIDC Core §3.1.2.1 says to ignore the values a server does not understand
// (relying parties ask for "groups" by habit), rather than refuse the request.
func KnownScopes(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		if slices.Contains(SupportedScopes, s) {
			out = append(out, s)
		}
	}
	return out
}

// HasRedirectURI is the exact string comparison RFC 9700 §4.1.3 asks for: no
// prefix, case folding or port leniency.
func (c *Client) HasRedirectURI(uri string) bool { return slices.Contains(c.RedirectURIs, uri) }

// HasPostLogoutRedirectURI compares exactly, like HasRedirectURI.
func (c *Client) HasPostLogoutRedirectURI(uri string) bool {
	return slices.Contains(c.PostLogoutRedirectURIs, uri)
}

// NewSecret returns a fresh 256-bit secret, URL-safe. Its entropy is why a fast
// keyed hash is the right way to store it (RFC 9700 §2.5 asks for strong client
// credentials; a slow KDF would only add a denial-of-service lever).
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret is HMAC-SHA256 under the installation's key.
func HashSecret(key []byte, secret string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// SetSecret stores the hash of secret on c.
func (c *Client) SetSecret(key []byte, secret string) {
	c.SecretHash = HashSecret(key, secret)
	c.hashKey = key
}

// WithHashKey attaches the key the stored hash was made with.
func (c *Client) WithHashKey(key []byte) { c.hashKey = key }

// VerifySecret compares in constant time. A public client has no secret and
// matches only the empty string.
func (c *Client) VerifySecret(secret string) bool {
	if c.Public {
		return secret == ""
	}
	if len(c.SecretHash) == 0 || len(c.hashKey) == 0 || secret == "" {
		return false
	}
	return hmac.Equal(c.SecretHash, HashSecret(c.hashKey, secret))
}
