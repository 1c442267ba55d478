-- The shop's data for sql-joins-report, loaded into the student's database as the student's role.
-- Idempotent: it creates the tables only when they are missing and replaces the sample rows.
CREATE TABLE IF NOT EXISTS customers (
    id      integer PRIMARY KEY,
    name    text NOT NULL,
    country text NOT NULL
);
CREATE TABLE IF NOT EXISTS products (
    id         integer PRIMARY KEY,
    name       text NOT NULL,
    unit_price numeric(10, 2) NOT NULL CHECK (unit_price > 0)
);
CREATE TABLE IF NOT EXISTS orders (
    id          integer PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers (id),
    product_id  integer NOT NULL REFERENCES products (id),
    quantity    integer NOT NULL CHECK (quantity > 0),
    status      text NOT NULL CHECK (status IN ('paid', 'shipped', 'cancelled')),
    ordered_at  timestamptz NOT NULL DEFAULT now()
);

DELETE FROM orders;
DELETE FROM products;
DELETE FROM customers;
INSERT INTO customers (id, name, country) VALUES
    (1, 'Ada Lovelace', 'UK'), (2, 'Grace Hopper', 'US'), (3, 'Linus Torvalds', 'FI'),
    (4, 'Margaret Hamilton', 'US'), (5, 'Ken Thompson', 'US');
INSERT INTO products (id, name, unit_price) VALUES
    (1, 'Keyboard', 49.90), (2, 'Monitor', 189.00), (3, 'Mouse', 19.50), (4, 'Desk lamp', 34.00);
INSERT INTO orders (id, customer_id, product_id, quantity, status, ordered_at) VALUES
    (1, 1, 2, 1, 'shipped', '2026-01-03 09:12+00'),
    (2, 1, 3, 2, 'paid', '2026-01-04 17:40+00'),
    (3, 2, 1, 1, 'cancelled', '2026-01-05 11:05+00'),
    (4, 3, 4, 3, 'paid', '2026-01-06 08:30+00'),
    (5, 4, 1, 2, 'shipped', '2026-01-07 14:55+00'),
    (6, 2, 2, 1, 'paid', '2026-01-08 10:20+00');
