-- The authentication methods (RFC 8176 amr values, space-separated) a browser
-- session was signed in with: the ID token's amr comes from here, not from a
-- constant. Every session before this migration was a password sign-in, so
-- existing rows are truthfully "pwd".
ALTER TABLE inkpass_sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
