-- The shop's data for sql-aggregation, loaded into the student's database as the student's role.
-- Idempotent: it creates the tables only when they are missing and replaces the sample rows.
CREATE TABLE IF NOT EXISTS customers (
    id      integer PRIMARY KEY,
    name    text NOT NULL,
    country text NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    id          integer PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers (id),
    amount      numeric(10, 2) NOT NULL CHECK (amount > 0),
    ordered_at  timestamptz NOT NULL DEFAULT now()
);

DELETE FROM orders;
DELETE FROM customers;
INSERT INTO customers (id, name, country) VALUES
    (1, 'Ada Lovelace', 'UK'), (2, 'Alan Turing', 'UK'), (3, 'Grace Hopper', 'US'),
    (4, 'Margaret Hamilton', 'US'), (5, 'Linus Torvalds', 'FI'), (6, 'Bjarne Stroustrup', 'DK');
INSERT INTO orders (id, customer_id, amount, ordered_at) VALUES
    (1, 1, 120.00, '2026-01-03 09:00+00'), (2, 1, 80.00, '2026-01-09 09:00+00'),
    (3, 2, 45.50, '2026-01-04 09:00+00'), (4, 3, 300.00, '2026-01-05 09:00+00'),
    (5, 4, 99.99, '2026-01-06 09:00+00'), (6, 4, 10.01, '2026-01-10 09:00+00'),
    (7, 5, 75.00, '2026-01-07 09:00+00');
