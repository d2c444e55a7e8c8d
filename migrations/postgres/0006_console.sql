-- Who acted (SQLite migration 0022): the admin behind a console change.
ALTER TABLE inkpass_audit ADD COLUMN actor TEXT NOT NULL DEFAULT '';
