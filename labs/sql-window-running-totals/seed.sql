-- Bank transactions for sql-window-running-totals, loaded into the student's database as the
-- student's role. Idempotent: it creates the table only when it is missing and replaces the rows.
CREATE TABLE IF NOT EXISTS transactions (
    id         integer PRIMARY KEY,
    account_id integer NOT NULL,
    amount     numeric(12, 2) NOT NULL CHECK (amount <> 0),
    booked_at  timestamptz NOT NULL
);

DELETE FROM transactions;
INSERT INTO transactions (id, account_id, amount, booked_at) VALUES
    (1, 100, 500.00, '2026-01-01 09:00+00'),
    (2, 200, 1200.00, '2026-01-01 10:00+00'),
    (3, 100, -120.50, '2026-01-02 12:30+00'),
    (4, 100, -35.00, '2026-01-03 08:15+00'),
    (5, 200, -400.00, '2026-01-03 18:00+00'),
    (6, 100, 250.00, '2026-01-05 09:00+00'),
    (7, 200, -99.99, '2026-01-06 11:11+00');
