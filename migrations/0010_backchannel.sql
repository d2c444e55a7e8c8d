-- OpenID Connect Back-Channel Logout 1.0. A client may register a
-- backchannel_logout_uri; when a browser session ends, every such client that
-- took part in it is sent a signed logout token.
ALTER TABLE inkpass_clients ADD COLUMN backchannel_logout_uri TEXT NOT NULL DEFAULT '';

-- Which clients took part in which session: a code was issued to the client
-- under that sid. Codes and tokens are pruned long before a session ends, so
-- they cannot answer this later. The rows go with their session.
CREATE TABLE inkpass_session_clients (
    sid TEXT NOT NULL REFERENCES inkpass_sessions(sid) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    PRIMARY KEY (sid, client_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO inkpass_session_clients (sid, client_id)
    SELECT x.sid, x.client_id FROM (
        SELECT sid, client_id FROM inkpass_codes UNION SELECT sid, client_id FROM inkpass_tokens
    ) x JOIN inkpass_sessions s ON s.sid = x.sid;

-- Logout notices still to deliver, written in the transaction that ends the
-- session (whichever process ends it: the server, `inkpass user deactivate`,
-- a password change), and drained by the server. The token itself is signed
-- at delivery and never stored.
CREATE TABLE inkpass_backchannel_outbox (
    id INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL,
    sid TEXT NOT NULL,
    subject TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL
);
CREATE INDEX ix_inkpass_backchannel_outbox_due ON inkpass_backchannel_outbox(next_attempt_at);
