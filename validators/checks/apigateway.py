"""API Gateway checks: pure functions of one student's ApiGatewayInventory (validators.inventory.apigateway)."""

from __future__ import annotations

import re

from labctl.validators.inventory.apigateway import Api, ApiGatewayInventory, Route
from labctl.validators.registry import Params, Result, check

READS = "apigateway"
LAMBDA_INTEGRATIONS = frozenset({"AWS_PROXY", "AWS"})


class ApiParams(Params):
    api: str


class LambdaRouteParams(ApiParams):
    function: str
    method: str | None = None
    """GET, POST, ...; a route with method ANY also matches. None accepts any method."""
    path: str | None = None


def invokes_function(uri: str | None, function: str) -> bool:
    """Does an integration URI call Lambda function `function` (by ARN, optionally with an alias or version)?

    REST URIs wrap the function ARN (`arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations`);
    HTTP APIs may use the function ARN itself.
    """
    if not uri:
        return False
    return re.search(rf":function:{re.escape(function)}(?::[A-Za-z0-9$_-]+)?(?:/|$)", uri) is not None


def route_matches(route: Route, p: LambdaRouteParams) -> bool:
    method_ok = p.method is None or route.method.upper() in (p.method.upper(), "ANY")
    path_ok = p.path is None or route.path.rstrip("/") == p.path.rstrip("/")
    return method_ok and path_ok


@check("apigateway.api-exists", title="API {api} exists", reads=READS, params=ApiParams)
def api_exists(inv: ApiGatewayInventory, p: ApiParams) -> Result:
    apis = inv.named(p.api)
    if not apis:
        return Result.failed(f"no REST or HTTP API is named {p.api}", hint="aws apigatewayv2 create-api")
    if len(apis) > 1:
        ids = ", ".join(f"{a.protocol} {a.id}" for a in apis)
        return Result.passed(f"{len(apis)} APIs are named {p.api} ({ids}); delete the ones you do not use")
    return Result.passed()


@check(
    "apigateway.lambda-route",
    title="A route of {api} is integrated with Lambda {function}",
    reads=READS,
    params=LambdaRouteParams,
)
def lambda_route(inv: ApiGatewayInventory, p: LambdaRouteParams) -> Result:
    apis: tuple[Api, ...] = inv.named(p.api)
    if not apis:
        return Result.skipped(f"no API is named {p.api}")
    errors = [a.error for a in apis if a.error]
    if errors and len(errors) == len(apis):
        return Result.error(f"could not read API {p.api}: " + "; ".join(dict.fromkeys(errors)))
    if any(not a.detailed for a in apis):
        return Result.error(f"API {p.api} was not collected in detail")
    routes = [r for a in apis for r in a.routes]
    wanted = f"{p.method or 'any method'} {p.path or 'any path'}"
    candidates = [r for r in routes if route_matches(r, p)]
    if not candidates:
        found = ", ".join(f"{r.method} {r.path}".strip() for r in routes) or "none"
        return Result.failed(f"no route matches {wanted} (found: {found})")
    if any(
        r.integration_type in LAMBDA_INTEGRATIONS and invokes_function(r.integration_uri, p.function) for r in candidates
    ):
        return Result.passed()
    shown = "; ".join(
        f"{r.method} {r.path} → {r.integration_type or 'no integration'} {r.integration_uri or ''}".strip()
        for r in candidates
    )
    return Result.failed(f"the route {wanted} is not a Lambda integration with {p.function} ({shown})")
