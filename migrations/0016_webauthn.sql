-- Passkeys and security keys (WebAuthn) as a second factor (issue 14). A
-- passkey is a factor of kind 'webauthn' in inkpass_mfa_factors: its secret
-- column holds the credential record (credential id, public key, sign
-- counter, AAGUID, transports, flags) as JSON, public data, written back
-- with the new sign counter after each use by a compare-and-swap on the old
-- value. Nothing to alter there.

-- A WebAuthn ceremony in progress: the challenge and what the library must
-- check the answer against, kept server-side for one browser (hash of the
-- inkpass_browser cookie), one purpose (hash of "enrol" or of the pending
-- request's id) and one user, until expires_at. Taken (deleted) when the
-- answer comes, so a challenge is used once.
CREATE TABLE inkpass_webauthn_ceremonies (
    browser_hash BLOB    NOT NULL,
    purpose_hash BLOB    NOT NULL,
    user_id      INTEGER NOT NULL,
    data         BLOB    NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (browser_hash, purpose_hash)
);
