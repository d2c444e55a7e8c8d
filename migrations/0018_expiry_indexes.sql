-- The short-lived second-factor tables are swept on every write to them
-- (DELETE ... WHERE expires_at <= now). With passkeys on, every view of the
-- login page writes a ceremony row, so that sweep sits on a path anyone can
-- reach: an index keeps it from scanning the table.
CREATE INDEX ix_inkpass_webauthn_ceremonies_expires ON inkpass_webauthn_ceremonies(expires_at);
CREATE INDEX ix_inkpass_mfa_pending_expires ON inkpass_mfa_pending(expires_at);
CREATE INDEX ix_inkpass_mfa_devices_expires ON inkpass_mfa_devices(expires_at);
