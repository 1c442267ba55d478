"""What the AWS collectors of the cloud-track labs share: a bounded client and the one-listing partition.

Each collector lists its service once for the cohort, keeps what a graded student's prefix owns
(`validators.collectors.base.owner`) and reads details only of the resources its checks name.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Mapping, TypeVar

from botocore.config import Config
from botocore.exceptions import ClientError

from labctl.validators.collectors.base import CollectRequest, owner

REQUEST_TIMEOUT_S = 5
T = TypeVar("T")


def aws_client(request: CollectRequest, service: str):
    config = Config(
        connect_timeout=REQUEST_TIMEOUT_S,
        read_timeout=REQUEST_TIMEOUT_S,
        retries={"max_attempts": 3, "mode": "standard"},
        max_pool_connections=max(10, request.concurrency),
    )
    return request.session.client(service, endpoint_url=request.endpoint_url, config=config)


def code_of(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def failure(exc: ClientError) -> str:
    """One line for a read that failed: operation, error code and AWS's message."""
    message = exc.response.get("Error", {}).get("Message", "")
    return f"{exc.operation_name} failed: {code_of(exc)} {message}".strip()


def named(request: CollectRequest, *fields: str) -> set[str]:
    """The resource names the checks of this request name in any of `fields`."""
    return {str(v) for p in request.wanted for f in fields if (v := getattr(p, f, None)) is not None}


def partition(
    request: CollectRequest,
    listed: Mapping[str, T],
    wanted: set[str],
    read: Callable[[str, T], object | None],
    stub: Callable[[str, T], object],
    owner_name: Callable[[str], str] = lambda name: name,
) -> dict[str, dict[str, object]]:
    """{prefix: {name: item}}: owned items in `wanted` are read (None = vanished, dropped), others stubbed.

    `listed` maps each listed name to what the listing said about it; reads run with the request's
    bounded concurrency.
    """
    owned: dict[str, str] = {}
    for name in listed:
        prefix = owner(owner_name(name), request.prefixes)
        if prefix is not None:
            owned[name] = prefix
    detailed = [n for n in owned if n in wanted]
    with ThreadPoolExecutor(max_workers=max(1, request.concurrency)) as pool:
        details = dict(zip(detailed, pool.map(lambda n: read(n, listed[n]), detailed), strict=True))
    by_prefix: dict[str, dict[str, object]] = {p: {} for p in request.prefixes}
    for name, prefix in owned.items():
        item = details[name] if name in details else stub(name, listed[name])
        if item is not None:
            by_prefix[prefix][name] = item
    return by_prefix


def pages(call: Callable[..., dict], items: str, token_in: str, token_out: str, **kwargs) -> Iterable[dict]:
    """Every item of a paginated listing (`items` key of each page), following the page token."""
    while True:
        page = call(**kwargs)
        yield from page.get(items, [])
        token = page.get(token_out)
        if not token:
            return
        kwargs[token_in] = token
