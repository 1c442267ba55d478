"""Ingress and Service exposure checks on one namespace's objects as the API server returns them. An
Ingress names its class in spec.ingressClassName (not the deprecated annotation); routes the host and
path asked, with the pathType asked, to an existing Service and a port it exposes (by number, or by
the name of that Service's port); serves the host over TLS from a kubernetes.io/tls Secret holding
tls.crt and tls.key; has been given an address by a controller; and claims only hosts under the
student's domain, with no catch-all rule or default backend. No Service is reachable from outside the
cluster."""

from __future__ import annotations

from typing import Any

import pytest

from labctl.validators.checks.kubernetes import ingress
from labctl.validators.checks.kubernetes.objects import NamespaceParams
from tests.validators.k8s_objects import from_api, lab_may_ask, metadata

DOMAIN = "c1-ada.labs.example.com"
HOST = f"shop.{DOMAIN}"


def backend(service: str = "shop", port: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"service": {"name": service, "port": {"number": 80} if port is None else port}}


def path(at: str = "/", path_type: str = "Prefix", to: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"path": at, "pathType": path_type, "backend": backend() if to is None else to}


def rule(host: str | None = HOST, *paths: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {"http": {"paths": list(paths) or [path()]}}
    if host is not None:
        found["host"] = host
    return found


def shop_ingress(name: str = "shop", **spec: Any) -> dict[str, Any]:
    fields = {"ingressClassName": "nginx", "tls": [{"hosts": [HOST], "secretName": "shop-tls"}], "rules": [rule()], **spec}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata(name, generation=1),
        "spec": {k: v for k, v in fields.items() if v is not None},
        "status": {"loadBalancer": {"ingress": [{"ip": "172.18.0.5"}]}},
    }


def service(name: str = "shop", ports: list[dict[str, Any]] | None = None, **spec: Any) -> dict[str, Any]:
    fields = {
        "type": "ClusterIP",
        "clusterIP": "10.96.201.44",
        "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}] if ports is None else ports,
        "selector": {"app": name},
        **spec,
    }
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata(name), "spec": fields, "status": {"loadBalancer": {}}}


def tls_secret(name: str = "shop-tls", kind: str = "kubernetes.io/tls", keys: tuple[str, ...] = ("tls.crt", "tls.key")) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata(name), "type": kind, "data": dict.fromkeys(keys, "LS0tLS1CRUdJTi")}


CLASS = ingress.IngressClassParams(ingress="shop", class_name="nginx")
ROUTE = ingress.IngressRouteParams(ingress="shop", host=HOST, service="shop", port=80)
TLS = ingress.IngressTlsParams(ingress="shop", host=HOST, secret="shop-tls")
ADMITTED = ingress.IngressParams(ingress="shop")
OWN = ingress.DomainParams(domain=DOMAIN)


@pytest.mark.parametrize(
    "check, params",
    [(ingress.ingress_class, CLASS), (ingress.ingress_tls, TLS), (ingress.ingress_admitted, ADMITTED)],
)
def test_the_checks_of_one_ingress_skip_without_it(check, params):
    result = check(from_api(shop_ingress("web"), service(), tls_secret()), params)
    assert (result.status, result.message) == ("skipped", "ingress shop does not exist in namespace c1-ada")
    assert check(from_api(shop_ingress(), service(), tls_secret()), params).status == "passed"


def test_another_class_or_none_fails_and_the_annotation_is_named_as_deprecated():
    other = ingress.ingress_class(from_api(shop_ingress(ingressClassName="traefik")), CLASS)
    assert (other.status, other.message) == ("failed", "ingress shop has ingressClassName traefik, expected nginx")
    unset = ingress.ingress_class(from_api(shop_ingress(ingressClassName=None)), CLASS)
    assert unset.message == "ingress shop has no spec.ingressClassName, expected nginx"
    legacy = shop_ingress(ingressClassName=None)
    legacy["metadata"]["annotations"] = {"kubernetes.io/ingress.class": "nginx"}
    assert ingress.ingress_class(from_api(legacy), CLASS).message == (
        "ingress shop has no spec.ingressClassName (the kubernetes.io/ingress.class annotation is deprecated), expected nginx"
    )


def route(*objects: dict[str, Any], params: ingress.IngressRouteParams = ROUTE):
    return ingress.ingress_route(from_api(*objects), params)


def test_the_route_asked_to_the_services_port_passes():
    assert ROUTE.path == "/" and ROUTE.path_type == "Prefix"
    assert route(shop_ingress(), service()).status == "passed"


def test_a_backend_port_by_the_services_port_name_passes():
    by_name = shop_ingress(rules=[rule(HOST, path(to=backend(port={"name": "http"})))])
    assert route(by_name, service()).status == "passed"
    metrics = [{"name": "metrics", "port": 9090}, {"name": "http", "port": 80}]
    assert route(by_name, service(ports=metrics)).status == "passed"


def test_the_rule_of_the_host_and_the_path_are_found_among_others():
    api = path("/api", "Prefix", backend("api"))
    other_host = rule("admin.c1-ada.labs.example.com", path(to=backend("admin")))
    found = shop_ingress(rules=[other_host, rule(HOST, api, {"pathType": "Prefix", "backend": backend()})])
    assert route(found, service()).status == "passed"


def test_a_missing_ingress_fails_with_the_create_command():
    result = route(service())
    assert (result.status, result.message) == ("failed", "ingress shop does not exist in namespace c1-ada")
    assert result.hint == f"kubectl -n c1-ada create ingress shop --rule={HOST}/*=shop:80"


def test_no_rule_for_the_host_lists_the_hosts_there_are():
    hosts = shop_ingress(rules=[rule("www.c1-ada.labs.example.com"), rule(None)])
    result = route(hosts, service())
    assert (result.status, result.message) == (
        "failed",
        f"ingress shop has no rule for host {HOST} (rules: www.c1-ada.labs.example.com, (any host))",
    )
    assert route(shop_ingress(rules=None), service()).message == f"ingress shop has no rule for host {HOST} (rules: none)"


def test_no_rule_for_the_path_lists_the_paths_there_are():
    result = route(shop_ingress(rules=[rule(HOST, path("/api"), path("/static"))]), service())
    assert (result.status, result.message) == ("failed", f"ingress shop host {HOST} has no path / (paths: /api, /static)")
    api = ingress.IngressRouteParams(ingress="shop", host=HOST, path="/api", service="shop", port=80)
    assert route(shop_ingress(), service(), params=api).message == f"ingress shop host {HOST} has no path /api (paths: /)"
    no_paths = shop_ingress(rules=[{"host": HOST}])
    assert route(no_paths, service()).message == f"ingress shop host {HOST} has no path / (paths: none)"


def test_another_path_type_and_backend_are_both_named():
    result = route(shop_ingress(rules=[rule(HOST, path(path_type="Exact", to=backend("web")))]), service(), service("web"))
    assert (result.status, result.message) == (
        "failed",
        f"ingress shop {HOST}/: pathType is Exact, expected Prefix; the backend is service web, expected shop",
    )
    resource = {"resource": {"apiGroup": "k8s.example.com", "kind": "StorageBucket", "name": "static"}}
    assert route(shop_ingress(rules=[rule(HOST, path(to=resource))]), service()).message == (
        f"ingress shop {HOST}/: the backend is service (none), expected shop"
    )


def test_a_backend_service_that_does_not_exist():
    result = route(shop_ingress(), service("web"))
    assert (result.status, result.message) == ("failed", f"ingress shop {HOST}/: its backend service shop does not exist")


@pytest.mark.parametrize(
    ("port", "shown"),
    [({"number": 8080}, "8080"), ({"name": "metrics"}, "metrics"), ({"name": "https"}, "https")],
)
def test_a_backend_port_that_is_not_the_one_asked_is_named(port, shown):
    ports = [{"name": "http", "port": 80}, {"name": "metrics", "port": 9090}, {"name": "https", "port": 443}]
    result = route(shop_ingress(rules=[rule(HOST, path(to=backend(port=port)))]), service(ports=ports))
    assert result.message == f"ingress shop {HOST}/: the backend port is {shown}, expected 80"


def test_a_backend_port_name_of_no_service_port_does_not_match():
    result = route(shop_ingress(rules=[rule(HOST, path(to=backend(port={"name": "web"})))]), service())
    assert result.message == f"ingress shop {HOST}/: the backend port is web, expected 80"


def test_a_service_that_does_not_expose_the_port():
    result = route(shop_ingress(), service(ports=[{"name": "http", "port": 8080, "targetPort": 8080}]))
    assert result.message == f"ingress shop {HOST}/: service shop does not expose port 80"


def test_tls_with_another_secret_or_none_names_it():
    other = ingress.ingress_tls(from_api(shop_ingress(tls=[{"hosts": [HOST], "secretName": "web-tls"}]), tls_secret()), TLS)
    assert (other.status, other.message) == ("failed", f"the tls entry for {HOST} uses secret web-tls, expected shop-tls")
    unnamed = ingress.ingress_tls(from_api(shop_ingress(tls=[{"hosts": [HOST]}]), tls_secret()), TLS)
    assert unnamed.message == f"the tls entry for {HOST} uses secret (none), expected shop-tls"


def test_any_tls_entry_of_the_host_may_name_the_secret():
    entries = [{"hosts": [HOST], "secretName": "old-tls"}, {"hosts": ["www.c1-ada.labs.example.com", HOST], "secretName": "shop-tls"}]
    assert ingress.ingress_tls(from_api(shop_ingress(tls=entries), tls_secret()), TLS).status == "passed"


def test_tls_for_other_hosts_only_fails_with_the_spec_hint():
    for tls in ([{"hosts": ["www.c1-ada.labs.example.com"], "secretName": "shop-tls"}], [{"secretName": "shop-tls"}], None):
        result = ingress.ingress_tls(from_api(shop_ingress(tls=tls), tls_secret()), TLS)
        assert (result.status, result.message) == ("failed", f"ingress shop has no tls entry for host {HOST}")
        assert result.hint == f"spec.tls: [{{hosts: [{HOST}], secretName: shop-tls}}]"


def test_a_missing_tls_secret_fails_with_the_create_command():
    result = ingress.ingress_tls(from_api(shop_ingress(), tls_secret("web-tls")), TLS)
    assert (result.status, result.message) == ("failed", "secret shop-tls does not exist")
    assert result.hint == "kubectl -n c1-ada create secret tls shop-tls --cert=tls.crt --key=tls.key"


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        (tls_secret(kind="Opaque"), "secret shop-tls has type Opaque, expected kubernetes.io/tls"),
        (tls_secret(kind="tls"), "secret shop-tls has type tls, expected kubernetes.io/tls"),
        (tls_secret(kind="Opaque", keys=("tls.crt",)), "secret shop-tls has type Opaque, expected kubernetes.io/tls; it has no tls.key"),
        (tls_secret(keys=("cert.pem", "key.pem")), "secret shop-tls has type kubernetes.io/tls, expected kubernetes.io/tls; it has no tls.crt, tls.key"),
    ],
)
def test_a_secret_that_is_not_a_tls_secret_fails(secret, message):
    result = ingress.ingress_tls(from_api(shop_ingress(), secret), TLS)
    assert (result.status, result.message) == ("failed", message)


@pytest.mark.parametrize(
    "addresses", [[{"ip": "172.18.0.5"}], [{"hostname": "lb.example.com"}], [{"ports": [{"port": 80}]}, {"ip": "10.0.0.9"}]]
)
def test_an_address_from_the_controller_admits_the_ingress(addresses):
    admitted = shop_ingress()
    admitted["status"]["loadBalancer"]["ingress"] = addresses
    assert ingress.ingress_admitted(from_api(admitted), ADMITTED).status == "passed"


@pytest.mark.parametrize("status", [{}, {"loadBalancer": {}}, {"loadBalancer": {"ingress": [{"ports": [{"port": 80}]}]}}])
def test_no_address_means_no_controller_admitted_it(status):
    waiting = {**shop_ingress(), "status": status}
    result = ingress.ingress_admitted(from_api(waiting), ADMITTED)
    assert (result.status, result.message) == ("failed", "ingress shop has no address yet: no ingress controller has admitted it")
    assert result.hint == "kubectl -n c1-ada describe ingress shop (is ingressClassName right?)"


def test_hosts_under_the_domain_or_the_domain_itself_are_the_students():
    hosts = shop_ingress(
        rules=[rule(HOST), rule(DOMAIN), rule("a.b.c1-ada.labs.example.com")],
        tls=[{"hosts": [HOST, DOMAIN], "secretName": "shop-tls"}],
    )
    assert ingress.ingress_own_hosts(from_api(hosts, shop_ingress("web")), OWN).status == "passed"


def test_every_host_outside_the_domain_and_every_catch_all_is_named_in_order():
    shop = shop_ingress(
        rules=[rule(HOST), rule("shop.c1-bob.labs.example.com"), rule(None), rule("evil-c1-ada.labs.example.com")],
        tls=[{"hosts": [HOST, f"{DOMAIN}.evil.test"], "secretName": "shop-tls"}, {"secretName": "default-tls"}],
    )
    web = shop_ingress("web", rules=None, tls=None, defaultBackend=backend("web"))
    result = ingress.ingress_own_hosts(from_api(web, shop), OWN)
    assert (result.status, result.message) == (
        "failed",
        "ingress shop rule 2 claims host shop.c1-bob.labs.example.com, outside c1-ada.labs.example.com; "
        "ingress shop rule 3 has no host (it catches every host); "
        "ingress shop rule 4 claims host evil-c1-ada.labs.example.com, outside c1-ada.labs.example.com; "
        "ingress shop tls claims host c1-ada.labs.example.com.evil.test, outside c1-ada.labs.example.com; "
        "ingress web sets a defaultBackend (it catches every unmatched host)",
    )


def test_cluster_ip_headless_and_external_name_services_stay_inside():
    inside = [
        service(),
        service("db", clusterIP="None"),
        service("legacy", type="ExternalName", externalName="db.example.com", ports=[]),
        {**service("plain"), "spec": {"ports": [{"port": 80}], "selector": {"app": "plain"}}},
    ]
    assert ingress.no_external_services(from_api(*inside), NamespaceParams()).status == "passed"


def test_node_ports_load_balancers_and_external_ips_are_named_in_order():
    outside = [
        service("web", type="LoadBalancer"),
        service("api", type="NodePort", externalIPs=["203.0.113.7"]),
        service("shop", externalIPs=["203.0.113.8"]),
        service("db"),
    ]
    result = ingress.no_external_services(from_api(*outside), NamespaceParams())
    assert (result.status, result.message) == (
        "failed",
        "service api is of type NodePort; service api sets externalIPs; service shop sets externalIPs; "
        "service web is of type LoadBalancer",
    )


API_ROUTE = ingress.IngressRouteParams(ingress="shop", host=HOST, path="/api", path_type="Exact", service="shop", port=8080)
API_PORTS = [{"name": "admin", "port": 81}, {"name": "web", "port": 8080}]


def api_ingress(port: dict[str, Any], path_type: str = "Exact") -> dict[str, Any]:
    return shop_ingress(rules=[rule(HOST, path("/api", path_type, backend(port=port)))])


def test_a_route_read_off_the_wire_passes_by_value():
    """Path, port number and name come decoded from the API server: equal to the lab's, never the same
    objects (a port above 256 is a new int object too)."""
    assert route(api_ingress({"number": 8080}), service(ports=API_PORTS), params=API_ROUTE).status == "passed"
    assert route(api_ingress({"name": "web"}), service(ports=API_PORTS), params=API_ROUTE).status == "passed"


@pytest.mark.parametrize(
    ("port", "ports"),
    [
        ({"number": 81}, API_PORTS),
        ({"name": "admin"}, API_PORTS),
        ({"name": "api"}, [{"name": "web", "port": 8080}]),
    ],
)
def test_a_backend_port_below_the_one_asked_or_another_name_does_not_match(port, ports):
    assert route(api_ingress(port), service(ports=ports), params=API_ROUTE).status == "failed"


@pytest.mark.parametrize("path_type", ["Prefix", "ImplementationSpecific"])
def test_a_path_type_other_than_exact_fails_when_exact_is_asked(path_type):
    result = route(api_ingress({"number": 8080}, path_type), service(ports=API_PORTS), params=API_ROUTE)
    assert result.status == "failed" and f"pathType is {path_type}, expected Exact" in result.message


def test_a_host_that_sorts_before_the_domain_is_still_outside_it():
    outside = shop_ingress(rules=[rule("a.example.org")], tls=None)
    assert ingress.ingress_own_hosts(from_api(outside), OWN).status == "failed"


@pytest.mark.parametrize(("fields", "admitted"), [({"port": 1}, True), ({"port": 65535}, True), ({"port": 0}, False), ({"port": 65536}, False)])
def test_the_ports_a_lab_may_ask_for(fields, admitted):
    made = {"ingress": "shop", "host": HOST, "service": "shop", **fields}
    assert lab_may_ask(ingress.IngressRouteParams, made) is admitted


def test_a_tls_entry_naming_other_secrets_names_them_all():
    entries = [{"hosts": [HOST], "secretName": "old-tls"}, {"hosts": [HOST], "secretName": "new-tls"}]
    result = ingress.ingress_tls(from_api(shop_ingress(tls=entries), tls_secret()), TLS)
    assert result.message == f"the tls entry for {HOST} uses secret old-tls, new-tls, expected shop-tls"
