-- A grant's user is a users(id), not go-oauth2's string: user_id becomes an
-- INTEGER with a foreign key to users(id) in inkpass_codes and
-- inkpass_tokens (NULL in inkpass_tokens for client_credentials, which has
-- no user; it was ''). inkpass never deletes users; if the studio's app
-- does, with foreign keys on, the user's codes and tokens go with it.
--
-- SQLite cannot change a column's type: each table is rebuilt (create, copy
-- with CAST, drop, rename) inside the migration transaction. Foreign key
-- enforcement cannot be switched off in a transaction, and need not be:
-- no table references these two, and rows whose user no longer exists are
-- dead (their user is gone) and are not copied. Column order is kept.

CREATE TABLE inkpass_codes_new (
    code_hash BLOB PRIMARY KEY,
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    code_challenge TEXT NOT NULL DEFAULT '',
    code_challenge_method TEXT NOT NULL DEFAULT '',
    extension TEXT NOT NULL DEFAULT '',
    access_ttl INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    sid TEXT NOT NULL DEFAULT '',
    revoked_at INTEGER
);
INSERT INTO inkpass_codes_new (code_hash, grant_id, client_id, user_id, redirect_uri, scope, code_challenge,
        code_challenge_method, extension, access_ttl, created_at, expires_at, used_at, sid, revoked_at)
    SELECT code_hash, grant_id, client_id, CAST(user_id AS INTEGER), redirect_uri, scope, code_challenge,
        code_challenge_method, extension, access_ttl, created_at, expires_at, used_at, sid, revoked_at
    FROM inkpass_codes WHERE CAST(user_id AS INTEGER) IN (SELECT id FROM users);
DROP TABLE inkpass_codes;
ALTER TABLE inkpass_codes_new RENAME TO inkpass_codes;
CREATE INDEX ix_inkpass_codes_sid ON inkpass_codes(sid);
CREATE INDEX ix_inkpass_codes_user ON inkpass_codes(user_id, client_id);

CREATE TABLE inkpass_tokens_new (
    id INTEGER PRIMARY KEY,
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id INTEGER REFERENCES users(id) ON DELETE CASCADE, -- NULL for client_credentials
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
INSERT INTO inkpass_tokens_new (id, grant_id, client_id, user_id, sid, scope, redirect_uri, extension,
        access_hash, access_created_at, access_expires_at, refresh_hash, refresh_created_at, refresh_expires_at,
        access_revoked_at, refresh_rotated_at, revoked_at)
    SELECT id, grant_id, client_id, CASE WHEN user_id = '' THEN NULL ELSE CAST(user_id AS INTEGER) END, sid, scope, redirect_uri, extension,
        access_hash, access_created_at, access_expires_at, refresh_hash, refresh_created_at, refresh_expires_at,
        access_revoked_at, refresh_rotated_at, revoked_at
    FROM inkpass_tokens WHERE user_id = '' OR CAST(user_id AS INTEGER) IN (SELECT id FROM users);
DROP TABLE inkpass_tokens;
ALTER TABLE inkpass_tokens_new RENAME TO inkpass_tokens;
CREATE INDEX ix_inkpass_tokens_grant ON inkpass_tokens(grant_id);
CREATE INDEX ix_inkpass_tokens_user ON inkpass_tokens(user_id, client_id);
