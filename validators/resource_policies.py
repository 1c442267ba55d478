"""Pure helpers for resource-based policies (Lambda permissions, queue policies, trust policies):
who a statement names as principal and which source it is limited to.

Condition keys are case-insensitive in IAM; operators are matched by their family (Arn*, String*).
"""

from __future__ import annotations

from typing import Any, Mapping

from labctl.validators import iam

SOURCE_CONDITION_KEYS = frozenset({"aws:sourcearn", "aws:sourceaccount", "aws:sourceowner"})


def principals(statement: Mapping[str, Any]) -> list[str]:
    """The statement's principals as `Service:x`, `AWS:x`, `Federated:x`, or `*` for everyone."""
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, Mapping):
        return [f"{kind}:{value}" for kind, values in principal.items() for value in iam.as_list(values)]
    return []


def services(statement: Mapping[str, Any]) -> list[str]:
    return [p.split(":", 1)[1] for p in principals(statement) if p.startswith("Service:")]


def source_arns(statement: Mapping[str, Any]) -> list[str]:
    """The values an Arn*/String* condition on aws:SourceArn allows."""
    found = []
    for operator, clause in (statement.get("Condition") or {}).items():
        if not str(operator).startswith(("Arn", "String", "ForAnyValue:Arn", "ForAnyValue:String")):
            continue
        if isinstance(clause, Mapping):
            for key, value in clause.items():
                if str(key).lower() == "aws:sourcearn":
                    found += [str(v) for v in iam.as_list(value)]
    return found


def limited_to_source(statement: Mapping[str, Any]) -> bool:
    """Does a condition tie the statement to a source ARN, account or owner?"""
    return any(
        str(key).lower() in SOURCE_CONDITION_KEYS
        for clause in (statement.get("Condition") or {}).values()
        if isinstance(clause, Mapping)
        for key in clause
    )


def open_statements(policy: Mapping[str, Any]) -> list[str]:
    """Allow statements any account can use: principal `*`, or a service principal, with no source condition."""
    found = []
    for index, statement in enumerate(iam.statements(policy)):
        if iam.effect(statement) != "Allow" or limited_to_source(statement):
            continue
        name = statement.get("Sid") or f"#{index + 1}"
        if iam.is_public(statement):
            found.append(f"statement {name} allows anyone")
        elif services(statement):
            found.append(f"statement {name} allows any {', '.join(services(statement))} resource in any account")
    return found
