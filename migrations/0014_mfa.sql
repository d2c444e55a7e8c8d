-- Second factors (issue 14). A factor is one authenticator of a user: kind
-- 'totp' now (RFC 6238 authenticator apps); WebAuthn credentials are to be
-- another kind in this same table, their own data in secret. secret holds the
-- TOTP key sealed with AES-GCM under a key that is not in the database
-- (keys/mfa.key). A factor is usable once confirmed (the user typed a code
-- from it); last_step is the last RFC 6238 time step accepted, so a code is
-- used once.
CREATE TABLE inkpass_mfa_factors (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    secret       BLOB    NOT NULL,
    confirmed    INTEGER NOT NULL DEFAULT 0,
    last_step    INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX ix_inkpass_mfa_factors_user ON inkpass_mfa_factors(user_id);

-- Recovery codes: ten per user, single use, stored only as SHA-256 of the
-- code (80 random bits each, so no password KDF is needed).
CREATE TABLE inkpass_mfa_recovery_codes (
    user_id    INTEGER NOT NULL,
    code_hash  BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (user_id, code_hash)
);

-- What the password step proved while the second factor is still to come:
-- "the password of user_id was verified at password_at" for one browser
-- (hash of the inkpass_browser cookie) and one pending request (hash of its
-- id; the hash of "" for a sign-in at inkpass itself). Short-lived; the
-- second factor's page consumes it.
CREATE TABLE inkpass_mfa_pending (
    browser_hash BLOB    NOT NULL,
    req_hash     BLOB    NOT NULL,
    user_id      INTEGER NOT NULL,
    password_at  INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (browser_hash, req_hash)
);

-- A client registered to require a second factor on every sign-in.
ALTER TABLE inkpass_clients ADD COLUMN require_mfa INTEGER NOT NULL DEFAULT 0;

-- The second factor's code throttle is a scope of the login throttle
-- ('totp', keyed by user id): the table is rebuilt to allow it, its rows
-- kept (SQLite cannot change a CHECK in place).
CREATE TABLE inkpass_login_throttle_new (
    scope TEXT NOT NULL CHECK (scope IN ('username', 'address', 'totp')),
    key TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    last_failure_at INTEGER NOT NULL,   -- unix seconds
    locked_until INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;
INSERT INTO inkpass_login_throttle_new (scope, key, failures, last_failure_at, locked_until)
    SELECT scope, key, failures, last_failure_at, locked_until FROM inkpass_login_throttle;
DROP TABLE inkpass_login_throttle;
ALTER TABLE inkpass_login_throttle_new RENAME TO inkpass_login_throttle;

-- Devices where a user chose to skip the second factor for a while
-- (mfa.remember_device, off by default): the SHA-256 of the device cookie,
-- bound to one user, until expires_at. Every change of the user's factors
-- deletes them.
CREATE TABLE inkpass_mfa_devices (
    token_hash BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX ix_inkpass_mfa_devices_user ON inkpass_mfa_devices(user_id);
