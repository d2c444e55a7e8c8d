package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-oauth2/oauth2/v4"

	"github.com/inkpass/inkpass/internal/client"
)

var _ oauth2.ClientStore = (*Clients)(nil)

// Clients is the client registry. It needs the installation's hash key to
// hand out clients that can verify their own secrets.
type Clients struct {
	db  *DB
	key []byte

	// cache keeps each client read for a second: the token endpoint looks
	// clients up on every request, and a registration changes rarely. This
	// process's own writes drop the entry at once; a change made by the CLI in
	// another process is seen within clientCacheTTL.
	mu    sync.Mutex
	cache map[string]cachedClient
}

type cachedClient struct {
	c  *client.Client
	at time.Time
}

// clientCacheTTL bounds how stale a cached registration may be.
const clientCacheTTL = time.Second

// Clients returns the client registry.
func (db *DB) Clients(ctx context.Context) (*Clients, error) {
	key, err := db.InstallSecret(ctx, "client_secret_hmac")
	if err != nil {
		return nil, err
	}
	return &Clients{db: db, key: key, cache: map[string]cachedClient{}}, nil
}

// HashKey is the key client secrets are hashed with.
func (cs *Clients) HashKey() []byte { return cs.key }

const clientColumns = `id, name, secret_hash, public, first_party, redirect_uris, post_logout_redirect_uris,
	grant_types, scopes, auth_method, enabled, source, created_at, updated_at, auth_method_pinned`

func (cs *Clients) scan(r rowScanner) (*client.Client, error) {
	var c client.Client
	var redirects, logouts, grants, scopes string
	var created, updated int64
	if err := r.Scan(&c.ID, &c.Name, &c.SecretHash, &c.Public, &c.FirstParty, &redirects, &logouts,
		&grants, &scopes, &c.AuthMethod, &c.Enabled, &c.Source, &created, &updated, &c.AuthMethodPinned); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		src string
		dst *[]string
	}{{redirects, &c.RedirectURIs}, {logouts, &c.PostLogoutRedirectURIs}, {grants, &c.GrantTypes}, {scopes, &c.Scopes}} {
		if err := json.Unmarshal([]byte(f.src), f.dst); err != nil {
			return nil, fmt.Errorf("client %s: corrupt list: %w", c.ID, err)
		}
	}
	c.CreatedAt, c.UpdatedAt = time.Unix(created, 0).UTC(), time.Unix(updated, 0).UTC()
	c.WithHashKey(cs.key)
	return &c, nil
}

// GetByID implements oauth2.ClientStore. A disabled or unknown client is
// reported as client.ErrNotFound.
func (cs *Clients) GetByID(ctx context.Context, id string) (oauth2.ClientInfo, error) {
	c, err := cs.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !c.Enabled {
		return nil, client.ErrNotFound
	}
	return c, nil
}

// Get returns the client, enabled or not: a copy the caller may change.
func (cs *Clients) Get(ctx context.Context, id string) (*client.Client, error) {
	now := time.Now()
	cs.mu.Lock()
	e, ok := cs.cache[id]
	cs.mu.Unlock()
	if ok && now.Sub(e.at) < clientCacheTTL {
		cp := *e.c
		return &cp, nil
	}
	c, err := cs.load(ctx, id)
	if err != nil {
		return nil, err
	}
	cs.mu.Lock()
	cs.cache[id] = cachedClient{c: c, at: now}
	cs.mu.Unlock()
	cp := *c
	return &cp, nil
}

// forget drops a cached client after this process changed it.
func (cs *Clients) forget(id string) {
	cs.mu.Lock()
	delete(cs.cache, id)
	cs.mu.Unlock()
}

func (cs *Clients) load(ctx context.Context, id string) (*client.Client, error) {
	c, err := cs.scan(cs.db.read.QueryRowContext(ctx, `SELECT `+clientColumns+` FROM inkpass_clients WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, client.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get client %q: %w", id, err)
	}
	return c, nil
}

// List returns every client, ordered by id.
func (cs *Clients) List(ctx context.Context) ([]*client.Client, error) {
	rows, err := cs.db.read.QueryContext(ctx, `SELECT `+clientColumns+` FROM inkpass_clients ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	defer rows.Close()
	var out []*client.Client
	for rows.Next() {
		c, err := cs.scan(rows)
		if err != nil {
			return nil, fmt.Errorf("list clients: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func jsonList(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Create registers c; client.ErrExists when the id is taken.
func (cs *Clients) Create(ctx context.Context, c *client.Client) error {
	defer cs.forget(c.ID)
	now := cs.db.now().Unix()
	return cs.db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO inkpass_clients (`+clientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.Name, c.SecretHash, c.Public, c.FirstParty, jsonList(c.RedirectURIs), jsonList(c.PostLogoutRedirectURIs),
			jsonList(c.GrantTypes), jsonList(c.Scopes), c.AuthMethod, c.Enabled, sourceOf(c), now, now, c.AuthMethodPinned)
		if isUnique(err) {
			return client.ErrExists
		}
		if err != nil {
			return fmt.Errorf("create client %q: %w", c.ID, err)
		}
		return nil
	})
}

func sourceOf(c *client.Client) string {
	if c.Source == "config" {
		return "config"
	}
	return "cli"
}

// Update rewrites every field of c, the secret hash included.
func (cs *Clients) Update(ctx context.Context, c *client.Client) error {
	defer cs.forget(c.ID)
	return cs.db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE inkpass_clients SET name = ?, secret_hash = ?, public = ?, first_party = ?,
			redirect_uris = ?, post_logout_redirect_uris = ?, grant_types = ?, scopes = ?, auth_method = ?, enabled = ?,
			source = ?, updated_at = ?, auth_method_pinned = ? WHERE id = ?`,
			c.Name, c.SecretHash, c.Public, c.FirstParty, jsonList(c.RedirectURIs), jsonList(c.PostLogoutRedirectURIs),
			jsonList(c.GrantTypes), jsonList(c.Scopes), c.AuthMethod, c.Enabled, sourceOf(c), cs.db.now().Unix(), c.AuthMethodPinned, c.ID)
		if err != nil {
			return fmt.Errorf("update client %q: %w", c.ID, err)
		}
		return mustAffect(res, client.ErrNotFound)
	})
}

// Remove deletes the client and revokes every token it holds, in one
// transaction. Clients are configuration, not audit records, so they are
// really deleted; their tokens stay as revoked rows.
func (cs *Clients) Remove(ctx context.Context, id string) error {
	defer cs.forget(id)
	return cs.db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM inkpass_clients WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("remove client %q: %w", id, err)
		}
		if err := mustAffect(res, client.ErrNotFound); err != nil {
			return err
		}
		now := cs.db.now().Unix()
		if _, err := tx.ExecContext(ctx, `UPDATE inkpass_tokens SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL`, now, id); err != nil {
			return fmt.Errorf("remove client %q: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE inkpass_codes SET used_at = ? WHERE client_id = ? AND used_at IS NULL`, now, id); err != nil {
			return fmt.Errorf("remove client %q: %w", id, err)
		}
		return nil
	})
}
