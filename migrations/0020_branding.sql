-- The studio's look, as an admin overrides it from the console (issue 15).
-- One settings row (id 1, made here) whose empty fields mean "the config
-- file's default", and at most one logo. version is bumped by every change:
-- a running inkpass compares it to decide whether its cached copy is stale
-- (another process changed it); logo_version is the logo URL's ?v=.
CREATE TABLE inkpass_branding (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    name            TEXT    NOT NULL DEFAULT '',
    accent_color    TEXT    NOT NULL DEFAULT '',
    support_contact TEXT    NOT NULL DEFAULT '',
    version         INTEGER NOT NULL DEFAULT 0,
    logo_version    INTEGER NOT NULL DEFAULT 0,
    updated_at      INTEGER,
    updated_by      TEXT    NOT NULL DEFAULT ''
);
INSERT INTO inkpass_branding (id) VALUES (1);

-- The uploaded logo, checked by internal/branding (PNG, JPEG or WebP, at
-- most 256 KiB) before it gets here; served with content_type as stored.
CREATE TABLE inkpass_branding_logo (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    content_type TEXT    NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp')),
    data         BLOB    NOT NULL CHECK (length(data) <= 262144),
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    version      INTEGER NOT NULL
);
