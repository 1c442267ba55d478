# Quick start: `make demo` and `make test` work on a fresh machine with Python >= 3.11 and make.
# Each creates .venv if missing and installs labctl with its test extras (re-installs when
# pyproject.toml changes), then runs.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint clean mutation

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit("labctl needs Python >= 3.11, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/labctl demo

test: $(STAMP)
	$(VENV)/bin/python -m pytest

# Mutation testing (docs/testing.md), one module at a time against its own tests. An entry is
# [cosmic-ray:]<module>[@<function>,<Class.method>,...]=<test file>[,<test file>...]; add one to
# extend it. mutmut skips decorated functions, so modules of @check functions use cosmic-ray.
MUTATION_TARGETS := \
	labs/loader.py=tests/labs/test_loader.py \
	stacks/sweep.py@owner,SweepReport.proof,outside_prefixes=tests/stacks/test_sweep.py \
	stacks/sweep.py@sweep,run_sweep,Sweeper.collect,Sweeper.tagged_for_this_cohort,Sweeper.collect_cloudformation,Sweeper.collect_apigatewayv2,Sweeper.api_owner,Sweeper.collect_sns,Sweeper.collect_dynamodb,Sweeper.log_group_owner,Sweeper.collect_logs_metric_filter,Sweeper.collect_logs=tests/stacks/test_sweep_kinds.py \
	stacks/sweep.py@role_key,error_code,pairs,Sweeper.owner_of,Sweeper.mine,Sweeper.claim,Sweeper.claimed,Sweeper.owned_api,Sweeper.find_vpc_owners,Sweeper.collect_lambda_permission,Sweeper.collect_s3,Sweeper.collect_iam,Sweeper.collect_iam_policy,Sweeper.tags,Sweeper.delete,Sweeper.before=tests/stacks/test_sweep_kinds.py \
	cosmic-ray:validators/checks/s3.py=tests/validators/test_s3_checks.py,tests/validators/test_check_registration.py \
	cohorts/cohort.py@check_cohort_name,student_slug,prefix_for,parse_roster,check_prefix_free=tests/cohorts/test_cohort.py \
	components/aws_policies.py@role_statements,role_denials,resource_policy_denial,labctl_tag_denials,boundary_apigateway_statements,check_role_services,boundary_create_actions,own_roles,boundary_arn=tests/components/test_aws_policies.py,tests/policies/test_iam_documents.py \
	policies/rules/escalation.py=tests/policies/test_escalation.py,tests/policies/test_iam_documents.py,tests/policies/test_policy_rules.py \
	policies/rules/iam.py@tagging_verb,read_only_verb,wildcard_resource,scoped_to_owner,tagging_scoped_to_owner,own_role_arn,own_boundary_arn,role_action_problem,statement_problems,covers,denies,boundary_by_convention,boundary_policies,trust_problems,allowed_services=tests/policies/test_iam_rule_units.py,tests/policies/test_policy_rules.py,tests/policies/test_iam_documents.py,tests/policies/test_escalation.py \
	app/portal/web.py@bearer_token,identify_throttled,authenticate,require_student,require_instructor,check_csrf,client_address=tests/app/test_portal_auth.py \
	app/portal/sessions.py@Sessions.create,Sessions.ended,Sessions.get,Sessions.drop,SigninThrottle.recent,SigninThrottle.retry_after,SigninThrottle.failed=tests/app/test_portal_auth.py \
	app/portal/tokens.py@new_token,digest,same,issue_student_tokens=tests/app/test_portal_auth.py \
	app/portal/service.py@Portal.identify,Portal.me,Portal.own_cohort_student,Portal.environment,Portal.readme,Portal.history=tests/app/test_portal_auth.py \
	cohorts/registry.py@Registry.set_portal_tokens,Registry.portal_student,upsert=tests/app/test_portal_auth.py \
	validators/iam.py=tests/validators/test_iam.py \
	cosmic-ray:policies/rules/kubernetes.py=tests/policies/test_kubernetes_rule_units.py,tests/policies/test_policy_rules.py \
	cosmic-ray:policies/rules/cost.py=tests/policies/test_cost_and_tagging_units.py,tests/policies/test_policy_rules.py \
	cosmic-ray:policies/rules/tagging.py=tests/policies/test_cost_and_tagging_units.py,tests/policies/test_policy_rules.py \
	cosmic-ray:policies/rules/s3.py=tests/policies/test_s3_rule_units.py,tests/policies/test_policy_rules.py \
	cosmic-ray:policies/rules/rds.py=tests/policies/test_data_and_workspace_rule_units.py,tests/policies/test_policy_rules.py \
	cosmic-ray:policies/rules/postgres.py=tests/policies/test_data_and_workspace_rule_units.py,tests/policies/test_policy_rules.py \
	cosmic-ray:policies/rules/workspace.py=tests/policies/test_data_and_workspace_rule_units.py,tests/policies/test_policy_rules.py \
	cosmic-ray:validators/checks/http.py=tests/validators/test_http.py \
	cosmic-ray:validators/checks/apigateway.py=tests/validators/test_apigateway_checks.py,tests/validators/test_check_registration.py,tests/validators/test_cloud_track.py \
	cosmic-ray:validators/checks/rds.py=tests/validators/test_rds_checks.py,tests/validators/test_check_registration.py,tests/validators/test_cloud_services.py \
	cosmic-ray:validators/checks/s3_hardening.py=tests/validators/test_s3_hardening_checks.py,tests/validators/test_check_registration.py,tests/validators/test_cloud_track.py \
	cosmic-ray:validators/checks/logs.py=tests/validators/test_logs_checks.py,tests/validators/test_check_registration.py,tests/validators/test_cloud_track.py \
	cosmic-ray:validators/checks/lambda_functions.py=tests/validators/test_lambda_checks.py,tests/validators/test_check_registration.py,tests/validators/test_cloud_track.py \
	cosmic-ray:validators/checks/ecs.py=tests/validators/test_ecs_checks.py,tests/validators/test_check_registration.py,tests/validators/test_cloud_services.py \
	cosmic-ray:validators/checks/cloudformation.py=tests/validators/test_cloudformation_checks.py,tests/validators/test_check_registration.py,tests/validators/test_cloud_services.py \
	cosmic-ray:validators/checks/iam.py=tests/validators/test_iam_checks.py,tests/validators/test_check_registration.py,tests/validators/test_cloud_track.py \
	cosmic-ray:validators/checks/ec2.py=tests/validators/test_ec2.py,tests/validators/test_check_registration.py \
	cosmic-ray:validators/checks/kubernetes/network.py=tests/validators/test_k8s_network_checks.py,tests/validators/test_check_registration.py \
	cosmic-ray:validators/checks/kubernetes/workloads.py=tests/validators/test_k8s_workloads_checks.py,tests/validators/test_check_registration.py \
	validators/checks/kubernetes/objects.py@dig,containers,template_labels,pod_template,owned,pod_specs,missing_resources,deployment_or_result=tests/validators/test_k8s_objects.py \
	cosmic-ray:validators/checks/postgres.py=tests/validators/test_postgres_checks.py,tests/validators/test_check_registration.py \
	cosmic-ray:validators/checks/messaging.py=tests/validators/test_messaging_checks.py,tests/validators/test_check_registration.py \
	cosmic-ray:validators/checks/dynamodb.py=tests/validators/test_dynamodb_checks.py,tests/validators/test_check_registration.py \
	cosmic-ray:validators/checks/kubernetes/rbac.py=tests/validators/test_k8s_rbac_checks.py,tests/validators/test_check_registration.py \
	cosmic-ray:validators/checks/kubernetes/config.py=tests/validators/test_k8s_config_checks.py,tests/validators/test_check_registration.py \
	cosmic-ray:validators/checks/kubernetes/jobs.py=tests/validators/test_k8s_jobs_checks.py,tests/validators/test_check_registration.py \
	cosmic-ray:validators/checks/kubernetes/autoscaling.py=tests/validators/test_k8s_autoscaling_checks.py,tests/validators/test_check_registration.py \
	cosmic-ray:validators/checks/kubernetes/ingress.py=tests/validators/test_k8s_ingress_checks.py,tests/validators/test_check_registration.py

mutation: $(STAMP)
	@for target in $(MUTATION_TARGETS); do .ci/mutation "$$target" || exit 1; done

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/bench_plan.py --students 200
	$(VENV)/bin/python benchmarks/bench_grade.py --students 200

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
