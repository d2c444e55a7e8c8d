package client_test

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/store"
)

// newRegistry is a Registry over a real SQLite file and a real key folder.
func newRegistry(t *testing.T) (*client.Registry, *store.Clients, *keys.Set) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(t.Context(), filepath.Join(dir, "inkpass.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cs, err := db.Clients(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	set, _, err := keys.Open(keys.Options{Dir: filepath.Join(dir, "keys"), Algorithm: keys.RS256})
	if err != nil {
		t.Fatal(err)
	}
	return client.NewRegistry(cs, set), cs, set
}

func TestRegistry_Register(t *testing.T) {
	r, cs, set := newRegistry(t)
	ctx := t.Context()

	c, secret, err := r.Register(ctx, client.Options{ID: "booking", Name: "Booking",
		RedirectURIs: []string{"https://booking.example/cb"}, AuthMethod: client.AuthSecretPost})
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) != 43 || !c.VerifySecret(secret) {
		t.Fatalf("Register gave secret %q (verifies %v), want a 43-character secret that verifies", secret, c.VerifySecret(secret))
	}
	stored, err := cs.Get(ctx, "booking")
	if err != nil {
		t.Fatal(err)
	}
	if !stored.VerifySecret(secret) || stored.AuthMethod != client.AuthSecretPost || !stored.AuthMethodPinned || stored.Source != "cli" {
		t.Errorf("stored client = %+v, want the secret to verify, client_secret_post pinned, source cli", stored)
	}

	pub, secret, err := r.Register(ctx, client.Options{ID: "spa", Public: true, RedirectURIs: []string{"http://localhost:5173/cb"}, IDTokenAlg: "es256"})
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" || pub.AuthMethod != client.AuthNone || pub.IDTokenAlg != keys.ES256 {
		t.Errorf("public client: secret %q, %+v; want no secret, auth none, ES256", secret, pub)
	}
	if _, ok := set.ActiveFor(keys.ES256); !ok {
		t.Error("registering an ES256 client made no ES256 key: its first ID token would carry a kid the JWKS lacks")
	}

	for _, tc := range []struct {
		name   string
		opts   client.Options
		fields []string
	}{
		{"an http redirect URI off loopback and an unknown scope are both named",
			client.Options{ID: "x", RedirectURIs: []string{"http://evil.example/cb"}, Scopes: []string{"openid", "admin"}},
			[]string{"redirect_uris", "scopes"}},
		{"either is refused for a public client",
			client.Options{ID: "x", Public: true, AuthMethod: client.AuthEither, RedirectURIs: []string{"http://localhost:1/cb"}},
			[]string{"auth_method"}},
		{"HS256 ID tokens are refused",
			client.Options{ID: "x", RedirectURIs: []string{"https://a.example/cb"}, IDTokenAlg: "HS256"},
			[]string{"id_token_signed_response_alg"}},
		{"a public client cannot introspect",
			client.Options{ID: "x", Public: true, Introspect: true, RedirectURIs: []string{"http://localhost:1/cb"}},
			[]string{"introspect"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, secret, err := r.Register(ctx, tc.opts)
			var got []string
			for _, fe := range client.FieldErrors(err) {
				got = append(got, fe.Field)
			}
			if secret != "" || !slices.Equal(got, tc.fields) {
				t.Errorf("Register = %v (secret %q); want field errors %v and no secret", err, secret, tc.fields)
			}
			if _, err := cs.Get(ctx, "x"); !errors.Is(err, client.ErrNotFound) {
				t.Errorf("a refused registration was stored: %v", err)
			}
		})
	}
	if _, _, err := r.Register(ctx, client.Options{ID: "spa", Public: true, RedirectURIs: []string{"http://localhost:1/cb"}}); !errors.Is(err, client.ErrExists) {
		t.Errorf("registering a taken id = %v, want ErrExists", err)
	}
}

func TestRegistry_Change(t *testing.T) {
	r, cs, set := newRegistry(t)
	ctx := t.Context()
	_, secret, err := r.Register(ctx, client.Options{ID: "booking", RedirectURIs: []string{"https://booking.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("new redirect URIs replace the old ones", func(t *testing.T) {
		if _, err := r.SetRedirectURIs(ctx, "booking", []string{"https://booking.example/a", "https://booking.example/b"}); err != nil {
			t.Fatal(err)
		}
		c, _ := cs.Get(ctx, "booking")
		if !slices.Equal(c.RedirectURIs, []string{"https://booking.example/a", "https://booking.example/b"}) || !c.VerifySecret(secret) {
			t.Errorf("after SetRedirectURIs: %v (secret still verifies: %v)", c.RedirectURIs, c.VerifySecret(secret))
		}
	})
	t.Run("a bad redirect URI is refused and nothing changes", func(t *testing.T) {
		_, err := r.SetRedirectURIs(ctx, "booking", []string{"https://booking.example/ok", "https://booking.example/cb#frag"})
		if fe := client.FieldErrors(err); len(fe) != 1 || fe[0].Field != "redirect_uris" {
			t.Fatalf("SetRedirectURIs with a fragment = %v, want one redirect_uris error", err)
		}
		if c, _ := cs.Get(ctx, "booking"); !slices.Equal(c.RedirectURIs, []string{"https://booking.example/a", "https://booking.example/b"}) {
			t.Errorf("a refused change was stored: %v", c.RedirectURIs)
		}
	})
	t.Run("an empty list is refused for the code flow", func(t *testing.T) {
		if _, err := r.SetRedirectURIs(ctx, "booking", nil); len(client.FieldErrors(err)) != 1 {
			t.Errorf("SetRedirectURIs(nil) = %v, want a redirect_uris error", err)
		}
	})
	t.Run("changing between public and confidential is refused", func(t *testing.T) {
		_, err := r.Change(ctx, "booking", func(c *client.Client) error { c.Public = true; return nil })
		var fe *client.FieldError
		if !errors.As(err, &fe) || fe.Field != "public" {
			t.Errorf("Change to public = %v, want a public field error", err)
		}
	})
	t.Run("a new ID-token algorithm gets its key before the client is stored", func(t *testing.T) {
		if _, err := r.Change(ctx, "booking", func(c *client.Client) error { return client.SetIDTokenAlg(c, "EdDSA") }); err != nil {
			t.Fatal(err)
		}
		if _, ok := set.ActiveFor(keys.EdDSA); !ok {
			t.Error("no EdDSA key after moving a client to EdDSA")
		}
	})
	t.Run("disable and enable", func(t *testing.T) {
		if c, err := r.SetEnabled(ctx, "booking", false); err != nil || c.Enabled {
			t.Fatalf("SetEnabled(false) = %v, %v", c, err)
		}
		if c, _ := cs.Get(ctx, "booking"); c.Enabled {
			t.Error("the client is still enabled in the store")
		}
		if c, err := r.SetEnabled(ctx, "booking", true); err != nil || !c.Enabled {
			t.Fatalf("SetEnabled(true) = %v, %v", c, err)
		}
	})
	t.Run("an unknown client is ErrNotFound", func(t *testing.T) {
		if _, err := r.SetEnabled(ctx, "nobody", false); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("SetEnabled(nobody) = %v, want ErrNotFound", err)
		}
	})
}

func TestRegistry_RotateSecretAndRemove(t *testing.T) {
	r, cs, _ := newRegistry(t)
	ctx := t.Context()
	_, old, err := r.Register(ctx, client.Options{ID: "booking", RedirectURIs: []string{"https://booking.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Register(ctx, client.Options{ID: "spa", Public: true, RedirectURIs: []string{"http://localhost:1/cb"}}); err != nil {
		t.Fatal(err)
	}
	cfgClient, err := client.New(client.Options{ID: "fromfile", RedirectURIs: []string{"https://f.example/cb"}, Source: "config"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Create(ctx, cfgClient); err != nil {
		t.Fatal(err)
	}

	_, secret, err := r.RotateSecret(ctx, "booking")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := cs.Get(ctx, "booking")
	if secret == "" || secret == old || c.VerifySecret(old) || !c.VerifySecret(secret) {
		t.Errorf("after RotateSecret the old secret must fail and the new one verify (new %q)", secret)
	}
	for id, want := range map[string]error{"spa": client.ErrPublicNoSecret, "fromfile": client.ErrConfigSecret, "nobody": client.ErrNotFound} {
		if _, s, err := r.RotateSecret(ctx, id); !errors.Is(err, want) || s != "" {
			t.Errorf("RotateSecret(%s) = %q, %v; want %v", id, s, err, want)
		}
	}

	if err := r.Remove(ctx, "booking"); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Get(ctx, "booking"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("Get after Remove = %v, want ErrNotFound", err)
	}
	if err := r.Remove(ctx, "booking"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("second Remove = %v, want ErrNotFound", err)
	}
}
