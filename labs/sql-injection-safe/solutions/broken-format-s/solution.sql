-- format() with %s inserts the input as is: the same hole as concatenation (%L would quote it).
CREATE FUNCTION find_customer(name text) RETURNS SETOF customers
LANGUAGE plpgsql
AS $$
BEGIN
    RETURN QUERY EXECUTE format('SELECT * FROM customers WHERE name = ''%s''', name);
END
$$;
