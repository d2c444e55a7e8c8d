-- Consent a user gave a third-party client, per scope set: a later request for
-- more scopes asks again.
CREATE TABLE inkpass_consents (
    user_id INTEGER NOT NULL REFERENCES users(id),
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
) WITHOUT ROWID;

-- The security audit trail. Append-only, enforced by the database itself; it
-- never holds a password, code, token, secret or cookie value.
CREATE TABLE inkpass_audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    user_id INTEGER,
    username TEXT NOT NULL DEFAULT '',
    client_id TEXT NOT NULL DEFAULT '',
    addr TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ix_inkpass_audit_at ON inkpass_audit(at);
CREATE INDEX ix_inkpass_audit_user ON inkpass_audit(user_id, at);
CREATE TRIGGER inkpass_audit_no_update BEFORE UPDATE ON inkpass_audit
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER inkpass_audit_no_delete BEFORE DELETE ON inkpass_audit
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
