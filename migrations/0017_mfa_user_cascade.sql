-- A user's second factors and recovery codes go with the user's row, as the
-- user's sessions, tokens and verifications do (0009, 0013): the studio's app
-- may delete a users row, and SQLite gives the highest id to the next user
-- again, who would otherwise inherit the deleted user's authenticator app,
-- passkeys and recovery codes. SQLite cannot add a foreign key in place, so
-- both tables are rebuilt; rows of users already gone are not copied (they
-- are exactly the rows a new user would inherit). ON DELETE CASCADE, so that
-- these tables never block the studio's app from deleting a user row.
CREATE TABLE inkpass_mfa_factors_new (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    secret       BLOB    NOT NULL,
    confirmed    INTEGER NOT NULL DEFAULT 0,
    last_step    INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);
INSERT INTO inkpass_mfa_factors_new (id, user_id, kind, name, secret, confirmed, last_step, created_at, last_used_at)
    SELECT id, user_id, kind, name, secret, confirmed, last_step, created_at, last_used_at
    FROM inkpass_mfa_factors WHERE user_id IN (SELECT id FROM users);
DROP TABLE inkpass_mfa_factors;
ALTER TABLE inkpass_mfa_factors_new RENAME TO inkpass_mfa_factors;
CREATE INDEX ix_inkpass_mfa_factors_user ON inkpass_mfa_factors(user_id);

CREATE TABLE inkpass_mfa_recovery_codes_new (
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash  BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (user_id, code_hash)
);
INSERT INTO inkpass_mfa_recovery_codes_new (user_id, code_hash, created_at, used_at)
    SELECT user_id, code_hash, created_at, used_at
    FROM inkpass_mfa_recovery_codes WHERE user_id IN (SELECT id FROM users);
DROP TABLE inkpass_mfa_recovery_codes;
ALTER TABLE inkpass_mfa_recovery_codes_new RENAME TO inkpass_mfa_recovery_codes;
