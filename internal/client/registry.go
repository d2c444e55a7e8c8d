package client

import (
	"context"
	"errors"
	"fmt"

	"github.com/inkpass/inkpass/internal/keys"
)

// The registration rules every front end shares (the CLI's `inkpass client`
// and the admin console): one rule set, two front ends. A front end turns
// its input (flags, a form) into Options or an edit of a Client; Registry
// applies the defaults and rules, makes the secret, makes sure a signing key
// of the client's algorithm exists, and stores the result.

// Options are a registration's choices, as an admin gives them.
type Options struct {
	ID, Name                             string
	Public, FirstParty, RequireMFA       bool
	Introspect, Disabled                 bool
	RedirectURIs, PostLogoutRedirectURIs []string
	GrantTypes, Scopes                   []string
	BackchannelLogoutURI                 string
	// AuthMethod: "" or AuthEither leaves a confidential client free to
	// send its secret either way; a method named explicitly is pinned.
	AuthMethod string
	// IDTokenAlg: "" is RS256.
	IDTokenAlg string
	// Source: "config" for config.yaml's clients; anything else is stored
	// as "cli" (registered by an admin).
	Source string
}

// AuthEither is the auth-method choice that leaves a confidential client
// free to send its secret either way (the default).
const AuthEither = "either"

// Errors of the secret rules; front ends show them as they are.
var (
	ErrPublicNoSecret = errors.New("a public client has no secret")
	ErrConfigSecret   = errors.New("this client's secret comes from config.yaml (secret_file or secret_env): change it there")
)

// New builds a client from o with the defaults filled and the rules
// checked. It touches no storage, so a front end can refuse bad input
// before it opens anything. The error is a *FieldError, or several joined
// (FieldErrors lists them).
func New(o Options) (*Client, error) {
	c := &Client{
		ID: o.ID, Name: o.Name, Public: o.Public, FirstParty: o.FirstParty, RequireMFA: o.RequireMFA,
		RedirectURIs: o.RedirectURIs, PostLogoutRedirectURIs: o.PostLogoutRedirectURIs, GrantTypes: o.GrantTypes,
		Scopes: o.Scopes, Enabled: !o.Disabled, Source: o.Source,
		Introspect: o.Introspect, BackchannelLogoutURI: o.BackchannelLogoutURI,
	}
	if c.Source != "config" {
		c.Source = "cli"
	}
	if err := SetAuthMethod(c, o.AuthMethod); err != nil {
		return nil, err
	}
	if err := SetIDTokenAlg(c, o.IDTokenAlg); err != nil {
		return nil, err
	}
	c.Normalize()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// SetAuthMethod applies an auth-method choice: a method named explicitly is
// pinned, so the token endpoint accepts only it; AuthEither or "" is not.
// Validate checks the method itself.
func SetAuthMethod(c *Client, method string) error {
	switch method {
	case "", AuthEither:
		if method == AuthEither && c.Public {
			return &FieldError{"auth_method", "either is for confidential clients; a public client uses none"}
		}
		c.AuthMethod, c.AuthMethodPinned = "", false
		if !c.Public {
			c.AuthMethod = AuthSecretBasic
		}
	default:
		c.AuthMethod, c.AuthMethodPinned = method, !c.Public
	}
	return nil
}

// SetIDTokenAlg applies an ID-token algorithm choice, by name in any case;
// "" changes nothing.
func SetIDTokenAlg(c *Client, name string) error {
	if name == "" {
		return nil
	}
	alg, err := keys.ParseAlgorithm(name)
	if err != nil {
		return &FieldError{"id_token_signed_response_alg", fmt.Sprintf("%q is not RS256, ES256 or EdDSA", name)}
	}
	c.IDTokenAlg = alg
	return nil
}

// FieldErrors lists the *FieldError values in err (a joined error from
// Validate, or one), for a form that shows each beside its field.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(e error) {
		if fe, ok := e.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		if u := errors.Unwrap(e); u != nil {
			walk(u)
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

// Repository stores clients; internal/store's *Clients is one.
type Repository interface {
	Get(ctx context.Context, id string) (*Client, error)
	List(ctx context.Context) ([]*Client, error)
	Create(ctx context.Context, c *Client) error
	Update(ctx context.Context, c *Client) error
	Remove(ctx context.Context, id string) error
	// HashKey is the key secrets are hashed with.
	HashKey() []byte
}

// KeyMaker makes sure a signing key of each algorithm exists, returning
// the keys it made; *keys.Set is one.
type KeyMaker interface {
	Ensure(algs ...keys.Algorithm) ([]keys.Info, error)
}

// Registry registers and changes clients under the rules above.
type Registry struct {
	repo Repository
	keys KeyMaker
}

// NewRegistry returns a Registry over repo. km is asked for a key whenever a
// client's ID-token algorithm is not RS256 (which the server always keeps),
// before the client is stored, so that the JWKS publishes the key before the
// first token it signs.
func NewRegistry(repo Repository, km KeyMaker) *Registry {
	return &Registry{repo: repo, keys: km}
}

// Register builds a client from o (New) and stores it (Create).
func (r *Registry) Register(ctx context.Context, o Options) (*Client, string, error) {
	c, err := New(o)
	if err != nil {
		return nil, "", err
	}
	return r.Create(ctx, c)
}

// Create stores c, a client New made, and returns it as stored with its
// secret: a confidential client gets a fresh one, returned only here (the
// store keeps its hash); a public client gets "". ErrExists when the id is
// taken.
func (r *Registry) Create(ctx context.Context, c *Client) (*Client, string, error) {
	if err := r.ensureKey(c.IDTokenAlg); err != nil {
		return nil, "", err
	}
	var secret string
	if !c.Public {
		secret = NewSecret()
		c.SetSecret(r.repo.HashKey(), secret)
	}
	if err := r.repo.Create(ctx, c); err != nil {
		return nil, "", err
	}
	stored, err := r.repo.Get(ctx, c.ID)
	if err != nil {
		return nil, "", err
	}
	return stored, secret, nil
}

// Change applies edit to the stored client id, checks the result against
// the rules and stores it; nothing is stored when edit or the rules refuse.
// A client cannot change between public and confidential (its secret, or
// its lack of one, goes with the choice): remove it and register it anew.
// A change of ID-token algorithm makes a key of the new one first.
func (r *Registry) Change(ctx context.Context, id string, edit func(*Client) error) (*Client, error) {
	c, err := r.repo.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	public, alg := c.Public, c.IDTokenAlg
	if err := edit(c); err != nil {
		return nil, err
	}
	if c.Public != public {
		return nil, &FieldError{"public", "a client cannot change between public and confidential: remove it and add it again"}
	}
	c.Normalize()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.IDTokenAlg != alg {
		if err := r.ensureKey(c.IDTokenAlg); err != nil {
			return nil, err
		}
	}
	if err := r.repo.Update(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// SetRedirectURIs replaces the client's redirect URIs (compared exactly at
// /authorize, so each is checked here).
func (r *Registry) SetRedirectURIs(ctx context.Context, id string, uris []string) (*Client, error) {
	return r.Change(ctx, id, func(c *Client) error { c.RedirectURIs = uris; return nil })
}

// SetEnabled enables or disables the client. Disabling revokes its tokens
// and codes (the store does so in the same transaction), and enabling it
// again does not bring them back.
func (r *Registry) SetEnabled(ctx context.Context, id string, enabled bool) (*Client, error) {
	return r.Change(ctx, id, func(c *Client) error { c.Enabled = enabled; return nil })
}

// RotateSecret gives a confidential client a new secret and returns it:
// the only time it is shown. The old secret stops working at once. A public
// client has none (ErrPublicNoSecret); one from config.yaml is changed there
// (ErrConfigSecret), since the file would put the old one back.
func (r *Registry) RotateSecret(ctx context.Context, id string) (*Client, string, error) {
	c, err := r.repo.Get(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if c.Public {
		return nil, "", ErrPublicNoSecret
	}
	if c.Source == "config" {
		return nil, "", ErrConfigSecret
	}
	secret := NewSecret()
	c.SetSecret(r.repo.HashKey(), secret)
	if err := r.repo.Update(ctx, c); err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

// Remove deletes the client; the store revokes its tokens and codes in the
// same transaction. ErrNotFound for an unknown id.
func (r *Registry) Remove(ctx context.Context, id string) error {
	return r.repo.Remove(ctx, id)
}

// Get returns one client; ErrNotFound for an unknown id.
func (r *Registry) Get(ctx context.Context, id string) (*Client, error) { return r.repo.Get(ctx, id) }

// List returns every client, ordered by id.
func (r *Registry) List(ctx context.Context) ([]*Client, error) { return r.repo.List(ctx) }

// ensureKey asks for a key of alg unless it is RS256, which the server
// always keeps.
func (r *Registry) ensureKey(alg keys.Algorithm) error {
	if alg == keys.RS256 || alg == "" || r.keys == nil {
		return nil
	}
	if _, err := r.keys.Ensure(alg); err != nil {
		return fmt.Errorf("make a %s signing key: %w", alg, err)
	}
	return nil
}
