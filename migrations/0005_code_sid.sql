-- Codes remember the browser session they were issued under, so that signing
-- out also voids a code that was issued but not yet redeemed.
ALTER TABLE inkpass_codes ADD COLUMN sid TEXT NOT NULL DEFAULT '';
CREATE INDEX ix_inkpass_codes_sid ON inkpass_codes(sid);
