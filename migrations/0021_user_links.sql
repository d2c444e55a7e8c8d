-- Single-use links an admin or the person asks for: an invitation (set a
-- first password), a password reset, an email verification
-- (internal/userlink). Only the SHA-256 of the random token is stored, so a
-- copy of the database opens no account. bound is the SHA-256 of what the
-- link was issued against (the password hash for an invitation or a reset,
-- the email for a verification): once that changes, by inkpass or by the
-- studio's app, the link is dead. A link is consumed by one conditional
-- UPDATE (used_at IS NULL AND expires_at > now), so two uses race to one
-- winner; issuing a new link of a purpose marks the older ones used. ON
-- DELETE CASCADE, so that this table never blocks the studio's app from
-- deleting a user row.
CREATE TABLE inkpass_user_links (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('invitation', 'password_reset', 'email_verification')),
    hash       BLOB    NOT NULL UNIQUE,
    bound      BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    issued_by  TEXT    NOT NULL,
    used_at    INTEGER
);
CREATE INDEX ix_inkpass_user_links_user ON inkpass_user_links(user_id, purpose);
