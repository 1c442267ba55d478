"""Hostile student endpoints (issues 5 and 8): the limited fetch, the HTTP collector and check.

Every server here listens on 127.0.0.1. An audit hook records each socket connect and DNS lookup
made while a test runs and refuses any connect to another address, so a refusal is proven to
happen before a connection is attempted, and no test can send traffic off this machine even if
the code under test were wrong. Time is bounded by the limits each test sets, never measured.
"""

from __future__ import annotations

import ipaddress
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator

import boto3
import pytest

from labctl.cohorts.cohort import Cohort, Student, Target, prefix_for
from labctl.labs.spec import LabSpec
from labctl.validators import safe_http
from labctl.validators.checks.http import RespondsParams, responds
from labctl.validators.collectors import COLLECTORS, CollectRequest
from labctl.validators.inventory.http import HttpInventory
from labctl.validators.runner import grade_cohort
from labctl.validators.safe_http import HttpResponse, Limits, address_class, endpoint_addresses, fetch

MIB = 1024 * 1024


class Network:
    """What the process asked of the network while recording: connects and DNS lookups."""

    recording: "Network | None" = None

    def __init__(self) -> None:
        self.connects: list[tuple[str, int]] = []
        self.lookups: list[str] = []


def audit(event: str, args: tuple) -> None:
    network = Network.recording
    if network is None:
        return
    if event == "socket.connect":
        address = args[1]
        if not (isinstance(address, tuple) and address[0] == "127.0.0.1"):
            raise PermissionError(f"test refused a connect to {address!r}")
        network.connects.append((address[0], address[1]))
    elif event == "socket.getaddrinfo":
        network.lookups.append(str(args[0]))


sys.addaudithook(audit)


@pytest.fixture
def network() -> Iterator[Network]:
    Network.recording = recorded = Network()
    yield recorded
    Network.recording = None


class Site:
    """A local server whose paths play student endpoints; `hits` counts requests per path."""

    def __init__(self, routes: dict[str, Callable[[BaseHTTPRequestHandler], None]]):
        self.routes = routes
        self.hits: dict[str, int] = {}
        self.hosts: list[str] = []
        self.release = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.hits[self.path] = site.hits.get(self.path, 0) + 1
                site.hosts.append(self.headers.get("Host", ""))
                route = site.routes.get(self.path.split("?")[0])
                if route is None:
                    self.send_error(404)
                    return
                try:
                    route(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the grader hung up, as it should

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", **headers: str) -> None:
    handler.send_response(status)
    for name, value in {"Content-Length": str(len(body)), **headers}.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    handler.wfile.write(body)


def redirect(location: str) -> Callable[[BaseHTTPRequestHandler], None]:
    return lambda h: send(h, 302, Location=location)


@pytest.fixture
def other() -> Iterator[Site]:
    """A second loopback server: a port the grader must never reach."""
    site = Site({"/": lambda h: send(h, 200, b"internal admin", Content_Type="text/plain")})
    yield site
    site.stop()


@pytest.fixture
def site(other: Site) -> Iterator[Site]:
    def slow(h: BaseHTTPRequestHandler) -> None:
        site.release.wait(10)  # until the test ends: far past the fetch timeout
        send(h, 200, b"late")

    def huge_declared(h: BaseHTTPRequestHandler) -> None:
        send(h, 200, b"x" * (MIB + 1), Content_Type="text/html")

    def huge_streamed(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.end_headers()  # no Content-Length: the size is only known by reading
        for _ in range(4):
            h.wfile.write(b"y" * (MIB // 2))

    def trickle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "100000")
        h.end_headers()
        while not site.release.wait(0.02):  # a byte well inside every read timeout, forever
            h.wfile.write(b".")
            h.wfile.flush()

    def hop(h: BaseHTTPRequestHandler) -> None:
        n = int(h.path.split("n=")[1])
        send(h, 302, Location=f"/hop?n={n + 1}")

    def host_header(h: BaseHTTPRequestHandler) -> None:
        send(h, 200, h.headers.get("Host", "").encode(), Content_Type="text/plain")

    site = Site(
        {
            "/ok": lambda h: send(h, 200, b"<h1>Hello from ada</h1>", Content_Type="text/html; charset=utf-8"),
            "/slow": slow,
            "/huge": huge_declared,
            "/huge-streamed": huge_streamed,
            "/trickle": trickle,
            "/loop": redirect("/loop"),
            "/hop": hop,
            "/moved": redirect("/ok"),
            "/to-metadata": redirect("http://169.254.169.254/latest/meta-data/"),
            "/to-other-port": redirect(f"http://127.0.0.1:{other.port}/"),
            "/to-other-host": redirect("http://grader-test.invalid/"),
            "/host": host_header,
        }
    )
    yield site
    site.stop()


def target(site: Site, **limits) -> Limits:
    """The limits the HTTP collector uses when `site` is the grading target's endpoint."""
    return Limits(allowed=endpoint_addresses(site.base), **limits)


def test_an_ok_page_on_the_targets_own_endpoint_is_fetched(site, network):
    response = fetch(f"{site.base}/ok", target(site))
    assert (response.status, response.error, response.too_large) == (200, None, False)
    assert response.body == b"<h1>Hello from ada</h1>"
    assert response.headers == {"content-type": "text/html; charset=utf-8", "content-length": "23"}
    assert (response.final_url, response.redirects) == (f"{site.base}/ok", ())
    assert network.connects == [("127.0.0.1", site.port)]


def test_loopback_is_refused_unless_it_is_the_target_endpoint(site, network):
    response = fetch(f"{site.base}/ok", Limits())
    assert response == HttpResponse(
        f"{site.base}/ok", f"{site.base}/ok", error=f"refused 127.0.0.1:{site.port} (loopback address)"
    )
    assert network.connects == [] and site.hits == {}


def test_a_slow_endpoint_times_out(site, network):
    response = fetch(f"{site.base}/slow", target(site, timeout=0.3))
    assert response.status is None and response.body is None
    assert response.error == f"timed out after 0.3 s waiting for 127.0.0.1:{site.port}"


@pytest.mark.parametrize("path", ["/huge", "/huge-streamed"])
def test_a_body_over_one_mib_is_too_large_and_not_kept(site, path):
    response = fetch(f"{site.base}{path}", target(site))
    assert (response.status, response.too_large, response.body, response.error) == (200, True, None, None)
    url = f"{site.base}{path}"
    result = responds(HttpInventory({url: response}), RespondsParams(url=url))
    assert (result.status, result.message) == ("failed", f"GET {url}: the body is larger than 1 MiB (too large)")


def test_a_redirect_loop_is_stopped(site):
    response = fetch(f"{site.base}/loop", target(site))
    assert response.error == f"redirect loop: {site.base}/loop was already fetched"
    assert site.hits == {"/loop": 1}


def test_redirects_are_bounded(site):
    response = fetch(f"{site.base}/hop?n=0", target(site))
    assert response.error == "more than 5 redirects"
    assert response.redirects == tuple(f"{site.base}/hop?n={n}" for n in range(1, 6))
    assert sum(site.hits.values()) == 6


def test_a_same_host_redirect_is_followed(site):
    response = fetch(f"{site.base}/moved", target(site))
    assert (response.status, response.body, response.error) == (200, b"<h1>Hello from ada</h1>", None)
    assert (response.final_url, response.redirects) == (f"{site.base}/ok", (f"{site.base}/ok",))


def test_a_redirect_to_the_metadata_address_is_refused_before_connecting(site, network):
    response = fetch(f"{site.base}/to-metadata", target(site))
    assert response.error == "refused redirect to 169.254.169.254 (metadata address)"
    assert (response.status, response.body, response.redirects) == (302, None, ())
    assert network.connects == [("127.0.0.1", site.port)]
    assert "169.254.169.254" not in network.lookups


def test_a_redirect_to_another_loopback_port_is_refused_before_connecting(site, other, network):
    response = fetch(f"{site.base}/to-other-port", target(site))
    assert response.error == f"refused redirect to 127.0.0.1:{other.port} (loopback address)"
    assert network.connects == [("127.0.0.1", site.port)]
    assert other.hits == {}


def test_a_redirect_to_another_host_is_refused_without_resolving_it(site, network):
    response = fetch(f"{site.base}/to-other-host", target(site))
    assert response.error == "refused redirect to grader-test.invalid (other host)"
    assert "grader-test.invalid" not in network.lookups


def test_a_trickling_server_is_cut_off_at_the_total_deadline(site):
    response = fetch(f"{site.base}/trickle", target(site, timeout=2, deadline=0.5))
    assert response.error == "timed out: no complete answer within 0.5 s"
    assert response.body is None


def test_a_name_is_resolved_once_and_the_vetted_address_is_connected(site, network, monkeypatch):
    """The Host header names the host; the socket goes to the address that was checked."""
    limits = target(site)
    answers = iter([[(2, 1, 6, "", ("127.0.0.1", site.port))]])
    monkeypatch.setattr(safe_http.socket, "getaddrinfo", lambda *args, **kwargs: next(answers))
    response = fetch(f"http://student-site.test:{site.port}/host", limits)
    assert (response.status, response.body) == (200, f"student-site.test:{site.port}".encode())
    assert network.connects == [("127.0.0.1", site.port)]


def test_a_name_with_any_internal_address_is_refused(network, monkeypatch):
    infos = [(2, 1, 6, "", ("93.184.216.34", 80)), (2, 1, 6, "", ("10.0.0.5", 80))]
    monkeypatch.setattr(safe_http.socket, "getaddrinfo", lambda *args, **kwargs: infos)
    response = fetch("http://rebinding.test/", Limits())
    assert response.error == "refused rebinding.test (private address)"
    assert network.connects == []


@pytest.mark.parametrize(
    "address, why",
    [
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("169.254.10.1", "link-local"),
        ("fe80::1", "link-local"),
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "metadata"),
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("172.16.0.1", "private"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("100.64.0.1", "non-public"),
        ("224.0.0.1", "multicast"),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
    ],
)
def test_address_classes(address, why):
    assert address_class(ipaddress.ip_address(address)) == why


@pytest.mark.parametrize(
    "url, error",
    [
        ("ftp://example.com/", "refused ftp://example.com/ (only http and https URLs are fetched, not 'ftp')"),
        ("http://u:p@example.com/", "refused http://u:p@example.com/ (credentials in the URL are not sent)"),
        ("http:///nohost", "refused http:///nohost (the URL has no host)"),
        ("http://[::1]:4566/", "refused [::1]:4566 (loopback address)"),
    ],
)
def test_urls_that_are_never_fetched(url, error, network):
    assert fetch(url, Limits()).error == error
    assert network.connects == []


def lab_with(checks: list[dict]) -> LabSpec:
    return LabSpec.model_validate(
        {
            "id": "web-hostile",
            "title": "Serve a page",
            "track": "web",
            "level": "beginner",
            "minutes": 10,
            "summary": "Serve a page from your endpoint.",
            "checks": checks,
        }
    )


def cohort_of(slugs: list[str], endpoint: str) -> Cohort:
    students = tuple(Student(s, s, s.title(), "", prefix_for("cls", s)) for s in slugs)
    return Cohort("cls", ("web-hostile",), Target("emulator", endpoint, "us-east-1"), students)


def test_grade_cohort_grades_hostile_endpoints_as_failed_with_messages(site, network):
    site.routes["/site/cls-ada/"] = lambda h: send(h, 200, b"<h1>Hello from ada</h1>", Content_Type="text/html")
    base = site.base
    lab = lab_with(
        [
            {
                "id": "home",
                "use": "http.responds",
                "points": 40,
                "with": {"url": base + "/site/{prefix}/", "contains": "Hello from {student}", "content_type": "text/html"},
            },
            {"id": "metadata", "use": "http.responds", "points": 20, "with": {"url": base + "/to-metadata"}},
            {"id": "huge", "use": "http.responds", "points": 20, "with": {"url": base + "/huge"}},
            {"id": "loop", "use": "http.responds", "points": 20, "with": {"url": base + "/loop"}},
        ]
    )
    session = boto3.Session(aws_access_key_id="unused", aws_secret_access_key="unused", region_name="us-east-1")
    report = grade_cohort(cohort_of(["ada", "bob"], base), [lab], session, base)

    ada, bob = report.results
    assert {c.id: c.status for c in ada.checks} == {
        "home": "passed", "metadata": "failed", "huge": "failed", "loop": "failed"
    }
    assert (ada.score, ada.passed) == (40, False)
    messages = {c.id: c.message for c in bob.checks}
    assert messages == {
        "home": f"GET {base}/site/cls-bob/ answered 404, expected 200",
        "metadata": f"GET {base}/to-metadata: refused redirect to 169.254.169.254 (metadata address)",
        "huge": f"GET {base}/huge: the body is larger than 1 MiB (too large)",
        "loop": f"GET {base}/loop: redirect loop: {base}/loop was already fetched",
    }
    assert ada.checks[0].title == f"{base}/site/cls-ada/ answers 200"
    # Each distinct URL once for the cohort, and nothing but the target endpoint was ever connected.
    assert site.hits == {"/site/cls-ada/": 1, "/site/cls-bob/": 1, "/to-metadata": 1, "/huge": 1, "/loop": 1}
    assert {address for address in network.connects} == {("127.0.0.1", site.port)}


def test_each_student_inventory_holds_only_the_urls_their_checks_named(site):
    ada, bob = (RespondsParams(url=f"{site.base}/site/cls-{s}/") for s in ("ada", "bob"))
    request = CollectRequest(
        cohort="cls",
        prefixes=("cls-ada", "cls-bob", "cls-cy"),
        session=boto3.Session(region_name="us-east-1"),
        endpoint_url=site.base,
        wanted=(ada, bob),
        wanted_by_prefix={"cls-ada": (ada,), "cls-bob": (bob,)},
    )
    snapshot = COLLECTORS["http"](request)
    assert list(snapshot.for_prefix("cls-ada").responses) == [ada.url]
    assert list(snapshot.for_prefix("cls-bob").responses) == [bob.url]
    assert snapshot.for_prefix("cls-cy").responses == {}
    result = responds(snapshot.for_prefix("cls-cy"), ada)
    assert (result.status, result.message) == ("error", f"{ada.url} was not collected")


@pytest.mark.parametrize(
    "response, params, expected",
    [
        (HttpResponse("u", "u", 200, {"content-type": "text/html"}, b"<p>hi ada</p>"),
         {"contains": "hi ada", "content_type": "text/html"}, ("passed", "")),
        (HttpResponse("u", "u", 201, {}, b""), {"status": 201}, ("passed", "")),
        (HttpResponse("u", "u", 500, {}, b"oops"), {}, ("failed", "GET u answered 500, expected 200")),
        (HttpResponse("u", "u", 200, {"content-type": "text/plain"}, b"hi"), {"content_type": "text/html"},
         ("failed", "GET u has Content-Type text/plain, expected text/html")),
        (HttpResponse("u", "u", 200, {}, b"hello"), {"contains": "bye"},
         ("failed", "GET u: the body does not contain 'bye'")),
        (HttpResponse("u", "u", error="connection refused"), {}, ("failed", "GET u: connection refused")),
    ],
)
def test_responds_outcomes(response, params, expected):
    result = responds(HttpInventory({"u": response}), RespondsParams(url="u", **params))
    assert (result.status, result.message) == expected


@pytest.mark.parametrize(
    ("answered", "expected", "status"),
    [("404", 404, "passed"), ("200", 404, "failed"), ("503", 503, "passed"), ("301", 302, "failed")],
)
def test_the_status_must_be_exactly_the_expected_one(answered: str, expected: int, status: str) -> None:
    """A lab may expect a page to be gone (404): an answer below the expected status fails as one
    above does, and a status read off the wire (a new int object) equals the expected one."""
    response = HttpResponse("u", "u", int(answered), {}, b"")
    assert responds(HttpInventory({"u": response}), RespondsParams(url="u", status=expected)).status == status
