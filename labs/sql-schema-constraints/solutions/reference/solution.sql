CREATE TABLE departments (
    id   integer PRIMARY KEY,
    name text NOT NULL UNIQUE
);

CREATE TABLE employees (
    id            integer PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    full_name     text NOT NULL,
    department_id integer NOT NULL REFERENCES departments (id),
    salary        numeric(10, 2) NOT NULL CONSTRAINT salary_positive CHECK (salary > 0),
    hired_on      date NOT NULL DEFAULT current_date
);

-- The foreign key's column: finding a department's employees, and deleting a department, use it.
CREATE INDEX employees_department_id_idx ON employees (department_id);
