-- Safe from injection, but in a LANGUAGE sql function a bare `name` is the column: the
-- condition compares each row's name with itself and every customer matches.
CREATE FUNCTION find_customer(name text) RETURNS SETOF customers
LANGUAGE sql STABLE
AS $$
    SELECT * FROM customers WHERE name = name
$$;
