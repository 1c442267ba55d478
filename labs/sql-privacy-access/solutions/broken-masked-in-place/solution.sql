-- Masks the stored data itself and shows the columns as they are: the originals are gone, and new
-- rows are not masked at all.
UPDATE customers
SET email = left(email, 1) || '***@' || split_part(email, '@', 2),
    phone = right(regexp_replace(phone, '[^0-9]', '', 'g'), 4);

CREATE VIEW customers_masked AS
SELECT id, country, signed_up, email AS email_masked, phone AS phone_last4
FROM customers;

DO $$
BEGIN
    EXECUTE format('GRANT SELECT ON customers_masked TO %I', current_database() || '_analyst');
END
$$;
