-- The email outbox (SQLite migration 0020); rows are claimed with a lease,
-- so replicas send each message once.
CREATE TABLE inkpass_mail_outbox (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    claimed_until BIGINT NOT NULL DEFAULT 0,
    claim TEXT NOT NULL DEFAULT '',
    last_error TEXT NOT NULL DEFAULT '',
    done_at BIGINT
);
CREATE INDEX ix_inkpass_mail_outbox_due ON inkpass_mail_outbox(next_attempt_at) WHERE status = 'queued';
CREATE INDEX ix_inkpass_mail_outbox_done ON inkpass_mail_outbox(done_at) WHERE done_at IS NOT NULL;
