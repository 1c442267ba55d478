-- Emails are only unique within a department: the same address can join a second department.
CREATE TABLE departments (
    id   integer PRIMARY KEY,
    name text NOT NULL UNIQUE
);

CREATE TABLE employees (
    id            integer PRIMARY KEY,
    email         text NOT NULL,
    full_name     text NOT NULL,
    department_id integer NOT NULL REFERENCES departments (id),
    salary        numeric(10, 2) NOT NULL CHECK (salary > 0),
    hired_on      date NOT NULL DEFAULT current_date,
    UNIQUE (department_id, email)
);
