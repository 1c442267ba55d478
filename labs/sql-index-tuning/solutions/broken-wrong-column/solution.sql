-- An index on the ORDER BY column only: the planner may walk it backwards, but it still reads
-- rows of every account to find 20 of account 42.
CREATE INDEX events_created_at_idx ON events (created_at);
