"""NetworkPolicy checks on one namespace's objects in the API server's JSON shape (no cluster).

The namespace is the three-tier shop of the k8s-netpol-tiers lab: frontend, api and db Deployments
whose pods carry tier=<name>, a default deny, frontend -> api:8080 and api -> db:5432. Each test
changes one thing a student could get wrong and states the outcome from the NetworkPolicy semantics:
policies select pods by a LabelSelector, ingress rules add up, a peer without a namespaceSelector is a
pod of the policy's own namespace, and `kubernetes.io/metadata.name` is the namespace's immutable name.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from tests.validators.k8s_objects import NAMESPACE, from_api, labelled_deployment
from labctl.validators.checks.kubernetes import network

NAME_LABEL = "kubernetes.io/metadata.name"
OWN_NAMESPACE = {"namespaceSelector": {"matchLabels": {NAME_LABEL: NAMESPACE}}}
API_FROM_FRONTEND = network.TierParams(to_labels={"tier": "api"}, from_labels={"tier": "frontend"}, port=8080)
DB_FROM_API = network.TierParams(to_labels={"tier": "db"}, from_labels={"tier": "api"}, port=5432)
DB_PORTS = network.TierPortsParams(to_labels={"tier": "db"}, ports=[5432])
API_INGRESS = network.NetworkPolicyParams(deployment="api", from_labels={"tier": "frontend"})
INGRESS_DENIED = network.DefaultDenyParams()
EVERYTHING_DENIED = network.DefaultDenyParams(policy_types=["Ingress", "Egress"])


def tier(name: str, **ports: int) -> dict[str, Any]:
    """A tier's Deployment whose container serves `ports` (named port: number)."""
    container = {
        "name": name,
        "image": "nginxinc/nginx-unprivileged:1.27.3",
        "ports": [{"name": port_name, "containerPort": port, "protocol": "TCP"} for port_name, port in ports.items()],
    }
    return labelled_deployment(name, {"app": "shop", "tier": name}, container)


def pods(**labels: str) -> dict[str, Any]:
    return {"podSelector": {"matchLabels": labels}}


def tcp(port: int | str, end: int | None = None) -> dict[str, Any]:
    return {"protocol": "TCP", "port": port, **({"endPort": end} if end is not None else {})}


def rule(*peers: dict[str, Any], ports: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An ingress rule; the API server leaves out an empty `from` and an empty `ports`."""
    return {**({"from": list(peers)} if peers else {}), **({"ports": ports} if ports else {})}


def policy(name: str, selector: dict[str, Any], *rules: dict[str, Any], types: tuple[str, ...] = ("Ingress",)) -> dict[str, Any]:
    spec: dict[str, Any] = {"podSelector": selector, "policyTypes": list(types)}
    if rules:
        spec["ingress"] = list(rules)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": NAMESPACE, "generation": 1},
        "spec": spec,
    }


def on_tier(name: str, *rules: dict[str, Any]) -> dict[str, Any]:
    return policy(f"{name}-policy", {"matchLabels": {"tier": name}}, *rules)


DEFAULT_DENY = policy("default-deny", {})
API_POLICY = policy(
    "api-from-frontend", {"matchLabels": {"tier": "api"}}, rule({**OWN_NAMESPACE, **pods(tier="frontend")}, ports=[tcp(8080)])
)
DB_POLICY = policy("db-from-api", {"matchLabels": {"tier": "db"}}, rule(pods(tier="api"), ports=[tcp(5432)]))
SHOP = (tier("frontend", http=8080), tier("api", http=8080), tier("db", postgres=5432, metrics=9187))


def shop(*policies: dict[str, Any]) -> list[dict[str, Any]]:
    return [*SHOP, *policies]


def reference() -> list[dict[str, Any]]:
    return shop(DEFAULT_DENY, API_POLICY, DB_POLICY)


def outcome(result) -> tuple[str, str]:
    return result.status, result.message


def test_the_reference_solution_passes_every_network_check():
    inv = from_api(*reference())
    assert network.netpol_ingress_from(inv, API_INGRESS).status == "passed"
    assert network.netpol_default_deny(inv, INGRESS_DENIED).status == "passed"
    assert network.netpol_tier(inv, API_FROM_FRONTEND).status == "passed"
    assert network.netpol_tier(inv, DB_FROM_API).status == "passed"
    assert network.netpol_ports(inv, DB_PORTS).status == "passed"
    # The api tier sorts before db and frontend after api: neither is taken for the other.
    assert network.netpol_ports(inv, network.TierPortsParams(to_labels={"tier": "api"}, ports=[8080])).status == "passed"
    assert network.netpol_no_allow_all(inv, network.NamespaceParams()).status == "passed"


# --- which pods a policy selects: a LabelSelector -------------------------------------------------

@pytest.mark.parametrize(
    ("selector", "selects_api"),
    [
        ({}, True),
        ({"matchLabels": {"tier": "api"}}, True),
        ({"matchLabels": {"tier": "api", "app": "shop"}}, True),
        ({"matchLabels": {"tier": "db"}}, False),
        ({"matchLabels": {"tier": "aardvark"}}, False),
        ({"matchLabels": {"track": "canary"}}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["api", "db"]}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend", "db"]}]}, False),
        ({"matchExpressions": [{"key": "track", "operator": "In", "values": ["stable"]}]}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]}, True),
        ({"matchExpressions": [{"key": "track", "operator": "NotIn", "values": ["canary"]}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["api", "db"]}]}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "track", "operator": "Exists"}]}, False),
        ({"matchExpressions": [{"key": "track", "operator": "DoesNotExist"}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, False),
        ({"matchLabels": {"app": "shop"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["db"]}]}, False),
    ],
)
def test_a_policy_restricts_the_pods_its_selector_matches(selector, selects_api):
    inv = from_api(*shop(policy("api-from-frontend", selector, rule(pods(tier="frontend")))))
    result = network.netpol_ingress_from(inv, API_INGRESS)
    if selects_api:
        assert result.status == "passed"
    else:
        assert outcome(result) == ("failed", "no NetworkPolicy with ingress rules selects the pods of deployment api")


def test_a_policy_without_pod_selector_or_policy_types_restricts_ingress_to_every_pod():
    """An absent podSelector selects every pod, absent policyTypes mean Ingress (the API's defaults)."""
    frontend_only, deny = policy("frontend-only", {}, rule(pods(tier="frontend"))), policy("default-deny", {})
    for bare in (frontend_only, deny):
        del bare["spec"]["podSelector"], bare["spec"]["policyTypes"]
    assert network.netpol_ingress_from(from_api(*shop(frontend_only)), API_INGRESS).status == "passed"
    assert network.netpol_default_deny(from_api(*shop(deny)), INGRESS_DENIED).status == "passed"


def test_an_egress_only_policy_does_not_restrict_ingress():
    egress = policy("api-egress", {"matchLabels": {"tier": "api"}}, rule(pods(tier="frontend")), types=("Egress",))
    result = network.netpol_ingress_from(from_api(*shop(egress)), API_INGRESS)
    assert outcome(result) == ("failed", "no NetworkPolicy with ingress rules selects the pods of deployment api")


# --- which sources a peer admits ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("peer", "problem"),
    [
        (pods(tier="frontend"), None),
        (pods(tier="frontend", app="shop"), None),
        ({"podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend"]}]}}, None),
        (pods(tier="api"), "allows pods that are not labelled tier=frontend"),
        (pods(tier="web"), "allows pods that are not labelled tier=frontend"),
        (pods(app="shop"), "allows pods that are not labelled tier=frontend"),
        ({"podSelector": {}}, "allows pods that are not labelled tier=frontend"),
        ({"podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["api"]}]}},
         "allows pods that are not labelled tier=frontend"),
        ({"podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}]}},
         "allows pods that are not labelled tier=frontend"),
        ({"podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend", "api"]}]}},
         "allows pods that are not labelled tier=frontend"),
        ({"podSelector": {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["frontend"]}]}},
         "allows pods that are not labelled tier=frontend"),
        ({"podSelector": {"matchExpressions": [{"key": "tier", "operator": "Exists"}]}},
         "allows pods that are not labelled tier=frontend"),
        ({"podSelector": {"matchExpressions": [{"key": "role", "operator": "In", "values": ["frontend"]}]}},
         "allows pods that are not labelled tier=frontend"),
        ({"ipBlock": {"cidr": "10.0.0.0/8"}}, "allows the IP block 10.0.0.0/8"),
        ({"namespaceSelector": {}, **pods(tier="frontend")}, "allows pods of other namespaces (namespaceSelector)"),
    ],
)
def test_a_peer_must_be_this_namespaces_pods_carrying_the_wanted_labels(peer, problem):
    inv = from_api(*shop(on_tier("api", rule(peer))))
    result = network.netpol_ingress_from(inv, API_INGRESS)
    assert outcome(result) == (("passed", "") if problem is None else ("failed", f"api-policy rule 1 {problem}"))


@pytest.mark.parametrize(
    ("namespace_selector", "pinned"),
    [
        ({"matchLabels": {NAME_LABEL: NAMESPACE}}, True),
        ({"matchExpressions": [{"key": NAME_LABEL, "operator": "In", "values": [NAMESPACE]}]}, True),
        ({"matchLabels": {NAME_LABEL: "c1-bob"}}, False),
        ({"matchLabels": {NAME_LABEL: "c1-aaron"}}, False),
        ({"matchLabels": {"team": "shop"}}, False),
        ({"matchExpressions": [{"key": NAME_LABEL, "operator": "In", "values": [NAMESPACE, "c1-bob"]}]}, False),
        ({"matchExpressions": [{"key": "name", "operator": "In", "values": [NAMESPACE]}]}, False),
        ({}, False),
    ],
)
def test_a_namespace_selector_is_only_safe_when_pinned_to_the_namespace_name(namespace_selector, pinned):
    peer = {"namespaceSelector": namespace_selector, **pods(tier="frontend")}
    inv = from_api(*shop(DEFAULT_DENY, on_tier("api", rule(peer, ports=[tcp(8080)])), DB_POLICY))
    result = network.netpol_tier(inv, API_FROM_FRONTEND)
    expected = "api-policy rule 1 allows pods of other namespaces (namespaceSelector)"
    assert outcome(result) == (("passed", "") if pinned else ("failed", expected))


# --- k8s.netpol-ingress-from ----------------------------------------------------------------------

def test_ingress_from_is_skipped_without_the_deployment_and_fails_without_a_policy():
    missing = network.netpol_ingress_from(from_api(), API_INGRESS)
    assert outcome(missing) == ("skipped", f"deployment api does not exist in namespace {NAMESPACE}")
    unprotected = network.netpol_ingress_from(from_api(*shop()), API_INGRESS)
    assert unprotected.status == "failed" and unprotected.hint


def test_ingress_from_fails_when_the_policies_let_nothing_in():
    result = network.netpol_ingress_from(from_api(*shop(DEFAULT_DENY)), API_INGRESS)
    assert outcome(result) == ("failed", "the policies deny all ingress; pods labelled tier=frontend must be allowed in")


def test_ingress_from_names_every_open_rule_of_every_selecting_policy_in_name_order():
    """Ingress rules add up: one rule open to everywhere undoes the good ones beside it."""
    web = on_tier("api", rule(pods(tier="frontend")), rule(), rule({"ipBlock": {"cidr": "10.0.0.0/8"}}, pods(tier="frontend")))
    monitoring = policy("allow-monitoring", {}, rule({"ipBlock": {"cidr": "192.168.0.0/16"}}))
    result = network.netpol_ingress_from(from_api(*shop(web, monitoring)), API_INGRESS)
    assert outcome(result) == (
        "failed",
        "allow-monitoring rule 1 allows the IP block 192.168.0.0/16; api-policy rule 2 allows ingress from everywhere; "
        "api-policy rule 3 allows the IP block 10.0.0.0/8",
    )


# --- k8s.netpol-default-deny ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("policies", "wanted", "denied"),
    [
        ([DEFAULT_DENY], INGRESS_DENIED, True),
        ([API_POLICY, DEFAULT_DENY], INGRESS_DENIED, True),
        ([policy("default-deny", {"matchLabels": {"tier": "db"}})], INGRESS_DENIED, False),
        ([policy("default-deny", {"matchExpressions": [{"key": "tier", "operator": "Exists"}]})], INGRESS_DENIED, False),
        ([policy("default-deny", {}, rule(pods(tier="frontend")))], INGRESS_DENIED, False),
        ([policy("default-deny", {}, types=("Egress",))], INGRESS_DENIED, False),
        ([policy("default-deny", {}, types=("Ingress", "Egress"))], EVERYTHING_DENIED, True),
        ([policy("default-deny", {}, types=("Ingress", "Egress"))], network.DefaultDenyParams(policy_types=["Egress"]), True),
        ([DEFAULT_DENY], EVERYTHING_DENIED, False),
        ([], INGRESS_DENIED, False),
    ],
)
def test_a_default_deny_selects_every_pod_with_the_wanted_types_and_no_rules(policies, wanted, denied):
    result = network.netpol_default_deny(from_api(*shop(*policies)), wanted)
    assert result.status == ("passed" if denied else "failed")


def test_a_default_deny_with_egress_rules_denies_no_egress():
    deny = policy("default-deny", {}, types=("Ingress", "Egress"))
    deny["spec"]["egress"] = [{"to": [{"namespaceSelector": {}}], "ports": [{"protocol": "UDP", "port": 53}]}]
    result = network.netpol_default_deny(from_api(*shop(deny)), EVERYTHING_DENIED)
    assert outcome(result) == (
        "failed",
        "no NetworkPolicy selects every pod (podSelector: {}) with policyTypes [Ingress, Egress] and no rules for them",
    )


# --- k8s.netpol-tier ------------------------------------------------------------------------------

def test_a_tier_no_deployment_carries_is_skipped():
    params = network.TierParams(to_labels={"tier": "cache"}, from_labels={"tier": "api"})
    assert outcome(network.netpol_tier(from_api(*reference()), params)) == (
        "skipped", "no deployment's pods are labelled tier=cache"
    )


def test_every_deployment_of_the_tier_needs_a_restricting_policy():
    canary = labelled_deployment("api-canary", {"tier": "api", "track": "canary"})
    result = network.netpol_tier(from_api(*shop(canary)), API_FROM_FRONTEND)
    assert outcome(result) == (
        "failed",
        "no NetworkPolicy restricts ingress to the pods of deployment api; "
        "no NetworkPolicy restricts ingress to the pods of deployment api-canary",
    )


@pytest.mark.parametrize(
    ("ports", "allowed"),
    [
        ([tcp(8080)], True),
        ([tcp(8000, 8100)], True),
        ([tcp(8080, 8090)], True),
        ([tcp(7000, 8080)], True),
        ([{"protocol": "TCP"}], True),
        ([tcp(80), tcp(8080)], True),
        ([tcp("http")], True),
        ([tcp("metrics")], False),
        ([tcp(8081, 8100)], False),
        ([tcp(8000, 8079)], False),
        ([tcp(80)], False),
    ],
)
def test_the_wanted_port_must_be_one_a_rule_lists_or_within_its_range(ports, allowed):
    inv = from_api(*shop(on_tier("api", rule(pods(tier="frontend"), ports=ports))))
    result = network.netpol_tier(inv, API_FROM_FRONTEND)
    expected = "no rule lets tier=frontend pods reach the pods of deployment api on port 8080"
    assert outcome(result) == (("passed", "") if allowed else ("failed", expected))


def test_without_a_wanted_port_any_rule_that_admits_the_source_will_do():
    any_port = network.TierParams(to_labels={"tier": "api"}, from_labels={"tier": "frontend"})
    inv = from_api(*shop(on_tier("api", rule(pods(tier="frontend"), ports=[tcp(80)]))))
    assert network.netpol_tier(inv, any_port).status == "passed"
    denied = network.netpol_tier(from_api(*shop(DEFAULT_DENY)), any_port)
    assert outcome(denied) == (
        "failed", "no rule lets tier=frontend pods reach the pods of deployment api"
    )


def test_a_rule_without_from_opens_the_tier_and_a_wider_peer_is_reported_once():
    """A wider peer makes its own problem; "no rule lets ..." is for a tier nothing else was said about."""
    open_rule = on_tier("api", rule(ports=[tcp(8080)]))
    result = network.netpol_tier(from_api(*shop(open_rule)), API_FROM_FRONTEND)
    assert outcome(result) == ("failed", "api-policy rule 1 allows ingress to tier=api from everywhere")
    wide = on_tier("api", rule({"ipBlock": {"cidr": "10.0.0.0/8"}}), rule({"ipBlock": {"cidr": "10.0.0.0/8"}}))
    canary = labelled_deployment("api-canary", {"tier": "api", "track": "canary"})
    result = network.netpol_tier(from_api(*shop(wide, canary)), API_FROM_FRONTEND)
    assert outcome(result) == (
        "failed", "api-policy rule 1 allows the IP block 10.0.0.0/8; api-policy rule 2 allows the IP block 10.0.0.0/8"
    )


# --- k8s.netpol-ports -----------------------------------------------------------------------------

def test_ports_are_skipped_without_the_tier():
    params = network.TierPortsParams(to_labels={"tier": "cache"}, ports=[6379])
    assert outcome(network.netpol_ports(from_api(*reference()), params)) == (
        "skipped", "no deployment's pods are labelled tier=cache"
    )


@pytest.mark.parametrize(
    ("ports", "problem"),
    [
        ([tcp(5432)], None),
        ([tcp(5432, 5432)], None),
        ([tcp(5433)], "allows port 5433"),
        ([tcp(5433, 5433)], "allows port 5433"),
        ([tcp(5432, 5433)], "allows port 5432-5433"),
        ([tcp(5432, 5434)], "allows port 5432-5434"),
        ([tcp(5431, 5432)], "allows port 5431-5432"),
        ([{"protocol": "UDP"}], "allows every UDP port"),
        ([tcp("postgres")], None),
        ([tcp("http")], None),
        ([tcp("metrics")], "allows port metrics (9187)"),
        (None, "allows every port"),
    ],
)
def test_each_port_a_rule_opens_must_be_a_wanted_one(ports, problem):
    inv = from_api(*shop(on_tier("db", rule(pods(tier="api"), ports=ports))))
    result = network.netpol_ports(inv, DB_PORTS)
    assert outcome(result) == (("passed", "") if problem is None else ("failed", f"ingress to tier=db pods: db-policy rule 1 {problem}"))


def test_a_range_within_the_wanted_ports_passes_and_each_problem_is_named_once():
    both = network.TierPortsParams(to_labels={"tier": "db"}, ports=[5432, 5433])
    inv = from_api(*shop(on_tier("db", rule(pods(tier="api"), ports=[tcp(5432, 5433)]))))
    assert network.netpol_ports(inv, both).status == "passed"
    replica = labelled_deployment("db-replica", {"tier": "db", "role": "replica"})
    opened = on_tier("db", rule(pods(tier="api"), ports=[tcp(5432)]), rule(pods(tier="api")))
    result = network.netpol_ports(from_api(*shop(opened, replica)), DB_PORTS)
    assert outcome(result) == ("failed", "ingress to tier=db pods: db-policy rule 2 allows every port")


# --- k8s.netpol-no-allow-all ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("peer", "problem"),
    [
        ({"ipBlock": {"cidr": "0.0.0.0/0"}}, "admits the IP block 0.0.0.0/0"),
        ({"ipBlock": {"cidr": "::/0"}}, "admits the IP block ::/0"),
        ({"ipBlock": {"cidr": "10.0.0.0/8"}}, None),
        ({"namespaceSelector": {}}, "admits every pod of every namespace"),
        ({"namespaceSelector": {}, "podSelector": {}}, "admits every pod of every namespace"),
        ({"namespaceSelector": {}, **pods(tier="frontend")}, None),
        ({"namespaceSelector": {"matchLabels": {"team": "shop"}}}, None),
        ({**OWN_NAMESPACE, "podSelector": {}}, None),
        ({"podSelector": {}}, None),
    ],
)
def test_a_peer_open_to_everything_trips_the_guard(peer, problem):
    inv = from_api(*shop(DEFAULT_DENY, on_tier("api", rule(pods(tier="frontend")), rule(peer))))
    result = network.netpol_no_allow_all(inv, network.NamespaceParams())
    assert outcome(result) == (("passed", "") if problem is None else ("failed", f"api-policy rule 2 {problem}"))


def test_the_guard_names_every_open_rule_of_every_policy():
    allow_all = policy("allow-all", {}, rule())
    open_rules = on_tier("db", rule(pods(tier="api")), rule({"ipBlock": {"cidr": "0.0.0.0/0"}}, {"namespaceSelector": {}}))
    result = network.netpol_no_allow_all(from_api(*shop(allow_all, open_rules)), network.NamespaceParams())
    assert outcome(result) == (
        "failed",
        "allow-all rule 1 has no from: it admits every source; db-policy rule 2 admits the IP block 0.0.0.0/0; "
        "db-policy rule 2 admits every pod of every namespace",
    )


# --- what a lab may ask -----------------------------------------------------------------------------

def test_a_lab_names_at_least_one_label_type_and_port_and_only_real_ports():
    assert network.TierParams(to_labels={"tier": "api"}, from_labels={"tier": "frontend"}, port=1).port == 1
    assert network.TierParams(to_labels={"tier": "api"}, from_labels={"tier": "frontend"}, port=65535).port == 65535
    assert network.DefaultDenyParams(policy_types=["Egress"]).policy_types == ["Egress"]
    for invalid in (
        lambda: network.TierParams(to_labels={"tier": "api"}, from_labels={"tier": "frontend"}, port=0),
        lambda: network.TierParams(to_labels={"tier": "api"}, from_labels={"tier": "frontend"}, port=65536),
        lambda: network.TierParams(to_labels={}, from_labels={"tier": "frontend"}),
        lambda: network.TierParams(to_labels={"tier": "api"}, from_labels={}),
        lambda: network.TierPortsParams(to_labels={}, ports=[5432]),
        lambda: network.TierPortsParams(to_labels={"tier": "db"}, ports=[]),
        lambda: network.NetworkPolicyParams(deployment="api", from_labels={}),
        lambda: network.DefaultDenyParams(policy_types=[]),
    ):
        with pytest.raises(ValidationError):
            invalid()
