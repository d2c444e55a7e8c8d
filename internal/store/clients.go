package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inkpass/inkpass/internal/client"
)

// Clients is the client registry. It needs the installation's hash key to
// hand out clients that can verify their own secrets.
type Clients struct {
	db  *DB
	key []byte

	// cache keeps the clients read at generation gen: the token endpoint
	// looks clients up on every request, and a registration changes rarely.
	// Every change to inkpass_clients, from this process or the CLI in
	// another, bumps inkpass_client_generation in its own transaction (the
	// triggers of migration 0006), and a read of that counter tells whether
	// the cache is current: a removal or a disabling is seen by the very
	// next request.
	mu    sync.Mutex
	gen   int64
	cache map[string]*client.Client
	// locks keeps the client-authentication lock read for a client and an
	// address (GetWithLock). It and cache are known current, without a
	// read, while the database's change watch (walwatch.go) is still in
	// epoch fresh; freshOK is false until a read has confirmed them.
	locks   map[lockKey]int64
	fresh   uint64
	freshOK bool
	// reads counts the requests that read the database, for tests.
	reads atomic.Int64
}

type lockKey struct{ id, addr string }

// maxCachedLocks bounds locks: addresses come from the network.
const maxCachedLocks = 4096

// Clients returns the client registry.
func (db *DB) Clients(ctx context.Context) (*Clients, error) {
	key, err := db.InstallSecret(ctx, "client_secret_hmac")
	if err != nil {
		return nil, err
	}
	return &Clients{db: db, key: key, cache: map[string]*client.Client{}, locks: map[lockKey]int64{}}, nil
}

// HashKey is the key client secrets are hashed with.
func (cs *Clients) HashKey() []byte { return cs.key }

const clientColumns = `id, name, secret_hash, public, first_party, redirect_uris, post_logout_redirect_uris,
	grant_types, scopes, auth_method, enabled, source, created_at, updated_at, introspect, auth_method_pinned,
	backchannel_logout_uri, id_token_alg, require_mfa`

func (cs *Clients) scan(r rowScanner) (*client.Client, error) {
	var c client.Client
	var redirects, logouts, grants, scopes string
	var created, updated int64
	if err := r.Scan(&c.ID, &c.Name, &c.SecretHash, &c.Public, &c.FirstParty, &redirects, &logouts,
		&grants, &scopes, &c.AuthMethod, &c.Enabled, &c.Source, &created, &updated, &c.Introspect, &c.AuthMethodPinned,
		&c.BackchannelLogoutURI, &c.IDTokenAlg, &c.RequireMFA); err != nil {
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

// Get returns the client, enabled or not: a copy the caller may change. It
// reflects every change committed before it was called, by any process.
func (cs *Clients) Get(ctx context.Context, id string) (*client.Client, error) {
	epoch, watched := cs.db.watch.current()
	if watched {
		if c, _, ok := cs.cached(epoch, id, nil); ok {
			return c, nil
		}
	}
	cs.reads.Add(1)
	// The counter is read before the row: a change committed in between
	// bumps it again, so a row newer than its generation is only reloaded
	// once more, never trusted past a change.
	var gen int64
	if err := cs.db.read.QueryRowContext(ctx, `SELECT generation FROM inkpass_client_generation WHERE id = 1`).Scan(&gen); err != nil {
		return nil, fmt.Errorf("get client %q: read generation: %w", id, err)
	}
	c, err := cs.get(ctx, id, gen)
	if watched && err == nil {
		cs.confirm(epoch, nil, 0)
	}
	return c, err
}

// GetWithLock is Get for a request that presents a client secret: it also
// returns when the failed-authentication lock on id or on addr ends (the
// zero time when neither is locked; see RecordClientFailure), read in the
// same statement as the generation, so that throttling costs the token
// endpoint no read of its own. An unknown client is client.ErrNotFound, with
// the address's lock all the same.
func (cs *Clients) GetWithLock(ctx context.Context, id, addr string) (*client.Client, time.Time, error) {
	// The watch is asked before the read: what the read then finds is at
	// least as new as the moment the watch vouched for, so it may be
	// trusted for as long as the watch stays in that epoch.
	epoch, watched := cs.db.watch.current()
	key := lockKey{id, addr}
	if watched {
		if c, until, ok := cs.cached(epoch, id, &key); ok {
			return c, lockTime(until), nil
		}
	}
	cs.reads.Add(1)
	var gen, until int64
	// Two primary-key lookups, not one lookup with OR: SQLite runs an OR
	// of two keys as a union through a temporary b-tree it builds on every
	// execution, which cost more than the rest of the read together
	// (docs/performance.md, "client_credentials, fixed").
	err := cs.db.read.QueryRowContext(ctx, `SELECT generation, max(
			coalesce((SELECT locked_until FROM inkpass_client_throttle WHERE scope = 'client' AND key = ?1), 0),
			coalesce((SELECT locked_until FROM inkpass_client_throttle WHERE scope = 'address' AND key = ?2), 0))
		FROM inkpass_client_generation WHERE id = 1`, id, addr).Scan(&gen, &until)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("get client %q: read generation: %w", id, err)
	}
	c, err := cs.get(ctx, id, gen)
	if watched && err == nil {
		cs.confirm(epoch, &key, until)
	}
	return c, lockTime(until), err
}

func lockTime(until int64) time.Time {
	if until > 0 {
		return time.Unix(until, 0)
	}
	return time.Time{}
}

// cached answers from the caches when they were confirmed in epoch and
// hold id (and, with key, its lock): a copy of the client and the lock.
func (cs *Clients) cached(epoch uint64, id string, key *lockKey) (*client.Client, int64, bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if !cs.freshOK || cs.fresh != epoch {
		return nil, 0, false
	}
	c, ok := cs.cache[id]
	if !ok {
		return nil, 0, false
	}
	var until int64
	if key != nil {
		if until, ok = cs.locks[*key]; !ok {
			return nil, 0, false
		}
	}
	cp := *c
	return &cp, until, true
}

// confirm records that the caches, just refilled by a read made after the
// watch vouched for epoch, are current in epoch, with key's lock until.
// Epochs only grow, so an older confirmation arriving late is dropped.
func (cs *Clients) confirm(epoch uint64, key *lockKey, until int64) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.freshOK && epoch < cs.fresh {
		return
	}
	if !cs.freshOK || epoch != cs.fresh || len(cs.locks) >= maxCachedLocks {
		clear(cs.locks)
		cs.fresh, cs.freshOK = epoch, true
	}
	if key != nil {
		cs.locks[*key] = until
	}
}

// get answers from the cache when it holds id at generation gen or later.
func (cs *Clients) get(ctx context.Context, id string, gen int64) (*client.Client, error) {
	cs.mu.Lock()
	if gen > cs.gen {
		// An entry of a newer generation than this request read is fine
		// to use; an older one is not.
		clear(cs.cache)
		cs.gen = gen
	}
	c, ok := cs.cache[id]
	cs.mu.Unlock()
	if ok {
		cp := *c
		return &cp, nil
	}
	c, err := cs.load(ctx, id)
	if err != nil {
		return nil, err
	}
	cs.mu.Lock()
	if gen == cs.gen {
		cs.cache[id] = c
	}
	cs.mu.Unlock()
	cp := *c
	return &cp, nil
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
	now := cs.db.now().Unix()
	return cs.db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		cs.db.markClientsChanged()
		_, err := tx.ExecContext(ctx, `INSERT INTO inkpass_clients (`+clientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.Name, c.SecretHash, c.Public, c.FirstParty, jsonList(c.RedirectURIs), jsonList(c.PostLogoutRedirectURIs),
			jsonList(c.GrantTypes), jsonList(c.Scopes), c.AuthMethod, c.Enabled, sourceOf(c), now, now, c.Introspect, c.AuthMethodPinned,
			c.BackchannelLogoutURI, string(c.IDTokenAlg), c.RequireMFA)
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

// Update rewrites every field of c, the secret hash included. Disabling a
// client revokes its tokens and codes in the same transaction: a disabled
// client is dead, and enabling it again does not bring them back.
func (cs *Clients) Update(ctx context.Context, c *client.Client) error {
	return cs.db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		cs.db.markClientsChanged()
		res, err := tx.ExecContext(ctx, `UPDATE inkpass_clients SET name = ?, secret_hash = ?, public = ?, first_party = ?,
			redirect_uris = ?, post_logout_redirect_uris = ?, grant_types = ?, scopes = ?, auth_method = ?, enabled = ?,
			source = ?, updated_at = ?, introspect = ?, auth_method_pinned = ?,
			backchannel_logout_uri = ?, id_token_alg = ?, require_mfa = ? WHERE id = ?`,
			c.Name, c.SecretHash, c.Public, c.FirstParty, jsonList(c.RedirectURIs), jsonList(c.PostLogoutRedirectURIs),
			jsonList(c.GrantTypes), jsonList(c.Scopes), c.AuthMethod, c.Enabled, sourceOf(c), cs.db.now().Unix(), c.Introspect, c.AuthMethodPinned,
			c.BackchannelLogoutURI, string(c.IDTokenAlg), c.RequireMFA, c.ID)
		if err != nil {
			return fmt.Errorf("update client %q: %w", c.ID, err)
		}
		if err := mustAffect(res, client.ErrNotFound); err != nil {
			return err
		}
		if !c.Enabled {
			return revokeClientTokens(ctx, tx, c.ID, cs.db.now().Unix())
		}
		return nil
	})
}

// HasUnsetIDTokenAlg reports whether a client registered before migration
// 0009 still has no ID-token algorithm (FillIDTokenAlg).
func (cs *Clients) HasUnsetIDTokenAlg(ctx context.Context) (bool, error) {
	var unset bool
	if err := cs.db.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM inkpass_clients WHERE id_token_alg = '')`).Scan(&unset); err != nil {
		return false, fmt.Errorf("check client ID-token algorithms: %w", err)
	}
	return unset, nil
}

// FillIDTokenAlg gives alg to every client that has no ID-token algorithm
// yet, and returns how many it changed. The caller passes the algorithm
// those clients' tokens were signed with until now.
func (cs *Clients) FillIDTokenAlg(ctx context.Context, alg string) (int64, error) {
	var n int64
	err := cs.db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		cs.db.markClientsChanged()
		res, err := tx.ExecContext(ctx, `UPDATE inkpass_clients SET id_token_alg = ? WHERE id_token_alg = ''`, alg)
		if err != nil {
			return fmt.Errorf("fill client ID-token algorithms: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// Remove deletes the client and revokes every token it holds, in one
// transaction. Clients are configuration, not audit records, so they are
// really deleted; their tokens stay as revoked rows.
func (cs *Clients) Remove(ctx context.Context, id string) error {
	return cs.db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		cs.db.markClientsChanged()
		res, err := tx.ExecContext(ctx, `DELETE FROM inkpass_clients WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("remove client %q: %w", id, err)
		}
		if err := mustAffect(res, client.ErrNotFound); err != nil {
			return err
		}
		return revokeClientTokens(ctx, tx, id, cs.db.now().Unix())
	})
}

// revokeClientTokens revokes every token and unredeemed code of a client,
// inside the caller's transaction. Token issuance checks the client in the
// transaction that stores a token (Tokens.Create), so nothing issued
// concurrently can outlive this.
func revokeClientTokens(ctx context.Context, tx *sql.Tx, id string, now int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE inkpass_tokens SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL`, now, id); err != nil {
		return fmt.Errorf("revoke tokens of client %q: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE inkpass_codes SET revoked_at = ? WHERE client_id = ? AND used_at IS NULL AND revoked_at IS NULL`, now, id); err != nil {
		return fmt.Errorf("revoke codes of client %q: %w", id, err)
	}
	return burnRedeemedCodes(ctx, tx, now, "client_id = ?", id)
}
