CREATE VIEW account_balances AS
SELECT id AS transaction_id,
       account_id,
       booked_at,
       amount,
       SUM(amount) OVER (
           PARTITION BY account_id
           ORDER BY booked_at, id
           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
       ) AS balance
FROM transactions;
