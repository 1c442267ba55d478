-- Builds the statement by pasting the input between quotes: the input can end the string.
CREATE FUNCTION find_customer(name text) RETURNS SETOF customers
LANGUAGE plpgsql
AS $$
BEGIN
    RETURN QUERY EXECUTE 'SELECT * FROM customers WHERE name = ''' || name || '''';
END
$$;
