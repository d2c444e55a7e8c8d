-- Single-use links (SQLite migration 0021): only a hash of each is stored.
CREATE TABLE inkpass_user_links (
    id         BIGSERIAL PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('invitation', 'password_reset', 'email_verification')),
    hash       BYTEA   NOT NULL UNIQUE,
    bound      BYTEA   NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    issued_by  TEXT    NOT NULL,
    used_at    BIGINT
);
CREATE INDEX ix_inkpass_user_links_user ON inkpass_user_links(user_id, purpose);
