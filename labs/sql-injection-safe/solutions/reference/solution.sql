-- Plain SQL: the argument is a value bound at execution, never text pasted into a statement.
-- `find_customer.name` names the parameter; a bare `name` would mean the column.
CREATE FUNCTION find_customer(name text) RETURNS SETOF customers
LANGUAGE sql STABLE
AS $$
    SELECT * FROM customers WHERE customers.name = find_customer.name ORDER BY id
$$;
