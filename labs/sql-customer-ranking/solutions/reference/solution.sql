-- Customers and their orders, with the keys and constraints that keep the data honest.
CREATE TABLE customers (
    id      integer PRIMARY KEY,
    name    text NOT NULL,
    country text
);

CREATE TABLE orders (
    id          integer PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers (id),
    amount      numeric(12, 2) NOT NULL CONSTRAINT amount_positive CHECK (amount > 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Joins from customers to their orders (and deletes of customers) look orders up by customer_id.
CREATE INDEX orders_customer_id_idx ON orders (customer_id);

CREATE VIEW customer_ranking AS
SELECT customer_id,
       total_amount,
       RANK() OVER (ORDER BY total_amount DESC) AS rank
FROM (
    SELECT customer_id, SUM(amount) AS total_amount
    FROM orders
    GROUP BY customer_id
) AS totals;
