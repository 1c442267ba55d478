-- The customer directory for sql-injection-safe, loaded into the student's database as the
-- student's role. Idempotent: it creates the table only when it is missing and replaces the rows.
CREATE TABLE IF NOT EXISTS customers (
    id      integer PRIMARY KEY,
    name    text NOT NULL,
    email   text NOT NULL,
    country text
);

DELETE FROM customers;
INSERT INTO customers (id, name, email, country) VALUES
    (1, 'Ada Lovelace', 'ada@example.com', 'UK'),
    (2, 'Grace Hopper', 'grace@example.com', 'US'),
    (3, 'Conan O''Brien', 'conan@example.com', 'US'),
    (4, 'Linus Torvalds', 'linus@example.com', 'FI');
