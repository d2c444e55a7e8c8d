-- The studio's look (SQLite migration 0019): one settings row, one logo.
CREATE TABLE inkpass_branding (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    name            TEXT    NOT NULL DEFAULT '',
    accent_color    TEXT    NOT NULL DEFAULT '',
    support_contact TEXT    NOT NULL DEFAULT '',
    version         BIGINT  NOT NULL DEFAULT 0,
    logo_version    BIGINT  NOT NULL DEFAULT 0,
    updated_at      BIGINT,
    updated_by      TEXT    NOT NULL DEFAULT ''
);
INSERT INTO inkpass_branding (id) VALUES (1);

CREATE TABLE inkpass_branding_logo (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    content_type TEXT    NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp')),
    data         BYTEA   NOT NULL CHECK (octet_length(data) <= 262144),
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    version      BIGINT  NOT NULL
);
