"""Collect the student endpoints that HTTP checks name: each distinct URL fetched once, with limits.

The URLs come from the rendered params of each student's checks (`urls()`), so a student's
inventory holds exactly the URLs their own checks named. Fetches run with bounded concurrency and
`validators.safe_http` limits; the grading target's own endpoint is the one loopback or private
address a fetch may reach. A fetch never raises: failures are values on the response.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from labctl.validators.collectors.base import CollectRequest
from labctl.validators.inventory.http import HttpInventory, HttpSnapshot
from labctl.validators.safe_http import Limits, endpoint_addresses, fetch


def urls_of(params) -> tuple[str, ...]:
    return tuple(getattr(params, "urls", lambda: ())())


def collect_http(request: CollectRequest, limits: Limits | None = None) -> HttpSnapshot:
    limits = limits or Limits(allowed=endpoint_addresses(request.endpoint_url))
    wanted = {
        prefix: sorted({url for params in request.wanted_by_prefix.get(prefix, ()) for url in urls_of(params)})
        for prefix in request.prefixes
    }
    distinct = sorted({url for urls in wanted.values() for url in urls})
    with ThreadPoolExecutor(max_workers=max(1, min(request.concurrency, len(distinct)))) as pool:
        fetched = dict(zip(distinct, pool.map(lambda url: fetch(url, limits), distinct)))
    return HttpSnapshot(
        {prefix: HttpInventory({url: fetched[url] for url in urls}) for prefix, urls in wanted.items()}
    )
