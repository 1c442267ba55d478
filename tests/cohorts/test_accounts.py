"""The account pool: the accounts CSV, adding, leasing (atomic, concurrent), sessions in member accounts."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labctl.cohorts.accounts import (
    PoolEntry,
    add_accounts,
    assumed_session,
    check_isolation,
    cohort_accounts,
    cohort_pool,
    create_member_accounts,
    list_accounts,
    parse_accounts,
    read_accounts,
    set_state,
)
from labctl.cohorts.cohort import Cohort, make_target, synthetic_students
from labctl.cohorts.registry import Registry
from labctl.labs.errors import InputError, LabctlError

pytestmark = pytest.mark.usefixtures("registry_backend")

IDS = [f"1111111111{n:02d}" for n in range(10)]


def entries(*ids: str) -> tuple[PoolEntry, ...]:
    return tuple(PoolEntry(i, f"a{i}@example.com", n + 2) for n, i in enumerate(ids))


def cohort(name: str, count: int) -> Cohort:
    target = make_target("emulator", "http://127.0.0.1:4599", "us-east-1", None)
    return Cohort(name, ("s3-static-website",), target, synthetic_students(name, count))


def test_accounts_csv_parses_ids_and_emails_in_any_column_order():
    parsed = parse_accounts("Email;Account_ID\nx@example.com; 111111111100\n\n;\ny@example.com;111111111101\n", "a.csv")
    assert parsed == (PoolEntry("111111111100", "x@example.com", 2), PoolEntry("111111111101", "y@example.com", 5))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,email\n1,x@example.com\n", "a.csv:1: accounts header must have the columns account_id and email"),
        ("account_id,email\n11111111110,x@example.com\n", "a.csv:2: account_id '11111111110' must be 12 digits"),
        ("account_id,email\n1111111111000,x@example.com\n", "a.csv:2: account_id '1111111111000' must be 12 digits"),
        ("account_id,email\n11111111110a,x@example.com\n", "a.csv:2: account_id '11111111110a' must be 12 digits"),
        ("account_id,email\n111111111100,x@example.com\n111111111101,y@example.com\n111111111100,z@example.com\n",
         "a.csv:4: account 111111111100 is also on line 2"),
        ("account_id,email\n111111111100,\n", "a.csv:2: empty email"),
        ("account_id,email\n111111111100,not-an-email\n", "a.csv:2: email 'not-an-email' is not valid"),
        ("account_id,email\n111111111100,x@example.com,extra\n", "a.csv:2: row has more fields than the header"),
        ("account_id,email\n", "a.csv:1: the file lists no accounts"),
    ],
)
def test_bad_accounts_csv_names_the_line(text, message):
    with pytest.raises(InputError) as caught:
        parse_accounts(text, "a.csv")
    assert str(caught.value).startswith(message)


account_ids = st.lists(st.from_regex(r"\A[0-9]{12}\Z"), min_size=1, max_size=12, unique=True)


@settings(max_examples=60, deadline=None)
@given(ids=account_ids, delimiter=st.sampled_from([",", ";", "\t"]), swap=st.booleans(), blank=st.booleans())
def test_any_well_formed_accounts_csv_round_trips(ids, delimiter, swap, blank):
    header = ["email", "account_id"] if swap else ["account_id", "email"]
    lines = [delimiter.join(header)]
    for n, account_id in enumerate(ids):
        email = f"owner{n}@example.com"
        lines.append(delimiter.join([email, account_id] if swap else [account_id, email]))
        if blank:
            lines.append("")
    parsed = parse_accounts("\n".join(lines) + "\n", "a.csv")
    assert [(e.account_id, e.email) for e in parsed] == [(i, f"owner{n}@example.com") for n, i in enumerate(ids)]
    assert [lines[e.line - 1].count(e.account_id) for e in parsed] == [1] * len(ids)


@settings(max_examples=60, deadline=None)
@given(ids=account_ids, data=st.data())
def test_a_repeated_id_is_refused_at_its_second_line(ids, data):
    first = data.draw(st.integers(0, len(ids) - 1))
    rows = [f"{i},x{n}@example.com" for n, i in enumerate(ids)]
    at = data.draw(st.integers(first + 1, len(rows)))
    rows.insert(at, f"{ids[first]},again@example.com")
    with pytest.raises(InputError) as caught:
        parse_accounts("account_id,email\n" + "\n".join(rows) + "\n", "a.csv")
    assert caught.value.where == f"a.csv:{at + 2}" and f"also on line {first + 2}" in str(caught.value)


@settings(max_examples=60, deadline=None)
@given(bad=st.text(alphabet="0123456789abc -", min_size=0, max_size=14).filter(
    lambda t: not (len(t.strip()) == 12 and t.strip().isdigit()) and t.strip() and "," not in t))
def test_anything_but_twelve_digits_is_refused(bad):
    with pytest.raises(InputError) as caught:
        parse_accounts(f"account_id,email\n111111111100,a@example.com\n{bad},b@example.com\n", "a.csv")
    assert caught.value.where == "a.csv:3" and "must be 12 digits" in str(caught.value)


def test_read_accounts_refuses_a_missing_file_and_windows_1252(tmp_path):
    with pytest.raises(InputError, match="accounts file not found"):
        read_accounts(tmp_path / "nope.csv")
    path = tmp_path / "a.csv"
    path.write_bytes("account_id,email\n111111111100,jos\xe9@example.com\n".encode("cp1252"))
    with pytest.raises(InputError) as caught:
        read_accounts(path)
    assert caught.value.where == f"{path}:2"


def test_adding_is_all_or_none_and_an_already_pooled_account_names_its_line(tmp_path):
    with Registry(tmp_path / "r.db") as reg:
        assert add_accounts(reg, "p1", entries(*IDS[:2]), "a.csv") == 2
        with pytest.raises(InputError) as caught:
            add_accounts(reg, "p2", entries(IDS[5], IDS[1]), "b.csv")
        assert caught.value.where == "b.csv:3" and f"account {IDS[1]} is already in pool 'p1'" in str(caught.value)
        assert [(a.account_id, a.pool, a.state) for a in list_accounts(reg)] == [
            (IDS[0], "p1", "available"), (IDS[1], "p1", "available")]
        assert list_accounts(reg, "p2") == []


def test_leasing_gives_each_student_their_own_account(tmp_path):
    with Registry(tmp_path / "r.db") as reg:
        add_accounts(reg, "p1", entries(*IDS[:4]), "a.csv")
        leased = reg.create_cohort(cohort("c1", 3), "p1")
        assert leased == {"s001": IDS[0], "s002": IDS[1], "s003": IDS[2]}
        assert cohort_pool(reg, "c1") == "p1" and cohort_pool(reg, "nope") is None
        assert {s: a.account_id for s, a in cohort_accounts(reg, "c1").items()} == leased
        assert [(a.state, a.cohort, a.student) for a in list_accounts(reg)] == [
            ("leased", "c1", "s001"), ("leased", "c1", "s002"), ("leased", "c1", "s003"), ("available", None, None)]
        assert reg.create_cohort(cohort("c2", 1), "p1") == {"s001": IDS[3]}


def test_a_short_pool_leases_nothing_and_records_no_cohort(tmp_path):
    with Registry(tmp_path / "r.db") as reg:
        add_accounts(reg, "p1", entries(*IDS[:2]), "a.csv")
        with pytest.raises(InputError, match=r"pool 'p1' has 2 available account\(s\), 3 students need one each"):
            reg.create_cohort(cohort("c1", 3), "p1")
        with pytest.raises(InputError, match="pool 'empty' has no accounts"):
            reg.create_cohort(cohort("c1", 1), "empty")
        assert reg.cohort_names() == [] and {a.state for a in list_accounts(reg)} == {"available"}


def test_release_to_available_ends_the_lease(tmp_path):
    with Registry(tmp_path / "r.db") as reg:
        add_accounts(reg, "p1", entries(*IDS[:2]), "a.csv")
        reg.create_cohort(cohort("c1", 2), "p1")
        set_state(reg, [IDS[0]], "available")
        set_state(reg, [IDS[1]], "quarantined", "s3 c1-s002-site")
        assert [(a.state, a.cohort, a.note) for a in list_accounts(reg)] == [
            ("available", None, None), ("quarantined", "c1", "s3 c1-s002-site")]


def lease_in_process(path: str, name: str, count: int, results) -> None:
    try:
        with Registry(Path(path)) as reg:
            results.put((name, reg.create_cohort(cohort(name, count), "p1")))
    except (InputError, LabctlError) as exc:
        results.put((name, str(exc)))


@pytest.mark.parametrize("runner", ["threads", "processes"])
def test_concurrent_creates_never_lease_the_same_account(tmp_path, runner):
    path = tmp_path / "r.db"
    with Registry(path) as reg:
        add_accounts(reg, "p1", entries(*IDS), "a.csv")
    names = [f"c{n}" for n in range(6)]  # 6 cohorts of 2 want 12 of the 10 accounts
    if runner == "threads":
        import queue

        results: queue.Queue = queue.Queue()
        workers = [threading.Thread(target=lease_in_process, args=(str(path), n, 2, results)) for n in names]
    else:
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        workers = [context.Process(target=lease_in_process, args=(str(path), n, 2, results)) for n in names]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    outcome = dict(results.get(timeout=10) for _ in names)
    leased = [account for got in outcome.values() if isinstance(got, dict) for account in got.values()]
    refused = [got for got in outcome.values() if isinstance(got, str)]
    assert len(leased) == len(set(leased)) == 10
    assert len(refused) == 1 and "0 available account(s), 2 students need one each" in refused[0]
    with Registry(path) as reg:
        by_account = {a.account_id: (a.cohort, a.student) for a in list_accounts(reg)}
        for name, got in outcome.items():
            if isinstance(got, dict):
                assert {by_account[a] for a in got.values()} == {(name, s) for s in got}
                assert reg.cohort(name).name == name
        assert len(reg.cohort_names()) == 5


@pytest.mark.parametrize(
    ("isolation", "pool", "target", "message"),
    [
        ("account", None, "emulator", "--isolation account needs --pool NAME"),
        ("account", "p1", "localstack", "--isolation account needs --target aws or emulator, not localstack"),
        ("shared", "p1", "aws", "--pool needs --isolation account"),
        ("account", "P 1", "aws", "pool name 'P 1' must be 2-32 characters"),
    ],
)
def test_isolation_flags_must_agree(isolation, pool, target, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        check_isolation(isolation, pool, target)


def test_isolation_defaults():
    assert check_isolation("shared", None, "localstack") is None
    assert check_isolation("account", "p1", "aws") == "p1"


@pytest.mark.emulator
def test_member_accounts_through_organizations_each_keep_their_own_state(aws, moto_endpoint):
    target = make_target("localstack", moto_endpoint, "us-east-1", None)
    created = create_member_accounts(target, "demo", 2)
    assert [e.email for e in created] == ["demo-001@example.com", "demo-002@example.com"]
    assert len({e.account_id for e in created}) == 2 and all(len(e.account_id) == 12 for e in created)
    more = create_member_accounts(target, "demo", 1)
    assert more[0].email == "demo-003@example.com"
    first, second = (assumed_session(target, e.account_id) for e in created)
    assert first.client("sts", endpoint_url=moto_endpoint).get_caller_identity()["Account"] == created[0].account_id
    first.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket="only-in-the-first")
    names = [b["Name"] for b in second.client("s3", endpoint_url=moto_endpoint).list_buckets()["Buckets"]]
    assert names == []
    names = [b["Name"] for b in first.client("s3", endpoint_url=moto_endpoint).list_buckets()["Buckets"]]
    assert names == ["only-in-the-first"]
