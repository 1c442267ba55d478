"""A lab names its checks by id (`use: rds.not-public`): each id must reach the function that grades it.

The ids are written out here as the labs and docs/labs use them, so a check that drops its `@check`
(or is registered under another id) fails here, not only in a lab that happens to use it.
"""

from __future__ import annotations

import pytest

from labctl.validators.checks import (
    apigateway,
    cloudformation,
    ec2,
    ecs,
    iam,
    lambda_functions,
    logs,
    postgres,
    rds,
    s3,
    s3_hardening,
)
from labctl.validators.checks.kubernetes import network as k8s_network
from labctl.validators.checks.kubernetes import workloads as k8s_workloads
from labctl.validators.registry import CHECKS

EXPECTED = {
    "apigateway.api-exists": apigateway.api_exists,
    "apigateway.lambda-route": apigateway.lambda_route,
    "rds.instance-exists": rds.instance_exists,
    "rds.not-public": rds.not_public,
    "rds.encrypted": rds.encrypted,
    "rds.instance-class": rds.instance_class,
    "rds.backups": rds.backups,
    "rds.single-az": rds.single_az,
    "s3.bucket-exists": s3.bucket_exists,
    "s3.website-config": s3.website_config,
    "s3.object-content": s3.object_content,
    "s3.public-read": s3.public_read,
    "s3.versioning": s3.versioning,
    "s3.tag": s3.tag,
    "s3.public-read-only": s3.public_read_only,
    "s3.default-encryption": s3_hardening.default_encryption,
    "s3.public-access-blocked": s3_hardening.public_access_blocked,
    "s3.lifecycle-transition": s3_hardening.lifecycle_transition,
    "s3.lifecycle-expiration": s3_hardening.lifecycle_expiration,
    "logs.retention": logs.retention,
    "logs.metric-filter": logs.metric_filter,
    "cloudwatch.alarm": logs.alarm,
    "cloudwatch.alarm-notifies": logs.alarm_notifies,
    "cloudwatch.actions-enabled": logs.actions_enabled,
    "lambda.function-exists": lambda_functions.function_exists,
    "lambda.environment": lambda_functions.environment,
    "lambda.limits": lambda_functions.limits,
    "lambda.execution-role": lambda_functions.execution_role,
    "lambda.invoke-permission": lambda_functions.invoke_permission,
    "lambda.no-plaintext-secrets": lambda_functions.no_plaintext_secrets,
    "lambda.no-public-invoke": lambda_functions.no_public_invoke,
    "ecs.task-definition": ecs.task_definition,
    "ecs.limits": ecs.limits,
    "ecs.size-within": ecs.size_within,
    "ecs.non-root": ecs.non_root,
    "ecs.read-only-root": ecs.read_only_root,
    "ecs.awslogs": ecs.awslogs,
    "ecs.image-pinned": ecs.image_pinned,
    "ecs.not-privileged": ecs.not_privileged,
    "cloudformation.stack-status": cloudformation.stack_status,
    "cloudformation.resource": cloudformation.resource,
    "cloudformation.output": cloudformation.output,
    "cloudformation.resource-property": cloudformation.resource_property,
    "cloudformation.termination-protection": cloudformation.termination_protection,
    "cloudformation.no-public-bucket-policy": cloudformation.no_public_bucket_policy,
    "ec2.vpc-exists": ec2.vpc_exists,
    "ec2.internet-gateway": ec2.internet_gateway,
    "ec2.subnet": ec2.subnet,
    "ec2.subnet-public": ec2.subnet_public,
    "ec2.subnet-private": ec2.subnet_private,
    "ec2.main-table-private": ec2.main_table_private,
    "ec2.sg-exists": ec2.sg_exists,
    "ec2.sg-allows": ec2.sg_allows,
    "ec2.sg-ingress-within": ec2.sg_ingress_within,
    "ec2.sg-rule-descriptions": ec2.sg_rule_descriptions,
    "ec2.sg-no-world-ports": ec2.sg_no_world_ports,
    "ec2.sg-no-world-all-ports": ec2.sg_no_world_all_ports,
    "iam.role-exists": iam.role_exists,
    "iam.trust-only": iam.trust_only,
    "iam.grants": iam.grants,
    "iam.only-grants": iam.only_grants,
    "iam.no-admin": iam.no_admin,
    "k8s.netpol-ingress-from": k8s_network.netpol_ingress_from,
    "k8s.netpol-default-deny": k8s_network.netpol_default_deny,
    "k8s.netpol-tier": k8s_network.netpol_tier,
    "k8s.netpol-ports": k8s_network.netpol_ports,
    "k8s.netpol-no-allow-all": k8s_network.netpol_no_allow_all,
    "k8s.deployment-replicas": k8s_workloads.deployment_replicas,
    "k8s.image-pinned": k8s_workloads.images_pinned,
    "k8s.resources": k8s_workloads.resources,
    "k8s.probes": k8s_workloads.probes,
    "k8s.service": k8s_workloads.service,
    "k8s.no-privileged": k8s_workloads.no_privileged,
    "k8s.deployments-available": k8s_workloads.deployments_available,
    "postgres.table": postgres.table_shape,
    "postgres.rejects-values": postgres.rejects_values,
    "postgres.index-leads-with": postgres.index_leads_with,
    "postgres.ranking-view": postgres.ranking_view,
    "postgres.view": postgres.view_shape,
    "postgres.view-rows": postgres.view_rows,
    "postgres.rejects-row": postgres.rejects_row,
    "postgres.accepts-rows": postgres.accepts_rows,
    "postgres.function": postgres.function_exists,
    "postgres.function-rows": postgres.function_rows,
    "postgres.no-concatenated-execute": postgres.no_concatenated_execute,
    "postgres.uses-index": postgres.uses_index,
    "postgres.index-starts-with": postgres.index_starts_with,
    "postgres.max-indexes": postgres.max_indexes,
    "postgres.role-privileges": postgres.role_privileges,
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_check_id_reaches_its_function(name: str) -> None:
    assert name in CHECKS, f"{name} is not registered"
    assert CHECKS[name].fn is EXPECTED[name]
