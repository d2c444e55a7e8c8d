-- A pending authorization request remembers the browser session that
-- satisfied its login step (prompt, max_age, id_token_hint): /consent answers
-- a request only for that session, so no URL edit skips the login. NULL until
-- the login step is done. The browser index serves the cap on how many
-- pending requests one browser may hold.
ALTER TABLE inkpass_auth_requests ADD COLUMN login_sid TEXT;
CREATE INDEX ix_inkpass_auth_requests_browser ON inkpass_auth_requests(browser_hash);
