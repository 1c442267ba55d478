"""The RDS, PostgreSQL and workspace rules one by one, called as functions, at their boundaries:
storage and connection limits at and past the limit, each root spelling Docker accepts, each host
mount form, each way a grant can fail to revoke PUBLIC's CONNECT."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from labctl.policies.model import SECRET, UNKNOWN, PolicyResource, Stack
from labctl.policies.rules.postgres import (
    PG_DATABASE,
    PG_GRANT,
    PG_ROLE,
    ConnectionsConfig,
    postgres_database_private,
    postgres_role_limited,
)
from labctl.policies.rules.rds import RDS_CLUSTER, RDS_INSTANCE, RdsCostConfig, cost_rds_limits, number, rds_private_encrypted
from labctl.policies.rules.workspace import DOCKER_CONTAINER, host_paths, root_user, workspace_hardened


def resource(type_: str, **props: Any) -> PolicyResource:
    return PolicyResource(type_, "r", "urn:r", props, "s1", "c1-s1")


@pytest.mark.parametrize("type_", [RDS_INSTANCE, RDS_CLUSTER])
def test_a_database_is_private_and_encrypted(type_: str) -> None:
    def found(**props: Any) -> list[str]:
        return list(rds_private_encrypted.check(resource(type_, **props), None))

    assert found(publiclyAccessible=False, storageEncrypted=True) == []
    assert found(storageEncrypted=True) == []
    assert found(publiclyAccessible=True, storageEncrypted=True) == [f"{type_} 'r' must not be publicly accessible."]
    assert found(storageEncrypted="true") == [f"{type_} 'r' must set storageEncrypted to true."]
    assert found() == [f"{type_} 'r' must set storageEncrypted to true."]


@pytest.mark.parametrize(("value", "parsed"), [(20, 20.0), (20.5, 20.5), ("30", 30.0), ("lots", None), (True, None), (None, None), ([20], None)])
def test_storage_sizes_are_numbers_or_numeric_strings(value: Any, parsed: float | None) -> None:
    assert number(value) == parsed


def limits(config: RdsCostConfig | None = None, **props: Any) -> list[str]:
    base = {"instanceClass": "db.t3.micro", "allocatedStorage": 20}
    return list(cost_rds_limits.check(resource(RDS_INSTANCE, **{**base, **props}), config or RdsCostConfig()))


def test_storage_may_reach_the_limit_but_not_pass_it() -> None:
    assert limits() == []
    assert limits(allocatedStorage=21) == [f"{RDS_INSTANCE} 'r' must have allocatedStorage of at most 20 GB (it has 21)."]
    assert limits(maxAllocatedStorage="100") == [f"{RDS_INSTANCE} 'r' must have maxAllocatedStorage of at most 20 GB (it has 100)."]
    assert limits(allocatedStorage=UNKNOWN) == []


def test_the_class_is_one_of_the_allowed_and_multi_az_is_refused_unless_allowed() -> None:
    assert limits(instanceClass="db.r5.large") == [
        f"{RDS_INSTANCE} 'r' must use one of db.t3.micro, db.t4g.micro, db.t3.small, db.t4g.small (it uses 'db.r5.large')."
    ]
    assert limits(instanceClass=UNKNOWN) == [
        f"{RDS_INSTANCE} 'r' must use one of db.t3.micro, db.t4g.micro, db.t3.small, db.t4g.small (it uses '[unknown]')."
    ]
    assert limits(instanceClass={"Ref": "x"}) == []
    assert limits(multiAz=True) == [f"{RDS_INSTANCE} 'r' must not be multi-AZ."]
    assert limits(multiAz="true") == []
    assert limits(RdsCostConfig(allowMultiAz=True), multiAz=True) == []


HARDENED = {"user": "1000:1000", "readOnly": True, "capabilities": {"drops": ["ALL"]}, "memory": 512, "cpus": "1"}


def workspace(**props: Any) -> list[str]:
    merged = {k: v for k, v in {**HARDENED, **props}.items() if v is not None}
    return [m.removeprefix(f"{DOCKER_CONTAINER} 'r' ") for m in workspace_hardened.check(resource(DOCKER_CONTAINER, **merged), None)]


def test_a_hardened_workspace_passes() -> None:
    assert workspace() == []


@pytest.mark.parametrize("user", ["", "0", "root", "0:0", "root:root", " root ", 0, "00", "0:1000", "root:staff", "000:0"])
def test_every_spelling_of_root_is_root(user: Any) -> None:
    assert workspace(user=user) == ["must run as a non-root user (set user)."]


@given(uid=st.integers(min_value=0, max_value=2**31), zeros=st.integers(min_value=0, max_value=3),
       group=st.one_of(st.none(), st.integers(min_value=0, max_value=70000).map(str), st.sampled_from(["root", "staff"])))
def test_a_uid_runs_as_root_exactly_when_it_is_zero_however_padded_and_whatever_the_group(uid, zeros, group) -> None:
    """The kernel reads the uid as a number: `00` is uid 0; the group never makes a user root or not."""
    user = "0" * zeros + str(uid) + (f":{group}" if group is not None else "")
    assert root_user(user) is (uid == 0)


@pytest.mark.parametrize("user", ["coder", "1000", UNKNOWN, SECRET])
def test_a_named_or_unknown_user_is_not_root(user: str) -> None:
    assert workspace(user=user) == []


def test_the_root_filesystem_is_read_only_by_the_boolean() -> None:
    assert workspace(readOnly="true") == ["must have a read-only root filesystem (readOnly: true)."]


@pytest.mark.parametrize(
    ("capabilities", "messages"),
    [
        ({"drops": ["all"]}, []),
        ({"drops": ["NET_RAW"]}, ["must drop all capabilities (capabilities.drops: [ALL])."]),
        ({"drops": "ALL"}, ["must drop all capabilities (capabilities.drops: [ALL])."]),
        ({"drops": [1]}, ["must drop all capabilities (capabilities.drops: [ALL])."]),
        ("ALL", ["must drop all capabilities (capabilities.drops: [ALL])."]),
        ({"drops": ["ALL"], "adds": ["NET_ADMIN", "SYS_TIME"]}, ["must not add capabilities (it adds NET_ADMIN, SYS_TIME)."]),
        ({"drops": ["ALL"], "adds": []}, []),
    ],
)
def test_capabilities_are_all_dropped_and_none_added(capabilities: Any, messages: list[str]) -> None:
    assert workspace(capabilities=capabilities) == messages


def test_no_privilege_and_no_host_namespaces() -> None:
    assert workspace(privileged=True) == ["must not be privileged."]
    assert workspace(privileged="true") == []
    assert workspace(networkMode="host", pidMode="host") == [
        "must not share the host network (networkMode: host).",
        "must not share the host PID namespace (pidMode: host).",
    ]
    assert workspace(networkMode="bridge", pidMode="container:x") == []


def test_host_mounts_by_volume_or_bind_are_named_and_the_docker_socket_called_so() -> None:
    props = {
        "volumes": [{"hostPath": "/var/run/docker.sock/"}, {"volumeName": "home"}, {"hostPath": UNKNOWN}, "junk"],
        "mounts": [{"type": "bind", "source": "/etc"}, {"type": "volume", "source": "data"}, {"type": "bind", "source": ""}],
    }
    assert host_paths(props) == ["/var/run/docker.sock/", "/etc"]
    assert workspace(**props) == ["must not mount the Docker socket.", "must not mount the host path '/etc'."]
    assert host_paths({"volumes": "x", "mounts": None}) == []


@pytest.mark.parametrize("cpu", ["cpus", "cpuQuota", "cpuSet"])
def test_memory_and_a_cpu_cap_are_required_and_cpu_shares_are_no_cap(cpu: str) -> None:
    assert workspace(**{"cpus": None, cpu: 2}) == []
    assert workspace(cpus=None, cpuShares=512) == ["must have a CPU limit (cpus, cpuQuota or cpuSet)."]
    assert workspace(memory=None) == ["must have a memory limit (memory)."]
    assert workspace(memory=0) == ["must have a memory limit (memory)."]


# ---- postgres: roles and databases (PostgreSQL's CREATE ROLE / CREATE DATABASE semantics) ----

def role(**props: Any) -> list[str]:
    return list(postgres_role_limited.check(resource(PG_ROLE, **{"connectionLimit": 5, **props}), ConnectionsConfig()))


@pytest.mark.parametrize("attribute", ["superuser", "createDatabase", "createRole", "replication", "bypassRowLevelSecurity"])
def test_a_role_has_no_attribute_that_escapes_its_database(attribute: str) -> None:
    assert role(**{attribute: True}) == [f"{PG_ROLE} 'r' must not have {attribute}."]
    assert role(**{attribute: False}) == []


def test_every_escalating_attribute_is_named_once() -> None:
    assert role(superuser=True, createRole=True) == [f"{PG_ROLE} 'r' must not have superuser, createRole."]


@pytest.mark.parametrize(
    ("limit", "shown"),
    [(5, None), (10, None), (1, None), (11, "11"), (0, "0"), (-1, "unlimited"), (None, "unlimited"), ("lots", "unlimited"), ("3", None)],
)
def test_a_login_role_has_a_connection_limit_between_one_and_the_maximum(limit: Any, shown: str | None) -> None:
    assert role(connectionLimit=limit) == (
        [f"{PG_ROLE} 'r' must have a connectionLimit between 1 and 10 (it has {shown})."] if shown else []
    )


def test_a_nologin_role_needs_no_limit_and_an_unknown_limit_is_not_judged() -> None:
    assert role(login=False, connectionLimit=-1) == []
    assert role(login=True, connectionLimit=-1) == [f"{PG_ROLE} 'r' must have a connectionLimit between 1 and 10 (it has unlimited)."]
    assert role(connectionLimit=UNKNOWN) == []


def database_findings(*grants: dict, name: Any = "c1_s1", limit: Any = 5) -> list[str]:
    database = PolicyResource(PG_DATABASE, "db", "urn:db", {"name": name, "connectionLimit": limit}, "s1", "c1-s1")
    stack = Stack([database, *(resource(PG_GRANT, **g) for g in grants)])
    return [f.message for f in postgres_database_private.check(stack, ConnectionsConfig())]


REVOKE = {"role": "public", "objectType": "database", "database": "c1_s1", "privileges": []}
MUST_REVOKE = f"{PG_DATABASE} 'db' must revoke CONNECT from PUBLIC (a {PG_GRANT} to role public on 'c1_s1' with privileges [])."


@pytest.mark.parametrize(
    ("grant", "revoked"),
    [
        (REVOKE, True),
        ({**REVOKE, "role": "PUBLIC"}, True),
        ({**REVOKE, "privileges": None}, True),
        ({**REVOKE, "privileges": ["CONNECT"]}, False),
        ({**REVOKE, "role": "c1_s2"}, False),
        ({**REVOKE, "role": None}, False),
        ({**REVOKE, "objectType": "schema"}, False),
        ({**REVOKE, "database": "c1_s2"}, False),
    ],
)
def test_only_an_empty_grant_to_public_on_the_database_revokes_connect(grant: dict, revoked: bool) -> None:
    assert database_findings(grant) == ([] if revoked else [MUST_REVOKE])


def test_a_database_is_judged_by_its_name_and_its_limit() -> None:
    assert database_findings() == [MUST_REVOKE]
    assert database_findings(REVOKE, name=UNKNOWN) == []
    assert database_findings(REVOKE, limit=-1) == [f"{PG_DATABASE} 'db' must have a connectionLimit between 1 and 10 (it has unlimited)."]


def test_storage_under_the_limit_is_fine_and_the_limit_is_positive() -> None:
    assert limits(allocatedStorage=10, maxAllocatedStorage=5) == []
    assert limits(RdsCostConfig(maxStorageGb=1), allocatedStorage=1) == []
    for bad in (0, -1):
        with pytest.raises(ValidationError):
            RdsCostConfig(maxStorageGb=bad)


def fresh(text: str) -> str:
    """`text` as a new string object, as a value decoded from a plan's JSON is."""
    return "".join(list(text))


@pytest.mark.parametrize(
    "grant",
    [
        {**REVOKE, "objectType": "column"},
        {**REVOKE, "database": "c1_s0"},
        {**REVOKE, "role": "tester"},
    ],
)
def test_a_grant_on_something_else_or_to_someone_else_revokes_nothing(grant: dict) -> None:
    assert database_findings(grant) == [MUST_REVOKE]


def test_a_revoke_read_from_a_plan_revokes() -> None:
    grant = {"role": fresh("public"), "objectType": fresh("database"), "database": fresh("c1_s1"), "privileges": []}
    assert database_findings(grant) == []


def test_only_a_grant_resource_can_revoke() -> None:
    """Default privileges or a role with a grant's shape (types sorting before and after Grant) are not grants."""
    database = PolicyResource(PG_DATABASE, "db", "urn:db", {"name": "c1_s1", "connectionLimit": 5}, "s1", "c1-s1")
    lookalikes = [resource(kind, **REVOKE) for kind in ("postgresql:index/defaultPrivileges:DefaultPrivileges", "postgresql:index/role:Role")]
    found = [f.message for f in postgres_database_private.check(Stack([database, *lookalikes]), ConnectionsConfig())]
    assert found == [MUST_REVOKE]


def test_the_connection_maximum_is_positive() -> None:
    assert ConnectionsConfig(maxConnections=1).max_connections == 1
    for bad in (0, -1):
        with pytest.raises(ValidationError):
            ConnectionsConfig(maxConnections=bad)


def test_dropping_an_empty_capability_is_not_dropping_all() -> None:
    assert workspace(capabilities={"drops": [""]}) == ["must drop all capabilities (capabilities.drops: [ALL])."]


def test_only_the_docker_socket_is_called_the_docker_socket() -> None:
    assert workspace(volumes=[{"hostPath": "/var/run/user"}]) == ["must not mount the host path '/var/run/user'."]


def test_host_modes_and_bind_mounts_read_from_a_plan_are_recognised() -> None:
    assert workspace(networkMode=fresh("host")) == ["must not share the host network (networkMode: host)."]
    assert host_paths({"mounts": [{"type": fresh("bind"), "source": "/srv"}]}) == ["/srv"]
