-- A plain view (it reads customers with its owner's rights, so the analyst needs no right on the
-- table), masking in SQL; the analyst role is named after the database, so the grant is built
-- from current_database() with %I quoting.
CREATE VIEW customers_masked AS
SELECT id,
       country,
       signed_up,
       left(email, 1) || '***@' || split_part(email, '@', 2) AS email_masked,
       right(regexp_replace(phone, '[^0-9]', '', 'g'), 4) AS phone_last4
FROM customers;

DO $$
BEGIN
    EXECUTE format('GRANT SELECT ON customers_masked TO %I', current_database() || '_analyst');
    -- Non-identifying columns of the table itself are fine at column level.
    EXECUTE format('GRANT SELECT (id, country, signed_up) ON customers TO %I', current_database() || '_analyst');
END
$$;
