-- The studio console (issue 15): who made a change, when it was not the
-- person it is about ("admin:<username>"). Empty for every event before this
-- migration and for sign-ins, the CLI and inkpass itself. Adding a column
-- leaves the append-only triggers as they are.
ALTER TABLE inkpass_audit ADD COLUMN actor TEXT NOT NULL DEFAULT '';
