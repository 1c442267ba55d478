"""A small evaluator of IAM policy documents for the tests, written from AWS's policy evaluation logic
(IAM User Guide: "Policy evaluation logic", "Condition operators", "Permissions boundaries").

It covers what labctl's documents use: Action/NotAction and Resource/NotResource globs, the String,
Arn and Numeric operators, their `IfExists` and negated forms (a negated operator matches a missing
key), `Null`, the `ForAnyValue:`/`ForAllValues:` set operators (ForAllValues holds vacuously on a
missing key) and the `${aws:PrincipalAccount}` policy variable. Within one account:
- an explicit Deny in any policy (identity, boundary or resource) wins;
- otherwise identity AND boundary must allow, or a resource policy must allow the user's ARN (or
  `*`) directly: a permissions boundary's implicit deny does not limit such a grant.
moto evaluates none of the conditions or boundaries, so this is how the tests reason about real AWS.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any, Iterable

ACCOUNT = "123456789012"


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def resolve(value: str, context: dict) -> str:
    return value.replace("${aws:PrincipalAccount}", context.get("aws:PrincipalAccount", ACCOUNT))


def glob(text: str, pattern: str, ignore_case: bool = False) -> bool:
    if ignore_case:
        return fnmatchcase(text.lower(), pattern.lower())
    return fnmatchcase(text, pattern)


def compare(base: str, got: Any, wanted: str) -> bool:
    if base == "StringEquals":
        return got == wanted
    if base == "StringEqualsIgnoreCase":
        return str(got).lower() == wanted.lower()
    if base in ("StringLike", "ArnLike", "ArnEquals"):
        return glob(str(got), wanted)
    if base == "NumericLessThanEquals":
        return float(got) <= float(wanted)
    if base == "NumericEquals":
        return float(got) == float(wanted)
    if base == "NumericGreaterThan":
        return float(got) > float(wanted)
    raise AssertionError(f"operator {base} is not modelled")


NEGATED = {"StringNotEquals": "StringEquals", "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals",
           "ArnNotLike": "ArnLike"}


def clause_holds(operator: str, key: str, wanted: Any, context: dict) -> bool:
    """One condition clause as IAM evaluates it. A multivalued context key (aws:TagKeys) is a list."""
    values = [resolve(v, context) if isinstance(v, str) else v for v in as_list(wanted)]
    got = context.get(key)
    if operator == "Null":
        assert values[0] in ("true", "false"), f"Null takes 'true' or 'false', not {values[0]!r}"
        return (got is None) == (values[0] == "true")
    if operator.startswith("ForAnyValue:"):
        base = operator.split(":", 1)[1]
        return got is not None and any(compare(base, g, v) for g in as_list(got) for v in values)
    if operator.startswith("ForAllValues:"):
        base = operator.split(":", 1)[1]
        return got is None or all(any(compare(base, g, v) for v in values) for g in as_list(got))
    if operator.endswith("IfExists"):
        return got is None or clause_holds(operator.removesuffix("IfExists"), key, wanted, context)
    if operator in NEGATED:
        return got is None or not any(compare(NEGATED[operator], got, v) for v in values)
    return got is not None and any(compare(operator, got, v) for v in values)


def conditions_hold(condition: dict, context: dict) -> bool:
    """Every clause of every operator must hold (IAM ANDs them; keys are case-insensitive)."""
    lowered = {k.lower(): v for k, v in context.items()}
    return all(
        clause_holds(operator, key.lower(), wanted, lowered)
        for operator, clauses in condition.items()
        for key, wanted in clauses.items()
    )


def statement_matches(statement: dict, action: str, resource: str, context: dict) -> bool:
    if "Action" in statement:
        action_ok = any(glob(action, p, ignore_case=True) for p in as_list(statement["Action"]))
    else:
        action_ok = not any(glob(action, p, ignore_case=True) for p in as_list(statement["NotAction"]))
    if "Resource" in statement:
        resource_ok = any(glob(resource, resolve(p, context)) for p in as_list(statement["Resource"]))
    else:
        resource_ok = not any(glob(resource, resolve(p, context)) for p in as_list(statement["NotResource"]))
    return action_ok and resource_ok and conditions_hold(statement.get("Condition", {}), context)


def matching(policy: dict, effect: str, action: str, resource: str, context: dict) -> bool:
    return any(
        s["Effect"] == effect and statement_matches(s, action, resource, context) for s in as_list(policy["Statement"])
    )


def allowed_by(policy: dict, action: str, resource: str, context: dict) -> bool:
    """One policy alone: an explicit Deny wins, else an Allow must match."""
    return not matching(policy, "Deny", action, resource, context) and matching(policy, "Allow", action, resource, context)


def names_principal(statement: dict, principal: str) -> bool:
    names = statement.get("Principal")
    if names == "*":
        return True
    aws = as_list(names.get("AWS", [])) if isinstance(names, dict) else []
    return any(n == "*" or n == principal for n in aws)


def resource_policy_allows(policy: dict, principal: str, action: str, resource: str, context: dict) -> bool:
    return any(
        s["Effect"] == "Allow" and names_principal(s, principal) and statement_matches(s, action, resource, context)
        for s in as_list(policy["Statement"])
    )


def decide(
    action: str,
    resource: str,
    identity: Iterable[dict],
    boundary: dict | None = None,
    resource_policies: Iterable[dict] = (),
    principal: str = f"arn:aws:iam::{ACCOUNT}:user/student",
    context: dict | None = None,
) -> bool:
    """Whether a user with these identity policies and boundary may make the request, within one account."""
    request = {"aws:RequestedRegion": "us-east-1", "aws:PrincipalAccount": ACCOUNT, **(context or {})}
    identity, resource_policies = list(identity), list(resource_policies)
    every = [*identity, *([boundary] if boundary else []), *resource_policies]
    if any(matching(p, "Deny", action, resource, request) for p in every):
        return False
    if any(resource_policy_allows(p, principal, action, resource, request) for p in resource_policies):
        return True
    granted = any(matching(p, "Allow", action, resource, request) for p in identity)
    return granted and (boundary is None or matching(boundary, "Allow", action, resource, request))
