-- Introspection is for resource servers: a client may introspect other
-- clients' access tokens only when registered for it (RFC 7662 §4).
ALTER TABLE inkpass_clients ADD COLUMN introspect INTEGER NOT NULL DEFAULT 0;

-- A code voided by a revocation (logout, an app revoked, a deactivation, a
-- client removed) is revoked, not used: presenting it later is not a replay.
ALTER TABLE inkpass_codes ADD COLUMN revoked_at INTEGER;

-- One counter bumped by every change to inkpass_clients, in the same
-- transaction (the triggers below), whichever process made it. A server's
-- client cache is valid only while the counter it was filled at is current,
-- so `inkpass client remove` or `update --disabled` in another process takes
-- effect at the next request.
CREATE TABLE inkpass_client_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT INTO inkpass_client_generation (id, generation) VALUES (1, 0);
CREATE TRIGGER inkpass_clients_generation_insert AFTER INSERT ON inkpass_clients
BEGIN UPDATE inkpass_client_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER inkpass_clients_generation_update AFTER UPDATE ON inkpass_clients
BEGIN UPDATE inkpass_client_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER inkpass_clients_generation_delete AFTER DELETE ON inkpass_clients
BEGIN UPDATE inkpass_client_generation SET generation = generation + 1 WHERE id = 1; END;

-- Failed client authentications at /token, /revoke and /introspect, per
-- client_id and per client address: the login throttle's bookkeeping, for
-- client secrets.
CREATE TABLE inkpass_client_throttle (
    scope TEXT NOT NULL CHECK (scope IN ('client', 'address')),
    key TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    last_failure_at INTEGER NOT NULL,   -- unix seconds
    locked_until INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;
