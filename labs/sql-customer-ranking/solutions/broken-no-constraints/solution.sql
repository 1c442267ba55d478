-- The tables hold the right columns, but nothing stops an order for an unknown customer or an
-- amount of 0, and orders.customer_id has no index.
CREATE TABLE customers (
    id      integer PRIMARY KEY,
    name    text NOT NULL,
    country text
);

CREATE TABLE orders (
    id          integer PRIMARY KEY,
    customer_id integer NOT NULL,
    amount      numeric(12, 2),
    created_at  timestamptz DEFAULT now()
);

CREATE VIEW customer_ranking AS
SELECT customer_id,
       SUM(amount) AS total_amount,
       RANK() OVER (ORDER BY SUM(amount) DESC) AS rank
FROM orders
GROUP BY customer_id;
