-- Failed-login bookkeeping, per username and per client address, kept in the
-- database so that restarting the server does not hand an attacker a fresh set
-- of guesses.
CREATE TABLE inkpass_login_throttle (
    scope TEXT NOT NULL CHECK (scope IN ('username', 'address')),
    key TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    last_failure_at INTEGER NOT NULL,   -- unix seconds
    locked_until INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;
