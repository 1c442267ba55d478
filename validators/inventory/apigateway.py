"""The API Gateway inventory: a cohort's student-owned REST (v1) and HTTP (v2) APIs and their routes.

API names are not unique, so each name maps to every API that carries it. Checks read these objects
and never call the cloud (DESIGN decision 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

MAX_ROUTES = 200
"""At most this many routes (REST resources × methods, or HTTP routes) are read per API."""


@dataclass(frozen=True)
class Route:
    method: str
    """GET, POST, ... or ANY; `$default` for an HTTP API's default route."""
    path: str
    integration_type: str | None = None
    """AWS_PROXY, AWS, HTTP_PROXY, MOCK, ... or None when the route has no integration."""
    integration_uri: str | None = None


@dataclass(frozen=True)
class Api:
    name: str
    id: str
    protocol: str
    """REST or HTTP."""
    detailed: bool = True
    routes: tuple[Route, ...] = ()
    truncated: bool = False
    error: str | None = None


@dataclass(frozen=True)
class ApiGatewayInventory:
    apis: Mapping[str, tuple[Api, ...]] = field(default_factory=dict)

    def named(self, name: str) -> tuple[Api, ...]:
        return self.apis.get(name, ())


@dataclass(frozen=True)
class ApiGatewaySnapshot:
    by_prefix: Mapping[str, ApiGatewayInventory]

    def for_prefix(self, prefix: str) -> ApiGatewayInventory:
        return self.by_prefix.get(prefix, ApiGatewayInventory())
