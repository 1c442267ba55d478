"""Collectors, keyed by the inventory kind a check `reads`: one pass per service per cohort."""

from __future__ import annotations

from labctl.validators.collectors.base import Collector, CollectRequest, Snapshot, owner
from labctl.validators.collectors.cloudformation import collect_cloudformation
from labctl.validators.collectors.apigateway import collect_apigateway
from labctl.validators.collectors.dynamodb import collect_dynamodb
from labctl.validators.collectors.ec2 import collect_ec2
from labctl.validators.collectors.ecs import collect_ecs
from labctl.validators.collectors.http import collect_http
from labctl.validators.collectors.iam import collect_iam
from labctl.validators.collectors.lambda_functions import collect_lambda
from labctl.validators.collectors.logs import collect_logs
from labctl.validators.collectors.messaging import collect_sns, collect_sqs
from labctl.validators.collectors.kubernetes import collect_kubernetes
from labctl.validators.collectors.postgres import collect_postgres
from labctl.validators.collectors.rds import collect_rds
from labctl.validators.collectors.s3 import collect_s3

COLLECTORS: dict[str, Collector] = {
    "s3": collect_s3,
    "dynamodb": collect_dynamodb,
    "postgres": collect_postgres,
    "kubernetes": collect_kubernetes,
    "http": collect_http,
    "ec2": collect_ec2,
    "rds": collect_rds,
    "ecs": collect_ecs,
    "cloudformation": collect_cloudformation,
    "iam": collect_iam,
    "lambda": collect_lambda,
    "logs": collect_logs,
    "sqs": collect_sqs,
    "sns": collect_sns,
    "apigateway": collect_apigateway,
}

__all__ = ["COLLECTORS", "Collector", "CollectRequest", "Snapshot", "owner"]
