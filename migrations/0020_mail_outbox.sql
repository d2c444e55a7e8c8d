-- inkpass's own email (invitations, password resets, email verification):
-- pages queue a message here in one insert and never wait for the mail
-- server; a worker in `inkpass serve` delivers it with retries
-- (internal/mail).
--
-- A worker claims a row by setting claimed_until (a lease) and claim (its
-- own random token) in one UPDATE on rows whose lease has passed, so several
-- servers on one database send each message once; it settles the row only
-- while the claim is still its own. Once a message is sent or given up its
-- bodies are blanked (they carry single-use links) and the row is kept a
-- while as a record of what was sent, then pruned.
CREATE TABLE inkpass_mail_outbox (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL DEFAULT '',
    -- queued, sent or failed.
    status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    claimed_until INTEGER NOT NULL DEFAULT 0,
    claim TEXT NOT NULL DEFAULT '',
    -- The last failure's reason in words (an SMTP reply), never a body.
    last_error TEXT NOT NULL DEFAULT '',
    -- When it was sent or given up.
    done_at INTEGER
);
CREATE INDEX ix_inkpass_mail_outbox_due ON inkpass_mail_outbox(next_attempt_at) WHERE status = 'queued';
CREATE INDEX ix_inkpass_mail_outbox_done ON inkpass_mail_outbox(done_at) WHERE done_at IS NOT NULL;
