-- Everything inkpass owns for OpenID Connect. Codes, tokens and session cookies
-- are stored only as SHA-256 hashes and client secrets only as keyed hashes: a
-- copy of this file lets nobody in. Times are unix seconds.

CREATE TABLE inkpass_clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash BLOB,
    public INTEGER NOT NULL DEFAULT 0,
    first_party INTEGER NOT NULL DEFAULT 0,
    redirect_uris TEXT NOT NULL DEFAULT '[]',             -- JSON array
    post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]', -- JSON array
    grant_types TEXT NOT NULL DEFAULT '[]',               -- JSON array
    scopes TEXT NOT NULL DEFAULT '[]',                    -- JSON array
    auth_method TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    source TEXT NOT NULL DEFAULT 'cli' CHECK (source IN ('cli', 'config')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- A browser's sign-in. sid is the public id carried in ID tokens; the cookie
-- value is known only by its hash.
CREATE TABLE inkpass_sessions (
    id INTEGER PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    sid TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users(id),
    auth_time INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX ix_inkpass_sessions_user ON inkpass_sessions(user_id);

-- An authorization request waiting for the user to sign in, kept server-side
-- so that nobody can edit it in a hidden field. Bound to the browser that made it.
CREATE TABLE inkpass_auth_requests (
    id_hash BLOB PRIMARY KEY,
    browser_hash BLOB NOT NULL,
    data TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE inkpass_codes (
    code_hash BLOB PRIMARY KEY,
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    code_challenge TEXT NOT NULL DEFAULT '',
    code_challenge_method TEXT NOT NULL DEFAULT '',
    extension TEXT NOT NULL DEFAULT '',
    access_ttl INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);

-- One row per issuance: an access token and, optionally, a refresh token.
-- Rows of one grant (a code exchange and every refresh after it) share
-- grant_id, so a replayed code or a reused refresh token revokes them all.
CREATE TABLE inkpass_tokens (
    id INTEGER PRIMARY KEY,
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,          -- '' for client_credentials
    sid TEXT NOT NULL DEFAULT '',
    scope TEXT NOT NULL,
    redirect_uri TEXT NOT NULL DEFAULT '',
    extension TEXT NOT NULL DEFAULT '',
    access_hash BLOB NOT NULL UNIQUE,
    access_created_at INTEGER NOT NULL,
    access_expires_at INTEGER NOT NULL,
    refresh_hash BLOB UNIQUE,
    refresh_created_at INTEGER,
    refresh_expires_at INTEGER,
    access_revoked_at INTEGER,
    refresh_rotated_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX ix_inkpass_tokens_grant ON inkpass_tokens(grant_id);
CREATE INDEX ix_inkpass_tokens_user ON inkpass_tokens(user_id, client_id);

-- Grants burned by a replayed code or a reused refresh token: no new token may
-- join them, even one whose exchange was still in flight.
CREATE TABLE inkpass_revoked_grants (
    grant_id TEXT PRIMARY KEY,
    revoked_at INTEGER NOT NULL,
    reason TEXT NOT NULL
) WITHOUT ROWID;
