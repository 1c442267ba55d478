-- department_id is a plain integer: an employee of department 99 is stored without complaint.
CREATE TABLE departments (
    id   integer PRIMARY KEY,
    name text NOT NULL UNIQUE
);

CREATE TABLE employees (
    id            integer PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    full_name     text NOT NULL,
    department_id integer NOT NULL,
    salary        numeric(10, 2) NOT NULL CHECK (salary > 0),
    hired_on      date NOT NULL DEFAULT current_date
);
