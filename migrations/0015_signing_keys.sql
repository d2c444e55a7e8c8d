-- Signing keys kept in the database (config keys.store: database), so that
-- several servers sharing it sign with the same keys; the default is still
-- the keys folder. private_key is the PKCS#8 key sealed with AES-256-GCM
-- under a key-encryption key that is never stored here (keys.kek_file), so a
-- copy of the database signs nothing. Times are RFC 3339 UTC text, as in the
-- folder's keys.json. A retired key leaves the JWKS at retired_at plus the
-- configured retention (derived, not stored: the retention follows the ID
-- token lifetime, which config may change).
CREATE TABLE inkpass_signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL CHECK (alg IN ('RS256', 'ES256', 'EdDSA')),
    private_key BLOB NOT NULL,
    created_at TEXT NOT NULL,
    retired_at TEXT
);

-- At most one active key per algorithm, whatever two servers do at once.
CREATE UNIQUE INDEX inkpass_signing_keys_active ON inkpass_signing_keys (alg) WHERE retired_at IS NULL;
