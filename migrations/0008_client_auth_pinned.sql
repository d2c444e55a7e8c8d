-- A confidential client accepts client_secret_basic and client_secret_post,
-- both advertised in discovery, unless an admin pinned one method (inkpass
-- client add/update --auth-method, or auth_method in config.yaml). Rows from
-- before this migration cannot say whether their method was chosen or the
-- default; client_secret_post was never the default, so it was chosen and
-- stays pinned. client_secret_basic rows become unpinned (config clients are
-- re-synced at the next start with their real choice).
ALTER TABLE inkpass_clients ADD COLUMN auth_method_pinned INTEGER NOT NULL DEFAULT 0;
UPDATE inkpass_clients SET auth_method_pinned = 1 WHERE auth_method = 'client_secret_post';
