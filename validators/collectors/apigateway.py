"""Collect a cohort's API Gateway APIs once: one REST listing (v1) and one HTTP listing (v2).

Neither listing filters by name, so each covers the account once per cohort; APIs whose name a
graded student's prefix owns are kept, and routes with their integrations are read only for APIs
a check names: REST with GetResources(embed=methods), HTTP with GetRoutes and GetIntegrations.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from labctl.validators.collectors.aws_common import aws_client, code_of, failure, named, pages, partition
from labctl.validators.collectors.base import CollectRequest
from labctl.validators.inventory.apigateway import MAX_ROUTES, Api, ApiGatewayInventory, ApiGatewaySnapshot, Route


def rest_routes(client, api_id: str) -> tuple[list[Route], bool]:
    page = client.get_resources(restApiId=api_id, embed=["methods"], limit=500)
    routes = []
    for resource in page.get("items", []):
        for method, detail in sorted((resource.get("resourceMethods") or {}).items()):
            integration = (detail or {}).get("methodIntegration") or {}
            routes.append(Route(method, resource.get("path", ""), integration.get("type"), integration.get("uri")))
    return routes[:MAX_ROUTES], bool(page.get("position")) or len(routes) > MAX_ROUTES


def http_routes(client, api_id: str) -> tuple[list[Route], bool]:
    integrations = {
        i["IntegrationId"]: i for i in client.get_integrations(ApiId=api_id, MaxResults="500").get("Items", [])
    }
    page = client.get_routes(ApiId=api_id, MaxResults="500")
    routes = []
    for item in page.get("Items", [])[:MAX_ROUTES]:
        key = item.get("RouteKey", "")
        method, _, path = key.partition(" ")
        target = str(item.get("Target", ""))
        integration = integrations.get(target.split("/", 1)[1]) if target.startswith("integrations/") else None
        routes.append(
            Route(
                method if path else key,
                path,
                (integration or {}).get("IntegrationType"),
                (integration or {}).get("IntegrationUri"),
            )
        )
    return routes, bool(page.get("NextToken")) or len(page.get("Items", [])) > MAX_ROUTES


def read_api(rest, http, api: Api) -> Api | None:
    try:
        routes, truncated = rest_routes(rest, api.id) if api.protocol == "REST" else http_routes(http, api.id)
    except ClientError as exc:
        if code_of(exc) == "NotFoundException":
            return None
        return Api(api.name, api.id, api.protocol, error=failure(exc))
    return Api(api.name, api.id, api.protocol, routes=tuple(routes), truncated=truncated)


def collect_apigateway(request: CollectRequest) -> ApiGatewaySnapshot:
    rest = aws_client(request, "apigateway")
    http = aws_client(request, "apigatewayv2")
    listed: dict[str, Api] = {}
    for item in pages(rest.get_rest_apis, "items", "position", "position", limit=500):
        listed[f"REST {item['id']}"] = Api(item.get("name", ""), item["id"], "REST", detailed=False)
    for item in pages(http.get_apis, "Items", "NextToken", "NextToken", MaxResults="500"):
        if item.get("ProtocolType", "HTTP") == "HTTP":
            listed[f"HTTP {item['ApiId']}"] = Api(item.get("Name", ""), item["ApiId"], "HTTP", detailed=False)
    wanted = named(request, "api")
    by_prefix = partition(
        request,
        listed,
        {key for key, api in listed.items() if api.name in wanted},
        lambda key, api: read_api(rest, http, api),
        lambda key, api: api,
        owner_name=lambda key: listed[key].name,
    )
    inventories = {}
    for prefix, apis in by_prefix.items():
        by_name: dict[str, list[Api]] = {}
        for api in apis.values():
            by_name.setdefault(api.name, []).append(api)
        inventories[prefix] = ApiGatewayInventory({n: tuple(a) for n, a in by_name.items()})
    return ApiGatewaySnapshot(inventories)
