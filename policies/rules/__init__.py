"""Every rule, listed explicitly: one module per service area, each exporting its `RULES`."""

from __future__ import annotations

from labctl.policies.model import Rule
from labctl.policies.rules import account, cost, escalation, iam, kubernetes, postgres, rds, s3, scp, tagging, workspace

ALL_RULES: tuple[Rule, ...] = (
    tagging.RULES + iam.RULES + escalation.RULES + s3.RULES + rds.RULES + kubernetes.RULES + workspace.RULES + postgres.RULES + cost.RULES + scp.RULES + account.RULES
)
RULES_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in ALL_RULES}


def rules_for(pack: str) -> tuple[Rule, ...]:
    return tuple(rule for rule in ALL_RULES if rule.pack == pack)
