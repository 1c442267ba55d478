"""apigw-lambda built as a REST API (resource /orders, method GET, AWS_PROXY integration), whose
permission was given to principal "*" "because apigateway.amazonaws.com did not work".

The route passes; permission and permission-scoped fail and the no-open-invoke guard applies. Run
by hand like the reference, with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import boto3

from labctl.labs.solutions import reference, run_by_hand


def create_rest_api(session: boto3.Session, endpoint_url: str | None, prefix: str, function_arn: str) -> str:
    """A REST API instead of the reference's HTTP API: GET /orders proxied to the function."""
    region = function_arn.split(":")[3]
    rest = session.client("apigateway", endpoint_url=endpoint_url)
    api_id = rest.create_rest_api(name=f"{prefix}-api", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    root = next(r for r in rest.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    orders = rest.create_resource(restApiId=api_id, parentId=root["id"], pathPart="orders")
    rest.put_method(restApiId=api_id, resourceId=orders["id"], httpMethod="GET", authorizationType="NONE")
    rest.put_integration(
        restApiId=api_id,
        resourceId=orders["id"],
        httpMethod="GET",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations",
    )
    return api_id


def grant_anyone(session: boto3.Session, endpoint_url: str | None, prefix: str, function_arn: str, api_id: str) -> None:
    """The mistake: the whole world may invoke the function, from any account."""
    session.client("lambda", endpoint_url=endpoint_url).add_permission(
        FunctionName=f"{prefix}-fn", StatementId="anyone", Action="lambda:InvokeFunction", Principal="*"
    )


solve = reference(__file__, create_api=create_rest_api, grant_invoke=grant_anyone).solve

if __name__ == "__main__":
    run_by_hand(solve)
