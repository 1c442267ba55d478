-- One index per column, just in case: every insert now updates five indexes.
CREATE INDEX events_account_id_idx ON events (account_id);
CREATE INDEX events_kind_idx ON events (kind);
CREATE INDEX events_created_at_idx ON events (created_at);
CREATE INDEX events_payload_idx ON events (payload);
