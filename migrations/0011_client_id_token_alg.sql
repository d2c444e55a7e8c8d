-- Each client's ID tokens are signed with its own algorithm
-- (id_token_signed_response_alg, OpenID Connect Registration §2): RS256 unless
-- an admin chose ES256 or EdDSA, so rotating one algorithm's key never changes
-- what another client receives. '' marks a client registered before this
-- migration: the next command that opens the clients fills in the algorithm
-- of the key that was signing its tokens (one key signed for every client),
-- so upgrading changes nothing a relying party receives.
ALTER TABLE inkpass_clients ADD COLUMN id_token_alg TEXT NOT NULL DEFAULT '';
