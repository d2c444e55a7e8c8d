-- The studio's documented schema (SCHEMA.md), column for column and index for
-- index, so that inkpass can adopt the studio app's database in place. The
-- artists table is the minimal one SCHEMA.md asks for on a fresh database; an
-- adopted database keeps its own.
CREATE TABLE artists (
    id INTEGER PRIMARY KEY,
    name VARCHAR(120) NOT NULL,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,

    -- Authentication
    username VARCHAR(64) NOT NULL UNIQUE,
    password_hash VARCHAR(255) NOT NULL,

    -- Authorization
    role VARCHAR(16) NOT NULL,
    artist_id INTEGER,
    is_active BOOLEAN NOT NULL DEFAULT 1,

    -- Personal Information
    name VARCHAR(120),
    birthdate DATE,
    email VARCHAR(120),
    phone VARCHAR(32),
    instagram VARCHAR(64),

    -- Metadata
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_login DATETIME,

    FOREIGN KEY (artist_id) REFERENCES artists(id)
);

CREATE UNIQUE INDEX ix_users_username ON users(username);
CREATE INDEX ix_users_role ON users(role);
CREATE INDEX ix_users_email ON users(email);
CREATE INDEX ix_users_instagram ON users(instagram);
