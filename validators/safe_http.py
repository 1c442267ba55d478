"""Fetch a student-controlled URL with limits (issue 5, "Untrusted content").

One GET per hop: `TIMEOUT_S` for the connect and for every read, a total `DEADLINE_S` for the whole
fetch (a server trickling bytes cannot hold it), at most `MAX_BODY_BYTES` of body, redirects
followed by hand (at most `MAX_REDIRECTS`) and only to the same host. No connection is ever made to
a link-local, metadata, loopback, private or otherwise non-public address, except the grading
target's own endpoint (the emulator listens on loopback). The host is resolved once per hop and the
socket connects to the vetted address, so DNS cannot rebind between the check and the connect.
Every outcome, including refusals and network failures, is an `HttpResponse`: nothing raises.
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import urljoin, urlsplit

TIMEOUT_S = 5.0
DEADLINE_S = 10.0
MAX_BODY_BYTES = 1024 * 1024
MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
KEPT_HEADERS = ("content-type", "content-length", "content-encoding", "location")
DEFAULT_PORTS = {"http": 80, "https": 443}
METADATA = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})
USER_AGENT = "labctl-grader"
TLS = ssl.create_default_context()

Address = tuple[str, int]
"""A vetted (ip, port) to connect to."""

# getaddrinfo has no timeout of its own: it runs here so a fetch can stop waiting for it.
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="labctl-resolve")


@dataclass(frozen=True)
class Limits:
    """How long and how much one fetch may take, and which endpoint is exempt from the address rules."""

    timeout: float = TIMEOUT_S
    deadline: float = DEADLINE_S
    max_bytes: int = MAX_BODY_BYTES
    max_redirects: int = MAX_REDIRECTS
    allowed: frozenset[Address] = frozenset()
    """Addresses of the grading target's own endpoint, allowed even on loopback or a private network."""


@dataclass(frozen=True)
class HttpResponse:
    url: str
    final_url: str
    """The URL of the last request made (the one that answered, or the one that failed)."""
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    """A subset (KEPT_HEADERS), with lowercase names."""
    body: bytes | None = None
    """None when there was no answer, or when the body is larger than the limit (`too_large`)."""
    too_large: bool = False
    error: str | None = None
    """Why there is no usable answer: a timeout, a refusal, a network failure, too many redirects."""
    redirects: tuple[str, ...] = ()
    """The URLs redirected to, in order."""


class DeadlineExceeded(TimeoutError):
    """The fetch's total deadline passed (as opposed to one connect or read timing out)."""


def bounded(remaining: float, timeout: float) -> tuple[float, bool]:
    """The timeout for the next socket operation, and whether the deadline (not `timeout`) set it."""
    if remaining <= 0:
        raise DeadlineExceeded()
    return min(timeout, remaining), remaining < timeout


class Refused(Exception):
    """A URL the grader will not fetch: `target` (host or host:port) and `why` ("loopback address")."""

    def __init__(self, target: str, why: str):
        super().__init__(f"{target} ({why})")
        self.target, self.why = target, why


def address_class(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why `ip` is off limits ("metadata", "loopback", ...), or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return address_class(ip.ipv4_mapped)
    if ip in METADATA:
        return "metadata"
    for name in ("unspecified", "loopback", "link_local", "multicast", "private"):
        if getattr(ip, f"is_{name}"):
            return name.replace("_", "-")
    if not ip.is_global:
        return "non-public"
    return None


def endpoint_addresses(endpoint_url: str | None) -> frozenset[Address]:
    """The addresses the grading target's endpoint resolves to (empty when there is none)."""
    if not endpoint_url:
        return frozenset()
    try:
        host, port = host_port(endpoint_url)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError):
        return frozenset()
    return frozenset((str(ipaddress.ip_address(info[4][0].split("%")[0])), port) for info in infos)


def host_port(url: str) -> tuple[str, int]:
    """(lowercase host, effective port) of an http(s) URL; ValueError when it is not one."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS:
        raise ValueError(f"only http and https URLs are fetched, not {parts.scheme or 'no scheme'!r}")
    if not parts.hostname:
        raise ValueError("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("credentials in the URL are not sent")
    return parts.hostname.lower(), parts.port or DEFAULT_PORTS[parts.scheme]


def shown(host: str, port: int, scheme: str) -> str:
    """host, or host:port when the port is not the scheme's default (IPv6 in brackets)."""
    host = f"[{host}]" if ":" in host else host
    return host if port == DEFAULT_PORTS.get(scheme) else f"{host}:{port}"


def resolve(host: str, port: int, seconds: float) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address of `host` (itself when it is an IP literal), waiting at most `seconds`."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    if seconds <= 0:
        raise DeadlineExceeded()
    future = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=seconds)
    except FutureTimeout:
        raise DeadlineExceeded() from None
    except OSError as exc:
        raise Refused(host, f"cannot resolve: {exc.strerror or exc}") from None
    seen = dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos)
    return list(seen)


def vet(url: str, limits: Limits, seconds: float) -> list[Address]:
    """The addresses `url` may be fetched from; Refused when any of them is off limits.

    A host with one forbidden address is refused outright rather than filtered: a name that mixes
    public and internal addresses is exactly what a rebinding attack looks like.
    """
    try:
        host, port = host_port(url)
    except ValueError as exc:
        raise Refused(url, str(exc)) from None
    addresses = resolve(host, port, seconds)
    if not addresses:
        raise Refused(host, "no address")
    vetted = []
    for ip in addresses:
        pair = (str(ip), port)
        why = None if pair in limits.allowed else address_class(ip)
        if why is not None:
            raise Refused(shown(host, port, urlsplit(url).scheme), f"{why} address")
        vetted.append(pair)
    return vetted


def connect(address: Address, timeout: float) -> socket.socket:
    """The one place a socket is opened: straight to the vetted IP, with no further name lookup."""
    ip = ipaddress.ip_address(address[0])
    sock = socket.socket(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(address)
    except BaseException:
        sock.close()
        raise
    return sock


class DeadlineReader(io.RawIOBase):
    """A socket's reads, each bounded by the per-read timeout and the fetch's remaining deadline."""

    def __init__(self, sock: socket.socket, deadline: float, timeout: float):
        self.sock, self.deadline, self.timeout = sock, deadline, timeout

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        seconds, by_deadline = bounded(self.deadline - time.monotonic(), self.timeout)
        self.sock.settimeout(seconds)
        try:
            return self.sock.recv_into(buffer)
        except TimeoutError:
            if by_deadline:
                raise DeadlineExceeded() from None
            raise


class DeadlineSocket:
    """What http.client needs of a socket, with every read bounded by the fetch's deadline."""

    def __init__(self, sock: socket.socket, deadline: float, timeout: float):
        self.sock, self.deadline, self.timeout = sock, deadline, timeout

    def sendall(self, data: bytes) -> None:
        self.sock.settimeout(bounded(self.deadline - time.monotonic(), self.timeout)[0])
        self.sock.sendall(data)

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(DeadlineReader(self.sock, self.deadline, self.timeout))

    def close(self) -> None:
        """Nothing: http.client closes its socket before the body is read when the server says
        `Connection: close`; `request_once` closes the real socket when it is done with the body."""


class PinnedConnection(http.client.HTTPSConnection):
    """An HTTP(S) connection whose Host header and TLS name are the URL's host, but whose socket
    goes to a vetted address."""

    def __init__(self, url: str, address: Address, deadline: float, timeout: float):
        host, port = host_port(url)
        super().__init__(host, port, timeout=timeout, context=TLS)
        self.tls = urlsplit(url).scheme == "https"
        self.default_port = DEFAULT_PORTS["https" if self.tls else "http"]
        self.address, self.deadline = address, deadline
        self.opened: socket.socket | None = None

    def connect(self) -> None:
        seconds, by_deadline = bounded(self.deadline - time.monotonic(), self.timeout)
        try:
            sock = connect(self.address, seconds)
        except TimeoutError:
            if by_deadline:
                raise DeadlineExceeded() from None
            raise
        self.opened = sock
        if self.tls:
            sock = self.opened = self._context.wrap_socket(sock, server_hostname=self.host)
        self.sock = DeadlineSocket(sock, self.deadline, self.timeout)


@dataclass(frozen=True)
class Answer:
    """One hop's answer."""

    status: int
    headers: Mapping[str, str]
    body: bytes | None
    too_large: bool


def request_once(url: str, address: Address, limits: Limits, deadline: float) -> Answer:
    """GET `url` from `address`; raises OSError (TimeoutError included) or HTTPException."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn = PinnedConnection(url, address, deadline, limits.timeout)
    try:
        conn.request(
            "GET",
            target,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity", "Connection": "close"},
        )
        response = conn.getresponse()
        headers = {k: response.headers[k] for k in KEPT_HEADERS if response.headers.get(k) is not None}
        if response.status in REDIRECT_STATUSES:
            return Answer(response.status, headers, None, False)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limits.max_bytes:
            return Answer(response.status, headers, None, True)
        chunks, size = [], 0
        while size <= limits.max_bytes:
            # read1 makes at most one read on the socket, so the deadline is checked between reads.
            chunk = response.read1(limits.max_bytes + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limits.max_bytes:
            return Answer(response.status, headers, None, True)
        return Answer(response.status, headers, b"".join(chunks), False)
    finally:
        conn.close()
        if conn.opened is not None:
            conn.opened.close()


def other_host(current: str, location: str) -> Refused | None:
    """Refused when `location` is not on the host of `current`, else None (its address is vetted
    like any hop's). Same host means same port, or an http → https upgrade on the default ports.
    Another host is never resolved; an IP literal is named by its class ("metadata address")."""
    try:
        host, port = host_port(location)
    except ValueError as exc:
        return Refused(location, str(exc))
    scheme = urlsplit(location).scheme
    old_host, old_port = host_port(current)
    upgrade = (urlsplit(current).scheme, old_port, scheme, port) == ("http", 80, "https", 443)
    if host == old_host and (port == old_port or upgrade):
        return None
    try:
        why = address_class(ipaddress.ip_address(host))
    except ValueError:
        why = None
    return Refused(shown(host, port, scheme), f"{why} address" if why else "other host")


def fetch(url: str, limits: Limits = Limits()) -> HttpResponse:
    """GET `url` within `limits`, following same-host redirects; never raises."""
    deadline = time.monotonic() + limits.deadline
    current, redirects = url, []
    while True:
        answer = hop(current, limits, deadline, redirected=bool(redirects))
        if isinstance(answer, str):
            return HttpResponse(url, current, error=answer, redirects=tuple(redirects))
        location = answer.headers.get("location")
        refusal = None
        if answer.status in REDIRECT_STATUSES and location is not None:
            following = urljoin(current, location)
            elsewhere = other_host(current, following)
            if elsewhere is not None:
                refusal = f"refused redirect to {elsewhere}"
            elif following in (url, *redirects):
                refusal = f"redirect loop: {following} was already fetched"
            elif len(redirects) >= limits.max_redirects:
                refusal = f"more than {limits.max_redirects} redirects"
            else:
                redirects.append(following)
                current = following
                continue
        return HttpResponse(
            url,
            current,
            status=answer.status,
            headers=answer.headers,
            body=answer.body,
            too_large=answer.too_large,
            error=refusal,
            redirects=tuple(redirects),
        )


def hop(url: str, limits: Limits, deadline: float, *, redirected: bool) -> Answer | str:
    """One vetted GET of `url`, or the error that ended it."""
    try:
        return request_any(url, vet(url, limits, deadline - time.monotonic()), limits, deadline)
    except Refused as exc:
        return f"refused redirect to {exc}" if redirected else f"refused {exc}"
    except DeadlineExceeded:
        return f"timed out: no complete answer within {limits.deadline:g} s"
    except TimeoutError:
        return f"timed out after {limits.timeout:g} s waiting for {shown_url(url)}"
    except (OSError, http.client.HTTPException) as exc:
        return network_error(exc)
    except ValueError as exc:  # a host or path that cannot be encoded
        return f"invalid URL {url}: {exc}"


def request_any(url: str, addresses: list[Address], limits: Limits, deadline: float) -> Answer:
    """Try each vetted address in turn until one connects."""
    for address in addresses[:-1]:
        try:
            return request_once(url, address, limits, deadline)
        except ConnectionError:
            continue
    return request_once(url, addresses[-1], limits, deadline)


def shown_url(url: str) -> str:
    parts = urlsplit(url)
    return shown(parts.hostname or "", parts.port or DEFAULT_PORTS.get(parts.scheme, 0), parts.scheme)


def network_error(exc: Exception) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or exc}"
    if isinstance(exc, http.client.HTTPException):
        return f"invalid HTTP answer ({type(exc).__name__})"
    return f"network error: {exc.strerror or exc}" if isinstance(exc, OSError) else str(exc)
