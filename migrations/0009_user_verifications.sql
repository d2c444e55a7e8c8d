-- Which emails and phone numbers an admin has verified (inkpass user verify),
-- behind the email_verified and phone_number_verified claims. The studio's
-- users table is never altered, so the record lives here and holds the exact
-- value verified: once users.email or users.phone holds another value
-- (changed by inkpass or by the studio's app), the user reads as unverified
-- until an admin verifies the new one. One row per user and kind; ON DELETE
-- CASCADE so that this table never blocks the studio's app from deleting a
-- user row.
CREATE TABLE inkpass_user_verifications (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('email', 'phone')),
    value TEXT NOT NULL,
    verified_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind)
) WITHOUT ROWID;
