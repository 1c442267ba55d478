"""PostgreSQL checks on inventories built the way the collector returns them (no server): catalog facts
of the student's `public` schema and the outcomes of the grader's probes. Each outcome is stated from
the lab's rule: a missing database or relation skips (or fails the check that grades its existence),
an unanswered probe is an error, a probe the student's schema answered wrongly fails.

`test_postgres.py` runs the same checks against the real PostgreSQL; these run in milliseconds, so the
mutation run of this module (docs/testing.md) can afford to run them for every mutant.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from labctl.labs.catalog import get_lab
from labctl.validators.checks import postgres as pg
from labctl.validators.inventory.postgres import (
    Column,
    ForeignKey,
    Function,
    Grantee,
    Index,
    PostgresInventory,
    Probe,
    Relation,
    insert_probe_key,
    select_probe_key,
)

DB = "labctl_c_ada"
MISSING = PostgresInventory(DB)
UNREADABLE = PostgresInventory(DB, exists=True, error="connection refused")


def wire(value: Any) -> Any:
    """A value as the driver hands it over: a new object, never the literal the code compares with."""
    return json.loads(json.dumps(value))


def columns(*names: str, nullable: tuple[str, ...] = ()) -> dict[str, Column]:
    return {name: Column(name, "integer", not_null=name not in nullable) for name in names}


def inventory(*relations: Relation, **fields: Any) -> PostgresInventory:
    return PostgresInventory(DB, exists=True, relations={r.name: r for r in relations}, **fields)


def identifier(name: str) -> str:
    """A quoted identifier as PostgreSQL's manual writes the rule: in double quotes, a quote doubled."""
    return '"' + "".join('""' if ch == '"' else ch for ch in name) + '"'


# ---- the database, its tables and the probes' answers ----


CUSTOMERS = Relation("customers", "table", columns("id", "name", "country"), primary_key=("id",))
ORDERS = Relation(
    "orders",
    "table",
    columns("id", "customer_id", "amount", "created_at"),
    primary_key=("id",),
    foreign_keys=(ForeignKey(("customer_id",), "customers", ("id",)),),
    index_first_columns=frozenset({"id", "customer_id"}),
    unique_keys=frozenset({frozenset({"id"})}),
)
ORDERS_SHAPE = pg.TableParams(
    table="orders",
    columns=["id", "customer_id", "amount"],
    primary_key=["id"],
    not_null=["customer_id"],
    references={"customer_id": "customers.id"},
    unique=[["id"]],
)


def shape(table: Relation, params: pg.TableParams = ORDERS_SHAPE) -> pg.Result:
    return pg.table_shape(inventory(CUSTOMERS, table), params)


def changed(relation: Relation, **fields: Any) -> Relation:
    return Relation(**{**relation.__dict__, **fields})


def test_a_table_with_every_column_key_and_constraint_passes() -> None:
    assert shape(ORDERS).status == "passed"
    # Columns, keys and constraints the lab does not ask for are the student's business.
    assert shape(ORDERS, pg.TableParams(table="orders", columns=["amount"])).status == "passed"


def test_a_missing_database_fails_the_table_check_and_an_unreadable_one_is_an_error() -> None:
    assert pg.table_shape(MISSING, ORDERS_SHAPE) == pg.Result.failed(f"database {DB} does not exist")
    unread = pg.table_shape(UNREADABLE, ORDERS_SHAPE)
    assert unread == pg.Result.error(f"could not read database {DB}: connection refused")


def test_a_missing_table_or_a_view_of_that_name_fails_with_a_hint() -> None:
    missing = pg.table_shape(inventory(CUSTOMERS), ORDERS_SHAPE)
    assert missing == pg.Result.failed("table orders is missing", hint="CREATE TABLE orders (...)")
    view = pg.table_shape(inventory(CUSTOMERS, changed(ORDERS, kind="view")), ORDERS_SHAPE)
    assert view.message == "table orders is a view"


def test_missing_columns_are_named_in_the_singular_or_plural() -> None:
    one = changed(ORDERS, columns=columns("id", "customer_id"))
    assert shape(one).message == "orders: missing column amount"
    two = pg.TableParams(table="orders", columns=["id", "note", "amount", "memo"])
    assert shape(ORDERS, two).message == "orders: missing columns note, memo"


def test_the_primary_key_must_be_exactly_the_columns_asked_in_order() -> None:
    wider = shape(changed(ORDERS, primary_key=("id", "customer_id")))
    assert wider.message == "orders: primary key is (id, customer_id), expected (id)"
    none = shape(changed(ORDERS, primary_key=()))
    assert none.message == "orders: primary key is (none), expected (id)"
    # A lab that asks for no primary key accepts any.
    assert shape(changed(ORDERS, primary_key=("customer_id",)), pg.TableParams(table="orders")).status == "passed"


def test_a_nullable_column_fails_and_a_missing_one_is_only_reported_missing() -> None:
    nullable = changed(ORDERS, columns=columns("id", "customer_id", "amount", nullable=("customer_id",)))
    assert shape(nullable).message == "orders: customer_id allows NULL"
    params = pg.TableParams(table="orders", not_null=["customer_id", "note"], columns=["note"])
    assert shape(ORDERS, params).message == "orders: missing column note"


@pytest.mark.parametrize(
    "key",
    [
        ForeignKey(("customer_id",), "accounts", ("id",)),
        ForeignKey(("customer_id",), "users", ("id",)),
        ForeignKey(("account_id",), "customers", ("id",)),
        ForeignKey(("owner_id",), "customers", ("id",)),
        ForeignKey(("customer_id",), "customers", ("code",)),
        ForeignKey(("customer_id",), "customers", ("uuid",)),
        ForeignKey(("customer_id", "country"), "customers", ("id", "country")),
    ],
)
def test_a_foreign_key_from_another_column_or_to_another_table_or_column_does_not_count(key: ForeignKey) -> None:
    result = shape(changed(ORDERS, foreign_keys=(key,)))
    assert result.message == "orders: customer_id has no foreign key to customers(id)"


def test_the_foreign_key_is_found_among_others_read_off_the_wire() -> None:
    keys = (ForeignKey(("id",), "audit", ("id",)), ForeignKey((wire("customer_id"),), wire("customers"), (wire("id"),)))
    assert shape(changed(ORDERS, foreign_keys=keys)).status == "passed"


def test_a_column_set_with_nothing_keeping_it_unique_fails() -> None:
    params = pg.TableParams(table="orders", unique=[["id"], ["customer_id", "created_at"]])
    assert shape(ORDERS, params).message == "orders: nothing keeps (customer_id, created_at) unique"
    kept = changed(ORDERS, unique_keys=frozenset({frozenset({"id"}), frozenset({"created_at", "customer_id"})}))
    assert shape(kept, params).status == "passed"


def test_every_problem_of_a_table_is_listed() -> None:
    bare = Relation("orders", "table", columns("id", "customer_id", nullable=("customer_id",)))
    assert shape(bare).message == (
        "orders: missing column amount; primary key is (none), expected (id); customer_id allows NULL; "
        "customer_id has no foreign key to customers(id); nothing keeps (id) unique"
    )


AMOUNTS = pg.RejectsParams(table="orders", column="amount", values=[Decimal("0"), Decimal("-1")])


def inserted(*probes: Probe) -> PostgresInventory:
    keys = [insert_probe_key("orders", "amount", v) for v in AMOUNTS.values]
    return inventory(CUSTOMERS, ORDERS, probes=dict(zip(keys, probes)))


def test_the_collector_is_asked_to_insert_each_value() -> None:
    assert list(AMOUNTS.inserts()) == [("orders", "amount", Decimal("0")), ("orders", "amount", Decimal("-1"))]


def test_values_the_table_rejects_pass_and_each_accepted_one_is_named() -> None:
    rejected = Probe(wire("rejected"), "new row violates check constraint (SQLSTATE 23514)", sqlstate="23514")
    accepted = Probe(wire("accepted"), "an order with amount 0 was stored")
    assert pg.rejects_values(inserted(rejected, rejected), AMOUNTS).status == "passed"
    one = pg.rejects_values(inserted(accepted, rejected), AMOUNTS)
    assert one == pg.Result.failed(
        "an order with amount 0 was accepted", hint="ALTER TABLE orders ADD CHECK (amount > 0)"
    )
    assert pg.rejects_values(inserted(accepted, accepted), AMOUNTS).message == "an order with amount 0 or -1 was accepted"


def test_a_value_that_was_not_answered_is_reported_before_any_verdict() -> None:
    accepted = Probe("accepted")
    late = pg.rejects_values(inserted(accepted, Probe("timeout", "did not finish within 3 s")), AMOUNTS)
    assert late == pg.Result.error("inserting an order with amount -1: did not finish within 3 s")
    unprobed = pg.rejects_values(inserted(accepted), AMOUNTS)
    assert unprobed == pg.Result.error("inserting an order with amount -1 was not probed")


def test_rejects_values_needs_the_table_and_the_column() -> None:
    assert pg.rejects_values(MISSING, AMOUNTS) == pg.Result.skipped(f"database {DB} does not exist")
    assert pg.rejects_values(UNREADABLE, AMOUNTS).status == "error"
    assert pg.rejects_values(inventory(CUSTOMERS), AMOUNTS) == pg.Result.skipped("table orders does not exist")
    view = inventory(CUSTOMERS, changed(ORDERS, kind="view"))
    assert pg.rejects_values(view, AMOUNTS) == pg.Result.skipped("table orders does not exist")
    no_amount = inventory(CUSTOMERS, changed(ORDERS, columns=columns("id", "customer_id")))
    assert pg.rejects_values(no_amount, AMOUNTS) == pg.Result.skipped("orders has no column amount")


@pytest.mark.parametrize(
    ("probe", "expected"),
    [
        (None, pg.Result.error("probing was not probed")),
        (Probe(wire("timeout"), "did not finish within 3 s"), pg.Result.error("probing: did not finish within 3 s")),
        (Probe(wire("error"), "permission denied (SQLSTATE 42501)"), pg.Result.failed("probing failed: permission denied (SQLSTATE 42501)")),
        (Probe(wire("skipped"), "table orders does not exist"), pg.Result.skipped("probing was not probed: table orders does not exist")),
        (Probe(wire("not-run"), "no role"), pg.Result.error("probing was not probed: no role")),
        (Probe(wire("accepted")), None),
        (Probe(wire("rejected"), "violates"), None),
    ],
)
def test_a_probe_that_gave_no_answer_becomes_the_result(probe: Probe | None, expected: pg.Result | None) -> None:
    assert pg.probe_result(probe, "probing") == expected


def test_an_index_must_lead_with_the_column() -> None:
    params = pg.IndexParams(table="orders", column="customer_id")
    assert pg.index_leads_with(inventory(ORDERS), params).status == "passed"
    later = inventory(changed(ORDERS, index_first_columns=frozenset({"id", "created_at"})))
    assert pg.index_leads_with(later, params) == pg.Result.failed(
        "no index on orders has customer_id as its first column", hint="CREATE INDEX ON orders (customer_id)"
    )
    assert pg.index_leads_with(inventory(), params) == pg.Result.skipped("table orders does not exist")


# ---- the ranking view of sql-customer-ranking, on the grader's fixture ----

RANKING = pg.RankingParams(view="customer_ranking")
VIEW = Relation("customer_ranking", "view", columns("customer_id", "total_amount", "rank"))
# The fixture's docstring: customers 1 and 2 tie at 150 (rank 1), then customer 3 (rank 3); 4 and 6
# tie at 40.50 (rank 4); customer 5 has no orders.
RIGHT = {1: ("150.00", 1), 2: ("150.00", 1), 3: ("120.00", 3), 4: ("40.50", 4), 6: ("40.50", 4)}


def test_the_expected_ranking_is_rank_by_total_descending_on_the_fixture() -> None:
    assert pg.expected_ranking() == {c: (Decimal(t), r) for c, (t, r) in RIGHT.items()}


def ranked(rows: dict[int, tuple[str, int]] | list[tuple], **probe: Any) -> PostgresInventory:
    listed = [(c, Decimal(t), r) for c, (t, r) in rows.items()] if isinstance(rows, dict) else rows
    answer = Probe(wire("accepted"), rows=tuple(listed), **probe)
    return inventory(VIEW, probes={select_probe_key("customer_ranking"): answer})


def test_the_right_ranking_passes_in_any_row_order_and_number_type() -> None:
    assert pg.ranking_view(ranked(RIGHT), RANKING).status == "passed"
    as_text = [(str(c), t, str(r)) for c, (t, r) in reversed(RIGHT.items())]
    assert pg.ranking_view(ranked(as_text), RANKING).status == "passed"
    assert list(RANKING.views()) == ["customer_ranking"]


def test_the_ranking_view_needs_the_database_the_view_and_its_probe() -> None:
    assert pg.ranking_view(MISSING, RANKING).status == "skipped"
    assert pg.ranking_view(UNREADABLE, RANKING).status == "error"
    assert pg.ranking_view(inventory(), RANKING) == pg.Result.failed(
        "view customer_ranking does not exist", hint="CREATE VIEW customer_ranking AS ..."
    )
    assert pg.ranking_view(inventory(VIEW), RANKING) == pg.Result.error(
        "reading customer_ranking on the grader's fixture was not probed"
    )


def test_a_ranking_view_that_returns_too_many_rows_fails() -> None:
    rows = [(n, Decimal(1), 1) for n in range(100)]
    assert pg.ranking_view(ranked(rows, truncated=True), RANKING) == pg.Result.failed(
        "customer_ranking returned more than 100 rows for 6 customers"
    )


@pytest.mark.parametrize(
    "row", [("one", Decimal("150.00"), 1), (1, "a lot", 1), (1, Decimal("150.00"), "first"), (1.5, Decimal(150), 1)]
)
def test_a_row_that_is_not_integer_number_integer_fails(row: tuple) -> None:
    result = pg.ranking_view(ranked([row]), RANKING)
    assert result.message == f"customer_ranking returned a row that is not (integer, number, integer): {row!r}"


def test_a_customer_listed_twice_fails() -> None:
    rows = [(1, Decimal(150), 1), (2, Decimal(150), 1), (1, Decimal(150), 1)]
    assert pg.ranking_view(ranked(rows), RANKING).message == "customer_ranking returns customer 1 more than once"


def test_each_wrong_customer_is_named_first_four_then_a_count() -> None:
    wrong = {5: ("0", 6), 1: ("150.00", 2), 2: ("100.00", 1), 3: ("120.00", 3)}
    result = pg.ranking_view(ranked(wrong), RANKING)
    assert result == pg.Result.failed(
        "on the grader's fixture: customer 5 has no orders but is listed; customer 4 is missing; "
        "customer 6 is missing; customer 1 has rank 2, expected 1; and 1 more"
    )
    four = pg.ranking_view(ranked({1: ("150.00", 1), 2: ("150.00", 1), 9: ("1", 4)}), RANKING)
    assert four.message == (
        "on the grader's fixture: customer 9 has no orders but is listed; customer 3 is missing; "
        "customer 4 is missing; customer 6 is missing"
    )
    strangers = pg.ranking_view(ranked({n: ("1.00", 1) for n in (5, 7, 8)}), RANKING)
    assert strangers.message == (
        "on the grader's fixture: customer 5 has no orders but is listed; customer 7 has no orders but is listed; "
        "customer 8 has no orders but is listed; customer 1 is missing; and 4 more"
    )
    total = pg.ranking_view(ranked({**RIGHT, 3: ("12.00", 3)}), RANKING)
    assert total == pg.Result.failed("on the grader's fixture: customer 3 has total_amount 12.00, expected 120.00")
    higher = pg.ranking_view(ranked({**RIGHT, 3: ("1200.00", 3)}), RANKING)
    assert higher.message == "on the grader's fixture: customer 3 has total_amount 1200.00, expected 120.00"


@pytest.mark.parametrize(
    ("ranks", "hint"),
    [
        ({1: 1, 2: 1, 3: 2, 4: 3, 6: 3}, "ties share a rank but the next rank must skip (RANK(), not DENSE_RANK())"),
        ({1: 2, 2: 1, 3: 3, 4: 4, 6: 5}, "tied customers must share a rank (RANK(), not ROW_NUMBER())"),
        ({1: 1, 2: 1, 3: 1, 4: 1, 6: 1}, "rank = RANK() OVER (ORDER BY total_amount DESC)"),
        ({1: 1, 2: 2, 3: 3, 4: 4, 6: 6}, "rank = RANK() OVER (ORDER BY total_amount DESC)"),
    ],
)
def test_right_totals_with_wrong_ranks_get_a_hint_naming_the_window_function(ranks: dict, hint: str) -> None:
    rows = {c: (RIGHT[c][0], rank) for c, rank in ranks.items()}
    result = pg.ranking_view(ranked(rows), RANKING)
    assert (result.status, result.hint) == ("failed", hint)


def test_wrong_totals_or_customers_get_no_window_function_hint() -> None:
    assert pg.ranking_view(ranked({**RIGHT, 1: ("15.00", 1)}), RANKING).hint is None
    assert pg.ranking_view(ranked({**RIGHT, 1: ("1500.00", 1)}), RANKING).hint is None
    without_6 = {c: (t, 1) for c, (t, _) in RIGHT.items() if c != 6}
    assert pg.ranking_view(ranked(without_6), RANKING).hint is None
    listed = {**RIGHT, 5: ("0", 6)}
    assert pg.ranking_view(ranked(listed), RANKING).hint is None


@pytest.mark.parametrize(
    ("value", "kind", "number"),
    [
        (3, int, 3),
        ("3", int, 3),
        (Decimal("3.00"), int, 3),
        (3.5, int, None),
        ("2.25", int, None),
        ("three", int, None),
        (None, int, None),
        ("40.50", Decimal, Decimal("40.50")),
        (40.5, Decimal, Decimal("40.5")),
        ("forty", Decimal, None),
        # numeric holds Infinity since PostgreSQL 14: no integer
        (Decimal("Infinity"), int, None),
        ("-Infinity", int, None),
        (Decimal("NaN"), int, None),
        # nor a total: NaN, and the signalling sNaN a text column may hold, which raises when compared
        (Decimal("NaN"), Decimal, None),
        ("sNaN", Decimal, None),
        ("Infinity", Decimal, None),
    ],
)
def test_numbers_are_read_whatever_type_the_view_returns(value: Any, kind: type, number: Any) -> None:
    assert pg.as_number(value, kind) == number


@pytest.mark.parametrize("row", [(Decimal("Infinity"), Decimal("150.00"), 1), (1, "sNaN", 1)])
def test_a_value_that_is_not_a_finite_number_fails_as_such(row: tuple) -> None:
    result = pg.ranking_view(ranked([row]), RANKING)
    assert result.message == f"customer_ranking returned a row that is not (integer, number, integer): {row!r}"


# ---- fixture files of the lab ----


def test_a_fixture_is_a_sql_file_of_the_lab_read_as_it_is() -> None:
    lab = get_lab("sql-aggregation")
    params = pg.FixtureParams(fixture="sql-aggregation/fixtures/countries.sql")
    assert params.fixture_text() == (lab.folder / "fixtures" / "countries.sql").read_text(encoding="utf-8")
    assert pg.FixtureParams().fixture_text() == ""
    # The lab file names it before rendering; {lab} is filled in when the lab is graded.
    assert pg.FixtureParams(fixture="{lab}/fixtures/countries.sql").fixture == "{lab}/fixtures/countries.sql"


@pytest.mark.parametrize(
    ("fixture", "error"),
    [
        ("sql-aggregation/fixtures/missing.sql", "does not exist"),
        ("../etc/passwd.sql", "inside the lab folder"),
        ("sql-aggregation/../../secrets.sql", "inside the lab folder"),
        ("/etc/fixture.sql", "inside the lab folder"),
        ("sql-aggregation/fixtures/countries.txt", "inside the lab folder"),
    ],
)
def test_a_fixture_outside_the_lab_or_not_there_is_refused(fixture: str, error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        pg.FixtureParams(fixture=fixture)


@pytest.mark.parametrize(
    ("model", "least", "less"),
    [
        (pg.RejectsParams, {"table": "orders", "column": "amount", "values": [0]}, {"values": []}),
        (pg.ViewRowsParams, {"view": "v", "columns": ["country"], "expected": []}, {"columns": []}),
        (pg.RejectsRowParams, {"table": "t", "values": {"id": 1}, "violates": "unique"}, {"values": {}}),
        (pg.AcceptsRowsParams, {"table": "t", "count": 0}, {"count": -1}),
        (pg.FunctionRowsParams, {"function": "f", "columns": ["id"], "expected": []}, {"columns": []}),
        (pg.IndexColumnsParams, {"table": "t", "columns": ["a"]}, {"columns": []}),
        (pg.MaxIndexesParams, {"table": "t", "max": 1}, {"max": 0}),
    ],
)
def test_the_smallest_params_a_lab_may_write_are_accepted_and_less_is_refused(model, least: dict, less: dict) -> None:
    """One value to reject, one column to read, an empty table, a table allowed only its primary key."""
    model(**least)
    with pytest.raises(ValidationError):
        model(**{**least, **less})


# ---- rows compared as the grader sees them ----


@pytest.mark.parametrize(("actual", "expected", "ordered", "problems"), [
    ((("a", 1), ("b", 2)), [["b", 2.0], ["a", "1"]], False, []),
    ((("a", 1), ("a", 1)), [["a", 1]], False, ["unexpected (a, 1)"]),
    ((("a", 1),), [["a", 1], ["a", 1]], False, ["missing (a, 1)"]),
    ((("b", 2), ("a", 1)), [["a", 1], ["b", 2]], True, ["the rows are right but in the wrong order: (b, 2), (a, 1)"]),
    ((("a", 1), ("b", 2)), [["a", 1], ["b", 2]], True, []),
    ((("a", 1), ("b", 2)), [["b", 2], ["a", 1]], True, ["the rows are right but in the wrong order: (a, 1), (b, 2)"]),
    ((("a", 1),), [["b", 2]], True, ["missing (b, 2)", "unexpected (a, 1)"]),
    ((("a", None),), [["a", 0]], False, ["missing (a, 0)", "unexpected (a, NULL)"]),
    ((), [[n] for n in range(7)], False, ["missing (0), (1), (2) and 4 more"]),
    ((), [[n] for n in range(5)], False, ["missing (0), (1), (2) and 2 more"]),
    ((), [[n] for n in range(4)], False, ["missing (0), (1), (2) and 1 more"]),
    ((), [[n] for n in range(3)], False, ["missing (0), (1), (2)"]),
    (tuple((n,) for n in range(7)), [], False, ["unexpected (0), (1), (2) and 4 more"]),
    (tuple((n,) for n in range(5)), [], False, ["unexpected (0), (1), (2) and 2 more"]),
    (tuple((n,) for n in range(4)), [], False, ["unexpected (0), (1), (2) and 1 more"]),
    (tuple((n,) for n in range(3)), [], False, ["unexpected (0), (1), (2)"]),
    (tuple((n,) for n in range(7, 0, -1)), [[n] for n in range(1, 8)], True,
     ["the rows are right but in the wrong order: (7), (6), (5), (4), (3), (2)"]),
    # a boolean column against the lab's text, -0 against 0, an infinite float against its name
    (((True, False),), [["true", "false"]], False, []),
    (((-0.0,),), [[0]], False, []),
    (((float("inf"),),), [["Infinity"]], False, []),
    # numerics keep the scale the column has; dates and times compare in ISO form
    (((Decimal("23.330"), Decimal("70")),), [[23.33, 70.00]], False, []),
    (((date(2026, 1, 2), time(10, 30)),), [["2026-01-02", "10:30:00"]], False, []),
    (((datetime(2026, 1, 2, 10, tzinfo=timezone.utc),),), [["2026-01-02T10:00:00+00:00"]], False, []),
])
def test_compare_rows_as_multisets_or_in_order(actual, expected, ordered, problems):
    assert pg.compare_rows(actual, expected, ordered) == problems


# ---- views and their rows on the grader's fixture (scenarios) ----

SALES = Relation("country_sales", "view", columns("country", "orders", "revenue"))
SALES_COLUMNS = ["country", "orders", "revenue"]
SALES_ROWS = pg.ViewRowsParams(
    view="country_sales",
    columns=SALES_COLUMNS,
    fixture="sql-aggregation/fixtures/countries.sql",
    expected=[["NL", 3, 70.00], ["ES", 3, 175.25]],
)


def answered(params: Any, *probes: Probe, relations: tuple[Relation, ...] = (SALES,), **fields: Any) -> PostgresInventory:
    return inventory(*relations, scenarios={params.scenario().key: probes}, **fields)


def test_a_view_with_the_columns_passes_and_a_missing_column_is_named() -> None:
    params = pg.ViewParams(view="country_sales", columns=SALES_COLUMNS)
    assert pg.view_shape(inventory(SALES), params).status == "passed"
    one = pg.ViewParams(view="country_sales", columns=["country", "average"])
    assert pg.view_shape(inventory(SALES), one) == pg.Result.failed(
        "view country_sales has no column average", hint="name each output column with AS"
    )
    two = pg.ViewParams(view="country_sales", columns=["country", "average", "total"])
    assert pg.view_shape(inventory(SALES), two).message == "view country_sales has no columns average, total"


def test_a_missing_view_or_a_table_of_that_name_fails_the_view_check() -> None:
    params = pg.ViewParams(view="country_sales")
    assert pg.view_shape(inventory(), params) == pg.Result.failed(
        "view country_sales is missing", hint="CREATE VIEW country_sales AS SELECT ..."
    )
    table = inventory(changed(SALES, kind="table"))
    assert pg.view_shape(table, params).message == "view country_sales is a table, not a view"
    assert pg.view_shape(MISSING, params) == pg.Result.failed(f"database {DB} does not exist")
    assert pg.view_shape(UNREADABLE, params).status == "error"


def test_the_view_is_read_after_the_labs_fixture_one_row_past_the_limit() -> None:
    scenario = SALES_ROWS.scenario()
    assert scenario.fixture == SALES_ROWS.fixture_text()
    columns_sql = ", ".join(identifier(c) for c in SALES_COLUMNS)
    assert [s.sql for s in scenario.steps] == [
        f"SELECT {columns_sql} FROM public.{identifier('country_sales')} LIMIT 101"
    ]
    assert list(SALES_ROWS.scenarios()) == [scenario]
    weird = 'we"ird'
    assert pg.column_list([weird, "plain"]) == f"{identifier(weird)}, {identifier('plain')}"


def test_the_expected_rows_pass_and_wrong_rows_are_named() -> None:
    right = Probe(wire("accepted"), rows=(("ES", 3, Decimal("175.25")), ("NL", 3, Decimal("70.00"))))
    assert pg.view_rows(answered(SALES_ROWS, right), SALES_ROWS).status == "passed"
    wrong = Probe("accepted", rows=(("ES", 3, Decimal("175.25")), ("NL", 2, Decimal("70.00"))))
    assert pg.view_rows(answered(SALES_ROWS, wrong), SALES_ROWS) == pg.Result.failed(
        "on the grader's data, country_sales: missing (NL, 3, 70); unexpected (NL, 2, 70)"
    )


def test_a_view_that_fails_to_read_or_returns_too_many_rows_fails() -> None:
    broken = Probe(wire("error"), "division by zero (SQLSTATE 22012)")
    assert pg.view_rows(answered(SALES_ROWS, broken), SALES_ROWS) == pg.Result.failed(
        "reading country_sales on the grader's data failed: division by zero (SQLSTATE 22012)"
    )
    many = Probe("accepted", rows=tuple(("NL", n, Decimal(n)) for n in range(100)), truncated=True)
    assert pg.view_rows(answered(SALES_ROWS, many), SALES_ROWS) == pg.Result.failed(
        "country_sales returned more than 100 rows for 2 expected"
    )


def test_view_rows_needs_the_database_the_view_and_its_columns() -> None:
    assert pg.view_rows(MISSING, SALES_ROWS).status == "skipped"
    assert pg.view_rows(UNREADABLE, SALES_ROWS).status == "error"
    assert pg.view_rows(inventory(), SALES_ROWS) == pg.Result.skipped("view country_sales does not exist")
    narrow = inventory(changed(SALES, columns=columns("country")))
    assert pg.view_rows(narrow, SALES_ROWS) == pg.Result.skipped("country_sales has no column orders, revenue")
    # A table of that name is read the same way.
    table = answered(SALES_ROWS, Probe("accepted", rows=(("ES", 3, 175.25), ("NL", 3, 70))), relations=(changed(SALES, kind="table"),))
    assert pg.view_rows(table, SALES_ROWS).status == "passed"


@pytest.mark.parametrize(
    ("probes", "expected"),
    [
        (None, "reading country_sales on the grader's data was not probed"),
        ((), "reading country_sales on the grader's data was not probed"),
        ((Probe(wire("not-run"), "the student's role does not exist"),), "reading country_sales on the grader's data was not probed: the student's role does not exist"),
        ((Probe(wire("timeout"), "did not finish within 3 s"),), "reading country_sales on the grader's data: did not finish within 3 s"),
    ],
)
def test_a_scenario_without_an_answer_for_each_step_is_an_error(probes, expected: str) -> None:
    scenarios = {} if probes is None else {SALES_ROWS.scenario().key: probes}
    assert pg.view_rows(inventory(SALES, scenarios=scenarios), SALES_ROWS) == pg.Result.error(expected)


# ---- rows a table must reject or accept ----

EMPLOYEES = Relation("employees", "table", columns("id", "email", "full_name", "department_id"))
DUPLICATE = pg.RejectsRowParams(
    table="employees",
    fixture="sql-schema-constraints/fixtures/valid.sql",
    values={"id": 10, "email": "ada@example.com", "department_id": None},
    violates="unique",
)
DUPLICATE_ROW = "id=10, email=ada@example.com, department_id=NULL"


def rejected(params: pg.RejectsRowParams, probe: Probe) -> pg.Result:
    return pg.rejects_row(answered(params, probe, relations=(EMPLOYEES,)), params)


def test_the_row_is_inserted_with_its_values_as_parameters() -> None:
    (step,) = DUPLICATE.scenario().steps
    names = ", ".join(identifier(c) for c in ("id", "email", "department_id"))
    assert step.sql == (
        f"INSERT INTO public.{identifier('employees')} ({names}) OVERRIDING SYSTEM VALUE VALUES (%s, %s, %s)"
    )
    assert step.args == (10, "ada@example.com", None)
    assert DUPLICATE.scenario().fixture == DUPLICATE.fixture_text() != ""
    assert list(DUPLICATE.scenarios()) == [DUPLICATE.scenario()]


@pytest.mark.parametrize(
    ("violates", "sqlstate"),
    # PostgreSQL's error codes (Appendix A): class 23, integrity constraint violation.
    [("not-null", "23502"), ("foreign-key", "23503"), ("unique", "23505"), ("check", "23514")],
)
def test_a_row_refused_by_the_kind_of_rule_asked_or_by_a_trigger_passes(violates: str, sqlstate: str) -> None:
    params = DUPLICATE.model_copy(update={"violates": violates})
    assert rejected(params, Probe(wire("rejected"), "violates", sqlstate=wire(sqlstate))).status == "passed"
    assert rejected(params, Probe("rejected", "raised", sqlstate=wire("P0001"))).status == "passed"


def test_a_row_refused_by_another_rule_or_error_fails_naming_it() -> None:
    check = rejected(DUPLICATE, Probe("rejected", "violates check constraint (SQLSTATE 23514)", sqlstate="23514"))
    assert check == pg.Result.failed(
        f"the row ({DUPLICATE_ROW}) was rejected by a check violation, not by a unique constraint: "
        "violates check constraint (SQLSTATE 23514)"
    )
    other = rejected(DUPLICATE, Probe(wire("error"), "permission denied (SQLSTATE 42501)", sqlstate="42501"))
    assert other.message == (
        f"the row ({DUPLICATE_ROW}) was rejected by an error, not by a unique constraint: "
        "permission denied (SQLSTATE 42501)"
    )


def test_an_accepted_row_or_a_fixture_that_did_not_load_fails() -> None:
    accepted = rejected(DUPLICATE, Probe(wire("accepted"), "1 rows affected"))
    assert accepted == pg.Result.failed(f"the row ({DUPLICATE_ROW}) was accepted; a unique constraint must reject it")
    fixture = Probe("error", "the grader's fixture could not be loaded: column \"channel\" (SQLSTATE 23502)", sqlstate="23502")
    assert rejected(DUPLICATE.model_copy(update={"violates": "check"}), fixture) == pg.Result.failed(fixture.message)


def test_rejects_row_needs_the_table_and_every_column_of_the_row() -> None:
    assert pg.rejects_row(inventory(), DUPLICATE) == pg.Result.skipped("table employees does not exist")
    narrow = inventory(changed(EMPLOYEES, columns=columns("id")))
    assert pg.rejects_row(narrow, DUPLICATE) == pg.Result.skipped("employees has no column email, department_id")
    assert pg.rejects_row(inventory(EMPLOYEES), DUPLICATE) == pg.Result.error(
        f"inserting ({DUPLICATE_ROW}) into employees was not probed"
    )


VALID = pg.AcceptsRowsParams(table="employees", fixture="sql-schema-constraints/fixtures/valid.sql", count=3)


def accepted_rows(probe: Probe) -> pg.Result:
    return pg.accepts_rows(answered(VALID, probe, relations=(EMPLOYEES,)), VALID)


def test_valid_rows_pass_when_all_of_them_are_in_the_table() -> None:
    (step,) = VALID.scenario().steps
    assert step.sql == f"SELECT count(*) FROM public.{identifier('employees')}"
    assert list(VALID.scenarios()) == [VALID.scenario()]
    assert accepted_rows(Probe(wire("accepted"), rows=((3,),))).status == "passed"
    assert accepted_rows(Probe("accepted", rows=((2,),))) == pg.Result.failed(
        "employees holds 2 rows after loading 3 valid ones"
    )
    assert accepted_rows(Probe("accepted", rows=((4,),))).message == "employees holds 4 rows after loading 3 valid ones"
    # A count read off the wire is a new int object once it is past the interpreter's small-int cache.
    thousand = VALID.model_copy(update={"count": 1000})
    loaded = answered(thousand, Probe("accepted", rows=((wire(1000),),)), relations=(EMPLOYEES,))
    assert pg.accepts_rows(loaded, thousand).status == "passed"
    assert accepted_rows(Probe("accepted", rows=())).message == "employees holds None rows after loading 3 valid ones"


def test_valid_rows_refused_fail_and_a_missing_table_skips() -> None:
    refused = accepted_rows(Probe(wire("error"), "the grader's fixture could not be loaded: salary (SQLSTATE 23514)"))
    assert refused == pg.Result.failed(
        "valid rows were refused: the grader's fixture could not be loaded: salary (SQLSTATE 23514)",
        hint="a constraint is too strict",
    )
    assert pg.accepts_rows(inventory(), VALID) == pg.Result.skipped("table employees does not exist")
    assert pg.accepts_rows(inventory(EMPLOYEES), VALID).status == "error"


# ---- functions ----

FIND = Function("find_customer", ("text",), "plpgsql", "BEGIN RETURN QUERY SELECT c.id FROM customers c WHERE c.name = $1; END")


def functions(*overloads: Function) -> PostgresInventory:
    by_name: dict[str, tuple[Function, ...]] = {}
    for f in overloads:
        by_name[f.name] = (*by_name.get(f.name, ()), f)
    return inventory(functions=by_name)


def test_a_function_with_the_argument_types_exists() -> None:
    params = pg.FunctionParams(function="find_customer", arguments=["text"])
    other = Function("find_customer", ("integer",), "sql", "SELECT 1")
    assert pg.function_exists(functions(other, FIND), params).status == "passed"
    assert pg.function_exists(functions(other, Function("find_customer", ("text", "integer"), "sql", "")), params) == (
        pg.Result.failed("find_customer(text) does not exist (found find_customer(integer), find_customer(text, integer))")
    )
    assert pg.function_exists(functions(), params) == pg.Result.failed(
        "function find_customer(text) does not exist", hint="CREATE FUNCTION find_customer(text) ..."
    )
    assert pg.function_exists(MISSING, params) == pg.Result.failed(f"database {DB} does not exist")
    assert pg.function_exists(UNREADABLE, params).status == "error"


PAYLOAD = "'; DROP TABLE customers; --"
DROP_PAYLOAD = pg.FunctionRowsParams(
    function="find_customer",
    args=[PAYLOAD],
    columns=["id"],
    fixture="sql-injection-safe/fixtures/customers.sql",
    expected=[],
    unchanged={"customers": 5, "orders": 2},
)
CALL = f"find_customer({PAYLOAD!r})"


def called(*probes: Probe, params: pg.FunctionRowsParams = DROP_PAYLOAD) -> pg.Result:
    return pg.function_rows(answered(params, *probes, functions={"find_customer": (FIND,)}), params)


def test_the_function_is_called_with_its_arguments_then_the_tables_are_counted() -> None:
    steps = DROP_PAYLOAD.scenario().steps
    assert [s.sql for s in steps] == [
        f"SELECT {identifier('id')} FROM public.{identifier('find_customer')}(%s) LIMIT 101",
        f"SELECT count(*) FROM public.{identifier('customers')}",
        f"SELECT count(*) FROM public.{identifier('orders')}",
    ]
    assert steps[0].args == (PAYLOAD,)
    assert list(DROP_PAYLOAD.scenarios()) == [DROP_PAYLOAD.scenario()]
    two = DROP_PAYLOAD.model_copy(update={"args": ["Ada", 2]})
    assert two.scenario().steps[0].sql.endswith(f"{identifier('find_customer')}(%s, %s) LIMIT 101")


def test_the_expected_rows_with_the_tables_untouched_pass() -> None:
    counted = (Probe(wire("accepted"), rows=((5,),)), Probe(wire("accepted"), rows=((2,),)))
    assert called(Probe(wire("accepted"), rows=()), *counted).status == "passed"
    ada = DROP_PAYLOAD.model_copy(update={"args": ["Ada"], "expected": [[1], [3]], "unchanged": {}})
    assert called(Probe("accepted", rows=((3,), (1,))), params=ada).status == "passed"


def test_rows_found_and_tables_changed_by_the_call_are_all_named() -> None:
    result = called(
        Probe("accepted", rows=((1,), (2,))),
        Probe(wire("error"), 'relation "customers" does not exist (SQLSTATE 42P01)'),
        Probe("accepted", rows=((1,),)),
    )
    assert result == pg.Result.failed(
        f"{CALL}: unexpected (1), (2); afterwards customers could not be read: "
        'relation "customers" does not exist (SQLSTATE 42P01); afterwards orders holds 1 rows, not 2'
    )
    inserted = called(Probe("accepted"), Probe("accepted", rows=((4,),)), Probe("accepted", rows=((3,),)))
    assert inserted.message == f"{CALL}: afterwards customers holds 4 rows, not 5; afterwards orders holds 3 rows, not 2"


def test_a_large_table_left_untouched_passes() -> None:
    params = DROP_PAYLOAD.model_copy(update={"unchanged": {"events": 1000}})
    # A count read off the wire is a new int object once it is past the interpreter's small-int cache.
    assert called(Probe("accepted"), Probe("accepted", rows=((wire(1000),),)), params=params).status == "passed"


def test_a_call_that_fails_or_returns_too_many_rows_fails() -> None:
    counted = (Probe("accepted", rows=((5,),)), Probe("accepted", rows=((2,),)))
    failed = called(Probe(wire("error"), "syntax error (SQLSTATE 42601)"), *counted)
    assert failed == pg.Result.failed(f"{CALL} failed: syntax error (SQLSTATE 42601)")
    many = called(Probe("accepted", rows=tuple((n,) for n in range(100)), truncated=True), *counted)
    assert many == pg.Result.failed(f"{CALL} returned more than 100 rows")


def test_function_rows_needs_the_database_the_function_and_the_answers() -> None:
    assert pg.function_rows(MISSING, DROP_PAYLOAD).status == "skipped"
    assert pg.function_rows(UNREADABLE, DROP_PAYLOAD).status == "error"
    assert pg.function_rows(inventory(), DROP_PAYLOAD) == pg.Result.skipped("function find_customer does not exist")
    one_answer = called(Probe("accepted", rows=()))
    assert one_answer == pg.Result.error(f"calling {CALL} was not probed")


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("BEGIN RETURN QUERY EXECUTE 'SELECT * FROM t WHERE n = ''' || name || ''''; END", "concatenation"),
        ("BEGIN RETURN QUERY EXECUTE concat('SELECT * FROM t WHERE n = ', quote_literal(name)); END", "concatenation"),
        ("BEGIN RETURN QUERY EXECUTE CONCAT_WS(' ', 'SELECT * FROM t WHERE n =', name); END", "concatenation"),
        ("BEGIN EXECUTE format('SELECT 1 FROM t WHERE n = ''%s''', name); END", "format() and a plain %s"),
        ("BEGIN EXECUTE FORMAT($q$SELECT 1 FROM t WHERE n = '%s'$q$, name); END", "format() and a plain %s"),
        ("BEGIN EXECUTE 'SELECT 1' INTO x; EXECUTE 'SELECT ' || name; END", "concatenation"),
        # PL/pgSQL keywords in any case, a statement over several lines
        ("begin return query execute 'select * from t where n = ''' || name || ''''; end", "concatenation"),
        ("BEGIN\n  EXECUTE 'SELECT * FROM t WHERE n = '\n    || quote_literal(name);\nEND", "concatenation"),
        ("BEGIN RETURN QUERY EXECUTE 'SELECT * FROM t WHERE n = $1' USING name; END", None),
        ("BEGIN RETURN QUERY EXECUTE format('SELECT * FROM t WHERE n = %L', name); END", None),
        ("BEGIN RETURN QUERY EXECUTE format('SELECT * FROM t WHERE n = $1', name) USING name || ''; END", None),
        ("BEGIN EXECUTE 'SELECT 1 FROM t WHERE n = ''%s'''; END", None),
        # || inside the SQL text itself, quoted with $$ or a tagged $q$: an operator of that SQL, not concatenation
        ("BEGIN RETURN QUERY EXECUTE $$SELECT first || ' ' || last FROM t WHERE id = $1$$ USING id; END", None),
        ("BEGIN RETURN QUERY EXECUTE $q$SELECT first || ' ' || last FROM t WHERE id = $1$q$ USING id; END", None),
        ("BEGIN RETURN QUERY SELECT * FROM t WHERE t.n = name || ''; END", None),
        ("-- EXECUTE 'x' || name\nBEGIN RETURN QUERY SELECT 'EXECUTE || ' FROM t; END", None),
        ("/* EXECUTE 'x' ||\n name */ BEGIN RETURN QUERY SELECT 1; END", None),
        ("SELECT * FROM customers WHERE customers.name = find_customer.name", None),
    ],
)
def test_concatenated_execute_is_found_only_in_the_sql_text_of_an_execute(source: str, found: str | None) -> None:
    result = pg.concatenated_execute(source)
    assert (result is None) if found is None else (found in result)


def test_a_function_with_an_overload_that_builds_sql_from_text_fails() -> None:
    params = pg.SourceParams(function="find_customer")
    built = Function("find_customer", ("integer",), "plpgsql", "BEGIN EXECUTE 'SELECT ' || id; END")
    assert pg.no_concatenated_execute(functions(FIND), params).status == "passed"
    assert pg.no_concatenated_execute(functions(FIND, built), params) == pg.Result.failed(
        "find_customer: EXECUTE builds its SQL with string concatenation",
        hint="pass values with EXECUTE ... USING, or use plain SQL with the parameter",
    )
    assert pg.no_concatenated_execute(functions(), params) == pg.Result.skipped("function find_customer does not exist")
    assert pg.no_concatenated_execute(MISSING, params).status == "skipped"
    assert pg.no_concatenated_execute(UNREADABLE, params).status == "error"


# ---- indexes and the plan of the target query ----

EVENTS = Relation(
    "events",
    "table",
    columns("id", "account_id", "kind", "created_at"),
    indexes=(
        Index("events_pkey", "events", ("id",), unique=True),
        Index("events_created_at_idx", "events", ("created_at",)),
        Index("events_lower_kind_idx", "events", (None, "account_id")),
        Index("events_account_id_idx", "events", ("account_id", "created_at")),
    ),
)
TARGET = pg.UsesIndexParams(
    query="SELECT id, kind, created_at FROM events WHERE account_id = 42 ORDER BY created_at DESC LIMIT 20",
    table="events",
    column="account_id",
)


def plan(*nodes: dict, top: str = "Limit") -> Probe:
    """What EXPLAIN (FORMAT JSON) returns: one row, one column, a list holding the top plan node."""
    document = json.dumps([{"Plan": {"Node Type": top, "Plans": list(nodes)}}])
    return Probe(wire("accepted"), rows=((json.loads(document),),))


def scan(node: str, index: str | None = None, relation: str = "events", *inner: dict) -> dict:
    found: dict[str, Any] = {"Node Type": node, "Relation Name": relation}
    if index:
        found["Index Name"] = index
    if inner:
        found["Plans"] = list(inner)
    return found


def explained(probe: Probe) -> pg.Result:
    return pg.uses_index(answered(TARGET, probe, relations=(EVENTS,)), TARGET)


def test_the_target_query_is_explained_never_run() -> None:
    (step,) = TARGET.scenario().steps
    assert step.sql == f"EXPLAIN (FORMAT JSON) {TARGET.query}"
    assert TARGET.scenario().fixture == ""
    assert list(TARGET.scenarios()) == [TARGET.scenario()]


@pytest.mark.parametrize("node", ["Index Scan", "Index Only Scan"])
def test_a_plan_reading_the_table_through_an_index_led_by_the_column_passes(node: str) -> None:
    assert explained(plan(scan(node, "events_account_id_idx"))).status == "passed"


def test_index_columns_read_off_the_catalog_match_the_column_by_value() -> None:
    read = changed(EVENTS, indexes=(Index(wire("events_account_id_idx"), "events", (wire("account_id"),)),))
    probe = plan(scan("Index Scan", "events_account_id_idx"))
    assert pg.uses_index(answered(TARGET, probe, relations=(read,)), TARGET).status == "passed"


def test_a_bitmap_index_scan_deep_in_the_plan_counts() -> None:
    bitmap = scan("Bitmap Heap Scan", None, "events", scan("Bitmap Index Scan", "events_account_id_idx"))
    assert explained(plan({"Node Type": "Sort", "Plans": [bitmap]})).status == "passed"


def test_an_index_led_by_another_column_is_named() -> None:
    result = explained(plan(scan("Index Scan", "events_created_at_idx"), scan("Index Scan", "events_lower_kind_idx")))
    assert result == pg.Result.failed(
        "the plan uses events_created_at_idx (created_at), events_lower_kind_idx (expression, account_id), "
        "which does not start with account_id",
        hint="CREATE INDEX ON events (account_id, ...)",
    )


def test_a_plan_without_an_index_of_the_table_names_how_it_reads_it() -> None:
    seq = explained(plan(scan("Seq Scan"), scan("Seq Scan", None, "accounts"), scan("Index Scan", "accounts_pkey", "accounts")))
    assert seq == pg.Result.failed("the plan reads events with Seq Scan", hint="CREATE INDEX ON events (account_id, ...)")
    both = explained(plan(scan("Tid Scan"), scan("Seq Scan"), scan("Seq Scan"), scan("Bitmap Heap Scan", None, "users")))
    assert both.message == "the plan reads events with Seq Scan and Tid Scan"
    nothing = explained(plan(scan("Seq Scan", None, "accounts"), top="Result"))
    assert nothing.message == "the plan reads events with no index"


def test_an_index_that_is_not_scanned_does_not_count() -> None:
    # A plan node may name an index without scanning through it (a CREATE INDEX in progress, a hint).
    result = explained(plan({"Node Type": "Seq Scan", "Relation Name": "events", "Index Name": "events_account_id_idx"}))
    assert result.message == "the plan reads events with Seq Scan"


def test_a_query_that_cannot_be_explained_fails() -> None:
    failed = explained(Probe(wire("error"), 'column "acount_id" does not exist (SQLSTATE 42703)'))
    assert failed == pg.Result.failed(
        'the target query could not be explained: column "acount_id" does not exist (SQLSTATE 42703)'
    )
    assert explained(Probe(wire("accepted"), "0 rows affected")).message == (
        "the target query could not be explained: 0 rows affected"
    )
    assert pg.uses_index(inventory(), TARGET) == pg.Result.skipped("table events does not exist")
    assert pg.uses_index(inventory(EVENTS), TARGET).status == "error"


def test_an_index_must_start_with_the_columns_in_order() -> None:
    params = pg.IndexColumnsParams(table="events", columns=["account_id", "created_at"])
    assert pg.index_starts_with(inventory(EVENTS), params).status == "passed"
    swapped = changed(EVENTS, indexes=(Index("i", "events", ("created_at", "account_id")), Index("j", "events", ("account_id",))))
    assert pg.index_starts_with(inventory(swapped), params) == pg.Result.failed(
        "no index on events starts with (account_id, created_at)", hint="CREATE INDEX ON events (account_id, created_at)"
    )
    assert pg.index_starts_with(inventory(), params).status == "skipped"


def test_more_indexes_than_allowed_fail_naming_them_sorted() -> None:
    assert pg.max_indexes(inventory(EVENTS), pg.MaxIndexesParams(table="events", max=4)).status == "passed"
    assert pg.max_indexes(inventory(EVENTS), pg.MaxIndexesParams(table="events", max=5)).status == "passed"
    assert pg.max_indexes(inventory(EVENTS), pg.MaxIndexesParams(table="events", max=3)) == pg.Result.failed(
        "events has 4 indexes (events_account_id_idx, events_created_at_idx, events_lower_kind_idx, events_pkey); "
        "every one slows each write",
        hint="drop the indexes the target query does not use",
    )
    assert pg.max_indexes(inventory(), pg.MaxIndexesParams(table="events", max=3)).status == "skipped"


# ---- a role's privileges ----

ANALYST = f"{DB}_analyst"
PRIVACY = pg.RolePrivilegesParams(
    role_suffix="_analyst", select=["customers_masked"], no_select={"customers": ["email", "phone"]}
)


def privileges(
    tables: dict[str, set[str]] | None = None, columns: dict[str, dict[str, set[str]]] | None = None, **fields: Any
) -> PostgresInventory:
    grantee = Grantee(
        ANALYST,
        exists=True,
        table_privileges={r: frozenset(p) for r, p in (tables or {}).items()},
        column_privileges={r: {c: frozenset(p) for c, p in cs.items()} for r, cs in (columns or {}).items()},
    )
    return inventory(grantees={ANALYST: grantee}, **fields)


def test_the_role_named_after_the_database_is_asked_for() -> None:
    assert list(PRIVACY.role_suffixes()) == ["_analyst"]


def test_a_role_reading_only_what_it_may_passes() -> None:
    masked = {"customers_masked": {"SELECT"}}
    safe_columns = {"customers": {"id": {"SELECT"}, "name": {"SELECT"}, "country": {"SELECT"}}}
    assert pg.role_privileges(privileges(masked, safe_columns), PRIVACY).status == "passed"


def test_columns_it_must_not_read_and_relations_it_cannot_read_are_named() -> None:
    everything = {"customers": {c: {"SELECT"} for c in ("id", "name", "email", "phone")}}
    result = pg.role_privileges(privileges({}, everything), PRIVACY)
    assert result == pg.Result.failed(
        f"role {ANALYST}: cannot read customers_masked; can read customers.email; can read customers.phone",
        hint=f"REVOKE ALL ON ... FROM {ANALYST}, then GRANT SELECT on the masked view only",
    )
    update_only = {"customers": {"email": {"UPDATE"}}}
    assert pg.role_privileges(privileges({"customers_masked": {"SELECT"}}, update_only), PRIVACY.model_copy(
        update={"read_only": False}
    )).status == "passed"


def test_a_relation_it_must_not_read_at_all_lists_the_readable_columns() -> None:
    params = PRIVACY.model_copy(update={"no_select": {"customers": []}})
    readable = {"customers": {"name": {"SELECT"}, "id": {"SELECT", "UPDATE"}, "email": {"REFERENCES"}}}
    result = pg.role_privileges(privileges({"customers_masked": {"SELECT"}}, readable), params.model_copy(
        update={"read_only": False}
    ))
    assert result.message == f"role {ANALYST}: can read customers (id, name)"
    unreadable = {"customers": {"email": {"REFERENCES"}}}
    assert pg.role_privileges(privileges({"customers_masked": {"SELECT"}}, unreadable), params).status == "passed"


def test_a_read_only_role_that_may_write_is_named_with_what_it_may_change() -> None:
    tables = {
        "customers_masked": {"SELECT", "INSERT"},
        "audit": {"DELETE"},
        "notes": {"TRUNCATE"},
        "payments": {"UPDATE", "SELECT"},
        "zones": {"INSERT"},
        "visits": {"UPDATE"},
    }
    columns_ = {"customers": {"name": {"UPDATE"}, "id": {"SELECT"}}, "payments": {"amount": {"UPDATE"}}}
    result = pg.role_privileges(privileges(tables, columns_), PRIVACY)
    assert result.message == f"role {ANALYST}: can change audit, customers_masked, payments, visits"
    assert pg.writable_by(
        Grantee(ANALYST, True, table_privileges={"audit": frozenset({"DELETE"})},
                column_privileges={k: {c: frozenset(p) for c, p in v.items()} for k, v in columns_.items()})
    ) == ["audit", "customers.name", "payments.amount"]
    only_columns = pg.role_privileges(privileges({"customers_masked": {"SELECT"}}, columns_), PRIVACY)
    assert only_columns.message == f"role {ANALYST}: can change customers.name, payments.amount"


def test_a_role_that_is_missing_or_was_not_read() -> None:
    absent = inventory(grantees={ANALYST: Grantee(ANALYST, exists=False)})
    assert pg.role_privileges(absent, PRIVACY) == pg.Result.failed(f"role {ANALYST} does not exist")
    assert pg.role_privileges(inventory(), PRIVACY) == pg.Result.error(f"the privileges of role {ANALYST} were not read")
    assert pg.role_privileges(MISSING, PRIVACY).status == "skipped"
    assert pg.role_privileges(UNREADABLE, PRIVACY).status == "error"
