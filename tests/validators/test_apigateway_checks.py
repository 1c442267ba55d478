"""API Gateway checks on fixture inventories (no emulator), each outcome stated from the lab's rule:
an API of that name exists; some route matching the wanted method and path hands its requests to the
named Lambda function (AWS or AWS_PROXY integration whose URI names that function)."""

from __future__ import annotations

import pytest

from labctl.validators.checks import apigateway
from labctl.validators.inventory.apigateway import Api, ApiGatewayInventory, Route

FN = "arn:aws:lambda:us-east-1:123456789012:function:c-ada-fn"
REST_URI = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FN}/invocations"


def inventory(*apis: Api) -> ApiGatewayInventory:
    return ApiGatewayInventory({"c-ada-api": apis})


def api(*routes: Route, **fields) -> Api:
    return Api("c-ada-api", fields.pop("id", "a1"), fields.pop("protocol", "HTTP"), routes=routes, **fields)


def route_check(inv: ApiGatewayInventory, method: str | None = "GET", path: str | None = "/orders"):
    params = apigateway.LambdaRouteParams(api="c-ada-api", function="c-ada-fn", method=method, path=path)
    return apigateway.lambda_route(inv, params)


def test_api_exists_fails_without_one_and_passes_quietly_with_one() -> None:
    params = apigateway.ApiParams(api="c-ada-api")
    missing = apigateway.api_exists(ApiGatewayInventory(), params)
    assert missing.status == "failed" and "c-ada-api" in missing.message and missing.hint
    one = apigateway.api_exists(inventory(api()), params)
    assert (one.status, one.message) == ("passed", "")


def test_api_exists_passes_with_two_of_a_name_but_names_both() -> None:
    result = apigateway.api_exists(
        inventory(api(id="a1", protocol="REST"), api(id="b2")), apigateway.ApiParams(api="c-ada-api")
    )
    assert result.status == "passed"
    assert result.message.startswith("2 APIs are named c-ada-api")
    assert "REST a1" in result.message and "HTTP b2" in result.message


@pytest.mark.parametrize(
    "uri",
    [
        FN,
        REST_URI,
        f"{FN}:live",
        f"{FN}:$LATEST",
        f"{FN}:7",
        f"{FN}:blue_green-2/invocations",
    ],
)
def test_a_uri_naming_the_function_or_an_alias_invokes_it(uri: str) -> None:
    assert apigateway.invokes_function(uri, "c-ada-fn") is True


@pytest.mark.parametrize(
    "uri",
    [
        "",
        f"{FN}-old",
        f"{FN}x",
        f"{FN}:live.x",
        f"{FN}:",
        "arn:aws:lambda:us-east-1:123456789012:function:other-c-ada-fn",
        "arn:aws:lambda:us-east-1:123456789012:function:c-adaXfn",
    ],
)
def test_a_uri_naming_another_function_does_not_invoke_it(uri: str) -> None:
    assert apigateway.invokes_function(uri, "c-ada-fn") is False


def test_a_function_name_is_matched_literally_not_as_a_pattern() -> None:
    # A name is text: `.` in it is a dot, not any character.
    assert apigateway.invokes_function("arn:aws:lambda:r:1:function:c-adaXfn", "c-ada.fn") is False


@pytest.mark.parametrize("kind", ["AWS_PROXY", "AWS"])
def test_a_lambda_integration_passes(kind: str) -> None:
    assert route_check(inventory(api(Route("GET", "/orders", kind, REST_URI)))).status == "passed"


@pytest.mark.parametrize("kind", ["HTTP_PROXY", "HTTP", "MOCK", None])
def test_another_integration_with_the_same_uri_fails(kind: str | None) -> None:
    result = route_check(inventory(api(Route("GET", "/orders", kind, FN))))
    assert result.status == "failed"
    assert "GET /orders" in result.message and (kind or "no integration") in result.message


def test_methods_match_without_case_and_any_stands_for_every_method() -> None:
    assert route_check(inventory(api(Route("get", "/orders", "AWS_PROXY", FN)))).status == "passed"
    assert route_check(inventory(api(Route("GET", "/orders", "AWS_PROXY", FN))), method="get").status == "passed"
    assert route_check(inventory(api(Route("any", "/orders", "AWS_PROXY", FN)))).status == "passed"
    assert route_check(inventory(api(Route("POST", "/orders", "AWS_PROXY", FN)))).status == "failed"
    # No method wanted: any route at the path will do.
    assert route_check(inventory(api(Route("DELETE", "/orders", "AWS_PROXY", FN))), method=None).status == "passed"


def test_paths_match_with_or_without_a_trailing_slash() -> None:
    assert route_check(inventory(api(Route("GET", "/orders/", "AWS_PROXY", FN)))).status == "passed"
    assert route_check(inventory(api(Route("GET", "/orders", "AWS_PROXY", FN))), path="/orders/").status == "passed"
    assert route_check(inventory(api(Route("GET", "/order", "AWS_PROXY", FN)))).status == "failed"
    # A route below the path is another route.
    assert route_check(inventory(api(Route("GET", "/orders/{id}", "AWS_PROXY", FN)))).status == "failed"
    assert route_check(inventory(api(Route("GET", "/other", "AWS_PROXY", FN))), path=None).status == "passed"


def test_one_lambda_route_among_several_candidates_passes() -> None:
    routes = (Route("ANY", "/orders", "MOCK", None), Route("GET", "/orders", "AWS_PROXY", FN))
    assert route_check(inventory(api(*routes))).status == "passed"
    # ... in any of the APIs of that name.
    assert route_check(inventory(api(routes[0], id="a1"), api(routes[1], id="b2"))).status == "passed"


def test_no_matching_route_lists_the_routes_found() -> None:
    result = route_check(inventory(api(Route("POST", "/orders", "AWS_PROXY", FN), Route("GET", "/", None))))
    assert result.status == "failed"
    assert result.message == "no route matches GET /orders (found: POST /orders, GET /)"
    empty = route_check(inventory(api()), method=None, path=None)
    assert empty.message == "no route matches any method any path (found: none)"


def test_a_wrong_integration_names_each_candidate() -> None:
    result = route_check(inventory(api(Route("GET", "/orders", "AWS_PROXY", "arn:aws:lambda:r:1:function:c-ada-other"))))
    assert result.message == (
        "the route GET /orders is not a Lambda integration with c-ada-fn"
        " (GET /orders → AWS_PROXY arn:aws:lambda:r:1:function:c-ada-other)"
    )
    bare = route_check(inventory(api(Route("GET", "/orders"))))
    assert bare.message.endswith("(GET /orders → no integration)")


def test_no_api_skips_and_unreadable_apis_are_errors() -> None:
    assert route_check(ApiGatewayInventory()).status == "skipped"
    broken = route_check(inventory(api(error="AccessDenied")))
    assert broken.status == "error" and "AccessDenied" in broken.message
    assert route_check(inventory(api(detailed=False))).status == "error"


def test_every_unreadable_api_of_the_name_says_why_once() -> None:
    """Two APIs share the name and neither can be read: the error names both reasons (a student fixing
    the first would otherwise meet the second only on the next run), and a reason shared is said once."""
    denied, throttled = api(error="AccessDenied"), api(error="TooManyRequests", id="b2")
    message = route_check(inventory(denied, throttled)).message
    assert "AccessDenied" in message and "TooManyRequests" in message
    assert route_check(inventory(denied, api(error="AccessDenied", id="b2"))).message.count("AccessDenied") == 1


def test_one_readable_api_of_two_is_still_graded() -> None:
    good = api(Route("GET", "/orders", "AWS_PROXY", FN), id="b2")
    assert route_check(inventory(api(error="AccessDenied", detailed=True), good)).status == "passed"
