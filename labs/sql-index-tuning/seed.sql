-- 100 000 events for sql-index-tuning, loaded into the student's database as the student's role.
-- Idempotent: it creates the table only when it is missing, replaces the rows (the same rows every
-- time: no random()) and refreshes the planner's statistics.
CREATE TABLE IF NOT EXISTS events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id integer NOT NULL,
    kind       text NOT NULL,
    created_at timestamptz NOT NULL,
    payload    text NOT NULL
);

TRUNCATE events RESTART IDENTITY;
INSERT INTO events (account_id, kind, created_at, payload)
SELECT (g * 7919) % 1000 + 1,
       (ARRAY['login', 'view', 'click', 'purchase'])[g % 4 + 1],
       timestamptz '2026-01-01 00:00+00' + g * interval '30 seconds',
       md5(g::text)
FROM generate_series(1, 100000) AS g;
ANALYZE events;
