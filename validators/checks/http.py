"""HTTP checks: pure functions of one student's HttpInventory (validators.inventory.http)."""

from __future__ import annotations

from typing import Iterator

from labctl.validators.inventory.http import HttpInventory
from labctl.validators.registry import Params, Result, check
from labctl.validators.safe_http import MAX_BODY_BYTES

READS = "http"


class RespondsParams(Params):
    url: str
    status: int = 200
    contains: str | None = None
    content_type: str | None = None

    def urls(self) -> Iterator[str]:
        """The URLs the HTTP collector must fetch for this check."""
        yield self.url


@check("http.responds", title="{url} answers {status}", reads=READS, params=RespondsParams)
def responds(inv: HttpInventory, p: RespondsParams) -> Result:
    response = inv.response(p.url)
    if response is None:
        return Result.error(f"{p.url} was not collected")
    if response.error:
        return Result.failed(f"GET {p.url}: {response.error}")
    if response.status != p.status:
        return Result.failed(f"GET {p.url} answered {response.status}, expected {p.status}")
    if response.too_large:
        limit = MAX_BODY_BYTES // 1024 // 1024
        return Result.failed(f"GET {p.url}: the body is larger than {limit} MiB (too large)")
    if p.content_type is not None:
        actual = response.headers.get("content-type", "").strip()
        if not actual.lower().startswith(p.content_type.lower()):
            return Result.failed(f"GET {p.url} has Content-Type {actual or '(none)'}, expected {p.content_type}")
    if p.contains is not None and p.contains not in (response.body or b"").decode("utf-8", errors="replace"):
        return Result.failed(f"GET {p.url}: the body does not contain {p.contains!r}")
    return Result.passed()
