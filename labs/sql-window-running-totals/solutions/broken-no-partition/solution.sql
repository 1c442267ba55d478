-- One running total over all accounts together: the second account starts from the first's balance.
CREATE VIEW account_balances AS
SELECT id AS transaction_id,
       account_id,
       booked_at,
       amount,
       SUM(amount) OVER (ORDER BY booked_at, id) AS balance
FROM transactions;
