-- The customer register for sql-privacy-access, loaded into the student's database as the
-- student's role. Idempotent: it creates the table only when it is missing and replaces the rows;
-- it never touches the student's views or grants.
CREATE TABLE IF NOT EXISTS customers (
    id        integer PRIMARY KEY,
    name      text NOT NULL,
    email     text NOT NULL,
    phone     text,
    country   text NOT NULL,
    signed_up date NOT NULL
);

DELETE FROM customers;
INSERT INTO customers (id, name, email, phone, country, signed_up) VALUES
    (1, 'Ada Lovelace', 'ada@example.com', '+44 20 7946 0958', 'UK', '2024-01-15'),
    (2, 'Grace Hopper', 'grace.hopper@navy.example', '(555) 010-4477', 'US', '2024-02-03'),
    (3, 'Alan Turing', 'alan@bletchley.example', NULL, 'UK', '2024-02-20'),
    (4, 'Katherine Johnson', 'kj@nasa.example', '+1 757 555 0199', 'US', '2024-03-11'),
    (5, 'Linus Torvalds', 'linus@kernel.example', '+358 9 555 1234', 'FI', '2024-03-30'),
    (6, 'Margaret Hamilton', 'margaret@mit.example', '+1 617 555 0142', 'US', '2024-04-02'),
    (7, 'Tim Berners-Lee', 'tim@w3.example', '+44 20 7946 0321', 'UK', '2024-04-18'),
    (8, 'Radia Perlman', 'radia@example.org', '555.010.8899', 'US', '2024-05-06');
