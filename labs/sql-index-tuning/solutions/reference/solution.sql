-- The target query filters on account_id and reads the newest rows first: an index on
-- (account_id, created_at) finds the account's rows already in order, so no sort is needed and
-- the scan stops after 20 rows.
CREATE INDEX events_account_id_created_at_idx ON events (account_id, created_at);
