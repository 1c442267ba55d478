-- ORDER BY booked_at alone, with the default RANGE frame: rows booked at the same instant are
-- peers and both show the balance after the two of them.
CREATE VIEW account_balances AS
SELECT id AS transaction_id,
       account_id,
       booked_at,
       amount,
       SUM(amount) OVER (PARTITION BY account_id ORDER BY booked_at) AS balance
FROM transactions;
