-- Ordered by id, which is when the row was entered, not when the money moved.
CREATE VIEW account_balances AS
SELECT id AS transaction_id,
       account_id,
       booked_at,
       amount,
       SUM(amount) OVER (PARTITION BY account_id ORDER BY id) AS balance
FROM transactions;
