-- inkpass's own tables on PostgreSQL: the state SQLite reaches after its
-- migrations 0002-0018, in one step. Types follow the SQLite tables so that
-- one set of queries serves both: unix seconds and 0/1 flags as BIGINT and
-- INTEGER, hashes and sealed keys as BYTEA, JSON lists as TEXT. The two
-- tables whose SQLite queries order by SQLite's implicit rowid get a rowid
-- column of their own.

CREATE TABLE inkpass_login_throttle (
    scope TEXT NOT NULL CHECK (scope IN ('username', 'address', 'totp')),
    key TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    last_failure_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, key)
);

CREATE TABLE inkpass_clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash BYTEA,
    public INTEGER NOT NULL DEFAULT 0,
    first_party INTEGER NOT NULL DEFAULT 0,
    redirect_uris TEXT NOT NULL DEFAULT '[]',
    post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',
    grant_types TEXT NOT NULL DEFAULT '[]',
    scopes TEXT NOT NULL DEFAULT '[]',
    auth_method TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    source TEXT NOT NULL DEFAULT 'cli' CHECK (source IN ('cli', 'config')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    introspect INTEGER NOT NULL DEFAULT 0,
    auth_method_pinned INTEGER NOT NULL DEFAULT 0,
    backchannel_logout_uri TEXT NOT NULL DEFAULT '',
    id_token_alg TEXT NOT NULL DEFAULT '',
    require_mfa INTEGER NOT NULL DEFAULT 0
);

-- Every change to inkpass_clients bumps the generation, so that each
-- server's client cache sees a change made through any other at once.
CREATE TABLE inkpass_client_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO inkpass_client_generation (id, generation) VALUES (1, 0);
CREATE FUNCTION inkpass_clients_bump_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE inkpass_client_generation SET generation = generation + 1 WHERE id = 1;
    RETURN NULL;
END $$;
CREATE TRIGGER inkpass_clients_generation AFTER INSERT OR UPDATE OR DELETE ON inkpass_clients
    FOR EACH STATEMENT EXECUTE FUNCTION inkpass_clients_bump_generation();

CREATE TABLE inkpass_client_throttle (
    scope TEXT NOT NULL CHECK (scope IN ('client', 'address')),
    key TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    last_failure_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, key)
);

CREATE TABLE inkpass_sessions (
    id BIGSERIAL PRIMARY KEY,
    token_hash BYTEA NOT NULL UNIQUE,
    sid TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users(id),
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    amr TEXT NOT NULL DEFAULT 'pwd'
);
CREATE INDEX ix_inkpass_sessions_user ON inkpass_sessions(user_id);

CREATE TABLE inkpass_auth_requests (
    rowid BIGSERIAL UNIQUE,
    id_hash BYTEA PRIMARY KEY,
    browser_hash BYTEA NOT NULL,
    data TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    login_sid TEXT
);
CREATE INDEX ix_inkpass_auth_requests_browser ON inkpass_auth_requests(browser_hash);

CREATE TABLE inkpass_codes (
    rowid BIGSERIAL UNIQUE,
    code_hash BYTEA PRIMARY KEY,
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    code_challenge TEXT NOT NULL DEFAULT '',
    code_challenge_method TEXT NOT NULL DEFAULT '',
    extension TEXT NOT NULL DEFAULT '',
    access_ttl BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    sid TEXT NOT NULL DEFAULT '',
    revoked_at BIGINT
);
CREATE INDEX ix_inkpass_codes_sid ON inkpass_codes(sid);
CREATE INDEX ix_inkpass_codes_user ON inkpass_codes(user_id, client_id);

CREATE TABLE inkpass_tokens (
    id BIGSERIAL PRIMARY KEY,
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id INTEGER REFERENCES users(id) ON DELETE CASCADE, -- NULL for client_credentials
    sid TEXT NOT NULL DEFAULT '',
    scope TEXT NOT NULL,
    redirect_uri TEXT NOT NULL DEFAULT '',
    extension TEXT NOT NULL DEFAULT '',
    access_hash BYTEA NOT NULL UNIQUE,
    access_created_at BIGINT NOT NULL,
    access_expires_at BIGINT NOT NULL,
    refresh_hash BYTEA UNIQUE,
    refresh_created_at BIGINT,
    refresh_expires_at BIGINT,
    access_revoked_at BIGINT,
    refresh_rotated_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX ix_inkpass_tokens_grant ON inkpass_tokens(grant_id);
CREATE INDEX ix_inkpass_tokens_user ON inkpass_tokens(user_id, client_id);

CREATE TABLE inkpass_revoked_grants (
    grant_id TEXT PRIMARY KEY,
    revoked_at BIGINT NOT NULL,
    reason TEXT NOT NULL
);

CREATE TABLE inkpass_consents (
    user_id INTEGER NOT NULL REFERENCES users(id),
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

CREATE TABLE inkpass_audit (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    user_id INTEGER,
    username TEXT NOT NULL DEFAULT '',
    client_id TEXT NOT NULL DEFAULT '',
    addr TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ix_inkpass_audit_at ON inkpass_audit(at);
CREATE INDEX ix_inkpass_audit_user ON inkpass_audit(user_id, at);
CREATE FUNCTION inkpass_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END $$;
CREATE TRIGGER inkpass_audit_no_change BEFORE UPDATE OR DELETE ON inkpass_audit
    FOR EACH ROW EXECUTE FUNCTION inkpass_audit_append_only();

CREATE TABLE inkpass_user_verifications (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('email', 'phone')),
    value TEXT NOT NULL,
    verified_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, kind)
);

CREATE TABLE inkpass_session_clients (
    sid TEXT NOT NULL REFERENCES inkpass_sessions(sid) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    PRIMARY KEY (sid, client_id)
);

CREATE TABLE inkpass_backchannel_outbox (
    id BIGSERIAL PRIMARY KEY,
    client_id TEXT NOT NULL,
    sid TEXT NOT NULL,
    subject TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL
);
CREATE INDEX ix_inkpass_backchannel_outbox_due ON inkpass_backchannel_outbox(next_attempt_at);

CREATE TABLE inkpass_mfa_pending (
    browser_hash BYTEA NOT NULL,
    req_hash BYTEA NOT NULL,
    user_id INTEGER NOT NULL,
    password_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (browser_hash, req_hash)
);
CREATE INDEX ix_inkpass_mfa_pending_expires ON inkpass_mfa_pending(expires_at);

CREATE TABLE inkpass_mfa_devices (
    token_hash BYTEA PRIMARY KEY,
    user_id INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX ix_inkpass_mfa_devices_user ON inkpass_mfa_devices(user_id);
CREATE INDEX ix_inkpass_mfa_devices_expires ON inkpass_mfa_devices(expires_at);

CREATE TABLE inkpass_mfa_factors (
    id BIGSERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    secret BYTEA NOT NULL,
    confirmed INTEGER NOT NULL DEFAULT 0,
    last_step BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX ix_inkpass_mfa_factors_user ON inkpass_mfa_factors(user_id);

CREATE TABLE inkpass_mfa_recovery_codes (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE inkpass_signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL CHECK (alg IN ('RS256', 'ES256', 'EdDSA')),
    private_key BYTEA NOT NULL,
    created_at TEXT NOT NULL,
    retired_at TEXT
);
CREATE UNIQUE INDEX inkpass_signing_keys_active ON inkpass_signing_keys (alg) WHERE retired_at IS NULL;

CREATE TABLE inkpass_webauthn_ceremonies (
    browser_hash BYTEA NOT NULL,
    purpose_hash BYTEA NOT NULL,
    user_id INTEGER NOT NULL,
    data BYTEA NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (browser_hash, purpose_hash)
);
CREATE INDEX ix_inkpass_webauthn_ceremonies_expires ON inkpass_webauthn_ceremonies(expires_at);
